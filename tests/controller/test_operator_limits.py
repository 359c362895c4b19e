"""No Stack can crash the shared operator or keep it "Progressing" forever (review 2026-12 H3,
M1, M2, M3), on the real apiserver with the operator as a separate process.

Deeply nested specs are Stalled ``InvalidSpec``/``InvalidTemplate`` while the operator lives on
and reconciles the next Stack; a drift interval under 30 s is refused by the CRD; an object
template has the text form's size limit; a state too large for its Secret is Stalled
``StateTooLarge``; outputs too large for the status are left out of it, and a status that still
does not fit is Stalled ``StatusTooLarge``."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
import yaml
from operator_support import Cluster, Namespace, Operator, wait_until

pytestmark = pytest.mark.cluster

HOT = "2016-10-14"


def _stack(name: str, template: Any, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "kubeheat.io/v1alpha1", "kind": "Stack", "metadata": {"name": name},
            "spec": {"template": template, **spec}}


def _create(cluster: Cluster, namespace: str, text: str) -> None:
    """``kubectl create`` (apply would copy a large object into an annotation)."""
    cluster.kubectl("create", "-n", namespace, "-f", "-", stdin=text)


def _status(cluster: Cluster, name: str, namespace: str) -> dict[str, Any]:
    """The status alone (the object may nest too deeply for this process's json)."""
    out = cluster.kubectl("get", "stack", name, "-n", namespace, "--ignore-not-found",
                          "-o", "jsonpath={.status}").stdout
    return dict(json.loads(out)) if out.strip() else {}


def _stalled(cluster: Cluster, name: str, namespace: str, timeout: float = 60.0
             ) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        for cond in _status(cluster, name, namespace).get("conditions") or ():
            if cond["type"] == "Stalled" and cond["status"] == "True":
                return dict(cond)
        return None
    return wait_until(check, f"stack {namespace}/{name} Stalled", timeout,
                      last_seen=lambda: json.dumps(_status(cluster, name, namespace))[:3000])


def _warning(cluster: Cluster, namespace: str, name: str, reason: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        return next((e for e in cluster.events(namespace, name)
                     if e["type"] == "Warning" and e["reason"] == reason), None)
    return wait_until(check, f"a Warning {reason} on {name}")


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deep_specs_are_stalled_and_the_operator_lives_on(cluster: Cluster, ns: Namespace,
                                                          operator: Operator) -> None:
    """990 nested arrays in spec.parameters and 3000 in spec.template: each Stack is Stalled
    with the field named, the operator process stays up and reconciles a Stack created after."""
    starts = operator.starts
    deepp = ('{"apiVersion":"kubeheat.io/v1alpha1","kind":"Stack","metadata":{"name":"deepp"},'
             '"spec":{"template":{"heat_template_version":"2016-10-14"},'
             '"parameters":{"x":' + _deep(990) + '}}}')
    deept = ('{"apiVersion":"kubeheat.io/v1alpha1","kind":"Stack","metadata":{"name":"deept"},'
             '"spec":{"template":{"heat_template_version":"2016-10-14","description":'
             + _deep(3000) + '}}}')
    _create(cluster, ns.name, deepp)
    _create(cluster, ns.name, deept)
    cluster.apply(_stack("after", {"heat_template_version": HOT,
                                   "resources": {"r": {"type": "OS::Heat::None"}}}), ns.name)
    cluster.wait_condition("after", ns.name, "Ready")
    cond = _stalled(cluster, "deepp", ns.name)
    assert cond["reason"] == "InvalidSpec"
    assert cond["message"] == "spec.parameters.x: the value nests deeper than 128 levels"
    assert _warning(cluster, ns.name, "deepp", "InvalidSpec")["message"] == cond["message"]
    cond = _stalled(cluster, "deept", ns.name)
    assert cond["reason"] == "InvalidTemplate"
    assert cond["message"] == "spec.template: Template nests deeper than 128 levels"
    assert operator.healthy() and operator.proc is not None and operator.proc.poll() is None
    assert operator.starts == starts
    # deleting them works too (the finalizer goes)
    cluster.kubectl("delete", "stack", "deepp", "deept", "-n", ns.name, "--timeout=60s")
    assert operator.proc.poll() is None


def test_the_crd_refuses_a_drift_interval_under_30s(cluster: Cluster, ns: Namespace) -> None:
    template = {"heat_template_version": HOT}
    for interval in ("1ms", "29s", "0.1m"):
        result = cluster.kubectl(
            "apply", "-n", ns.name, "-f", "-", check=False, stdin=yaml.safe_dump(_stack(
                "drift-fast", template, drift={"policy": "Detect", "interval": interval})))
        assert result.returncode != 0, interval
        assert "must be at least 30s (or 0s for the default)" in result.stderr, result.stderr
        assert "spec.drift.interval" in result.stderr
    for i, interval in enumerate(("30s", "0s", "1h30m")):
        cluster.apply(_stack(f"drift-ok{i}", template,
                             drift={"policy": "Detect", "interval": interval}), ns.name)


def test_an_object_template_has_the_size_limit_of_text(cluster: Cluster, ns: Namespace) -> None:
    """big15.json: a 1.4 MB description in an object template is Stalled InvalidTemplate with
    the message the same template gets as text (review M2)."""
    big = {"heat_template_version": HOT, "description": "d" * 1_400_000}
    _create(cluster, ns.name, json.dumps(_stack("big15", big)))
    cond = _stalled(cluster, "big15", ns.name)
    assert cond["reason"] == "InvalidTemplate"
    size = len(json.dumps(big, separators=(",", ":")))
    assert cond["message"] == (f"spec.template: Request limit exceeded: Template size ({size} "
                               "bytes) exceeds maximum allowed size (524288 bytes).")
    _warning(cluster, ns.name, "big15", "InvalidTemplate")
    _create(cluster, ns.name, json.dumps(_stack("big15text",
                                                json.dumps(big, separators=(",", ":")))))
    assert _stalled(cluster, "big15text", ns.name)["message"] == cond["message"]


def test_a_state_too_large_for_its_secret_is_stalled(cluster: Cluster, ns: Namespace,
                                                     operator: Operator) -> None:
    """1.35 MB of incompressible files: the state Secret cannot hold them (review M2)."""
    refs = []
    for i in range(3):
        data = base64.b64encode(os.urandom(330_000)).decode()
        _create(cluster, ns.name, json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"blob{i}"},
            "data": {f"blob{i}.txt": data}}))
        refs.append({"configMapRef": {"name": f"blob{i}"}})
    cluster.apply(_stack("huge", {"heat_template_version": HOT,
                                  "resources": {"r": {"type": "OS::Heat::None"}}},
                         filesFrom=refs), ns.name)
    cond = _stalled(cluster, "huge", ns.name)
    assert cond["reason"] == "StateTooLarge", cond
    assert "more than a Secret holds" in cond["message"]
    _warning(cluster, ns.name, "huge", "StateTooLarge")
    assert operator.proc is not None and operator.proc.poll() is None


