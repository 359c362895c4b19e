"""Benchmark: N Stacks of 10 sandbox resources applied at once to a real kube-apiserver.

Starts the test cluster (tools/testcluster/cluster.py), the sandbox cloud (in this process) and
``kubeheat operator`` (a child process), applies N Stacks in one ``kubectl apply``, and waits
until every Stack is Ready. Prints JSON: the time until all were Ready, p50/p99 of
apply-to-Ready (from each Stack's creationTimestamp to its Ready condition's
lastTransitionTime), the operator's peak RSS and CPU seconds, and the API requests the API
server counted (apiserver_request_total, by verb).

    .venv/bin/python -P bench/operator.py [--stacks 100] [--stacks 1000] [--concurrency 32]

Without --stacks only 100 Stacks are run; 1000 only when given explicitly (it takes too long on
a small machine). Every wait is bounded: if the Stacks are not all Ready within --timeout, the
JSON still comes out, with ``"complete": false``, how many were Ready and the stuck ones'
conditions; the cluster directory and the operator's log are then kept and their path printed
on stderr (exit status 1).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
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
from kubeheat.sandbox import DEFAULT_QUOTAS, run_sandbox  # noqa: E402

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


def _kubectl(kubeconfig: Path, *args: str, stdin: str | None = None,
             timeout: float = 60.0) -> str:
    """Run kubectl, bounded both on the API side (--request-timeout) and as a process."""
    out = subprocess.run(["kubectl", f"--kubeconfig={kubeconfig}",
                          f"--request-timeout={int(timeout)}s", *args],
                         input=stdin, capture_output=True, text=True, timeout=timeout + 15,
                         check=True)
    return out.stdout


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _parse_time(text: str) -> float:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.UTC).timestamp()


def _proc_stats(pid: int) -> tuple[float, float] | None:
    """(peak RSS MiB, CPU seconds) of a live process, from /proc; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
    if hwm is None:  # a zombie has no memory lines
        return None
    fields = stat.rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(hwm.group(1)) / 1024, (int(fields[11]) + int(fields[12])) / ticks


def _apiserver_requests(kubeconfig: Path) -> dict[str, int] | None:
    try:
        text = _kubectl(kubeconfig, "get", "--raw", "/metrics")
    except (subprocess.SubprocessError, OSError) as err:
        _log(f"could not read the API server's metrics: {err}")
        return None
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


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


#: stuck Stacks listed in full in the JSON of a run that did not complete (the rest are counted)
MAX_STUCK_SHOWN = 20


