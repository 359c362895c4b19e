"""Rendering command results as JSON, YAML or a plain-text table."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

FORMATS = ("json", "yaml", "table")


def render(data: Any, fmt: str, table: str | None = None) -> str:
    """``table`` is the pre-rendered text used for the ``table`` format."""
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    if fmt == "yaml":
        import yaml  # on use: ``kubeheat --help`` and JSON output need no YAML emitter

        return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
    return table if table is not None else render(data, "yaml")


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    def fmt(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"
    out = [line, fmt(headers), line, *(fmt(r) for r in rows), line]
    return "\n".join(out) + "\n"


def error(message: str, stream: TextIO | None = None) -> None:
    print(f"ERROR: {message}", file=stream or sys.stderr)