def test_outputs_too_large_for_the_status_are_left_out(cluster: Cluster, ns: Namespace) -> None:
    """A 4 MB output (the apiserver refuses a 3 MiB request): the Stack is Ready, the output
    is named in outputErrors, the small one is in status.outputs (review M3)."""
    chunk = "x" * 100_000
    template = {"heat_template_version": HOT, "outputs": {
        "small": {"value": "ok"},
        "big": {"value": {"list_join": ["", {"repeat": {
            "template": chunk, "for_each": {"%i": [str(i) for i in range(40)]}}}]}}}}
    cluster.apply(_stack("bigout", template), ns.name)
    obj = cluster.wait_condition("bigout", ns.name, "Ready")
    status = obj["status"]
    assert status["stackStatus"] == "CREATE_COMPLETE"
    assert status["outputs"] == {"small": "ok"}
    assert status["outputErrors"]["big"].startswith("omitted from status: 4000002 bytes")


def test_a_status_that_still_does_not_fit_is_stalled(cluster: Cluster, ns: Namespace) -> None:
    """A 1.1 MB spec and 470 KB of outputs (each within the status budgets): etcd refuses the
    object; the Stack is Stalled StatusTooLarge with a Warning, not Progressing forever."""
    outputs = {f"o{i}": {"value": {"list_join": ["", {"repeat": {
        "template": chr(ord("a") + i) * 1000 + "%i",
        "for_each": {"%i": [str(n) for n in range(58)]}}}]}} for i in range(8)}
    spec = _stack("toobig", {"heat_template_version": HOT, "outputs": outputs},
                  files={"pad.txt": "p" * 1_100_000})
    _create(cluster, ns.name, json.dumps(spec))
    cond = _stalled(cluster, "toobig", ns.name, timeout=90)
    assert cond["reason"] == "StatusTooLarge", cond
    status = _status(cluster, "toobig", ns.name)
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert "outputs" not in status
    _warning(cluster, ns.name, "toobig", "StatusTooLarge")
