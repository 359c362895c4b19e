"""The generated CRD files and the RBAC rules (no cluster needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kubeheat.cli.main import main
from kubeheat.controller import crd, rbac

REPO = Path(__file__).resolve().parents[2]


def test_crd_files_are_generated_from_the_package() -> None:
    for name, text in crd.files().items():
        path = REPO / "crds" / name
        assert path.read_text() == text, f"crds/{name} is stale: run `kubeheat operator crd`"


def test_crd_command_prints_the_generated_file(capsys: Any) -> None:
    assert main(["operator", "crd"]) == 0
    assert capsys.readouterr().out == crd.render("stack")


def _walk(node: Any, path: str = "") -> list[str]:
    """Paths of schema nodes that are untyped or keep unknown fields."""
    out: list[str] = []
    if isinstance(node, dict):
        nested = "properties" in node or "items" in node or "additionalProperties" in node
        if nested and "type" not in node:
            out.append(path)
        if node.get("x-kubernetes-preserve-unknown-fields"):
            out.append(path + " (free-form)")
        for key, value in (node.get("properties") or {}).items():
            out += _walk(value, f"{path}.{key}")
        if isinstance(node.get("items"), dict):
            out += _walk(node["items"], path + "[]")
        if isinstance(node.get("additionalProperties"), dict):
            out += _walk(node["additionalProperties"], path + "{}")
    return out


def test_schema_is_structural_and_free_form_only_where_heat_is() -> None:
    doc = yaml.safe_load(crd.render("stack").split("\n", 1)[1])
    version = doc["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert columns == ["Status", "Ready", "Reason", "Age"]
    assert doc["spec"]["names"]["shortNames"] and doc["spec"]["names"]["categories"]
    schema = version["schema"]["openAPIV3Schema"]
    flagged = _walk(schema)
    assert sorted(flagged) == sorted([
        ".spec.template (free-form)", ".spec.parameters (free-form)",
        ".spec.environment[].inline (free-form)", ".status.outputs (free-form)"])
    spec = schema["properties"]["spec"]["properties"]
    assert spec["deletionPolicy"]["enum"] == ["Delete", "Retain"]
    assert spec["drift"]["properties"]["policy"]["enum"] == ["Ignore", "Detect", "Correct"]
    status = schema["properties"]["status"]["properties"]
    for name in ("stackStatus", "stackStatusReason", "observedGeneration", "conditions",
                 "resources", "outputs", "lastPlan", "lastHandledReconcileAt"):
        assert name in status


def test_rbac_rules_are_minimal_data() -> None:
    role = rbac.cluster_role()
    assert role["kind"] == "ClusterRole"
    secrets = [r for r in rbac.RULES if "secrets" in r["resources"]]
    assert len(secrets) == 1
    assert not {"list", "watch"} & set(secrets[0]["verbs"])
    for rule in rbac.RULES:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"]
