"""Rendering command results as JSON, YAML or a plain-text table, and what reaches the terminal.

Names, reasons and messages may hold control characters (a resource named with an escape
sequence, a reason quoting a cloud's message): :func:`printable` shows them escaped (``\\x1b``),
so that nothing a template or a cloud says can move the cursor, recolour or retitle the
terminal. Tables, progress lines and error messages go through it; JSON and YAML escape such
characters themselves.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, TextIO

FORMATS = ("json", "yaml", "table")

#: C0 and C1 controls, DEL, and the bidirectional overrides and isolates (which reorder what
#: follows them on screen); newline and tab are kept where a text may have several lines
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_AND_LINES = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def printable(text: str, *, lines: bool = True) -> str:
    """``text`` with its control characters escaped (``lines``: newlines and tabs kept)."""
    return (_CONTROLS if lines else _CONTROLS_AND_LINES).sub(_escape, text)


def render(data: Any, fmt: str, table: str | None = None) -> str:
    """``table`` is the pre-rendered text used for the ``table`` format."""
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    if fmt == "yaml":
        import yaml  # on use: ``kubeheat --help`` and JSON output need no YAML emitter

        return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))
    return table if table is not None else render(data, "yaml")


def table(rows: list[list[str]], headers: list[str]) -> str:
    cells = [[printable(c, lines=False) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    def fmt(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"
    out = [line, fmt(headers), line, *(fmt(r) for r in cells), line]
    return "\n".join(out) + "\n"


def error(message: str, stream: TextIO | None = None) -> None:
    print(f"ERROR: {printable(message)}", file=stream or sys.stderr)
