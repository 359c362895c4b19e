"""The ``openstack`` command (python-openstackclient with python-heatclient, from PyPI) against
the served API, as a Heat tutorial runs it: ``stack create --wait``, ``stack list``, ``stack
output show --all``, ``stack resource list``, ``stack event list``, ``orchestration template
validate``, ``stack delete --yes --wait``. Expected values are what the same commands printed
against real Heat 27.0.1 for the same template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from api_support import TEMPLATE, ApiServer

OPENSTACK = Path(sys.executable).with_name("openstack")
def _openstack(api: ApiServer, *argv: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    done = subprocess.run([str(OPENSTACK), "--os-auth-type", "none", "--os-endpoint",
                           api.endpoint, *argv], capture_output=True, text=True, env=env,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _json(api: ApiServer, *argv: str) -> Any:
    return json.loads(_openstack(api, *argv, "-f", "json"))


def test_tutorial_workflow(api: ApiServer, tmp_path: Path) -> None:
    template = tmp_path / "demo-template.yaml"
    template.write_text(TEMPLATE, encoding="utf-8")
    out = _openstack(api, "stack", "create", "-t", str(template), "--parameter",
                     "greeting=hi", "api_osc", "--wait")
    # --wait printed the stack's own events as it polled them, then the stack
    assert "[api_osc]: CREATE_IN_PROGRESS  Stack CREATE started" in out
    assert "[api_osc]: CREATE_COMPLETE  Stack CREATE completed successfully" in out
    assert out.index("CREATE_IN_PROGRESS  Stack CREATE started") < out.index(
        "CREATE_COMPLETE  Stack CREATE completed successfully")
    assert "| stack_status        | CREATE_COMPLETE" in out

    listed = _json(api, "stack", "list")
    assert [{k: v for k, v in row.items() if k not in ("ID", "Creation Time")}
            for row in listed] == [{"Stack Name": "api_osc", "Project": "admin",
                                    "Stack Status": "CREATE_COMPLETE", "Updated Time": None}]
    assert _json(api, "stack", "output", "show", "--all", "api_osc") == {
        "out": {"output_key": "out", "description": "the value", "output_value": "hi"}}
    resources = _json(api, "stack", "resource", "list", "api_osc")
    assert all(list(r) == ["resource_name", "physical_resource_id", "resource_type",
                           "resource_status", "updated_time"] for r in resources)
    assert sorted(r["resource_name"] for r in resources) == ["none", "rand", "value"]
    events = _json(api, "stack", "event", "list", "api_osc")
    assert len(events) == 8
    assert (events[0]["resource_name"], events[0]["resource_status"],
            events[0]["resource_status_reason"]) == (
        "api_osc", "CREATE_IN_PROGRESS", "Stack CREATE started")
    validated = _json(api, "orchestration", "template", "validate", "-t", str(template))
    assert validated["Parameters"]["greeting"]["Default"] == "hello"

    out = _openstack(api, "stack", "delete", "--yes", "--wait", "api_osc")
    assert "[api_osc]: DELETE_COMPLETE  Stack DELETE completed successfully" in out
    assert _json(api, "stack", "list") == []
