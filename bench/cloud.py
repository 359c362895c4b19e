"""Benchmark: examples/web-tier.yaml scaled to 10, 50 and 200 servers (its ``server_count``
parameter, a ResourceGroup) created and deleted against the sandbox cloud with 0 ms and 200 ms
of latency on every API call. Prints JSON: wall seconds of create and delete, the floor (the
template's dependency graph's critical path, one call per resource, times the latency), and
the API calls made by service (from the cloud session's counters, retries included).

Usage: ``python -P bench/cloud.py [--quick] [--sizes 10,50,200] [--latencies 0,200]``
(``--quick``: 10 servers only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "operator"))

from kubeheat.cloud import connect  # noqa: E402
from kubeheat.engine import Engine, ListEventSink, MemoryStateStore, StackRequest  # noqa: E402
from kubeheat.sandbox import FaultRule, SandboxConfig, run_sandbox  # noqa: E402
from kubeheat.template import Template, load_mapping  # noqa: E402

TEMPLATE = ROOT / "examples" / "web-tier.yaml"
QUOTAS = {"instances": 1000, "cores": 2000, "ram": 10**8, "port": 5000, "volumes": 100,
          "gigabytes": 10000, "floatingip": 100, "router": 100, "security_group": 100,
          "security_group_rule": 1000}


def critical_path(document: dict[str, Any], params: dict[str, Any]) -> tuple[list[str], int]:
    """The longest dependency chain of the template (a ResourceGroup's members add one level:
    they are created in parallel inside it)."""
    definition = Template.load(document).define(params)
    weights = {name: 2.0 if rdef.type == "OS::Heat::ResourceGroup" else 1.0
               for name, rdef in definition.resources.items()}
    path, length = definition.graph.critical_path(weights)
    if path and definition.graph.requires[path[0]]:
        path = path[::-1]  # root first
    return path, int(length)


def one(servers: int, latency_ms: float, build_delay: float) -> dict[str, Any]:
    document = dict(load_mapping(TEMPLATE.read_text(encoding="utf-8")))
    params = {"server_count": servers}
    path, depth = critical_path(document, params)
    faults = [FaultRule(latency=latency_ms / 1000.0)] if latency_ms else []
    config = SandboxConfig(build_delay=build_delay, volume_delay=build_delay,
                           quotas=dict(QUOTAS), faults=faults)
    with run_sandbox(config) as cloud:
        session = connect(cloud.clouds, cloud.config.cloud_name)
        engine = Engine(MemoryStateStore(), ListEventSink(), cloud=session)
        try:
            session.authorize()
            start = time.perf_counter()
            state = asyncio.run(engine.create(StackRequest("web-tier", document,
                                                           parameters=params)))
            created = time.perf_counter() - start
            calls_create = session.metrics().by_service()
            start = time.perf_counter()
            deleted_state = asyncio.run(engine.delete(state.id))
            deleted = time.perf_counter() - start
            metrics = session.metrics()
            servers_left = len(cloud.resources("servers"))
        finally:
            engine.close()
            session.close()
    calls_total = metrics.by_service()
    return {
        "servers": servers,
        "latency_ms": latency_ms,
        "build_delay_s": build_delay,
        "create_status": state.state,
        "create_wall_s": round(created, 3),
        "delete_status": deleted_state.state,
        "delete_wall_s": round(deleted, 3),
        "critical_path": path,
        "critical_path_resources": depth,
        "floor_create_s": round(depth * latency_ms / 1000.0, 3),
        "create_over_floor": round(created / (depth * latency_ms / 1000.0), 2)
        if latency_ms else None,
        "api_calls_create": dict(sorted(calls_create.items())),
        "api_calls_total": dict(sorted(calls_total.items())),
        "api_calls_create_sum": sum(calls_create.values()),
        "retries": metrics.retries,
        "max_in_flight": metrics.max_in_flight,
        "servers_left": servers_left,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 servers only")
    parser.add_argument("--sizes", default="10,50,200")
    parser.add_argument("--latencies", default="0,200", help="per-call latency in ms")
    parser.add_argument("--build-delay", type=float, default=0.1,
                        help="seconds a server stays in BUILD (and a volume in creating)")
    args = parser.parse_args()
    sizes = [10] if args.quick else [int(s) for s in args.sizes.split(",")]
    latencies = [float(x) for x in args.latencies.split(",")]
    results = []
    for latency in latencies:
        for size in sizes:
            result = one(size, latency, args.build_delay)
            results.append(result)
            print(f"{size} servers, {latency:g} ms: create {result['create_wall_s']}s "
                  f"(floor {result['floor_create_s']}s), delete {result['delete_wall_s']}s, "
                  f"{result['api_calls_create_sum']} calls", file=sys.stderr, flush=True)
    print(json.dumps({"benchmark": "cloud", "template": "examples/web-tier.yaml",
                      "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
