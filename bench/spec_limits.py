"""Benchmark: the cost of the operator's guards against hostile Stacks (review 2026-12 H3, M2,
M3). Prints JSON with the median seconds over several runs of:

- ``decode_10000``: decoding, copying and re-encoding a Stack whose ``spec.parameters`` nests
  10000 arrays deep (the apiserver's maximum), in the operator's deep-stack thread;
- ``check_spec_10000``: refusing that spec (:func:`kubeheat.controller.limits.check_spec`);
- ``check_spec_wide``: accepting a spec with a 500 KB object template (1000 resources);
- ``object_template``: the object template's size and structure check (compact JSON, then the
  text template's loader);
- ``fit_outputs``: trimming 200 outputs of 10 KB and one of 4 MB to the status budgets.

Usage: ``python -P bench/spec_limits.py [--runs 5]``
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from kubeheat.controller.limits import SpecLimitError, check_spec, run_deep
from kubeheat.controller.statusfit import fit_outputs
from kubeheat.template import load_mapping

DEPTH = 10000


def _time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    deep_text = '{"parameters":{"x":' + "[" * DEPTH + "]" * DEPTH + "}}"
    results: dict[str, Any] = {}

    def in_deep_thread(stop: threading.Event) -> None:
        spec = json.loads(deep_text)

        def decode() -> None:
            json.dumps(copy.deepcopy(json.loads(deep_text)))

        def refuse() -> None:
            try:
                check_spec(spec)
            except SpecLimitError:
                return
            raise AssertionError("the deep spec was accepted")

        results["decode_10000"] = _time(decode, args.runs)
        results["check_spec_10000"] = _time(refuse, args.runs)

    run_deep(in_deep_thread)
    template = {"heat_template_version": "2016-10-14", "resources": {
        f"r{i}": {"type": "OS::Heat::Value",
                  "properties": {"value": {"list_join": [",", ["v" * 100] * 4]}}}
        for i in range(1000)}}
    results["check_spec_wide"] = _time(lambda: check_spec({"template": template}), args.runs)
    results["object_template"] = _time(
        lambda: load_mapping(json.dumps(template, separators=(",", ":"), ensure_ascii=False)),
        args.runs)
    outputs = {f"o{i}": "z" * 10_000 for i in range(200)}
    outputs["big"] = "b" * 4_000_000
    results["fit_outputs"] = _time(lambda: fit_outputs(outputs, {}), args.runs)
    json.dump({"runs": args.runs, "template_bytes": len(json.dumps(template)),
               "median_seconds": {k: round(v, 4) for k, v in results.items()}},
              sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
