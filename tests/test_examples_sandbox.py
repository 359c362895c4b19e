"""The examples/ templates end to end with ``kubeheat run`` against a sandbox cloud.

Each example is run with exactly the command examples/README.md gives for it (pointed at a
sandbox started here, through ``OS_CLOUD`` and ``OS_CLIENT_CONFIG_FILE``, so the test can look
inside the cloud): it must reach ``CREATE_COMPLETE`` with sensible outputs, and ``kubeheat
delete`` must leave nothing of it behind. Then again with injected 5xx/429 answers and latency
on every service: still ``CREATE_COMPLETE``, nothing created twice, everything deleted. Last, a
steady-state check of a 50-resource stack lists each resource type at most once.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
import json
import re
import shlex
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubeheat.cli.main import main
from kubeheat.cloud import CloudSession, connect
from kubeheat.engine import Engine, ListEventSink, MemoryStateStore, StackRequest
from kubeheat.resources import TAG_RESOURCE, TAG_STACK_ID, ResourcePlugin
from kubeheat.sandbox import FaultRule, SandboxCloud, SandboxConfig, run_sandbox

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
README = EXAMPLES / "README.md"

#: short transitions, and room for the 50-resource stack
CONFIG = {"build_delay": 0.05, "volume_delay": 0.05, "image_delay": 0.05,
          "quotas": {"instances": 500, "cores": 1000, "ram": 10**7, "volumes": 100,
                     "gigabytes": 10000, "port": 2000, "security_group": 100,
                     "security_group_rule": 1000, "server_group_members": 100}}

NEW_EXAMPLES = ("web-tier", "server-group", "nested-app", "autoscaling")


# -- README commands ----------------------------------------------------------------------------
def readme_commands() -> dict[str, list[str]]:
    """``kubeheat run ...`` of each example in examples/README.md, by template stem."""
    commands: dict[str, list[str]] = {}
    for match in re.finditer(r"`(kubeheat run [^`]+)`", README.read_text(encoding="utf-8")):
        argv = shlex.split(match.group(1))[1:]
        template = Path(argv[argv.index("-t") + 1])
        commands[template.stem] = argv
    return commands


def test_readme_lists_every_example() -> None:
    commands = readme_commands()
    templates = {p.stem for p in EXAMPLES.glob("*.yaml")} - {"app-server", "nested-env"}
    assert set(commands) == templates
    for argv in commands.values():
        assert "--sandbox" in argv and "--state" in argv


@pytest.mark.parametrize("name", sorted(readme_commands()))
def test_readme_example_validates(name: str) -> None:
    """``kubeheat validate`` with the template, environments and parameters of the README's
    command for it."""
    argv = readme_commands()[name]
    args: list[str] = []
    it = iter(argv[1:])
    for arg in it:
        if arg in ("-t", "-e", "-P"):
            value = next(it)
            args += [arg, str(ROOT / value) if arg != "-P" else value]
    code, out, err = cli("validate", *args, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["Parameters"]


# -- running the CLI in-process -------------------------------------------------------------------
def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def run_example(name: str, state: Path) -> dict[str, Any]:
    """The README's command for ``name``, on our sandbox instead of the embedded one."""
    code, out, err = cli_run(name, state)
    assert code == 0, f"{name}: exit {code}\n{err[-4000:]}"
    summary: dict[str, Any] = json.loads(out)
    return summary


@pytest.fixture(scope="module")
def cloud() -> Iterator[SandboxCloud]:
    with run_sandbox(SandboxConfig(**CONFIG)) as sandbox:  # type: ignore[arg-type]
        yield sandbox


