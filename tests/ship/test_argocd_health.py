"""The Argo CD health check for Stacks, run by a real Lua 5.1 interpreter (lupa) against its
testdata, as Argo CD's own resource_customizations tests do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

lupa = pytest.importorskip("lupa.lua51")

ROOT = Path(__file__).resolve().parents[2]
ARGOCD = ROOT / "examples" / "argocd"
STACK = ARGOCD / "resource_customizations" / "kubeheat.io" / "Stack"


def to_lua(runtime: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return runtime.table_from({k: to_lua(runtime, v) for k, v in value.items()})
    if isinstance(value, list):
        return runtime.table_from([to_lua(runtime, v) for v in value])
    return value


def health(obj: dict[str, Any]) -> dict[str, str]:
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    runtime.globals()["obj"] = to_lua(runtime, obj)
    script = STACK.joinpath("health.lua").read_text(encoding="utf-8")
    result = runtime.execute(script)
    return {"status": result["status"], "message": result["message"]}


CASES = yaml.safe_load(STACK.joinpath("health_test.yaml").read_text(encoding="utf-8"))["tests"]


@pytest.mark.parametrize("case", CASES, ids=[c["inputPath"] for c in CASES])
def test_health_matches_expectations(case: dict[str, Any]) -> None:
    obj = yaml.safe_load(STACK.joinpath(case["inputPath"]).read_text(encoding="utf-8"))
    assert health(obj) == case["healthStatus"]


def test_every_testdata_file_is_covered() -> None:
    used = {c["inputPath"] for c in CASES}
    present = {f"testdata/{p.name}" for p in STACK.joinpath("testdata").glob("*.yaml")}
    assert used == present


def test_argocd_cm_snippet_embeds_the_script() -> None:
    snippet = yaml.safe_load(ARGOCD.joinpath("argocd-cm-health.yaml").read_text(encoding="utf-8"))
    embedded = snippet["data"]["resource.customizations.health.kubeheat.io_Stack"]
    assert embedded == STACK.joinpath("health.lua").read_text(encoding="utf-8")


def test_application_syncs_the_stacks_folder() -> None:
    app = yaml.safe_load(ARGOCD.joinpath("application.yaml").read_text(encoding="utf-8"))
    assert app["kind"] == "Application"
    assert (ROOT / app["spec"]["source"]["path"]).is_dir()
