"""Bounds on what one Stack can make the shared operator do (review 2026-12 H3, M1, M2).

- The operator decodes whatever the apiserver serves: it refuses JSON nested deeper than 10000
  levels, and Python's JSON decoder (C, bounded by :func:`sys.getrecursionlimit`) would raise
  ``RecursionError`` far sooner, inside kopf's watch stream, killing the process. So
  :func:`run_deep` raises the recursion limit and runs the operator in a thread whose stack
  holds that depth.
- :func:`check_spec` then refuses, before any work, a spec whose free-form fields (the template,
  parameter values, inline environments) nest deeper than the templates' ``max_data_depth``,
  and a drift interval under :data:`MIN_DRIFT_INTERVAL`.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

from kubeheat.controller.errors import SpecError
from kubeheat.template import DEFAULT_LIMITS, KubeheatError, check_structure

#: the apiserver refuses JSON nested deeper than this
APISERVER_MAX_DEPTH = 10000
#: enough for decoding, copying, comparing and encoding such a document, with room for the
#: frames of the code doing it
RECURSION_LIMIT = 4 * APISERVER_MAX_DEPTH
#: the operator thread's stack (virtual memory: only what is used is ever touched)
STACK_BYTES = 512 * 1024 * 1024
#: seconds; ``spec.drift.interval`` may not be shorter (``0s`` means the default)
MIN_DRIFT_INTERVAL = 30.0


_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")


def parse_duration(text: str | None, default: float) -> float:
    """``1h30m`` -> 5400.0 seconds (a Go duration without ``us``/``ns``)."""
    if not text:
        return default
    total, pos = 0.0, 0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            return default
        value, unit = float(match.group(1)), match.group(2)
        total += value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
        pos = match.end()
    return total if pos == len(text) and total > 0 else default


def run_deep(target: Callable[[threading.Event], None]) -> None:
    """Call ``target(stop)`` in a thread with a deep stack and a raised recursion limit;
    SIGINT/SIGTERM set ``stop`` (kopf's ``stop_flag``). Exceptions are raised here."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    stop = threading.Event()
    failure: list[BaseException] = []

    def body() -> None:
        try:
            target(stop)
        except BaseException as exc:  # re-raised in the calling thread
            failure.append(exc)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    old_size = threading.stack_size()
    threading.stack_size(STACK_BYTES)
    try:
        thread = threading.Thread(target=body, name="kubeheat-operator", daemon=True)
        thread.start()
    finally:
        threading.stack_size(old_size)
    try:
        while thread.is_alive():
            thread.join(0.5)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if failure:
        raise failure[0]


def _depth(value: Any, path: str, what: str, reason: str) -> None:
    try:
        check_structure(value, DEFAULT_LIMITS, what)
    except KubeheatError as exc:
        raise SpecError(reason, f"{path}: {exc}") from None


def drift_interval(spec: Mapping[str, Any], default: float) -> float:
    """``spec.drift.interval`` in seconds (absent/``0s``/unparsable: ``default``); never
    below :data:`MIN_DRIFT_INTERVAL` (:func:`check_spec` refuses shorter ones)."""
    drift = spec.get("drift") or {}
    text = drift.get("interval") if isinstance(drift, Mapping) else None
    return max(MIN_DRIFT_INTERVAL, parse_duration(text if isinstance(text, str) else None,
                                                  default))


def check_interval(text: Any) -> None:
    if not isinstance(text, str) or not text:
        return
    seconds = parse_duration(text, 0.0)
    if 0 < seconds < MIN_DRIFT_INTERVAL:
        raise SpecError("InvalidSpec", f"spec.drift.interval: {text} is shorter than the "
                                       f"minimum of {MIN_DRIFT_INTERVAL:.0f}s")


def check_spec(spec: Mapping[str, Any]) -> None:
    """Refuse (:class:`SpecError`) what no reconcile may start on: see the module."""
    template = spec.get("template")
    if isinstance(template, dict | list):
        _depth(template, "spec.template", "Template", "InvalidTemplate")
    parameters = spec.get("parameters")
    if isinstance(parameters, Mapping):
        for key, value in parameters.items():
            if isinstance(value, dict | list):
                _depth(value, f"spec.parameters.{key}", "the value", "InvalidSpec")
    elif isinstance(parameters, list):
        _depth(parameters, "spec.parameters", "the value", "InvalidSpec")
    for i, item in enumerate(spec.get("environment") or ()):
        inline = item.get("inline") if isinstance(item, Mapping) else None
        if isinstance(inline, dict | list):
            _depth(inline, f"spec.environment[{i}].inline", "Environment",
                   "InvalidEnvironment")
    drift = spec.get("drift")
    if isinstance(drift, Mapping):
        check_interval(drift.get("interval"))
