"""The README's first command, `tools/demo`, works: it brings up the local cluster, the sandbox
cloud and the operator, deploys examples/web-app as a Stack and shows it Ready; `tools/demo
down` stops it all."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".cache" / "bin"

pytestmark = pytest.mark.cluster


@pytest.mark.skipif(os.environ.get("KUBEHEAT_SKIP_CLUSTER") == "1", reason="no test cluster")
def test_demo_up_and_down(tmp_path: Path) -> None:
    if not (BIN / "kube-apiserver").exists():
        pytest.skip("cluster binaries not built (make cluster-bin)")
    env = {**os.environ, "KUBEHEAT_DEMO_DIR": str(tmp_path / "demo"),
           "KUBEHEAT_TESTCLUSTER_BIN": str(BIN)}
    env.pop("KUBECONFIG", None)
    try:
        up = subprocess.run([str(ROOT / "tools" / "demo")], env=env, capture_output=True,
                            text=True, timeout=600, check=False)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert "CREATE_COMPLETE" in up.stdout
        assert "OS::Nova::Server" in up.stdout
        assert '"server_ip"' in up.stdout
        assert "correct-horse-battery" not in up.stdout + up.stderr
    finally:
        down = subprocess.run([str(ROOT / "tools" / "demo"), "down"], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    assert down.returncode == 0, down.stderr
    for name in ("operator.pid", "sandbox.pid"):
        assert not (tmp_path / "demo" / name).exists()
