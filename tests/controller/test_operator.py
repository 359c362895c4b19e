"""The operator end to end: a real kube-apiserver, the sandbox cloud, and ``kubeheat operator`` as
a separate process running with only the ClusterRole of ``kubeheat.controller.rbac``."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest
import yaml
from operator_support import REPO, Cluster, Namespace, Operator, cloud_objects, wait_until

from kubeheat.cloud import connect
from kubeheat.sandbox import FaultRule, SandboxCloud

pytestmark = pytest.mark.cluster

IMAGE = "cirros-0.6.2-x86_64-disk"

APP_TEMPLATE: dict[str, Any] = {
    "heat_template_version": "2021-04-16",
    "parameters": {
        "net_name": {"type": "string", "default": "app"},
        "cidr": {"type": "string", "default": "10.20.0.0/24"},
        "password": {"type": "string", "hidden": True, "default": "unused-default"},
    },
    "resources": {
        "net": {"type": "OS::Neutron::Net", "properties": {"name": {"get_param": "net_name"}}},
        "subnet": {"type": "OS::Neutron::Subnet",
                   "properties": {"network": {"get_resource": "net"},
                                  "cidr": {"get_param": "cidr"}}},
        "sg": {"type": "OS::Neutron::SecurityGroup",
               "properties": {"rules": [{"protocol": "tcp", "port_range_min": 80,
                                         "port_range_max": 80}]}},
        "port": {"type": "OS::Neutron::Port",
                 "properties": {"network": {"get_resource": "net"},
                                "fixed_ips": [{"subnet": {"get_resource": "subnet"}}],
                                "security_groups": [{"get_resource": "sg"}]}},
        "server": {"type": "OS::Nova::Server",
                   "properties": {"image": IMAGE, "flavor": "m1.tiny",
                                  "networks": [{"port": {"get_resource": "port"}}]}},
    },
    "outputs": {
        "ip": {"value": {"get_attr": ["server", "first_address"]}},
        "net_id": {"value": {"get_resource": "net"}},
        "secret": {"value": {"str_replace": {"template": "pw=$p",
                                             "params": {"$p": {"get_param": "password"}}}}},
    },
}
PASSWORD = "Very-Secret-Passw0rd-42"


def stack_manifest(name: str, template: Any, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "kubeheat.io/v1alpha1", "kind": "Stack",
            "metadata": {"name": name},
            "spec": {"template": template,
                     "cloud": {"credentialsSecretRef": {"name": "cloud"},
                               "cloudName": "sandbox"}, **spec}}


def app_stack(ns: Namespace, name: str, **spec: Any) -> dict[str, Any]:
    """Apply the app Stack (with its password Secret) and wait until Ready."""
    ns.cluster.apply({"apiVersion": "v1", "kind": "Secret",
                      "metadata": {"name": f"{name}-pw"},
                      "stringData": {"password": PASSWORD}}, ns.name)
    spec.setdefault("parametersFrom", [{"secretKeyRef": {"name": f"{name}-pw",
                                                         "key": "password"}}])
    ns.cluster.apply(stack_manifest(name, APP_TEMPLATE, **spec), ns.name)
    return ns.cluster.wait_condition(name, ns.name, "Ready")


def resource_ids(obj: dict[str, Any]) -> dict[str, str]:
    return {r["name"]: r.get("physicalID", "") for r in obj["status"]["resources"]}


def secret_values(cluster: Cluster, name: str, namespace: str) -> dict[str, str]:
    secret = cluster.get("secret", name, namespace)
    assert secret is not None, f"Secret {name} missing"
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


# -------------------------------------------------------------------------------------------
def test_crd_rejects_invalid_specs(cluster: Cluster, ns: Namespace) -> None:
    bad = stack_manifest("bad", {"heat_template_version": "2021-04-16"},
                         deletionPolicy="Sometimes")
    result = cluster.kubectl("apply", "-n", ns.name, "-f", "-", stdin=yaml.safe_dump(bad),
                             check=False)
    assert result.returncode != 0 and "deletionPolicy" in result.stderr
    assert cluster.kubectl("get", "hst", "-n", ns.name).returncode == 0


def test_operator_is_not_cluster_admin(cluster: Cluster) -> None:
    def can(*args: str) -> str:
        return cluster.kubectl("auth", "can-i", *args, check=False,
                               kubeconfig=cluster.operator_kubeconfig).stdout.strip()
    assert can("patch", "stacks.kubeheat.io/status") == "yes"
    assert can("get", "secrets") == "yes"
    assert can("list", "secrets") == "no"
    assert can("create", "deployments") == "no"
    assert can("delete", "namespaces") == "no"


def test_example_stacks_become_ready(cluster: Cluster, ns: Namespace, operator: Operator
                                     ) -> None:
    cluster.kubectl("create", "configmap", "web-app-template", "-n", ns.name,
                    f"--from-file=template.yaml={REPO / 'examples' / 'web-app.yaml'}")
    for example in ("hello", "web-app"):
        cluster.kubectl("apply", "-n", ns.name, "-f",
                        str(REPO / "examples" / "stacks" / f"{example}.yaml"))
    for example in ("hello", "web-app"):
        cluster.kubectl("wait", "--for=condition=Ready", f"stack/{example}", "-n", ns.name,
                        "--timeout=90s", timeout=100)
    hello = cluster.stack("hello", ns.name)
    status = hello["status"]
    assert status["stackStatus"] == "CREATE_COMPLETE"
    assert status["outputs"]["message"].startswith("Hello from ")
    assert status["outputs"]["dsn"] == "postgres://app:******@db/app"
    assert {c["type"] for c in status["conditions"]} >= {"Ready", "Reconciling", "Stalled"}
    assert all(r.get("physicalID") for r in status["resources"])
    assert secret_values(cluster, "hello-outputs", ns.name)["dsn"] == \
        "postgres://app:s3cret-Passw0rd@db/app"
    web = cluster.stack("web-app", ns.name)
    assert web["status"]["outputs"]["server_ip"].startswith("10.10.0.")
    assert secret_values(cluster, "web-app-outputs", ns.name)["server_ip"] == \
        web["status"]["outputs"]["server_ip"]
    assert cloud_objects(ns.sandbox, web["status"]["stackID"])["servers"] == 1
    # Events, as kubectl describe lists them
    described = cluster.kubectl("describe", "stack", "hello", "-n", ns.name).stdout
    assert "CREATE_COMPLETE" in described and "Normal" in described
    # secrets never in status, Events or annotations
    everything = cluster.kubectl("get", "stacks,events", "-n", ns.name, "-o", "json").stdout
    for secret in ("s3cret-Passw0rd", "correct-horse-battery"):
        assert secret not in everything
    for obj in (hello, web):
        assert not any(k.startswith("kopf.") for k in obj["metadata"].get("annotations", {}))
    # the engine state lives in an owned Secret
    state = cluster.get("secret", "hello.kubeheat-state", ns.name)
    assert state is not None
    assert state["metadata"]["ownerReferences"][0]["uid"] == hello["metadata"]["uid"]
    metrics = operator.metrics()
    for name in ("kubeheat_reconcile_duration_seconds_bucket", "kubeheat_stacks{",
                 "kubeheat_resource_actions_total", "kubeheat_openstack_api_calls_total",
                 "kubeheat_reconcile_queue_depth"):
        assert name in metrics


def test_update_in_place_and_replace(cluster: Cluster, ns: Namespace) -> None:
    before = app_stack(ns, "app")
    ids = resource_ids(before)
    assert before["status"]["outputs"]["secret"] == "pw=******"
    assert PASSWORD not in json.dumps(before)
    cluster.kubectl("patch", "stack", "app", "-n", ns.name, "--type=merge", "-p",
                    json.dumps({"spec": {"parameters": {"net_name": "renamed"}}}))
    after = cluster.wait_condition("app", ns.name, "Ready")
    assert after["status"]["observedGeneration"] == 2
    plan = {r["name"]: r["action"] for r in after["status"]["lastPlan"]["resources"]}
    assert plan["net"] == "update" and plan["subnet"] == "noop"
    assert resource_ids(after)["net"] == ids["net"]
    assert after["status"]["stackStatus"] == "UPDATE_COMPLETE"
    cluster.kubectl("patch", "stack", "app", "-n", ns.name, "--type=merge", "-p",
                    json.dumps({"spec": {"parameters": {"cidr": "10.30.0.0/24"}}}))
    replaced = cluster.wait_condition("app", ns.name, "Ready")
    assert replaced["status"]["observedGeneration"] == 3
    plan = {r["name"]: r["action"] for r in replaced["status"]["lastPlan"]["resources"]}
    assert plan["subnet"] == "replace"
    assert resource_ids(replaced)["subnet"] != ids["subnet"]
    assert resource_ids(replaced)["net"] == ids["net"]
    subnets = [s for s in ns.sandbox.resources("subnets") if s["network_id"] == ids["net"]]
    assert [s["cidr"] for s in subnets] == ["10.30.0.0/24"]


def test_invalid_template_stalls_without_touching_the_cloud(cluster: Cluster,
                                                            ns: Namespace) -> None:
    template = json.loads(json.dumps(APP_TEMPLATE))
    template["resources"]["subnet"]["properties"]["cidr"] = {"get_param": "no_such_param"}
    ns.sandbox.clear_request_log()
    cluster.apply(stack_manifest("broken", template), ns.name)
    obj = cluster.wait_condition("broken", ns.name, "Stalled")
    stalled = next(c for c in obj["status"]["conditions"] if c["type"] == "Stalled")
    assert "resources.subnet.properties.cidr" in stalled["message"]
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    writes = [r for r in ns.sandbox.request_log() if r.method != "GET"
              and r.service != "identity"]
    assert writes == []
    assert any(e["type"] == "Warning" for e in cluster.events(ns.name, "broken"))
    # fixing the spec un-stalls it
    cluster.apply(stack_manifest("broken", APP_TEMPLATE), ns.name)
    cluster.wait_condition("broken", ns.name, "Ready")


def test_delete_empties_the_cloud_and_retain_keeps_it(cluster: Cluster, ns: Namespace
                                                      ) -> None:
    gone = app_stack(ns, "gone")
    kept = app_stack(ns, "kept", deletionPolicy="Retain")
    gone_id, kept_id = gone["status"]["stackID"], kept["status"]["stackID"]
    assert cloud_objects(ns.sandbox, gone_id) == {"servers": 1, "networks": 1, "subnets": 1,
                                                  "ports": 1, "security_groups": 1}
    cluster.kubectl("delete", "stack", "gone", "kept", "-n", ns.name, "--wait=false")
    cluster.wait_gone("stack", "gone", ns.name)
    cluster.wait_gone("stack", "kept", ns.name)
    assert set(cloud_objects(ns.sandbox, gone_id).values()) == {0}
    assert cloud_objects(ns.sandbox, kept_id)["servers"] == 1
    assert cloud_objects(ns.sandbox, kept_id)["networks"] == 1


def test_missing_credentials_stall_and_keep_the_finalizer(cluster: Cluster, ns: Namespace
                                                          ) -> None:
    spec = stack_manifest("nocreds", APP_TEMPLATE)
    spec["spec"]["cloud"]["credentialsSecretRef"]["name"] = "absent"
    cluster.apply(spec, ns.name)
    obj = cluster.wait_condition("nocreds", ns.name, "Stalled")
    stalled = next(c for c in obj["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "CredentialsNotFound" and "absent" in stalled["message"]
    # a Ready stack whose credentials disappear keeps its finalizer until they are back
    ready = app_stack(ns, "orphan")
    stack_id = ready["status"]["stackID"]
    cloud_secret = cluster.get("secret", "cloud", ns.name)
    assert cloud_secret is not None
    cluster.kubectl("delete", "secret", "cloud", "-n", ns.name)
    cluster.kubectl("delete", "stack", "orphan", "-n", ns.name, "--wait=false")
    wait_until(lambda: any(c["type"] == "Stalled" and c["status"] == "True"
                           and c["reason"] == "CredentialsNotFound"
                           for c in (cluster.stack("orphan", ns.name).get("status") or {})
                           .get("conditions", [])), "orphan Stalled")
    obj = cluster.stack("orphan", ns.name)
    assert "kubeheat.io/stack-cleanup" in obj["metadata"]["finalizers"]
    assert cloud_objects(ns.sandbox, stack_id)["servers"] == 1
    cluster.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cloud"},
                   "stringData": {"clouds.yaml": ns.sandbox.clouds_yaml}}, ns.name)
    cluster.wait_gone("stack", "orphan", ns.name, timeout=90)
    assert set(cloud_objects(ns.sandbox, stack_id).values()) == {0}


def test_drift_detected_then_corrected(cluster: Cluster, ns: Namespace) -> None:
    # 30s: the shortest interval the CRD and the operator accept (review M1)
    obj = app_stack(ns, "drifty", drift={"policy": "Detect", "interval": "30s"})
    ids = resource_ids(obj)
    ns.sandbox.vanish("ports", ids["port"])
    session = connect(ns.sandbox.clouds, "sandbox")
    try:
        rules = [r for r in session.conn.network.security_group_rules(
            security_group_id=ids["sg"]) if r.port_range_min == 80]
        assert rules
        session.conn.network.delete_security_group_rule(rules[0].id)
        session.conn.network.create_security_group_rule(
            security_group_id=ids["sg"], direction="ingress", protocol="tcp",
            port_range_min=8080, port_range_max=8080)
    finally:
        session.close()
    drifted = cluster.wait_condition("drifty", ns.name, "Drifted", timeout=90)
    found = {r["name"]: r for r in drifted["status"]["drift"]["resources"]}
    assert found["port"]["missing"] is True
    assert "sg" in found and "rules" in found["sg"]["properties"]
    assert any(e["reason"] == "DriftDetected" for e in cluster.events(ns.name, "drifty"))
    cluster.kubectl("patch", "stack", "drifty", "-n", ns.name, "--type=merge", "-p",
                    json.dumps({"spec": {"drift": {"policy": "Correct", "interval": "30s"}}}))
    fixed = cluster.wait_condition("drifty", ns.name, "Drifted", "False", timeout=120)
    ports = [p for p in ns.sandbox.resources("ports")
             if fixed["status"]["stackID"] in json.dumps(p, default=str)]
    assert len(ports) == 1
    sg_rules = [r for r in ns.sandbox.resources("security_group_rules")
                if r["security_group_id"] == ids["sg"] and r.get("protocol") == "tcp"]
    assert sorted(r["port_range_min"] for r in sg_rules) == [80]


def test_reconcile_request_and_suspend(cluster: Cluster, ns: Namespace) -> None:
    app_stack(ns, "ctl")
    cluster.kubectl("annotate", "stack", "ctl", "-n", ns.name, "--overwrite",
                    "kubeheat.io/reconcile-requested-at=2026-01-01T00:00:00Z")
    wait_until(lambda: cluster.stack("ctl", ns.name)["status"].get("lastHandledReconcileAt")
               == "2026-01-01T00:00:00Z", "reconcile request acknowledged")
    cluster.kubectl("patch", "stack", "ctl", "-n", ns.name, "--type=merge", "-p",
                    json.dumps({"spec": {"suspend": True,
                                         "parameters": {"net_name": "suspended"}}}))
    wait_until(lambda: any(c["reason"] == "Suspended" for c in
                           cluster.stack("ctl", ns.name)["status"]["conditions"]),
               "Suspended")
    obj = cluster.stack("ctl", ns.name)
    net = next(n for n in ns.sandbox.resources("networks")
               if n["id"] == resource_ids(obj)["net"])
    assert net["name"] == "app"
    cluster.kubectl("patch", "stack", "ctl", "-n", ns.name, "--type=merge", "-p",
                    json.dumps({"spec": {"suspend": False}}))
    cluster.wait_condition("ctl", ns.name, "Ready")
    net = next(n for n in ns.sandbox.resources("networks")
               if n["id"] == resource_ids(obj)["net"])
    assert net["name"] == "suspended"


def _many_servers(count: int) -> dict[str, Any]:
    template = json.loads(json.dumps(APP_TEMPLATE))
    template["parameters"]["net_name"]["default"] = "crash-net"
    template["resources"]["servers"] = {
        "type": "OS::Heat::ResourceGroup",
        "properties": {"count": count, "resource_def": {
            "type": "OS::Nova::Server",
            "properties": {"image": IMAGE, "flavor": "m1.tiny",
                           "networks": [{"network": {"get_resource": "net"}}]}}},
        "depends_on": ["subnet"]}
    return template


def _crash_counts(sandbox: SandboxCloud) -> tuple[int, int, int]:
    """(servers, ports, networks) of the crash test's network (nested stacks included)."""
    nets = [n["id"] for n in sandbox.resources("networks") if n["name"] == "crash-net"]
    ports = [p for p in sandbox.resources("ports") if p["network_id"] in nets]
    servers = [s for s in sandbox.resources("servers") if s["name"].startswith("crash-")]
    return len(servers), len(ports), len(nets)


