"""Benchmark: the CPU-bound inputs of review H4 and L4, timed in process; prints JSON.

Each case is timed once (wall time, seconds) with its outcome: ``validate`` of the review's
``re.yaml`` (``allowed_pattern: "(a+)+$"``, 40 ``a`` and ``!``) and of one that backtracks in
any engine (``(a|aa)+$``, refused after the match timeout), the same two patterns in a yaql
``regex(...).matches``, ``str_replace`` with 2000, 8000 and 15000 params (quadratic before:
2.8 s, 24.7 s, more than 60 s), and a json parameter nested 900 deep (refused).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))

from kubeheat.cli.main import main as cli_main
from kubeheat.template import Template, TemplateError
from kubeheat.template.patterns import MATCH_TIMEOUT

VALUE = "a" * 40 + "!"
RE_YAML = """\
heat_template_version: 2016-10-14
parameters:
  p: {type: string, constraints: [{allowed_pattern: "PATTERN"}]}
resources: {}
"""


def timed(run: Callable[[], Any]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        outcome = run()
    except TemplateError as exc:
        outcome = f"error: {exc}"
    return {"seconds": round(time.perf_counter() - start, 4), "outcome": outcome}


def validate(directory: Path, pattern: str) -> Callable[[], Any]:
    path = directory / f"re-{len(pattern)}.yaml"
    path.write_text(RE_YAML.replace("PATTERN", pattern), encoding="utf-8")

    def run() -> Any:
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = cli_main(["validate", "-t", str(path), "-P", f"p={VALUE}"])
        return {"exit": code, "stderr": err.getvalue().strip()[:200]}
    return run


def output(value: Any, params: dict[str, Any] | None = None) -> Callable[[], Any]:
    doc = {"heat_template_version": "2018-08-31",
           "parameters": {"j": {"type": "json", "default": {}}},
           "outputs": {"o": {"value": value}}}
    template = Template.load(doc)

    def run() -> Any:
        result = template.define(params).output_value("o")
        return result if isinstance(result, bool) else f"{len(result)} characters"
    return run


def yaql(pattern: str) -> Callable[[], Any]:
    return output({"yaql": {"expression": f"regex('{pattern}').matches($.data)", "data": VALUE}})


def str_replace(n: int) -> Callable[[], Any]:
    params = {f"%p{i}%": f"v{i}" for i in range(n)}
    return output({"str_replace": {"template": " ".join(params), "params": params}})


def main() -> None:
    results: dict[str, Any] = {"benchmark": "limits_cpu", "match_timeout_seconds": MATCH_TIMEOUT}
    with tempfile.TemporaryDirectory() as tmp:
        results["validate_re_yaml_40a"] = timed(validate(Path(tmp), "(a+)+$"))
        results["validate_backtracking_40a"] = timed(validate(Path(tmp), "(a|aa)+$"))
    results["yaql_regex_review_40a"] = timed(yaql("(a+)+$"))
    results["yaql_regex_backtracking_40a"] = timed(yaql("(a|aa)+$"))
    for n in (2000, 8000, 15000):
        results[f"str_replace_{n}_params"] = timed(str_replace(n))
    deep = "[" * 900 + "]" * 900
    results["json_param_900_deep"] = timed(output({"get_param": "j"}, {"j": deep}))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
