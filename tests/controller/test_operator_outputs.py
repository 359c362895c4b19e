"""``spec.outputsTo`` writes only what the Stack may write (review 2026-12 H2, M4), on the real
apiserver with the operator as a separate process.

A Stack naming an existing Secret or ConfigMap it does not control (the namespace's credentials,
another Stack's template) leaves it byte-identical and not owned, and goes Stalled with reason
``OutputsTargetConflict``; deleting that Stack leaves the objects. An object annotated
``kubeheat.io/outputs-from: <stack>`` receives the outputs without being taken over. A write the
apiserver refuses is ``Stalled``/``OutputsWriteFailed`` and retried, never reported Ready."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from operator_support import Cluster, Namespace, wait_until

pytestmark = pytest.mark.cluster

ANNOTATION = "kubeheat.io/outputs-from"


def _stack(name: str, outputs: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "kubeheat.io/v1alpha1", "kind": "Stack", "metadata": {"name": name},
            "spec": {"template": {"heat_template_version": "2016-10-14",
                                  "outputs": {k: {"value": v} for k, v in outputs.items()}},
                     **spec}}


def _same(obj: dict[str, Any] | None) -> dict[str, Any]:
    """What must not change: the data, the type, the owners and the resourceVersion."""
    assert obj is not None
    meta = obj["metadata"]
    return {"data": obj.get("data"), "type": obj.get("type"),
            "owners": meta.get("ownerReferences"), "annotations": meta.get("annotations"),
            "resourceVersion": meta["resourceVersion"], "uid": meta["uid"]}


def _warnings(cluster: Cluster, namespace: str, name: str, reason: str) -> list[dict[str, Any]]:
    return [e for e in cluster.events(namespace, name)
            if e["type"] == "Warning" and e["reason"] == reason]


def _stalled_reason(cluster: Cluster, namespace: str, name: str) -> str | None:
    obj = cluster.get("stack", name, namespace) or {}
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond["type"] == "Stalled" and cond["status"] == "True":
            return str(cond["reason"])
    return None


def test_outputs_never_take_over_another_object(cluster: Cluster, ns: Namespace) -> None:
    """hijack.yaml: the credentials Secret and another Stack's template ConfigMap stay as they
    were, and survive the hijacker's deletion."""
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "web-app-template"},
                   "data": {"template.yaml": "heat_template_version: 2016-10-14\n"}}, ns.name)
    before = {"secret": _same(cluster.get("secret", "cloud", ns.name)),
              "configmap": _same(cluster.get("configmap", "web-app-template", ns.name))}
    hijack = _stack("hijack", {"clouds.yaml": "clouds: {}"},
                    outputsTo={"secretName": "cloud", "configMapName": "web-app-template"})
    hijack["spec"]["template"]["resources"] = {"r": {"type": "OS::Heat::None"}}
    cluster.apply(hijack, ns.name)
    obj = cluster.wait_condition("hijack", ns.name, "Stalled")
    stalled = next(c for c in obj["status"]["conditions"] if c["type"] == "Stalled")
    assert stalled["reason"] == "OutputsTargetConflict", stalled
    assert "spec.outputsTo.secretName: Secret" in stalled["message"]
    assert f"{ns.name}/cloud" in stalled["message"]
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    events = wait_until(lambda: _warnings(cluster, ns.name, "hijack", "OutputsTargetConflict"),
                        "the OutputsTargetConflict Warning")
    assert f"{ns.name}/cloud" in events[0]["message"]
    # refused before anything was applied: no stack was created, no state recorded
    assert "stackStatus" not in obj["status"]
    assert cluster.get("secret", "hijack.kubeheat-state", ns.name) is None
    after = {"secret": _same(cluster.get("secret", "cloud", ns.name)),
             "configmap": _same(cluster.get("configmap", "web-app-template", ns.name))}
    assert after == before
    cluster.kubectl("delete", "stack", "hijack", "-n", ns.name, "--timeout=60s")
    cluster.wait_gone("stack", "hijack", ns.name)
    # the garbage collector has nothing to collect: give it the chance anyway, via a Stack
    # that owns an object, deleted after the hijacker
    cluster.apply(_stack("marker", {"a": "b"}, outputsTo={"configMapName": "marker-out"}),
                  ns.name)
    cluster.wait_condition("marker", ns.name, "Ready")
    cluster.kubectl("delete", "stack", "marker", "-n", ns.name, "--timeout=60s")
    cluster.wait_gone("configmap", "marker-out", ns.name)
    final = {"secret": _same(cluster.get("secret", "cloud", ns.name)),
             "configmap": _same(cluster.get("configmap", "web-app-template", ns.name))}
    assert final == before


