"""Commands import what they use: ``kubeheat validate`` of a template and ``kubeheat run`` of
Heat's own types must not import openstacksdk, keystoneauth, aiohttp, kopf or yaql (yaql only
when a template uses the ``yaql`` function), so that they start fast in editors, pre-commit
hooks and CI loops (bench/startup.py measures it).

Each case runs the console script's ``main`` in a fresh interpreter with no cloud configured
and reads back the modules it imported. The runs of cloud types check the other side: the
embedded sandbox cloud still starts when a resource needs it, and an earlier sandbox snapshot
in the state file survives runs that did not need it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

HEAVY = ("openstack", "keystoneauth1", "aiohttp", "kopf", "yaql")

#: runs ``kubeheat.cli.main.main`` on argv[2:] and writes its exit code, stdout and the names
#: of every module imported to the file argv[1]
PROBE = """\
import contextlib, io, json, sys
out = io.StringIO()
code = None
try:
    with contextlib.redirect_stdout(out):
        from kubeheat.cli.main import main
        code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump({"code": code, "stdout": out.getvalue(), "modules": sorted(sys.modules)}, fh)
"""

HEAT_ONLY = """\
heat_template_version: 2018-08-31
parameters:
  name: {type: string, default: web, constraints: [{length: {min: 1}}]}
resources:
  root: {type: OS::Heat::None}
  value:
    type: OS::Heat::Value
    properties: {value: {list_join: ["-", [{get_param: name}, {get_resource: root}]]}}
  word: {type: OS::Heat::RandomString, properties: {length: 8}}
outputs:
  joined: {value: {get_attr: [value, value]}}
  word: {value: {get_attr: [word, value]}}
"""

YAQL = """\
heat_template_version: 2018-08-31
resources:
  r: {type: OS::Heat::None}
outputs:
  doubled: {value: {yaql: {expression: $.data.n * 2, data: {n: 21}}}}
"""

NET = """\
heat_template_version: 2018-08-31
resources:
  net: {type: OS::Neutron::Net, properties: {name: kept}}
outputs:
  net: {value: {get_resource: net}}
"""


def kubeheat(tmp_path: Path, *argv: str) -> dict[str, Any]:
    """``kubeheat ARGV`` in a fresh interpreter: its exit code, stdout and imported modules."""
    report = tmp_path / "probe.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    done = subprocess.run([sys.executable, "-c", PROBE, str(report), *argv], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert report.exists(), done.stderr
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    result["stderr"] = done.stderr
    return result


def imported(result: dict[str, Any], *names: str) -> list[str]:
    """Those of ``names`` (packages) of which some module was imported."""
    return [name for name in names
            if any(m == name or m.startswith(name + ".") for m in result["modules"])]


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_help_lists_every_command_and_imports_nothing_heavy(tmp_path: Path) -> None:
    result = kubeheat(tmp_path, "--help")
    assert result["code"] == 0
    for command in ("validate", "template", "resource-types", "run", "plan", "delete",
                    "events", "output", "signal", "sandbox", "docs", "operator"):
        assert f"    {command}" in result["stdout"], command
    assert imported(result, *HEAVY, "yaml", "asyncio", "kubeheat.template",
                    "kubeheat.engine", "kubeheat.resources", "kubeheat.controller",
                    "kubeheat.cloud", "kubeheat.sandbox") == []


def test_validate_of_a_template_imports_no_cloud_operator_or_yaql(tmp_path: Path) -> None:
    tmpl = write(tmp_path / "t.yaml", HEAT_ONLY)
    result = kubeheat(tmp_path, "validate", "-t", str(tmpl), "--format", "json")
    assert result["code"] == 0, result["stderr"]
    assert json.loads(result["stdout"])["Parameters"]["name"]["Default"] == "web"
    assert imported(result, *HEAVY, "kubeheat.engine", "kubeheat.resources",
                    "kubeheat.cloud", "kubeheat.sandbox", "kubeheat.controller") == []


def test_run_of_heat_types_imports_no_cloud_operator_or_yaql(tmp_path: Path) -> None:
    tmpl = write(tmp_path / "t.yaml", HEAT_ONLY)
    state = tmp_path / "state.json"
    result = kubeheat(tmp_path, "run", "-t", str(tmpl), "--state", str(state),
                      "--format", "json")
    assert result["code"] == 0, result["stderr"]
    summary = json.loads(result["stdout"])
    assert summary["stack_status"] == "CREATE_COMPLETE"
    assert summary["outputs"]["joined"].startswith("web-")
    assert len(summary["outputs"]["word"]) == 8
    assert imported(result, *HEAVY, "kubeheat.cloud", "kubeheat.sandbox",
                    "kubeheat.controller") == []
    assert "sandbox" not in json.loads(state.read_text(encoding="utf-8"))


def test_a_template_using_yaql_imports_it(tmp_path: Path) -> None:
    tmpl = write(tmp_path / "t.yaml", YAQL)
    result = kubeheat(tmp_path, "run", "-t", str(tmpl), "--format", "json")
    assert result["code"] == 0, result["stderr"]
    assert json.loads(result["stdout"])["outputs"]["doubled"] == 42
    assert imported(result, *HEAVY) == ["yaql"]


def test_the_sandbox_starts_when_needed_and_its_snapshot_survives_runs_without_it(
        tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    # a cloud type: the embedded sandbox starts and its contents go into the state file
    first = kubeheat(tmp_path, "run", "-t", str(write(tmp_path / "net.yaml", NET)),
                     "--state", str(state), "--format", "json")
    assert first["code"] == 0, first["stderr"]
    assert imported(first, "openstack", "aiohttp") == ["openstack", "aiohttp"]
    net_id = json.loads(first["stdout"])["outputs"]["net"]
    snapshot = json.loads(state.read_text(encoding="utf-8"))["sandbox"]
    assert net_id in json.dumps(snapshot)

    # the same network and a Heat type: nothing needs the cloud, the snapshot stays as it was
    same = NET + "  extra: {value: {get_attr: [none, show]}}\n"
    same = same.replace("resources:\n", "resources:\n  none: {type: OS::Heat::None}\n")
    second = kubeheat(tmp_path, "run", "-t", str(write(tmp_path / "same.yaml", same)),
                      "--state", str(state), "--format", "json")
    assert second["code"] == 0, second["stderr"]
    assert json.loads(second["stdout"])["stack_status"] == "UPDATE_COMPLETE"
    assert imported(second, *HEAVY) == []
    assert json.loads(state.read_text(encoding="utf-8"))["sandbox"] == snapshot

    # a port on that network: the sandbox starts again from the snapshot (the network is there)
    port = same.replace("resources:\n", "resources:\n  port:\n    type: OS::Neutron::Port\n"
                                        "    properties: {network: {get_resource: net}}\n")
    third = kubeheat(tmp_path, "run", "-t", str(write(tmp_path / "port.yaml", port)),
                     "--state", str(state), "--format", "json")
    assert third["code"] == 0, third["stderr"]
    summary = json.loads(third["stdout"])
    assert summary["stack_status"] == "UPDATE_COMPLETE"
    assert summary["outputs"]["net"] == net_id
    assert {r["name"]: r["status"] for r in summary["resources"]}["port"] == "CREATE_COMPLETE"
    assert "port" in json.dumps(json.loads(state.read_text(encoding="utf-8"))["sandbox"])
