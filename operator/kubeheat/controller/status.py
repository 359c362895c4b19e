"""The Stack's status: conditions (kstatus) and the sanitized summary of the engine state, with
secret values (hidden parameters, Secret-sourced values) masked by a
:class:`~kubeheat.template.secrets.Redactor`."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from kubeheat.engine import REPLACED_SEP, Action, StackState, Status
from kubeheat.template import Redactor

READY, RECONCILING, STALLED, DRIFTED = "Ready", "Reconciling", "Stalled", "Drifted"
CONDITION_TYPES = (READY, RECONCILING, STALLED, DRIFTED)
#: status reasons/messages are cut to this many characters
MAX_TEXT = 4000
MAX_RESOURCES_SHOWN = 500


def timestamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


def condition(existing: Iterable[Mapping[str, Any]] | None, type_: str, status: bool | None,
              reason: str, message: str, generation: int | None) -> dict[str, Any]:
    """A condition; ``lastTransitionTime`` is kept when its status does not change."""
    word = "Unknown" if status is None else ("True" if status else "False")
    previous = next((c for c in existing or () if c.get("type") == type_), None)
    when = previous.get("lastTransitionTime") if previous is not None and \
        previous.get("status") == word else None
    out: dict[str, Any] = {"type": type_, "status": word, "reason": reason or "Unknown",
                           "message": _cut(message), "lastTransitionTime": when or timestamp()}
    if generation is not None:
        out["observedGeneration"] = generation
    return out


def merge_conditions(existing: list[dict[str, Any]] | None,
                     updates: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``existing`` with ``updates`` replacing the conditions of the same type, in the
    canonical order."""
    by_type = {c["type"]: c for c in existing or () if isinstance(c, dict) and "type" in c}
    for cond in updates:
        by_type[cond["type"]] = cond
    order = {t: i for i, t in enumerate(CONDITION_TYPES)}
    return sorted(by_type.values(), key=lambda c: order.get(c["type"], 99))


def conditions_for(existing: list[dict[str, Any]] | None, generation: int | None, *,
                   ready: bool | None, reconciling: bool, stalled: bool, reason: str,
                   message: str) -> list[dict[str, Any]]:
    """Ready, Reconciling and Stalled together, consistent with kstatus."""
    ready_reason = reason if ready is not True else "Succeeded"
    updates = [
        condition(existing, READY, ready, ready_reason, message, generation),
        condition(existing, RECONCILING, reconciling,
                  reason if reconciling else "Idle", message if reconciling else "", generation),
        condition(existing, STALLED, stalled, reason if stalled else "Progressing",
                  message if stalled else "", generation),
    ]
    return merge_conditions(existing, updates)


def _resources(state: StackState, redact: Redactor) -> list[dict[str, Any]]:
    out = []
    for key, rec in sorted(state.resources.items()):
        if REPLACED_SEP in key and rec.status == Status.COMPLETE and rec.action != Action.DELETE:
            continue
        item: dict[str, Any] = {"name": key, "type": rec.type, "status": rec.state}
        if rec.physical_id:
            item["physicalID"] = rec.physical_id
        if rec.status_reason and rec.status_reason != "state changed":
            item["reason"] = _cut(redact.text(rec.status_reason))
        out.append(item)
        if len(out) >= MAX_RESOURCES_SHOWN:
            break
    return out


def summary(state: StackState, redact: Redactor) -> dict[str, Any]:
    """The status fields that mirror the engine state, with secrets masked."""
    out: dict[str, Any] = {
        "stackID": state.id,
        "stackStatus": state.state,
        "stackStatusReason": _cut(redact.text(state.status_reason)),
        "resources": _resources(state, redact),
        "outputs": redact.data(state.outputs) if state.status != Status.IN_PROGRESS
        or state.outputs else {},
    }
    out["outputErrors"] = {k: _cut(redact.text(v)) for k, v in state.output_errors.items()}
    return out
