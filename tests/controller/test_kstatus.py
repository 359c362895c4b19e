"""kstatus (what Flux, kpt and Argo CD's kstatus mode read) computed from real Stack statuses the
operator produced: a ready stack is Current, one at work is InProgress, a failed one is Failed.
The Argo CD Lua health check gives the matching answer on the same objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from operator_support import Cluster, Namespace, wait_until

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
HEALTH = ROOT / "examples/argocd/resource_customizations/kubeheat.io/Stack/health.lua"


def kstatus(obj: dict[str, Any]) -> str:
    """sigs.k8s.io/cli-utils kstatus for a custom resource with standard conditions."""
    status = obj.get("status") or {}
    conditions = {c["type"]: c["status"] for c in status.get("conditions") or ()}
    if status.get("observedGeneration", 0) < obj["metadata"].get("generation", 0):
        return "InProgress"
    if conditions.get("Reconciling") == "True":
        return "InProgress"
    if conditions.get("Stalled") == "True":
        return "Failed"
    if conditions.get("Ready") == "True":
        return "Current"
    return "InProgress"


def argocd_health(obj: dict[str, Any]) -> str:
    lupa = pytest.importorskip("lupa.lua51")
    runtime = lupa.LuaRuntime()

    def to_lua(value: Any) -> Any:
        if isinstance(value, dict):
            return runtime.table_from({k: to_lua(v) for k, v in value.items()})
        if isinstance(value, list):
            return runtime.table_from([to_lua(v) for v in value])
        return value

    runtime.globals()["obj"] = to_lua(obj)
    return str(runtime.execute(HEALTH.read_text(encoding="utf-8"))["status"])


def _stack(name: str, resources: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "kubeheat.io/v1alpha1", "kind": "Stack", "metadata": {"name": name},
            "spec": {"template": {"heat_template_version": "2021-04-16",
                                  "resources": resources},
                     "cloud": {"credentialsSecretRef": {"name": "cloud"},
                               "cloudName": "sandbox"}, **spec}}


def test_kstatus_of_ready_in_progress_and_failed_stacks(cluster: Cluster, ns: Namespace
                                                         ) -> None:
    cluster.apply(_stack("ready", {"v": {"type": "OS::Heat::Value",
                                         "properties": {"value": "x"}}}), ns.name)
    cluster.apply(_stack("busy", {"slow": {"type": "OS::Heat::TestResource",
                                           "properties": {"action_wait_secs":
                                                          {"create": 30}}}}), ns.name)
    cluster.apply(_stack("broken", {"bad": {"type": "OS::Heat::Value",
                                            "properties": {"value": {"get_resource": "nope"}}}}),
                  ns.name)
    cluster.apply(_stack("failed", {"bad": {"type": "OS::Heat::TestResource",
                                            "properties": {"fail": True}}},
                         disableRollback=True), ns.name)

    ready = cluster.wait_condition("ready", ns.name, "Ready")
    assert kstatus(ready) == "Current"
    assert argocd_health(ready) == "Healthy"

    busy = cluster.wait_condition("busy", ns.name, "Reconciling")
    assert kstatus(busy) == "InProgress"
    assert argocd_health(busy) == "Progressing"

    broken = cluster.wait_condition("broken", ns.name, "Stalled")
    assert kstatus(broken) == "Failed"
    assert argocd_health(broken) == "Degraded"

    def failed_status() -> dict[str, Any] | None:
        obj = cluster.get("stack", "failed", ns.name)
        st = (obj or {}).get("status") or {}
        return obj if str(st.get("stackStatus", "")).endswith("_FAILED") else None

    failed = wait_until(failed_status, "stack failed to be CREATE_FAILED", 60)
    assert argocd_health(failed) == "Degraded"
    # a stack that failed in the cloud is retried with backoff (cloud failures such as "no
    # valid host" are often temporary): kstatus sees it in progress, Argo CD as degraded
    assert kstatus(failed) in ("Failed", "InProgress")
