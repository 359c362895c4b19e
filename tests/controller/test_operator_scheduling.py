"""The operator as a shared service: fair slots across namespaces (review H8), deletes that end
while a create never does (M7, L8), and template evaluation off the event loop with a prompt
SIGTERM (H4). Each test runs its own ``kubeheat operator`` process with a small
``--concurrency`` (the session operator is stopped meanwhile and restarted by ``ns``)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from operator_support import Cluster, Namespace, Operator, cloud_objects, wait_until
from test_operator import stack_manifest

from kubeheat.sandbox import SandboxCloud

pytestmark = pytest.mark.cluster

#: how long the operator may take to exit after SIGTERM
EXIT_WAIT = 30.0

#: a create that takes 10 minutes (its delete takes none: a TestResource's delete waits
#: wait_secs too, as Heat's does, bounded by the stack timeout only)
SLOW = {"heat_template_version": "2016-10-14",
        "resources": {"t": {"type": "OS::Heat::TestResource",
                            "properties": {"action_wait_secs": {"create": 600}}}}}
TRIVIAL = {"heat_template_version": "2016-10-14",
           "resources": {"net": {"type": "OS::Neutron::Net"}}}
#: the review's forever.yaml (its create waits 1e9 s; its delete none, see SLOW), with a
#: network created first, to see it deleted or kept
FOREVER = {"heat_template_version": "2016-10-14",
           "resources": {"net": {"type": "OS::Neutron::Net"},
                         "t": {"type": "OS::Heat::TestResource", "depends_on": "net",
                               "properties": {"action_wait_secs": {"create": 1000000000}}}}}
#: pure-Python evaluation that takes minutes (it lets other threads run, unlike a regex)
SLOW_EVALUATION = {
    "heat_template_version": "2016-10-14",
    "resources": {"r": {"type": "OS::Heat::Value", "properties": {"value": {"yaql": {
        "expression": "range(0, 200).select(range(0, 200).select(range(0, 50).sum())"
                      ".sum()).sum()", "data": {}}}}}}}
#: the review's redos.yaml
REDOS = {"heat_template_version": "2016-10-14",
         "parameters": {"name": {"type": "string",
                                 "constraints": [{"allowed_pattern": "(a+)+$"}]}},
         "resources": {"r": {"type": "OS::Heat::None"}}}


@pytest.fixture
def other_ns(cluster: Cluster, sandbox: SandboxCloud, ns: Namespace) -> Iterator[Namespace]:
    """A second namespace (another tenant), with the same cloud Secret."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    cluster.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cloud"},
                   "stringData": {"clouds.yaml": sandbox.clouds_yaml}}, name)
    yield Namespace(name, cluster, sandbox)
    cluster.kubectl("delete", "stacks", "--all", "-n", name, "--wait=false", check=False)


