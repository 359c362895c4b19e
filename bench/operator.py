"""Benchmark: N Stacks of 10 sandbox resources applied at once to a real kube-apiserver.

Starts the test cluster (tools/testcluster/cluster.py), the sandbox cloud (in this process) and
``kubeheat operator`` (a child process), applies N Stacks in one ``kubectl apply``, and waits
until every Stack is Ready. Prints JSON: the time until all were Ready, p50/p99 of
apply-to-Ready (from each Stack's creationTimestamp to its Ready condition's
lastTransitionTime), the operator's peak RSS and CPU seconds, and the API requests the API
server counted (apiserver_request_total, by verb).

    .venv/bin/python bench/operator.py --stacks 100 [--stacks 1000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CLUSTER_PY = REPO / "tools" / "testcluster" / "cluster.py"
sys.path.insert(0, str(REPO / "operator"))

from kubeheat.controller import crd  # noqa: E402
from kubeheat.sandbox import run_sandbox  # noqa: E402

#: ten resources: a network, a subnet, a security group, three ports, two values, a random
#: string and a server
TEMPLATE: dict[str, Any] = {
    "heat_template_version": "2021-04-16",
    "resources": {
        "net": {"type": "OS::Neutron::Net", "properties": {}},
        "subnet": {"type": "OS::Neutron::Subnet",
                   "properties": {"network": {"get_resource": "net"}, "cidr": "10.0.0.0/24"}},
        "sg": {"type": "OS::Neutron::SecurityGroup", "properties": {"rules": [
            {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22}]}},
        **{f"port{i}": {"type": "OS::Neutron::Port", "properties": {
            "network": {"get_resource": "net"},
            "fixed_ips": [{"subnet": {"get_resource": "subnet"}}],
            "security_groups": [{"get_resource": "sg"}]}} for i in range(3)},
        "name": {"type": "OS::Heat::RandomString", "properties": {"length": 8}},
        "a": {"type": "OS::Heat::Value", "properties": {"value": {"get_resource": "name"}}},
        "b": {"type": "OS::Heat::Value", "properties": {"value": {"get_attr": ["a", "value"]}}},
        "server": {"type": "OS::Nova::Server", "properties": {
            "image": "cirros-0.6.2-x86_64-disk", "flavor": "m1.tiny",
            "networks": [{"port": {"get_resource": "port0"}}]}},
    },
}


def _kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    out = subprocess.run(["kubectl", f"--kubeconfig={kubeconfig}", *args], input=stdin,
                         capture_output=True, text=True, timeout=600, check=True)
    return out.stdout


def _parse_time(text: str) -> float:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.UTC).timestamp()


def _proc_stats(pid: int) -> tuple[float, float]:
    """(peak RSS MiB, CPU seconds) of a live process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return peak, (int(fields[11]) + int(fields[12])) / ticks


def _apiserver_requests(kubeconfig: Path) -> dict[str, int]:
    text = _kubectl(kubeconfig, "get", "--raw", "/metrics")
    out: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("apiserver_request_total{"):
            verb = re.search(r'verb="([^"]+)"', line)
            if verb:
                out[verb.group(1)] = out.get(verb.group(1), 0) + int(float(line.split()[-1]))
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench(count: int, concurrency: int, timeout: float) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="kubeheat-bench-"))
    subprocess.run([sys.executable, str(CLUSTER_PY), "up", str(directory)], check=True,
                   capture_output=True, timeout=150)
    kubeconfig = directory / "kubeconfig"
    operator: subprocess.Popen[bytes] | None = None
    try:
        _kubectl(kubeconfig, "apply", "-f", "-", stdin=crd.render("stack"))
        _kubectl(kubeconfig, "wait", "--for=condition=Established", f"crd/{crd.CRD_NAME}")
        with run_sandbox(build_delay=0.2) as cloud:
            _kubectl(kubeconfig, "create", "secret", "generic", "cloud",
                     f"--from-literal=clouds.yaml={cloud.clouds_yaml}")
            log = (directory / "operator.log").open("wb")
            operator = subprocess.Popen(
                [sys.executable, "-m", "kubeheat.cli.main", "operator", "-A",
                 "--concurrency", str(concurrency), "--metrics-port", "0",
                 "--health-port", "0", "--log-level", "warning"],
                env={**os.environ, "KUBECONFIG": str(kubeconfig)}, stdout=log,
                stderr=subprocess.STDOUT)
            time.sleep(3)
            before = _apiserver_requests(kubeconfig)
            docs = [{"apiVersion": crd.API_VERSION, "kind": crd.KIND,
                     "metadata": {"name": f"s{i:04d}"},
                     "spec": {"template": TEMPLATE,
                              "cloud": {"credentialsSecretRef": {"name": "cloud"},
                                        "cloudName": "sandbox"}}} for i in range(count)]
            began = time.time()
            _kubectl(kubeconfig, "apply", "--server-side", "-f", "-",
                     stdin=yaml.safe_dump_all(docs))
            ready: dict[str, float] = {}
            created: dict[str, float] = {}
            deadline = time.monotonic() + timeout
            while len(ready) < count and time.monotonic() < deadline:
                time.sleep(2)
                items = json.loads(_kubectl(kubeconfig, "get", "stacks", "-o", "json"))["items"]
                for item in items:
                    name = item["metadata"]["name"]
                    created[name] = _parse_time(item["metadata"]["creationTimestamp"])
                    for cond in (item.get("status") or {}).get("conditions") or ():
                        if cond["type"] == "Ready" and cond["status"] == "True":
                            ready.setdefault(name, _parse_time(cond["lastTransitionTime"]))
            all_ready = time.time() - began
            peak, cpu = _proc_stats(operator.pid)
            after = _apiserver_requests(kubeconfig)
            latencies = [ready[n] - created[n] for n in ready]
            return {
                "stacks": count, "resources_per_stack": len(TEMPLATE["resources"]),
                "concurrency": concurrency, "ready": len(ready),
                "time_until_all_ready_s": round(all_ready, 2) if len(ready) == count else None,
                "apply_to_ready_p50_s": round(_percentile(latencies, 0.5), 2)
                if latencies else None,
                "apply_to_ready_p99_s": round(_percentile(latencies, 0.99), 2)
                if latencies else None,
                "operator_peak_rss_mib": round(peak, 1), "operator_cpu_s": round(cpu, 1),
                "apiserver_requests": {k: after.get(k, 0) - before.get(k, 0)
                                       for k in sorted(after)
                                       if after.get(k, 0) - before.get(k, 0)},
                "sandbox_requests": len(cloud.request_log()),
            }
    finally:
        if operator is not None:
            operator.terminate()
            try:
                operator.wait(30)
            except subprocess.TimeoutExpired:
                operator.kill()
        subprocess.run([sys.executable, str(CLUSTER_PY), "down", str(directory)],
                       capture_output=True, timeout=60, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stacks", type=int, action="append",
                        help="number of Stacks (repeatable; default: 100 and 1000)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    results = [bench(n, args.concurrency, args.timeout) for n in (args.stacks or [100, 1000])]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
