"""The `kube_cluster` fixture: a real etcd + kube-apiserver + kube-controller-manager on 127.0.0.1
for the whole session, with kubectl and helm wired to it.

The binaries (including helm) come from `tools/testcluster/build.sh` (which CI runs before the
tests), found in `$KUBEHEAT_TESTCLUSTER_BIN` or else `<repo>/.cache/bin`. Missing binaries fail
the tests, unless KUBEHEAT_SKIP_CLUSTER=1, which skips them instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

REPO = Path(__file__).resolve().parents[2]
CLUSTER_PY = REPO / "tools" / "testcluster" / "cluster.py"
BIN_ENV = "KUBEHEAT_TESTCLUSTER_BIN"
SKIP_ENV = "KUBEHEAT_SKIP_CLUSTER"
BINARIES = ("kube-apiserver", "kube-controller-manager", "etcd", "helm")
UP_TIMEOUT = 90.0
KUBECTL_TIMEOUT = 60.0
HELM_TIMEOUT = 120.0
# How long the controller manager may take to act (garbage collection, namespace deletion).
RECONCILE_TIMEOUT = 60.0
POLL_INTERVAL = 0.25

T = TypeVar("T")


@dataclass(frozen=True)
class KubeCluster:
    """A running test cluster. `kubectl` and `helm` run as the admin unless `context` says
    otherwise. `bin_dir` holds the cluster's binaries and `helm_path` the helm built with them;
    `kubeconfig` has the contexts `admin_context` (system:masters, the current one) and
    `user_context` (no RBAC rights)."""

    directory: Path
    kubeconfig: Path
    server: str
    kubectl_path: str
    helm_path: Path
    bin_dir: Path
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

    def wait_until(
        self,
        condition: Callable[[], T | None],
        what: str,
        timeout: float = RECONCILE_TIMEOUT,
        last_seen: Callable[[], object] | None = None,
    ) -> T:
        """Calls `condition` until it returns something other than None or False, and returns
        that; fails the test after `timeout` seconds, naming `what` was awaited and showing
        `last_seen()` when given."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value is not None and value is not False:
                return value
            if time.monotonic() >= deadline:
                seen = f"\nlast seen: {last_seen()}" if last_seen is not None else ""
                pytest.fail(
                    f"timed out after {timeout:.0f}s waiting for {what}{seen}", pytrace=False
                )
            time.sleep(POLL_INTERVAL)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        scope = ["-n", namespace] if namespace else []
        out = self.kubectl("get", kind, name, *scope, "--ignore-not-found", "-o", "json").stdout
        if not out.strip():
            return None
        data = json.loads(out)
        assert isinstance(data, dict)
        return data

    def wait_deleted(
        self,
        kind: str,
        name: str,
        namespace: str | None = None,
        timeout: float = RECONCILE_TIMEOUT,
    ) -> None:
        """Waits until the object is gone; on timeout shows it as last seen (finalizers...)."""
        where = f" in {namespace}" if namespace else ""
        self.wait_until(
            lambda: self.get(kind, name, namespace) is None,
            f"{kind} {name}{where} to be deleted",
            timeout,
            last_seen=lambda: json.dumps(self.get(kind, name, namespace), indent=1),
        )

    def helm_env(self) -> dict[str, str]:
        """The environment `helm` runs in: this cluster's kubeconfig, and helm's config, cache
        and data directories inside the cluster directory (never the user's)."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("HELM_") and key != "KUBECONFIG"
        }
        home = self.directory / "helm"
        env.update(
            KUBECONFIG=str(self.kubeconfig),
            HELM_CONFIG_HOME=str(home / "config"),
            HELM_CACHE_HOME=str(home / "cache"),
            HELM_DATA_HOME=str(home / "data"),
        )
        return env

    def helm(
        self,
        *args: str,
        context: str | None = None,
        check: bool = True,
        timeout: float = HELM_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        """Runs helm against this cluster; with `check`, a non-zero exit fails the test."""
        argv = [str(self.helm_path), f"--kube-context={context or self.admin_context}", *args]
        result = subprocess.run(
            argv,
            env=self.helm_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"helm {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stderr}{result.stdout}",
                pytrace=False,
            )
        return result


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
    missing = [name for name in BINARIES if not os.access(bin_dir / name, os.X_OK)]
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
            helm_path=Path(info["bin"]) / "helm",
            bin_dir=Path(info["bin"]),
            admin_context=info["admin"]["user"],
            user_context=info["user"]["user"],
            user_name=info["user"]["user"],
        )
    finally:
        down = _run_cluster_py("down", str(directory), timeout=60)
        if down.returncode != 0:
            pytest.fail(f"stopping the test cluster failed:\n{down.stderr}", pytrace=False)
