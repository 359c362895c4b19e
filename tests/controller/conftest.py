"""Fixtures of the operator tests: a real kube-apiserver (tools/testcluster/cluster.py, with the
controller manager for garbage collection), the sandbox cloud in this process, and
``kubeheat operator`` as a separate process running as a user bound only to the ClusterRole of
:mod:`kubeheat.controller.rbac` (not cluster-admin).

The cluster here needs only etcd, kube-apiserver and kube-controller-manager (not helm), so it
is started by this conftest rather than by tests/cluster's fixture. Missing binaries fail the
tests unless KUBEHEAT_SKIP_CLUSTER=1, which skips them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from operator_support import (
    BIN_ENV,
    BINARIES,
    CLUSTER_PY,
    REPO,
    ROLE,
    SKIP_ENV,
    UP_TIMEOUT,
    Cluster,
    Namespace,
    Operator,
)

from kubeheat.controller import crd, rbac
from kubeheat.sandbox import SandboxCloud, run_sandbox


def _bin_dir() -> Path:
    env = os.environ.get(BIN_ENV)
    return Path(env) if env else REPO / ".cache" / "bin"


def _cluster_py(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CLUSTER_PY), *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the real Kubernetes test cluster is skipped")
    bin_dir = _bin_dir()
    missing = [b for b in BINARIES if not os.access(bin_dir / b, os.X_OK)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found in {bin_dir}: run tools/testcluster/"
                    f"build.sh ({SKIP_ENV}=1 skips the cluster tests)", pytrace=False)
    directory = tmp_path_factory.mktemp("operator-cluster")
    try:
        up = _cluster_py("up", str(directory), f"--bin={bin_dir}",
                         f"--timeout={UP_TIMEOUT:.0f}", timeout=UP_TIMEOUT + 30)
    except BaseException:
        _cluster_py("down", str(directory), timeout=60)
        raise
    if up.returncode != 0:
        pytest.fail(f"the test cluster did not start:\n{up.stderr}", pytrace=False)
    try:
        info = json.loads((directory / "cluster.json").read_text())
        kubeconfig = Path(info["kubeconfig"])
        user = info["user"]["user"]
        config = yaml.safe_load(kubeconfig.read_text())
        context = next(c["name"] for c in config["contexts"] if c["context"]["user"] == user)
        config["current-context"] = context
        operator_kubeconfig = directory / "operator.kubeconfig"
        operator_kubeconfig.write_text(yaml.safe_dump(config))
        operator_kubeconfig.chmod(0o600)
        c = Cluster(directory, kubeconfig, operator_kubeconfig, user)
        docs = [crd.stack_crd(), rbac.cluster_role(ROLE), {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": ROLE},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": ROLE},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                          "name": user}]}]
        c.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
        c.kubectl("wait", "--for=condition=Established", f"crd/{crd.CRD_NAME}",
                  "--timeout=30s")
        yield c
    finally:
        down = _cluster_py("down", str(directory), timeout=60)
        if down.returncode != 0:
            pytest.fail(f"stopping the test cluster failed:\n{down.stderr}", pytrace=False)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxCloud]:
    with run_sandbox(build_delay=0.2) as cloud:
        yield cloud


@pytest.fixture(scope="session")
def operator(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    op = Operator(cluster, tmp_path_factory.mktemp("operator") / "operator.log")
    op.start()
    try:
        yield op
    finally:
        op.stop()


@pytest.fixture
def ns(cluster: Cluster, sandbox: SandboxCloud, operator: Operator) -> Iterator[Namespace]:
    """A fresh namespace with the Secret ``cloud`` holding the sandbox's clouds.yaml."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    cluster.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cloud"},
                   "stringData": {"clouds.yaml": sandbox.clouds_yaml}}, name)
    yield Namespace(name, cluster, sandbox)
    if operator.proc is None or operator.proc.poll() is not None:
        operator.start()
    # remove the Stacks left behind so the next tests' operator has nothing to do
    cluster.kubectl("delete", "stacks", "--all", "-n", name, "--wait=false", check=False)