def test_the_state_secret_is_never_an_outputs_target(cluster: Cluster, ns: Namespace) -> None:
    cluster.apply(_stack("victim", {"a": "b"}), ns.name)
    cluster.wait_condition("victim", ns.name, "Ready")
    state = _same(cluster.get("secret", "victim.kubeheat-state", ns.name))
    cluster.apply(_stack("hijack2", {"state.json.xz": "x"},
                         outputsTo={"secretName": "victim.kubeheat-state"}), ns.name)
    cluster.wait_condition("hijack2", ns.name, "Stalled")
    assert _stalled_reason(cluster, ns.name, "hijack2") == "OutputsTargetConflict"
    # its own state Secret is refused too (it is controlled by the Stack, but holds its state)
    cluster.apply(_stack("self", {"a": "b"}, outputsTo={"secretName": "self.kubeheat-state"}),
                  ns.name)
    obj = cluster.wait_condition("self", ns.name, "Stalled")
    assert _stalled_reason(cluster, ns.name, "self") == "OutputsTargetConflict", obj["status"]
    assert _same(cluster.get("secret", "victim.kubeheat-state", ns.name)) == state


def test_an_accepting_object_gets_the_outputs_without_being_owned(cluster: Cluster,
                                                                  ns: Namespace) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "shared", "annotations": {ANNOTATION: "acc"},
                                "labels": {"team": "x"}},
                   "data": {"old": "value"}}, ns.name)
    cluster.apply(_stack("acc", {"x": "hello", "num": 3},
                         outputsTo={"configMapName": "shared", "secretName": "acc-out"}),
                  ns.name)
    cluster.wait_condition("acc", ns.name, "Ready")
    shared = cluster.get("configmap", "shared", ns.name)
    assert shared is not None
    assert shared["data"] == {"x": "hello", "num": "3"}
    assert not shared["metadata"].get("ownerReferences")
    assert shared["metadata"]["labels"] == {"team": "x"}
    assert shared["metadata"]["annotations"][ANNOTATION] == "acc"
    created = cluster.get("secret", "acc-out", ns.name)
    assert created is not None
    owners = created["metadata"]["ownerReferences"]
    stack_uid = cluster.stack("acc", ns.name)["metadata"]["uid"]
    assert [(o["kind"], o["uid"], o["controller"]) for o in owners] == [
        ("Stack", stack_uid, True)]
    assert base64.b64decode(created["data"]["x"]).decode() == "hello"
    # an annotation naming another Stack is no acceptance
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "other", "annotations": {ANNOTATION: "someone"}},
                   "data": {"k": "v"}}, ns.name)
    cluster.apply(_stack("acc2", {"x": "y"}, outputsTo={"configMapName": "other"}), ns.name)
    cluster.wait_condition("acc2", ns.name, "Stalled")
    assert _stalled_reason(cluster, ns.name, "acc2") == "OutputsTargetConflict"
    other = cluster.get("configmap", "other", ns.name)
    assert other is not None and other["data"] == {"k": "v"}
    cluster.kubectl("delete", "stack", "acc", "-n", ns.name, "--timeout=60s")
    cluster.wait_gone("secret", "acc-out", ns.name)
    assert cluster.get("configmap", "shared", ns.name) is not None


def test_a_refused_write_is_stalled_and_retried_never_ready(cluster: Cluster,
                                                            ns: Namespace) -> None:
    """outfail.yaml, with the docker-registry Secret accepting the outputs: the apiserver
    refuses the data (422); the Stack is Stalled OutputsWriteFailed on every attempt (the retry
    is no no-op reporting Ready, review M4); once the Secret is gone the outputs are written."""
    cluster.kubectl("create", "secret", "docker-registry", "regcred", "-n", ns.name,
                    "--docker-server=registry.invalid", "--docker-username=u",
                    "--docker-password=p")
    cluster.kubectl("annotate", "secret", "regcred", "-n", ns.name, f"{ANNOTATION}=outfail")
    before = _same(cluster.get("secret", "regcred", ns.name))
    cluster.apply(_stack("outfail", {"x": "hello"}, outputsTo={"secretName": "regcred"}),
                  ns.name)
    cluster.wait_condition("outfail", ns.name, "Stalled")
    assert _stalled_reason(cluster, ns.name, "outfail") == "OutputsWriteFailed"

    def attempts() -> int | None:
        found = sum(int(e.get("count") or 1)
                    for e in _warnings(cluster, ns.name, "outfail", "OutputsWriteFailed"))
        return found if found >= 2 else None
    wait_until(attempts, "a second failed attempt")
    obj = cluster.stack("outfail", ns.name)
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False", ready
    assert _same(cluster.get("secret", "regcred", ns.name)) == before
    cluster.kubectl("delete", "secret", "regcred", "-n", ns.name)
    cluster.wait_condition("outfail", ns.name, "Ready", timeout=120)
    written = cluster.get("secret", "regcred", ns.name)
    assert written is not None and base64.b64decode(written["data"]["x"]).decode() == "hello"