@pytest.fixture
def own_operator(cluster: Cluster, operator: Operator, ns: Namespace,
                 tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[Callable[..., Operator]]:
    """Start ``kubeheat operator`` with extra options instead of the session's one."""
    started: list[Operator] = []

    def start(*args: str) -> Operator:
        operator.stop()
        op = Operator(cluster, tmp_path_factory.mktemp("own-operator") / "operator.log",
                      extra_args=args)
        started.append(op)
        op.start()
        return op

    yield start
    for op in started:
        op.stop()


def status(cluster: Cluster, name: str, namespace: str) -> dict[str, Any]:
    found = cluster.get("stack", name, namespace)
    return (found or {}).get("status") or {}


def ready(st: dict[str, Any]) -> str | None:
    return next((c["status"] for c in st.get("conditions") or () if c["type"] == "Ready"),
                None)


def test_slow_stacks_in_one_namespace_do_not_starve_another(
        cluster: Cluster, ns: Namespace, other_ns: Namespace,
        own_operator: Callable[..., Operator]) -> None:
    """H8: 2 slots, a share of 1 each (the default: a quarter, at least 1)."""
    own_operator("--concurrency", "2")
    cluster.apply(stack_manifest("early", TRIVIAL), ns.name)
    cluster.wait_condition("early", ns.name, "Ready")
    slow = [f"slow-{i}" for i in range(3)]
    for name in slow:
        cluster.apply(stack_manifest(name, SLOW), ns.name)
    wait_until(lambda: any(status(cluster, n, ns.name).get("stackStatus")
                           == "CREATE_IN_PROGRESS" for n in slow),
               "a slow Stack to be CREATE_IN_PROGRESS")
    cluster.apply(stack_manifest("quick", TRIVIAL), other_ns.name)
    cluster.wait_condition("quick", other_ns.name, "Ready")
    states = [status(cluster, n, ns.name) for n in slow]
    assert [ready(st) for st in states].count("True") == 0
    # the namespace holds its share (one slot): one create runs, the others wait their turn
    assert [st.get("stackStatus") for st in states].count("CREATE_IN_PROGRESS") == 1
    # deleting a Stack does not wait for a slot either, even in the namespace whose share the
    # slow Stacks hold
    cluster.kubectl("delete", "stack", "quick", "-n", other_ns.name, "--wait=false")
    cluster.kubectl("delete", "stack", "early", "-n", ns.name, "--wait=false")
    cluster.wait_gone("stack", "quick", other_ns.name)
    cluster.wait_gone("stack", "early", ns.name)
    assert all(status(cluster, n, ns.name).get("stackStatus") != "CREATE_COMPLETE"
               for n in slow)
    # the slow Stacks go too: the running create is cancelled, the queued ones never start
    cluster.kubectl("delete", "stack", *slow, "-n", ns.name, "--wait=false")
    for name in slow:
        cluster.wait_gone("stack", name, ns.name)


def test_deleting_a_stack_whose_create_never_ends(
        cluster: Cluster, ns: Namespace, other_ns: Namespace,
        own_operator: Callable[..., Operator]) -> None:
    """M7, L8: with deletionPolicy Delete (nothing leaks) and Retain (what exists is kept),
    and a Stack still queued behind the never-ending create (it never starts)."""
    own_operator("--concurrency", "2")
    cluster.apply(stack_manifest("forever", FOREVER), ns.name)
    cluster.apply(stack_manifest("kept", FOREVER, deletionPolicy="Retain"), other_ns.name)

    def creating(name: str, namespace: str) -> dict[str, Any] | None:
        st = status(cluster, name, namespace)
        states = {r["name"]: r.get("status") for r in st.get("resources") or ()}
        return st if states.get("net") == "CREATE_COMPLETE" and \
            st.get("stackStatus") == "CREATE_IN_PROGRESS" else None

    forever = wait_until(lambda: creating("forever", ns.name), "forever creating")
    kept = wait_until(lambda: creating("kept", other_ns.name), "kept creating")
    cluster.apply(stack_manifest("queued", TRIVIAL), ns.name)  # behind forever: share of 1
    forever_id, kept_id = forever["stackID"], kept["stackID"]
    assert cloud_objects(ns.sandbox, forever_id, ("networks",)) == {"networks": 1}
    assert "stackStatus" not in status(cluster, "queued", ns.name)

    cluster.kubectl("delete", "stack", "forever", "queued", "-n", ns.name, "--wait=false")
    cluster.kubectl("delete", "stack", "kept", "-n", other_ns.name, "--wait=false")
    cluster.wait_gone("stack", "forever", ns.name)
    cluster.wait_gone("stack", "queued", ns.name)
    cluster.wait_gone("stack", "kept", other_ns.name)
    assert cloud_objects(ns.sandbox, forever_id, ("networks",)) == {"networks": 0}
    assert cloud_objects(ns.sandbox, kept_id, ("networks",)) == {"networks": 1}
    started = [e for e in cluster.events(ns.name, "queued")
               if "CREATE" in f"{e.get('reason')} {e.get('message')}"]
    assert started == []


def test_the_default_stack_timeout_bounds_operator_operations(
        cluster: Cluster, ns: Namespace, own_operator: Callable[..., Operator]) -> None:
    """H8, M7: a create without spec.timeoutMinutes is bounded by --default-stack-timeout
    (Heat's stack_action_timeout, 60 minutes by default; 3 seconds here), and a Stack's own
    spec.timeoutMinutes overrides it."""
    own_operator("--concurrency", "2", "--namespace-concurrency", "2",
                 "--default-stack-timeout", "0.05")
    cluster.apply(stack_manifest("bounded", SLOW, disableRollback=True), ns.name)
    cluster.apply(stack_manifest("own", SLOW, disableRollback=True, timeoutMinutes=60),
                  ns.name)

    def timed_out() -> dict[str, Any] | None:
        st = status(cluster, "bounded", ns.name)
        return st if st.get("stackStatus") == "CREATE_FAILED" else None

    st = wait_until(timed_out, "the bounded Stack to time out")
    assert "Timed out" in st["stackStatusReason"], st
    assert status(cluster, "own", ns.name).get("stackStatus") == "CREATE_IN_PROGRESS"
    cluster.kubectl("delete", "stack", "bounded", "own", "-n", ns.name, "--wait=false")
    cluster.wait_gone("stack", "bounded", ns.name)
    cluster.wait_gone("stack", "own", ns.name)


def _terminate_within_bound(op: Operator) -> None:
    """SIGTERM the operator; it must exit within :data:`EXIT_WAIT` seconds."""
    assert op.proc is not None
    op.proc.terminate()
    try:
        op.proc.wait(EXIT_WAIT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the operator did not exit within {EXIT_WAIT:.0f}s of SIGTERM:\n"
                    f"{op.log.read_text()[-3000:]}", pytrace=False)


def _evaluation_off_the_loop(cluster: Cluster, ns: Namespace, other_ns: Namespace,
                             op: Operator, slow: dict[str, Any], **spec: Any) -> None:
    # the operator is idle: it starts evaluating "slow" at once, and that takes minutes
    cluster.apply(stack_manifest("slow", slow, **spec), ns.name)
    cluster.apply(stack_manifest("quick", TRIVIAL), other_ns.name)
    cluster.wait_condition("quick", other_ns.name, "Ready")
    st = status(cluster, "slow", ns.name)
    assert ready(st) != "True" and "stackStatus" not in st, st   # still being evaluated
    _terminate_within_bound(op)
    assert "not waiting for" in op.log.read_text()      # the evaluation was still running
    # the slow Stack has nothing in the cloud: let it go without an operator
    cluster.kubectl("delete", "stack", "slow", "-n", ns.name, "--wait=false")
    cluster.kubectl("patch", "stack", "slow", "-n", ns.name, "--type=merge",
                    "-p", '{"metadata":{"finalizers":[]}}')
    cluster.wait_gone("stack", "slow", ns.name)


def test_a_slow_evaluation_neither_freezes_the_operator_nor_delays_sigterm(
        cluster: Cluster, ns: Namespace, other_ns: Namespace,
        own_operator: Callable[..., Operator]) -> None:
    """H4: template evaluation runs in the engine's threads, not on the event loop."""
    op = own_operator("--concurrency", "2")
    _evaluation_off_the_loop(cluster, ns, other_ns, op, SLOW_EVALUATION)


def test_the_redos_stack_neither_freezes_the_operator_nor_delays_sigterm(
        cluster: Cluster, ns: Namespace, other_ns: Namespace,
        own_operator: Callable[..., Operator]) -> None:
    """H4, the review's redos.yaml (with helper/h4's bounded matching): it stalls with an
    error naming the parameter, the other namespace's Stack is reconciled, SIGTERM ends the
    operator."""
    op = own_operator("--concurrency", "2")
    cluster.apply(stack_manifest("redos", REDOS, parameters={"name": "a" * 36 + "!"}),
                  ns.name)
    cluster.apply(stack_manifest("quick", TRIVIAL), other_ns.name)
    cluster.wait_condition("quick", other_ns.name, "Ready")
    stalled = cluster.wait_condition("redos", ns.name, "Stalled")
    message = next(c["message"] for c in stalled["status"]["conditions"]
                   if c["type"] == "Stalled")
    assert message.startswith("parameters.name: "), message
    _terminate_within_bound(op)