def _converges_after_kill(cluster: Cluster, ns: Namespace, operator: Operator, name: str,
                          want: str) -> None:
    """Kill the operator when the stack is IN_PROGRESS, restart it, wait for ``want``."""
    wait_until(lambda: "IN_PROGRESS" in str((cluster.get("stack", name, ns.name) or {})
                                            .get("status", {}).get("stackStatus")),
               f"{name} in progress", timeout=60)
    operator.kill()
    operator.start()


def test_sigkill_during_create_update_delete_converges(cluster: Cluster, ns: Namespace,
                                                       operator: Operator,
                                                       sandbox: SandboxCloud) -> None:
    # every compute call is slowed down, so each operation stays IN_PROGRESS for seconds and
    # the kill reliably lands in the middle of it, however fast or slow the machine
    slow = sandbox.add_fault(FaultRule(path=r"^/compute/", latency=0.25))
    try:
        _sigkill_create_update_delete(cluster, ns, operator, sandbox)
    finally:
        sandbox.remove_fault(slow)


def _sigkill_create_update_delete(cluster: Cluster, ns: Namespace, operator: Operator,
                                  sandbox: SandboxCloud) -> None:
    cluster.apply(stack_manifest("crash", _many_servers(6)), ns.name)
    _converges_after_kill(cluster, ns, operator, "crash", "create")
    obj = cluster.wait_condition("crash", ns.name, "Ready", timeout=120)
    stack_id = obj["status"]["stackID"]
    assert _crash_counts(sandbox) == (7, 7, 1)
    cluster.kubectl("patch", "stack", "crash", "-n", ns.name, "--type=merge", "-p",
                    json.dumps({"spec": {"template": _many_servers(9)}}))
    _converges_after_kill(cluster, ns, operator, "crash", "update")
    obj = cluster.wait_condition("crash", ns.name, "Ready", timeout=120)
    assert _crash_counts(sandbox) == (10, 10, 1)
    cluster.kubectl("delete", "stack", "crash", "-n", ns.name, "--wait=false")
    _converges_after_kill(cluster, ns, operator, "crash", "delete")
    cluster.wait_gone("stack", "crash", ns.name, timeout=120)
    assert _crash_counts(sandbox) == (0, 0, 0)
    assert set(cloud_objects(sandbox, stack_id).values()) == {0}


