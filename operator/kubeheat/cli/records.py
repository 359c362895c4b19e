"""The commands that read what a state file records: ``events``, ``output show`` and ``output
list``. They read a private copy of the file (:class:`~kubeheat.cli.statefile.Session` with
``readonly``), so they may run while ``kubeheat run`` works on it, and mask hidden values by
structure: event reasons and output errors as text, outputs as data, ids only as a whole.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kubeheat.cli.args import UsageError
from kubeheat.cli.output import error, render, table
from kubeheat.cli.stacks import stack_redactor
from kubeheat.cli.statefile import EVENTS_SECTION, require_state
from kubeheat.engine import StackState
from kubeheat.template import KubeheatError, Redactor, Template


def _recorded(args: argparse.Namespace) -> tuple[StackState, list[dict[str, Any]]] | None:
    """The stack recorded in ``--state`` and its events (None, with the error printed, when
    there is none)."""
    try:
        session, root = require_state(args.state, readonly=True)
    except UsageError as exc:
        error(str(exc))
        return None
    try:
        state = session.store.load(root)
        assert session.file is not None and state is not None
        events = list(session.file.extra(EVENTS_SECTION) or [])
    finally:
        session.close()
    return state, events


def masked_event(event: dict[str, Any], redact: Redactor) -> dict[str, Any]:
    """A recorded event with its reason masked as text and its physical id as a whole."""
    out = dict(event)
    out["resource_status_reason"] = redact.text(str(event.get("resource_status_reason", "")))
    out["physical_resource_id"] = redact.whole(event.get("physical_resource_id"))
    return out


def events_cmd(args: argparse.Namespace) -> int:
    found = _recorded(args)
    if found is None:
        return 2
    state, recorded = found
    redact = stack_redactor(state)
    events = [masked_event(e, redact) for e in recorded
              if args.resource in (None, e.get("resource_name"))]
    rows = [[e["event_time"], e["resource_name"],
             f"{e['resource_action']}_{e['resource_status']}", e["resource_status_reason"]]
            for e in events]
    print(render(events, args.format,
                 table(rows, ["Time", "Resource", "Status", "Reason"])), end="")
    return 0


def output_show_cmd(args: argparse.Namespace) -> int:
    found = _recorded(args)
    if found is None:
        return 2
    state = found[0]
    redact = stack_redactor(state)
    outputs = redact.data(dict(state.outputs))
    errors = {k: redact.text(v) for k, v in state.output_errors.items()}
    if args.name is not None:
        if args.name not in outputs and args.name not in errors:
            error(f"Output {args.name} not found.")
            return 1
        entry: dict[str, Any] = {"output_key": args.name, "output_value": outputs.get(args.name)}
        if args.name in errors:
            entry["output_error"] = errors[args.name]
        print(render(entry, args.format, table([[args.name, json.dumps(
            entry["output_value"], default=str)]], ["Output", "Value"])), end="")
        return 0
    rows = [[k, json.dumps(v, default=str)] for k, v in outputs.items()]
    print(render(outputs, args.format, table(rows, ["Output", "Value"])), end="")
    return 0


def output_list_cmd(args: argparse.Namespace) -> int:
    found = _recorded(args)
    if found is None:
        return 2
    state = found[0]
    descriptions: dict[str, str] = {}
    try:
        tmpl = Template.load(state.template, files=state.files)
        for name, snippet in tmpl.output_snippets.items():
            if isinstance(snippet, dict):
                descriptions[name] = str(snippet.get("description")
                                         or snippet.get("Description") or "")
    except KubeheatError:
        pass
    names = sorted(set(state.outputs) | set(state.output_errors))
    data = [{"output_key": n, "description": descriptions.get(n, "")} for n in names]
    rows = [[d["output_key"], d["description"]] for d in data]
    print(render(data, args.format, table(rows, ["Output", "Description"])), end="")
    return 0