def bench(count: int, concurrency: int, timeout: float, keep: bool) -> dict[str, Any]:
    """One run; never waits longer than ``timeout`` for the Stacks (every other wait is bounded
    too). The result says ``"complete": false`` and lists stuck Stacks if they did not all get
    Ready; the cluster directory (with operator.log) is then kept and its path printed."""
    directory = Path(tempfile.mkdtemp(prefix="kubeheat-bench-"))
    log_path = directory / "operator.log"
    result: dict[str, Any] = {
        "stacks": count, "resources_per_stack": len(TEMPLATE["resources"]),
        "concurrency": concurrency, "complete": False, "ready": 0,
        "time_until_all_ready_s": None, "apply_to_ready_p50_s": None,
        "apply_to_ready_p99_s": None, "operator_peak_rss_mib": None, "operator_cpu_s": None,
        "apiserver_requests": None, "sandbox_requests": None,
    }
    _log(f"{count} Stacks; cluster directory {directory}")
    operator: subprocess.Popen[bytes] | None = None
    try:
        up = subprocess.run([sys.executable, str(CLUSTER_PY), "up", str(directory)],
                            capture_output=True, text=True, timeout=180, check=False)
        if up.returncode != 0:
            result["error"] = f"cluster up failed: {(up.stderr or up.stdout).strip()[-2000:]}"
            return result
        kubeconfig = directory / "kubeconfig"
        _kubectl(kubeconfig, "apply", "-f", "-", stdin=crd.render("stack"))
        _kubectl(kubeconfig, "wait", "--for=condition=Established", f"crd/{crd.CRD_NAME}",
                 "--timeout=60s")
        # Unlimited quotas: the defaults (10 security groups, 50 instances, 100 networks...)
        # are those of a small real project; each Stack here takes one security group, one
        # server, one network and three ports, so more than a few Stacks would otherwise fail
        # on quota and be retried for ever.
        with run_sandbox(build_delay=0.2,
                         quotas={name: -1 for name in DEFAULT_QUOTAS}) as cloud:
            _kubectl(kubeconfig, "create", "secret", "generic", "cloud",
                     f"--from-literal=clouds.yaml={cloud.clouds_yaml}")
            with log_path.open("wb") as log:
                operator = subprocess.Popen(
                    [sys.executable, "-m", "kubeheat.cli.main", "operator", "-A",
                     "--concurrency", str(concurrency),
                     # one namespace here: its share is every slot (the default is a quarter)
                     "--namespace-concurrency", str(concurrency), "--metrics-port", "0",
                     "--health-port", "0", "--log-level", "warning"],
                    env={**os.environ, "KUBECONFIG": str(kubeconfig)},
                    stdout=log, stderr=subprocess.STDOUT)
            time.sleep(3)
            before = _apiserver_requests(kubeconfig)
            docs = [{"apiVersion": crd.API_VERSION, "kind": crd.KIND,
                     "metadata": {"name": f"s{i:04d}"},
                     "spec": {"template": TEMPLATE,
                              "cloud": {"credentialsSecretRef": {"name": "cloud"},
                                        "cloudName": "sandbox"}}} for i in range(count)]
            began = time.time()
            deadline = time.monotonic() + timeout
            _kubectl(kubeconfig, "apply", "--server-side", "-f", "-",
                     stdin=yaml.safe_dump_all(docs), timeout=min(300.0, timeout))
            ready: dict[str, float] = {}
            created: dict[str, float] = {}
            conditions: dict[str, list[dict[str, Any]]] = {}
            stats = _proc_stats(operator.pid)
            next_progress = time.monotonic() + 15
            while len(ready) < count and time.monotonic() < deadline:
                if operator.poll() is not None:
                    result["error"] = f"the operator exited with {operator.returncode}"
                    break
                time.sleep(2)
                stats = _proc_stats(operator.pid) or stats
                try:
                    items = json.loads(_kubectl(kubeconfig, "get", "stacks", "-o", "json",
                                                timeout=60))["items"]
                except (subprocess.SubprocessError, OSError, ValueError) as err:
                    _log(f"listing Stacks failed (retrying): {err}")
                    continue
                for item in items:
                    name = item["metadata"]["name"]
                    created[name] = _parse_time(item["metadata"]["creationTimestamp"])
                    conds = (item.get("status") or {}).get("conditions") or []
                    conditions[name] = conds
                    for cond in conds:
                        if cond["type"] == "Ready" and cond["status"] == "True":
                            ready.setdefault(name, _parse_time(cond["lastTransitionTime"]))
                if time.monotonic() >= next_progress:
                    next_progress = time.monotonic() + 15
                    _log(f"{len(ready)}/{count} Ready after {time.time() - began:.0f}s")
            elapsed = time.time() - began
            stats = _proc_stats(operator.pid) or stats
            after = _apiserver_requests(kubeconfig)
            latencies = [ready[n] - created[n] for n in ready]
            result.update({
                "complete": len(ready) == count, "ready": len(ready),
                "time_until_all_ready_s": round(elapsed, 2) if len(ready) == count else None,
                "apply_to_ready_p50_s": round(_percentile(latencies, 0.5), 2)
                if latencies else None,
                "apply_to_ready_p99_s": round(_percentile(latencies, 0.99), 2)
                if latencies else None,
                "operator_peak_rss_mib": round(stats[0], 1) if stats else None,
                "operator_cpu_s": round(stats[1], 1) if stats else None,
                "apiserver_requests": {k: after.get(k, 0) - before.get(k, 0)
                                       for k in sorted(after)
                                       if after.get(k, 0) - before.get(k, 0)}
                if after is not None and before is not None else None,
                "sandbox_requests": len(cloud.request_log()),
            })
            if len(ready) < count:
                result.setdefault("error", f"timed out after {timeout:.0f}s")
                result["waited_s"] = round(elapsed, 2)
                stuck = sorted(f"s{i:04d}" for i in range(count) if f"s{i:04d}" not in ready)
                result["stuck_count"] = len(stuck)
                result["stuck"] = {
                    name: {c.get("type"): f"{c.get('status')} {c.get('reason')}: "
                                          f"{c.get('message') or ''}".rstrip(": ")
                           for c in conditions.get(name, [])}
                    for name in stuck[:MAX_STUCK_SHOWN]}
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
        if result["complete"] and not keep:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            result["kept_directory"] = str(directory)
            _log(f"kept the cluster directory and the operator's log: {log_path}")
            if not result["complete"] and log_path.exists():
                _log("operator log (last lines):\n" + _tail(log_path))


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # so that the finally blocks stop the cluster and operator


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog="By default only 100 Stacks are run: 1000 (which the issue also asks for) takes "
               "far too long on a 2-CPU machine and is run only when asked for explicitly with "
               "--stacks 1000.")
    parser.add_argument("--stacks", type=int, action="append",
                        help="number of Stacks (repeatable, e.g. --stacks 100 --stacks 1000; "
                             "default: 100 only; 1000 only if given explicitly)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds to wait for all Stacks to get Ready, per run "
                             "(default: 120 + 3 per Stack); on timeout the JSON says "
                             '"complete": false, with the stuck Stacks\' conditions')
    parser.add_argument("--keep", action="store_true",
                        help="keep the cluster directory (and operator.log) even on success")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    results = []
    for n in args.stacks or [100]:
        timeout = args.timeout if args.timeout is not None else 120.0 + 3.0 * n
        results.append(bench(n, args.concurrency, timeout, args.keep))
    print(json.dumps(results, indent=2), flush=True)
    return 0 if all(r["complete"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