def test_a_500_kib_template(cluster: Cluster, ns: Namespace) -> None:
    rng = random.Random(5)
    words = [f"w{rng.randrange(10**6):06d}" for _ in range(4000)]
    resources = {f"v{i:03d}": {"type": "OS::Heat::Value", "properties": {
        "value": " ".join(rng.choice(words) for _ in range(1300))}} for i in range(50)}
    template = {"heat_template_version": "2021-04-16", "resources": resources,
                "outputs": {"first": {"value": {"get_attr": ["v000", "value"]}}}}
    manifest = {"apiVersion": "kubeheat.io/v1alpha1", "kind": "Stack",
                "metadata": {"name": "big"},
                "spec": {"template": yaml.safe_dump(template, width=10**9)}}
    text = json.dumps(manifest)
    assert len(text) > 500 * 1024 and len(manifest["spec"]["template"]) <= 512 * 1024
    # server-side apply: client-side apply would copy it into an annotation itself
    cluster.kubectl("apply", "--server-side", "-n", ns.name, "-f", "-", stdin=text)
    obj = cluster.wait_condition("big", ns.name, "Ready", timeout=120)
    assert obj["status"]["outputs"]["first"] == resources["v000"]["properties"]["value"]
    annotations = obj["metadata"].get("annotations") or {}
    assert sum(len(k) + len(v) for k, v in annotations.items()) < 1024
    resources["v001"]["properties"]["value"] = "changed"
    manifest["spec"]["template"] = yaml.safe_dump(template, width=10**9)
    cluster.kubectl("apply", "--server-side", "-n", ns.name, "-f", "-",
                    stdin=json.dumps(manifest))
    obj = cluster.wait_condition("big", ns.name, "Ready", timeout=120)
    assert obj["status"]["stackStatus"] == "UPDATE_COMPLETE"
