"""The `kube_cluster` fixture: a real etcd + kube-apiserver on 127.0.0.1 for the whole session.

The binaries come from `tools/testcluster/build.sh` (which CI runs before the tests), found in
`$KUBEHEAT_TESTCLUSTER_BIN` or else `<repo>/.cache/bin`. Missing binaries fail the tests, unless
KUBEHEAT_SKIP_CLUSTER=1, which skips them instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CLUSTER_PY = REPO / "tools" / "testcluster" / "cluster.py"
BIN_ENV = "KUBEHEAT_TESTCLUSTER_BIN"
SKIP_ENV = "KUBEHEAT_SKIP_CLUSTER"
COMPONENTS = ("kube-apiserver", "etcd")
UP_TIMEOUT = 90.0
KUBECTL_TIMEOUT = 60.0


@dataclass(frozen=True)
class KubeCluster:
    """A running test cluster. `kubectl` runs as the admin unless `context` says otherwise."""

    directory: Path
    kubeconfig: Path
    server: str
    kubectl_path: str
    admin_context: str
    user_context: str
    user_name: str

    def kubectl(
        self,
        *args: str,
        context: str | None = None,
        stdin: str | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Runs kubectl against this cluster; with `check`, a non-zero exit fails the test."""
        argv = [
            self.kubectl_path,
            f"--kubeconfig={self.kubeconfig}",
            f"--cache-dir={self.directory / 'kube-cache'}",
            f"--context={context or self.admin_context}",
            *args,
        ]
        result = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=KUBECTL_TIMEOUT,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"kubectl {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stderr}{result.stdout}",
                pytrace=False,
            )
        return result

    def kubectl_json(self, *args: str, context: str | None = None) -> dict[str, Any]:
        """`kubectl ... -o json`, parsed."""
        data = json.loads(self.kubectl(*args, "-o", "json", context=context).stdout)
        assert isinstance(data, dict)
        return data


def _binaries_dir() -> Path:
    env = os.environ.get(BIN_ENV)
    return Path(env) if env else REPO / ".cache" / "bin"


def _run_cluster_py(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CLUSTER_PY), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeCluster]:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the real Kubernetes test cluster is skipped")
    bin_dir = _binaries_dir()
    missing = [name for name in COMPONENTS if not os.access(bin_dir / name, os.X_OK)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found in {bin_dir}: run tools/testcluster/build.sh "
            f"(or set {BIN_ENV}; {SKIP_ENV}=1 skips the cluster tests)",
            pytrace=False,
        )
    kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is required for the cluster tests", pytrace=False)

    directory = tmp_path_factory.mktemp("kube-cluster")
    try:
        up = _run_cluster_py(
            "up",
            str(directory),
            f"--bin={bin_dir}",
            f"--timeout={UP_TIMEOUT:.0f}",
            timeout=UP_TIMEOUT + 30,
        )
    except BaseException:  # e.g. the timeout: leave no process behind
        _run_cluster_py("down", str(directory), timeout=60)
        raise
    if up.returncode != 0:  # `up` has stopped whatever it started
        pytest.fail(f"the test cluster did not start:\n{up.stderr}", pytrace=False)
    try:
        info = json.loads((directory / "cluster.json").read_text())
        yield KubeCluster(
            directory=directory,
            kubeconfig=Path(info["kubeconfig"]),
            server=info["server"],
            kubectl_path=kubectl,
            admin_context=info["admin"]["user"],
            user_context=info["user"]["user"],
            user_name=info["user"]["user"],
        )
    finally:
        down = _run_cluster_py("down", str(directory), timeout=60)
        if down.returncode != 0:
            pytest.fail(f"stopping the test cluster failed:\n{down.stderr}", pytrace=False)
