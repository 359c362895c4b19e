"""Helpers of the operator tests (shared by conftest.py and the test modules)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from kubeheat.sandbox import SandboxCloud

REPO = Path(__file__).resolve().parents[2]
CLUSTER_PY = REPO / "tools" / "testcluster" / "cluster.py"
BIN_ENV = "KUBEHEAT_TESTCLUSTER_BIN"
SKIP_ENV = "KUBEHEAT_SKIP_CLUSTER"
BINARIES = ("kube-apiserver", "etcd", "kube-controller-manager")
UP_TIMEOUT = 90.0
KUBECTL_TIMEOUT = 60.0
WAIT = 60.0
POLL = 0.25
ROLE = "kubeheat-operator-test"

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], T | None], what: str, timeout: float = WAIT,
               last_seen: Callable[[], object] | None = None) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value is not None and value is not False:
            return value
        if time.monotonic() >= deadline:
            seen = f"\nlast seen: {last_seen()}" if last_seen is not None else ""
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{seen}",
                        pytrace=False)
        time.sleep(POLL)


@dataclass
class Cluster:
    directory: Path
    kubeconfig: Path
    #: a kubeconfig whose current context is the operator's user (RBAC: the ClusterRole only)
    operator_kubeconfig: Path
    user: str

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True,
                kubeconfig: Path | None = None, timeout: float = KUBECTL_TIMEOUT
                ) -> subprocess.CompletedProcess[str]:
        argv = ["kubectl", f"--kubeconfig={kubeconfig or self.kubeconfig}",
                f"--cache-dir={self.directory / 'kube-cache'}", *args]
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if check and result.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} exited {result.returncode}:\n"
                        f"{result.stderr}{result.stdout}", pytrace=False)
        return result

    def apply(self, manifest: str | list[dict[str, Any]] | dict[str, Any], namespace: str,
              *extra: str) -> None:
        text = manifest if isinstance(manifest, str) else yaml.safe_dump_all(
            manifest if isinstance(manifest, list) else [manifest])
        self.kubectl("apply", "-n", namespace, *extra, "-f", "-", stdin=text)

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        out = self.kubectl("get", kind, name, "-n", namespace, "--ignore-not-found",
                           "-o", "json").stdout
        return json.loads(out) if out.strip() else None

    def stack(self, name: str, namespace: str) -> dict[str, Any]:
        found = self.get("stack", name, namespace)
        assert found is not None, f"stack {namespace}/{name} is gone"
        return found

    def events(self, namespace: str, name: str | None = None) -> list[dict[str, Any]]:
        items = json.loads(self.kubectl("get", "events", "-n", namespace, "-o",
                                        "json").stdout)["items"]
        return [e for e in items if name is None or e["involvedObject"]["name"] == name]

    def wait_condition(self, name: str, namespace: str, type_: str, status: str = "True",
                       timeout: float = WAIT, generation: bool = True) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            obj = self.get("stack", name, namespace)
            if obj is None:
                return None
            st = obj.get("status") or {}
            if generation and st.get("observedGeneration") != obj["metadata"]["generation"]:
                return None
            for cond in st.get("conditions") or ():
                if cond["type"] == type_ and cond["status"] == status:
                    return obj
            return None
        return wait_until(check, f"stack {namespace}/{name} {type_}={status}", timeout,
                          last_seen=lambda: json.dumps(
                              (self.get("stack", name, namespace) or {}).get("status"),
                              indent=1)[:3000])

    def wait_gone(self, kind: str, name: str, namespace: str, timeout: float = WAIT) -> None:
        wait_until(lambda: self.get(kind, name, namespace) is None,
                   f"{kind} {namespace}/{name} to be deleted", timeout,
                   last_seen=lambda: json.dumps(self.get(kind, name, namespace),
                                                indent=1)[:3000])



def cloud_objects(sandbox: SandboxCloud, stack_id: str, kinds: tuple[str, ...] = (
        "servers", "networks", "subnets", "ports", "security_groups")) -> dict[str, int]:
    """How many objects of each kind the sandbox holds for the stack (found by its tags)."""
    out: dict[str, int] = {}
    for kind in kinds:
        out[kind] = sum(1 for rec in sandbox.resources(kind)
                        if stack_id in json.dumps(rec, default=str))
    return out


@dataclass
class Operator:
    """``kubeheat operator`` as a child process (restartable, killable)."""

    cluster: Cluster
    log: Path
    metrics_port: int = field(default_factory=free_port)
    health_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    #: more ``kubeheat operator`` options (e.g. a small ``--concurrency``)
    extra_args: tuple[str, ...] = ()

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "KUBE"))}
        env["KUBECONFIG"] = str(self.cluster.operator_kubeconfig)
        self.starts += 1
        with self.log.open("ab") as fh:
            fh.write(f"\n===== start {self.starts} =====\n".encode())
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kubeheat.cli.main", "operator", "--all-namespaces",
                 "--log-format", "json", "--log-level", "info",
                 "--metrics-port", str(self.metrics_port),
                 "--health-port", str(self.health_port), "--bind", "127.0.0.1",
                 "--state-write-interval", "0.2", *self.extra_args],
                stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        wait_until(self.healthy, "the operator's health endpoint", 30,
                   last_seen=lambda: self.log.read_text()[-3000:])

    def healthy(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            pytest.fail(f"the operator exited:\n{self.log.read_text()[-5000:]}",
                        pytrace=False)
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.health_port}/healthz", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=5) as resp:
            return str(resp.read().decode())

    def kill(self) -> None:
        """SIGKILL: no cleanup at all."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@dataclass
class Namespace:
    name: str
    cluster: Cluster
    sandbox: SandboxCloud
