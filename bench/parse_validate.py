"""Benchmark: parse and validate a generated 1000-resource template; prints JSON.

The template is a realistic chain-and-fan-out shape: networks, subnets, ports and servers-like
OS::Heat::None resources wired with get_resource/get_attr/str_replace/list_join, so parsing,
function trees, conditions and the dependency graph are all exercised.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))

import yaml

from kubeheat.template import Template


def make_template(n: int) -> str:
    resources: dict[str, object] = {}
    groups = n // 4
    for g in range(groups):
        resources[f"net{g}"] = {"type": "OS::Heat::None",
                                "properties": {"name": {"str_replace": {
                                    "template": "net-$stack-$i",
                                    "params": {"$stack": {"get_param": "OS::stack_name"},
                                               "$i": str(g)}}}}}
        resources[f"subnet{g}"] = {"type": "OS::Heat::None", "condition": "enabled",
                                   "properties": {"network": {"get_resource": f"net{g}"},
                                                  "cidr": {"list_join": [".", ["10", str(g % 250),
                                                                              "0", "0/24"]]}}}
        resources[f"port{g}"] = {"type": "OS::Heat::None",
                                 "properties": {"network": {"get_resource": f"net{g}"},
                                                "fixed_ips": [{"subnet": {
                                                    "get_resource": f"subnet{g}"}}]}}
        resources[f"server{g}"] = {"type": "OS::Heat::None",
                                   "depends_on": [f"port{g - 1}"] if g else [],
                                   "properties": {"flavor": {"get_param": "flavor"},
                                                  "networks": [{"port": {
                                                      "get_resource": f"port{g}"}}],
                                                  "user_data": {"if": [
                                                      "enabled",
                                                      {"get_attr": [f"port{g}", "fixed_ips", 0,
                                                                    "ip_address"]},
                                                      ""]}}}
    doc = {
        "heat_template_version": "2021-04-16",
        "parameters": {"flavor": {"type": "string", "default": "m1.small",
                                  "constraints": [{"allowed_pattern": "m1\\..*"}]},
                       "enabled": {"type": "boolean", "default": True}},
        "conditions": {"enabled": {"get_param": "enabled"}},
        "resources": resources,
        "outputs": {"first": {"value": {"get_attr": ["server0", "show"]}}},
    }
    return yaml.safe_dump(doc)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    text = make_template(n)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        defn = Template.load(text).define()
        layers = defn.graph.layers()
        defn.graph.critical_path()
        runs.append(time.perf_counter() - start)
    best = min(runs)
    print(json.dumps({
        "benchmark": "parse_validate",
        "resources": len(defn.resources),
        "template_bytes": len(text),
        "layers": len(layers),
        "runs": len(runs),
        "best_seconds": round(best, 4),
        "median_seconds": round(statistics.median(runs), 4),
        "per_resource_ms": round(best / len(defn.resources) * 1000, 4),
    }))


if __name__ == "__main__":
    main()