@pytest.fixture
def os_cloud(cloud: SandboxCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[SandboxCloud]:
    """The CLI's cloud is ``cloud`` (a clouds.yaml and OS_CLOUD); no faults left behind."""
    clouds = cloud.write_clouds_yaml(tmp_path / "clouds.yaml")
    for var in ("OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OS_CLOUD", cloud.config.cloud_name)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    yield cloud
    cloud.clear_faults()


# -- looking inside the cloud -----------------------------------------------------------------
def inventory(cloud: SandboxCloud) -> dict[str, set[str]]:
    return {kind: {str(r.get("id") or r.get("name")) for r in cloud.resources(kind)}
            for kind in cloud.state.KINDS}


def created_since(cloud: SandboxCloud, before: dict[str, set[str]]
                  ) -> dict[str, list[dict[str, Any]]]:
    now = {kind: [r for r in cloud.resources(kind)
                  if str(r.get("id") or r.get("name")) not in before[kind]]
           for kind in cloud.state.KINDS}
    return {kind: records for kind, records in now.items() if records}


def identity(record: dict[str, Any]) -> tuple[str, str] | None:
    """(stack id, logical name) a kubeheat-made object is tagged with, if any."""
    tags = dict(t.split("=", 1) for t in record.get("tags") or () if "=" in t)
    meta = record.get("metadata") or {}
    for source in (tags, meta):
        if isinstance(source, dict) and TAG_STACK_ID in source and TAG_RESOURCE in source:
            return str(source[TAG_STACK_ID]), str(source[TAG_RESOURCE])
    return None


def counts(records: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {kind: len(items) for kind, items in records.items()}


def duplicates(records: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[str, str]]]:
    """Tagged objects present more than once (the same stack and logical name)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for kind, items in records.items():
        seen = Counter(i for i in (identity(r) for r in items) if i is not None)
        twice = [i for i, n in seen.items() if n > 1]
        if twice:
            found[kind] = twice
    return found


# -- what each example must produce ---------------------------------------------------------------
def in_net(address: Any, cidr: str) -> bool:
    return ipaddress.ip_address(str(address)) in ipaddress.ip_network(cidr)


def check_outputs(name: str, summary: dict[str, Any], cloud: SandboxCloud,
                  made: dict[str, list[dict[str, Any]]]) -> None:
    out = summary["outputs"]
    servers = made.get("servers", [])
    assert all(s["status"] == "ACTIVE" for s in servers), [s["status"] for s in servers]
    if name == "web-app":
        assert in_net(out["server_ip"], "10.10.0.0/24")
        assert len(servers) == 1
    elif name == "web-tier":
        assert len(out["server_ips"]) == 2 and len(servers) == 2
        assert all(in_net(ip, "10.20.0.0/24") for ip in out["server_ips"])
        assert in_net(out["public_ip"], "172.24.4.0/24")
        assert len(made["routers"]) == 1
        volume = next(v for v in made["volumes"] if v["id"] == out["volume_id"])
        assert volume["status"] == "in-use"
        assert [a["server_id"] for a in volume["_attachments"]] == [out["server_ids"][0]]
        fip = next(f for f in made["floatingips"]
                   if f["floating_ip_address"] == out["public_ip"])
        assert fip["port_id"], "floating IP not associated"
    elif name == "server-group":
        assert out["names"] == [f"server-group-worker-{i}" for i in range(3)]
        assert all(in_net(ip, "10.30.0.0/24") for ip in out["addresses"])
        assert sorted(out["ids"]) == sorted(s["id"] for s in servers)
    elif name == "nested-app":
        assert re.fullmatch(r"http://10\.40\.0\.\d+:80/", out["frontend_url"])
        assert in_net(out["backend_address"], "10.40.0.0/24")
        assert in_net(out["worker_address"], "10.40.0.0/24")
        assert out["frontend_server"] in {s["id"] for s in servers}
        assert len(servers) == 3 and len(made["security_groups"]) == 3
    elif name == "autoscaling":
        assert out["current_size"] == 2 and len(servers) == 2
        assert all(in_net(ip, "10.50.0.0/24") for ip in out["addresses"].values())
    else:  # pragma: no cover - a new example needs its expectations here
        raise AssertionError(f"no expectations for example {name}")


def run_and_delete(name: str, cloud: SandboxCloud, state: Path
                   ) -> dict[str, list[dict[str, Any]]]:
    before = inventory(cloud)
    summary = run_example(name, state)
    assert summary["stack_status"] == "CREATE_COMPLETE", summary["stack_status_reason"]
    made = created_since(cloud, before)
    assert made, "nothing was created in the cloud"
    assert not duplicates(made)
    tagged = {identity(r) for items in made.values() for r in items} - {None}
    assert (summary["id"], "net") in tagged, "objects not tagged with the stack"
    check_outputs(name, summary, cloud, made)
    code, _, err = cli("delete", "--state", str(state))
    assert code == 0, err[-4000:]
    left = created_since(cloud, before)
    assert not left, f"{name} left behind: {counts(left)}"
    return made


# -- 1. every example, clean ----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(readme_commands()))
def test_example_end_to_end(name: str, os_cloud: SandboxCloud, tmp_path: Path) -> None:
    made = run_and_delete(name, os_cloud, tmp_path / f"{name}.json")
    CLEAN_COUNTS[name] = counts(made)


#: what each clean run created, by kind (the faulty runs must create exactly as much)
CLEAN_COUNTS: dict[str, dict[str, int]] = {}


# -- 2. again with injected faults ----------------------------------------------------------------
def faults(with_post_500: bool) -> list[FaultRule]:
    """About 10% of the calls to every service answered 500, 503 or 429 (Retry-After), all
    of them delayed a little."""
    rules = [FaultRule(latency=0.005)]
    for method in ("GET", "PUT", "DELETE") if not with_post_500 else ("*",):
        rules.append(FaultRule(method=method, status=500, rate=0.04))
    rules.append(FaultRule(status=503, rate=0.03, retry_after=0.05))
    rules.append(FaultRule(status=429, rate=0.03, retry_after=0.05))
    return rules


def run_with_faults(name: str, cloud: SandboxCloud, tmp_path: Path, with_post_500: bool
                    ) -> list[str]:
    """Run ``name`` under faults, then delete it; with ``with_post_500`` a run that fails is
    run again on its state file (what a user, or the operator's next reconcile, does) up to
    three times. Returns the failure reasons of the runs that failed."""
    if name not in CLEAN_COUNTS:  # run alone: learn what a clean run makes first
        CLEAN_COUNTS[name] = counts(run_and_delete(name, cloud, tmp_path / "clean.json"))
    before = inventory(cloud)
    state = tmp_path / f"{name}.json"
    cloud.clear_request_log()
    for rule in faults(with_post_500):
        cloud.add_fault(rule)
    failures: list[str] = []
    try:
        for _ in range(4):
            code, out, err = cli_run(name, state)
            summary = json.loads(out) if out.strip() else {}
            if code == 0 and summary.get("stack_status", "").endswith("_COMPLETE") \
                    and "ROLLBACK" not in summary["stack_status"]:
                break
            events = json.loads(cli("events", "--state", str(state), "--format", "json")[1])
            reasons = [e["resource_status_reason"] for e in events
                       if e["resource_status"] == "FAILED"]
            failures.append(reasons[0] if reasons else err.strip()[-300:])
            if not with_post_500:
                raise AssertionError(f"{name}: exit {code}: {failures[-1]}\n{err[-3000:]}")
        else:
            raise AssertionError(f"{name} never completed: {failures}")
        if not failures:
            assert summary["stack_status"] == "CREATE_COMPLETE", summary["stack_status_reason"]
        made = created_since(cloud, before)
        assert not duplicates(made), duplicates(made)
        assert counts(made) == CLEAN_COUNTS[name], "objects created twice (or missing)"
        check_outputs(name, summary, cloud, made)
        code, _, err = cli("delete", "--state", str(state))
        assert code == 0, err[-4000:]
    finally:
        log = cloud.request_log()
        cloud.clear_faults()
    injected = Counter(r.status for r in log if r.injected)
    assert sum(injected.values()) > 0, "no fault was injected"
    assert not created_since(cloud, before), counts(created_since(cloud, before))
    return failures


def cli_run(name: str, state: Path) -> tuple[int, str, str]:
    argv = [a for a in readme_commands()[name] if a != "--sandbox"]
    argv[argv.index("--state") + 1] = str(state)
    argv = [str(ROOT / a) if a.startswith("examples/") else a for a in argv]
    return cli(*argv, "--format", "json")


@pytest.mark.parametrize("name", sorted((*NEW_EXAMPLES, "web-app")))
def test_example_with_retryable_faults(name: str, os_cloud: SandboxCloud,
                                       tmp_path: Path) -> None:
    """500 on idempotent calls, 503/429 on any: all retried by the cloud session's guard, so
    the first run reaches CREATE_COMPLETE."""
    assert run_with_faults(name, os_cloud, tmp_path, with_post_500=False) == []


@pytest.mark.parametrize("name", sorted((*NEW_EXAMPLES, "web-app")))
def test_example_with_faults_including_post_500(name: str, os_cloud: SandboxCloud,
                                                tmp_path: Path) -> None:
    """The issue's profile: 500 on every method, POST included. A create answered 500 is a
    transient failure: the engine looks for the object by its tags and adopts it, or creates
    again, so the first run reaches CREATE_COMPLETE; nothing is created twice and delete
    removes everything."""
    assert run_with_faults(name, os_cloud, tmp_path, with_post_500=True) == []


def _one_post_fault(os_cloud: SandboxCloud, tmp_path: Path, rule: FaultRule) -> None:
    """web-tier with one injected fault: the first run completes, with exactly what a clean
    run makes, and delete removes everything."""
    name = "web-tier"
    if name not in CLEAN_COUNTS:
        CLEAN_COUNTS[name] = counts(run_and_delete(name, os_cloud, tmp_path / "clean.json"))
    before = inventory(os_cloud)
    state = tmp_path / "web-tier.json"
    os_cloud.clear_request_log()
    os_cloud.add_fault(rule)
    code, out, err = cli_run(name, state)
    assert code == 0, err[-3000:]
    summary = json.loads(out)
    assert summary["stack_status"] == "CREATE_COMPLETE", summary["stack_status_reason"]
    assert rule.fired == 1
    made = created_since(os_cloud, before)
    assert not duplicates(made), duplicates(made)
    assert counts(made) == CLEAN_COUNTS[name]
    check_outputs(name, summary, os_cloud, made)
    events = json.loads(cli("events", "--state", str(state), "--format", "json")[1])
    assert any("transient failure" in e["resource_status_reason"] for e in events), events
    assert cli("delete", "--state", str(state))[0] == 0
    assert not created_since(os_cloud, before)


def test_post_500_before_the_service_is_retried(os_cloud: SandboxCloud,
                                                tmp_path: Path) -> None:
    """One server create answered 500 without reaching Nova: nothing tagged is found, the
    create is made again, the run completes."""
    _one_post_fault(os_cloud, tmp_path, FaultRule(
        method="POST", path=r"/compute/v2\.1/servers$", status=500, times=1))


@pytest.mark.parametrize("path", [r"/compute/v2\.1/servers$", r"/volume/v3/[^/]+/volumes$",
                                  r"/networking/v2\.0/floatingips$"])
def test_created_but_answered_500_is_adopted(path: str, os_cloud: SandboxCloud,
                                             tmp_path: Path) -> None:
    """The cloud made the object and then answered 500: the engine finds it by its tags and
    adopts it instead of making a second one."""
    _one_post_fault(os_cloud, tmp_path, FaultRule(method="POST", path=path, status=500,
                                                  times=1, after=True))


# -- 3. a steady-state check lists each type once ---------------------------------------------
def fifty_resources() -> dict[str, Any]:
    resources: dict[str, Any] = {
        "net": {"type": "OS::Neutron::Net"},
        "subnet": {"type": "OS::Neutron::Subnet",
                   "properties": {"network": {"get_resource": "net"}, "cidr": "10.60.0.0/22"}},
        "router": {"type": "OS::Neutron::Router",
                   "properties": {"external_gateway_info": {"network": "public"}}},
        "sg": {"type": "OS::Neutron::SecurityGroup",
               "properties": {"rules": [{"protocol": "tcp", "port_range_min": 80,
                                         "port_range_max": 80}]}},
    }
    for i in range(15):
        resources[f"port{i}"] = {"type": "OS::Neutron::Port", "properties": {
            "network": {"get_resource": "net"},
            "fixed_ips": [{"subnet": {"get_resource": "subnet"}}],
            "security_groups": [{"get_resource": "sg"}]}}
        resources[f"server{i}"] = {"type": "OS::Nova::Server", "properties": {
            "image": "cirros-0.6.2-x86_64-disk", "flavor": "m1.tiny",
            "networks": [{"port": {"get_resource": f"port{i}"}}]}}
    for i in range(8):
        resources[f"vol{i}"] = {"type": "OS::Cinder::Volume", "properties": {"size": 1}}
        resources[f"attach{i}"] = {"type": "OS::Cinder::VolumeAttachment", "properties": {
            "instance_uuid": {"get_resource": f"server{i}"},
            "volume_id": {"get_resource": f"vol{i}"}}}
    assert len(resources) == 50
    return {"heat_template_version": "2021-04-16", "resources": resources}


#: the collections a list call reads (the last path segment, or the one before ``detail``)
_COLLECTION = re.compile(r"/(?P<name>[a-z_-]+?)(?:/detail)?$")


def list_calls(cloud: SandboxCloud) -> Counter[tuple[str, str]]:
    calls: Counter[tuple[str, str]] = Counter()
    for record in cloud.request_log():
        if record.method != "GET" or record.service == "identity":
            continue
        match = _COLLECTION.search(record.path)
        if match:
            calls[(record.service, match.group("name"))] += 1
    return calls


def _class_of(engine: Engine, type_name: str) -> type[ResourcePlugin]:
    cls = engine.plugins.class_for(type_name)
    assert cls is not None, type_name
    return cls


def test_steady_state_check_lists_each_type_once(cloud: SandboxCloud) -> None:
    session: CloudSession = connect(cloud.clouds, cloud.config.cloud_name)
    engine = Engine(MemoryStateStore(), ListEventSink(), cloud=session)
    try:
        state = asyncio.run(engine.create(StackRequest("fifty", fifty_resources())))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        cloud.clear_request_log()
        result = asyncio.run(engine.check(state.id))
        assert result.state.state == "CHECK_COMPLETE", result.state.status_reason
        assert not result.drifted
        lists = list_calls(cloud)
        singles = Counter(r.path.split("/")[-2] for r in cloud.request_log()
                          if r.method == "GET" and r.service != "identity"
                          and not _COLLECTION.search(r.path))
        asyncio.run(engine.delete(state.id))
    finally:
        engine.close()
        session.close()
    # the bound: at most one list call per resource type (8 types here)
    assert lists and max(lists.values()) == 1, lists
    assert sum(lists.values()) <= 8, lists
    # and no GET per resource instead: every type observed by its listing
    assert all(_class_of(engine, t).batch_observe for t in (
        "OS::Nova::Server", "OS::Cinder::Volume", "OS::Cinder::VolumeAttachment"))
    assert not singles, singles
