"""Benchmark: the review's blow-up templates (H6, H7) through ``kubeheat validate`` and
``kubeheat run``, each in its own interpreter. Prints JSON: for each template and command the
exit code, wall seconds and the peak RSS of that process (``resource.getrusage``), the last
line it wrote to stderr (the error, or the final stack status) and the state file's size.
Before the limits these took gigabytes (alias.yaml: a 200 MB state file; cum.yaml: 4.96 GB
RSS; count 10000000: 7.98 GB after 60 s; fan.yaml: validate 37.6 s, 811 MB); now each is
refused in about the time and memory of a trivial template.

Templates: ``alias.yaml`` (a 100 KB string referenced 1000 times), ``cum.yaml`` (the review's
generator), ``rg.yaml`` (ResourceGroup ``count: 10000000``), ``rg-param.yaml`` (the same count
from a parameter), ``fan.yaml`` (10 provider resources per level, 5 levels) and, as the
baseline, ``tiny.yaml`` (one OS::Heat::None); ``evaluated.yaml`` (eight outputs of 10 MB, each
within every per-function limit: the stack's 64 MiB total is refused) and ``split.yaml``
(``str_split`` of a 16 MB ``list_join`` into 3.2 million items).

Usage: ``python -P bench/limits_size.py [--only NAME,...]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOT = "heat_template_version: 2016-10-14\n"

#: runs ``kubeheat ARGV`` in this interpreter and writes what it cost to the file named first
CHILD = """
import contextlib, io, json, resource, sys, time
sys.path.insert(0, sys.argv[1])
out_path, argv = sys.argv[2], sys.argv[3:]
from kubeheat.cli.main import main
err = io.StringIO()
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
seconds = time.perf_counter() - start
lines = [line for line in err.getvalue().splitlines() if line.strip()]
with open(out_path, "w") as fh:
    json.dump({"exit": code, "seconds": round(seconds, 3),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
               "last_line": lines[-1][:300] if lines else None}, fh)
"""


def write_templates(folder: Path) -> dict[str, Path]:
    s = "A" * 100_000
    l1 = "[" + ", ".join(["*s"] * 100) + "]"
    (folder / "alias.yaml").write_text(
        f"{HOT}description: &s {s}\nresources: {{}}\noutputs:\n  o:\n"
        f"    value: [&l1 {l1}, {', '.join(['*l1'] * 9)}]\n")
    big = "A" * 400_000
    items = ", ".join(["*s"] * 40)
    outs = "\n".join(["      - *j"] * 60)
    (folder / "cum.yaml").write_text(
        f"{HOT}description: &s {big}\nresources: {{}}\noutputs:\n  o:\n    value:\n"
        f"      - &j {{list_join: ['', [*s, {items}]]}}\n{outs}\n")
    group = ("resources:\n  g:\n    type: OS::Heat::ResourceGroup\n"
             "    properties: {{count: {}, resource_def: {{type: OS::Heat::None}}}}\n")
    (folder / "rg.yaml").write_text(HOT + group.format("10000000"))
    (folder / "rg-param.yaml").write_text(
        HOT + "parameters:\n  n: {type: number, default: 10000000}\n"
        + group.format("{get_param: n}"))
    for i in range(6):
        body = (HOT + "resources:\n  n: {type: OS::Heat::None}\n" if i == 5 else
                HOT + "resources:\n" + "".join(f"  a{j}: {{type: fan{i + 1}.yaml}}\n"
                                               for j in range(1, 11)))
        (folder / ("fan.yaml" if i == 0 else f"fan{i}.yaml")).write_text(body)
    (folder / "tiny.yaml").write_text(HOT + "resources:\n  n: {type: OS::Heat::None}\n")
    ten_mb = ("{list_join: ['', {repeat: {template: {get_param: s}, for_each: {'%i%': "
              + json.dumps([str(i) for i in range(40)]) + "}}}]}")
    (folder / "evaluated.yaml").write_text(
        HOT + f"parameters:\n  s: {{type: string, default: {'A' * 250_000}}}\n"
        "resources:\n  n: {type: OS::Heat::None}\noutputs:\n"
        + "".join(f"  o{i}: {{value: {ten_mb}}}\n" for i in range(8)))
    split = ("{str_split: [',', {list_join: ['', {repeat: {template: {get_param: s}, "
             "for_each: {'%i%': " + json.dumps([str(i) for i in range(40)]) + "}}}]}]}")
    (folder / "split.yaml").write_text(
        HOT + f"parameters:\n  s: {{type: string, default: '{'a,' * 200_000}'}}\n"
        f"resources: {{}}\noutputs:\n  o: {{value: {split}}}\n")
    return {name: folder / f"{name}.yaml"
            for name in ("tiny", "alias", "cum", "rg", "rg-param", "fan", "evaluated",
                         "split")}


def measure(folder: Path, argv: list[str], timeout: float = 300) -> dict[str, Any]:
    out = folder / "result.json"
    out.unlink(missing_ok=True)
    try:
        subprocess.run([sys.executable, "-P", "-c", CHILD, str(ROOT / "operator"), str(out),
                        *argv], cwd=folder, timeout=timeout, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"exit": None, "last_line": f"killed after {timeout} s"}
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated template names")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        templates = write_templates(folder)
        wanted = [n for n in args.only.split(",") if n] or list(templates)
        for name in wanted:
            path = templates[name]
            state = folder / f"{name}.json"
            results[name] = {
                "validate": measure(folder, ["validate", "-t", str(path)]),
                "run": measure(folder, ["run", "-t", str(path), "--state", str(state)]),
            }
            state_size = state.stat().st_size if state.exists() else 0
            results[name]["run"]["state_file_bytes"] = state_size
    print(json.dumps({"benchmark": "limits_size", "results": results}, indent=2))


if __name__ == "__main__":
    main()
