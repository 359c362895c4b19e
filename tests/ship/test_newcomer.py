"""The README's quick start works in either order in one fresh clone: ``tools/demo``, ``tools/demo
down``, then ``make`` (which must complete the demo's virtualenv with the test tools instead of
taking it as complete), then ``tools/demo`` again over the virtualenv ``make`` made.

The clone is a copy of this working tree (tracked and untracked files, none of the ignored
ones: no ``.venv``, no ``.cache``), so it starts as a newcomer's would. Of ``make test`` the
test runs the steps that depend on the virtualenv (``make venv lint``); the whole suite is what
is running it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".cache" / "bin"

pytestmark = pytest.mark.cluster


def _fresh_clone(target: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if not source.is_file():
            continue                    # deleted in the working tree
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
    return target


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _demo(clone: Path, env: dict[str, str]) -> None:
    try:
        up = _run([str(clone / "tools" / "demo")], clone, env, 900)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert "CREATE_COMPLETE" in up.stdout
    finally:
        down = _run([str(clone / "tools" / "demo"), "down"], clone, env, 120)
    assert down.returncode == 0, down.stderr


@pytest.mark.skipif(os.environ.get("KUBEHEAT_SKIP_CLUSTER") == "1", reason="no test cluster")
def test_demo_then_make_then_demo_in_one_clone(tmp_path: Path) -> None:
    if not (BIN / "kube-apiserver").exists():
        pytest.skip("cluster binaries not built (make cluster-bin)")
    clone = _fresh_clone(tmp_path / "kubeheat")
    env = {k: v for k, v in os.environ.items()
           if k not in ("KUBECONFIG", "VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(KUBEHEAT_DEMO_DIR=str(tmp_path / "demo"), KUBEHEAT_TESTCLUSTER_BIN=str(BIN))
    assert not (clone / ".venv").exists()

    _demo(clone, env)                                   # 1. the demo makes a virtualenv
    assert (clone / ".venv" / "bin" / "kubeheat").exists()
    assert not (clone / ".venv" / "bin" / "ruff").exists()

    made = _run(["make", "venv", "lint"], clone, env, 900)   # 2. make completes it
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    for tool in ("ruff", "mypy", "lint-imports", "pytest"):
        assert (clone / ".venv" / "bin" / tool).exists(), tool

    _demo(clone, env)                                   # 3. the demo runs over make's venv
