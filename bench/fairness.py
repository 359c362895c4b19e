"""Benchmark: a trivial Stack in one namespace while another namespace is full of slow Stacks.

Review H8: namespace ``slow`` gets ``--slow`` Stacks whose one ``OS::Heat::TestResource`` takes
``--wait`` seconds to create; once they run, a Stack with one network is applied in namespace
``probe``. Prints JSON: the seconds from applying the probe to it being Ready, from deleting it
to it being gone, and from deleting the slow Stacks (their creates cancelled) to them being
gone, with the operator's options. Every wait is bounded by ``--timeout``; a wait that runs out
is reported as null with ``"complete": false``.

    .venv/bin/python -P bench/fairness.py [--slow 16] [--wait 90] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CLUSTER_PY = REPO / "tools" / "testcluster" / "cluster.py"
sys.path.insert(0, str(REPO / "operator"))

from kubeheat.controller import crd  # noqa: E402
from kubeheat.sandbox import run_sandbox  # noqa: E402


def _kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["kubectl", f"--kubeconfig={kubeconfig}", "--request-timeout=60s",
                           *args], input=stdin, capture_output=True, text=True, timeout=90,
                          check=True).stdout


def _stack(name: str, template: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": crd.API_VERSION, "kind": crd.KIND, "metadata": {"name": name},
            "spec": {"template": template,
                     "cloud": {"credentialsSecretRef": {"name": "cloud"},
                               "cloudName": "sandbox"}}}


def _until(check: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until ``check`` held (polled every 0.25 s), or None after ``timeout``."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if check():
            return round(time.monotonic() - began, 2)
        time.sleep(0.25)
    return None


def bench(slow: int, wait: float, concurrency: int, timeout: float) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="kubeheat-fairness-"))
    kubeconfig = directory / "kubeconfig"
    result: dict[str, Any] = {"slow_stacks": slow, "slow_create_s": wait,
                              "concurrency": concurrency, "complete": False}
    operator: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([sys.executable, str(CLUSTER_PY), "up", str(directory)],
                       capture_output=True, text=True, timeout=180, check=True)
        _kubectl(kubeconfig, "apply", "-f", "-", stdin=crd.render("stack"))
        _kubectl(kubeconfig, "wait", "--for=condition=Established", f"crd/{crd.CRD_NAME}",
                 "--timeout=60s")
        with run_sandbox(build_delay=0.2) as cloud:
            for ns in ("slow", "probe"):
                _kubectl(kubeconfig, "create", "namespace", ns)
                _kubectl(kubeconfig, "-n", ns, "create", "secret", "generic", "cloud",
                         f"--from-literal=clouds.yaml={cloud.clouds_yaml}")
            with (directory / "operator.log").open("wb") as log:
                operator = subprocess.Popen(
                    [sys.executable, "-m", "kubeheat.cli.main", "operator", "-A",
                     "--concurrency", str(concurrency), "--metrics-port", "0",
                     "--health-port", "0", "--log-level", "warning"],
                    env={**os.environ, "KUBECONFIG": str(kubeconfig)},
                    stdout=log, stderr=subprocess.STDOUT)

            def get(ns: str) -> list[dict[str, Any]]:
                out = _kubectl(kubeconfig, "-n", ns, "get", "stacks", "-o", "json")
                return list(json.loads(out)["items"])

            slow_template = {"heat_template_version": "2016-10-14", "resources": {"t": {
                "type": "OS::Heat::TestResource",
                "properties": {"action_wait_secs": {"create": wait}}}}}
            _kubectl(kubeconfig, "-n", "slow", "apply", "-f", "-", stdin=yaml.safe_dump_all(
                [_stack(f"slow-{i:02d}", slow_template) for i in range(slow)]))
            result["slow_running_s"] = _until(lambda: any(
                (s.get("status") or {}).get("stackStatus") == "CREATE_IN_PROGRESS"
                for s in get("slow")), timeout)
            probe = {"heat_template_version": "2016-10-14",
                     "resources": {"net": {"type": "OS::Neutron::Net"}}}
            _kubectl(kubeconfig, "-n", "probe", "apply", "-f", "-",
                     stdin=yaml.safe_dump(_stack("probe", probe)))
            result["probe_apply_to_ready_s"] = _until(lambda: any(
                c["type"] == "Ready" and c["status"] == "True"
                for s in get("probe") for c in (s.get("status") or {}).get("conditions") or ()),
                timeout)
            result["slow_in_progress_when_probe_ready"] = sum(
                1 for s in get("slow")
                if (s.get("status") or {}).get("stackStatus") == "CREATE_IN_PROGRESS")
            _kubectl(kubeconfig, "-n", "probe", "delete", "stack", "probe", "--wait=false")
            result["probe_delete_s"] = _until(lambda: not get("probe"), timeout)
            _kubectl(kubeconfig, "-n", "slow", "delete", "stacks", "--all", "--wait=false")
            result["slow_delete_all_s"] = _until(lambda: not get("slow"), timeout)
            result["complete"] = None not in (result["probe_apply_to_ready_s"],
                                              result["probe_delete_s"],
                                              result["slow_delete_all_s"])
        return result
    except (subprocess.SubprocessError, OSError) as err:
        result["error"] = f"{type(err).__name__}: {err}"
        return result
    finally:
        if operator is not None:
            operator.terminate()
            try:
                operator.wait(30)
            except subprocess.TimeoutExpired:
                operator.kill()
                operator.wait(10)
        subprocess.run([sys.executable, str(CLUSTER_PY), "down", str(directory)],
                       capture_output=True, timeout=90, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--slow", type=int, default=16)
    parser.add_argument("--wait", type=float, default=90.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=180.0,
                        help="the longest any one wait may take (seconds)")
    args = parser.parse_args()
    result = bench(args.slow, args.wait, args.concurrency, args.timeout)
    print(json.dumps(result, indent=2), flush=True)
    return 0 if result["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
