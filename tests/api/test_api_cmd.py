"""``kubeheat api`` as its own process: it prints a clouds.yaml (and writes it with
``--clouds-yaml``) whose endpoint python-heatclient reaches through a keystoneauth ``none``
session, as ``openstack --os-auth-type none --os-endpoint URL stack …`` builds it, on 127.0.0.1;
it stops on SIGTERM with its stacks kept in ``--state-dir``.

(openstacksdk's orchestration proxy with ``auth_type: none`` fails version discovery against
real Heat 27.0.1 too: ``GET /v1`` and ``GET /v1/admin`` are 404 there; not covered yet.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from heatclient import client as heat_client
from keystoneauth1 import noauth, session

TEMPLATE = {"heat_template_version": "2018-08-31",
            "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": "x"}}},
            "outputs": {"v": {"value": {"get_attr": ["v", "value"]}}}}


def _spawn(state_dir: Path, clouds: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "kubeheat.cli.main", "api", "--port", "0", "--state-dir",
         str(state_dir), "--clouds-yaml", str(clouds)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _endpoint(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, f"kubeheat api ended: {proc.stderr.read() if proc.stderr else ''}"
        if "orchestration_endpoint_override:" in line:
            return line.split(":", 1)[1].strip()
    raise AssertionError("no clouds.yaml printed")


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err


def test_api_command_serves_openstacksdk_and_heatclient(tmp_path: Path) -> None:
    clouds = tmp_path / "clouds.yaml"
    proc = _spawn(tmp_path / "state", clouds)
    try:
        endpoint = _endpoint(proc)
        assert endpoint.startswith("http://127.0.0.1:") and endpoint.endswith("/v1/admin")
        written = yaml.safe_load(clouds.read_text(encoding="utf-8"))
        assert written == {"clouds": {"kubeheat": {
            "auth_type": "none", "auth": {"endpoint": endpoint},
            "orchestration_endpoint_override": endpoint}}}
        assert clouds.stat().st_mode & 0o777 == 0o600
        sess = session.Session(auth=noauth.NoAuth())
        hc = heat_client.Client("1", session=sess, endpoint_override=endpoint)
        stack_id = hc.stacks.create(stack_name="api_cmd", template=TEMPLATE)["stack"]["id"]
        deadline = time.monotonic() + 60
        while hc.stacks.get("api_cmd").stack_status != "CREATE_COMPLETE":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert [s.stack_name for s in hc.stacks.list()] == ["api_cmd"]
        assert hc.stacks.output_show(stack_id, "v")["output"]["output_value"] == "x"
        # a name given where the id is needed: heatclient reads the lookup's Location
        assert hc.stacks.output_show("api_cmd", "v")["output"]["output_value"] == "x"
        hc.resources.list("api_cmd")
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert "api stopped" in err
    # the stack is kept: a second server answers for it
    proc = _spawn(tmp_path / "state", clouds)
    try:
        endpoint = _endpoint(proc)
        hc = heat_client.Client("1", endpoint=endpoint, token="x")
        assert [(s.stack_name, s.stack_status) for s in hc.stacks.list()] == [
            ("api_cmd", "CREATE_COMPLETE")]
    finally:
        _stop(proc)
