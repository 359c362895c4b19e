"""Benchmark: the engine creating, updating (one property changed) and deleting stacks of
10, 100, 500 and 1000 ``OS::Heat::None`` resources shaped as a chain, a wide fan-out and a
layered lattice; prints JSON with wall and CPU seconds per operation and the per-resource
overhead in milliseconds (CPU time / resources).

Usage: ``python bench/engine.py [--sizes 10,100] [--shapes chain,fanout] [--profile]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))

from kubeheat.engine import Engine, ListEventSink, MemoryNativeStore, MemoryStateStore, StackRequest

NONE = "OS::Heat::None"


def chain(n: int, tag: str) -> dict[str, Any]:
    res: dict[str, Any] = {"r0": {"type": NONE, "properties": {"tag": tag}}}
    for i in range(1, n):
        res[f"r{i}"] = {"type": NONE, "properties": {"prev": {"get_resource": f"r{i - 1}"}}}
    return res


def fanout(n: int, tag: str) -> dict[str, Any]:
    res: dict[str, Any] = {"root": {"type": NONE, "properties": {"tag": tag}}}
    for i in range(1, n):
        res[f"r{i}"] = {"type": NONE, "properties": {"up": {"get_resource": "root"},
                                                     "i": i}}
    return res


def lattice(n: int, tag: str) -> dict[str, Any]:
    width = max(1, int(math.sqrt(n)))
    res: dict[str, Any] = {}
    for i in range(n):
        layer, pos = divmod(i, width)
        props: dict[str, Any] = {"tag": tag} if i == 0 else {"i": i}
        if layer > 0:
            a = (layer - 1) * width + pos
            b = (layer - 1) * width + (pos + 1) % width
            props["a"] = {"get_resource": f"r{a}"}
            props["b"] = {"get_attr": [f"r{b}", "anything"]}
        res[f"r{i}"] = {"type": NONE, "properties": props}
    return res


SHAPES = {"chain": chain, "fanout": fanout, "lattice": lattice}


def template(shape: str, n: int, tag: str) -> dict[str, Any]:
    return {"heat_template_version": "2021-04-16", "resources": SHAPES[shape](n, tag)}


async def measure(shape: str, n: int) -> dict[str, Any]:
    engine = Engine(MemoryStateStore(), ListEventSink(), native=MemoryNativeStore())
    out: dict[str, Any] = {"shape": shape, "resources": n}

    async def timed(name: str, coro: Any) -> Any:
        w0, c0 = time.perf_counter(), time.process_time()
        result = await coro
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        out[name] = {"wall_s": round(wall, 4), "cpu_s": round(cpu, 4),
                     "ms_per_resource": round(cpu * 1000 / n, 4),
                     "status": result.state}
        return result

    state = await timed("create", engine.create(StackRequest("bench", template(shape, n, "a"))))
    await timed("update", engine.update(state.id, StackRequest("bench",
                                                               template(shape, n, "b"))))
    await timed("delete", engine.delete(state.id))
    engine.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,100,500,1000")
    parser.add_argument("--shapes", default="chain,fanout,lattice")
    parser.add_argument("--profile", action="store_true",
                        help="profile one 1000-resource fan-out create and print the top")
    args = parser.parse_args()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        asyncio.run(measure("fanout", 1000))
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
        return
    asyncio.run(measure("chain", 10))  # warm up: plugin imports, first-use caches
    results = []
    for shape in args.shapes.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            results.append(asyncio.run(measure(shape, size)))
    worst = max(r[op]["ms_per_resource"] for r in results if r["resources"] >= 100
                for op in ("create", "update", "delete")) if any(
        r["resources"] >= 100 for r in results) else None
    print(json.dumps({"benchmark": "engine", "results": results,
                      "worst_ms_per_resource_n_ge_100": worst}, indent=1))


if __name__ == "__main__":
    main()
