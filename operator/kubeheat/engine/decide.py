"""The rule for one resource: create, update in place, replace, adopt or leave it, and why.

:func:`decide` is shared by the planner (:mod:`kubeheat.engine.plan`, ahead of time, with some
values unknown) and the executor (at the moment it reaches the resource, with everything
known), so ``plan`` and ``run`` cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kubeheat.engine.model import (
    CHECK,
    COMPLETE,
    DELETE,
    FAILED,
    IN_PROGRESS,
    INIT,
    ROLLBACK,
    ResourceState,
)
from kubeheat.resources import Observed, ResourcePlugin
from kubeheat.template import ResourceDefinition, StackDefinition, json_key


class PlanAction(StrEnum):
    """What an operation does to one resource."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    #: find the resource a crashed run created (by its tags), else create it
    ADOPT = "adopt"
    NOOP = "noop"


P_CREATE, P_UPDATE, P_REPLACE, P_DELETE, P_ADOPT, P_NOOP = (
    PlanAction.CREATE, PlanAction.UPDATE, PlanAction.REPLACE, PlanAction.DELETE,
    PlanAction.ADOPT, PlanAction.NOOP)
PLAN_ACTIONS = tuple(PlanAction)


class _NotObserved:
    def __repr__(self) -> str:
        return "NOT_OBSERVED"


#: ``decide``'s default for ``observed``: the resource was not read
NOT_OBSERVED: Any = _NotObserved()


@dataclass
class Decision:
    """What to do with one existing resource, given its new property values."""

    action: PlanAction
    reason: str = ""
    changed: frozenset[str] = frozenset()
    #: an update that must fail (an immutable property changed)
    error: str | None = None
    #: a replacement found by trying the update (changed properties the type cannot update
    #: in place): Heat records the old resource ``UPDATE_COMPLETE`` ("requires replacement")
    tried_update: bool = False


def _fmt(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


#: the parts of a definition whose change alone updates a resource (with its properties as
#: given), as Heat's convergence engine compares the previous and the new definition
DEFINITION_KEYS = ("properties", "depends_on", "deletion_policy", "update_policy", "condition",
                   "written")


def _json_keys(value: Any) -> Any:
    """``value`` with every map key as JSON writes it (``1`` -> ``"1"``, ``None`` ->
    ``"null"``), so that keys of mixed types (YAML's ``{1: a, b: c}``) can be sorted."""
    if isinstance(value, Mapping):
        return {json_key(k): _json_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_keys(v) for v in value]
    return value


def _digest(value: Any) -> str:
    """A short digest of a JSON-like value (equal values, equal digests)."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)
    except TypeError:       # map keys of mixed types
        text = json.dumps(_json_keys(value), sort_keys=True, separators=(",", ":"),
                          default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def definition_of(given: Mapping[str, Any], depends_on: Iterable[str], deletion_policy: str,
                  update_policy: Mapping[str, Any] | None, condition: Any,
                  written: Iterable[str] = ()) -> dict[str, Any]:
    """What :attr:`ResourceState.given` records of a resource's definition: a digest of each
    property as the template gives it (resolved, without the type's defaults: the values
    themselves are in :attr:`ResourceState.properties`, and kept once), the depends_on,
    deletion policy and condition as written, a digest of the resolved update policy, and
    which of the keys that have a default the template writes out (``written``: an empty
    ``metadata`` or ``deletion_policy: Delete`` written where there was none is a change in
    Heat)."""
    if condition is not None and not isinstance(condition, str | bool):
        condition = repr(condition)
    return {"properties": {k: _digest(v) for k, v in given.items()},
            "depends_on": list(depends_on), "deletion_policy": deletion_policy,
            "update_policy": _digest(dict(update_policy or {})), "condition": condition,
            "written": sorted(written)}


def written_keys(definition: StackDefinition, rdef: ResourceDefinition) -> list[str]:
    """Which of the resource's ``metadata``, ``deletion_policy`` and ``update_policy`` its
    template writes out (in the template's spelling of them)."""
    snippet = definition.template.resource_snippets.get(rdef.name)
    if not isinstance(snippet, Mapping):
        return []
    return [key for key in ("metadata", "deletion_policy", "update_policy")
            if rdef.key_path(key)[-1] in snippet]


def _definition_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
                        unknown: frozenset[str]) -> list[str]:
    """The parts of the definition that differ (properties named one by one); nothing when
    either side is not known (a record from before kubeheat kept it)."""
    if old is None or new is None:
        return []
    out: list[str] = []
    before, after = old.get("properties") or {}, new.get("properties") or {}
    out.extend(sorted(k for k in set(before) | set(after)
                      if k not in unknown and before.get(k) != after.get(k)))
    out.extend(k for k in DEFINITION_KEYS[1:-1] if old.get(k) != new.get(k))
    if "written" in old and old.get("written") != new.get("written"):
        out.extend(sorted(set(old["written"]) ^ set(new.get("written") or ())))
    return out


def decide(plugin: ResourcePlugin, rec: ResourceState | None, type_name: str,
           props: Mapping[str, Any] | None, *, unknown: Collection[str] = (),
           observed: Observed | Any | None = NOT_OBSERVED,
           metadata: Mapping[str, Any] | None = None,
           deletion_policy: str | None = None,
           given: Mapping[str, Any] | None = None) -> Decision:
    """The action for one resource of the new definition.

    ``rec`` is its recorded entry (None: new), ``props`` its checked new property values (None
    when they could not be computed), ``unknown`` the properties whose values are not known yet,
    ``observed`` what :meth:`ResourcePlugin.read` saw (None: gone; omitted: not observed).
    ``given`` is the new definition as :func:`definition_of` gives it: as in Heat, a resource
    whose definition changed (its depends_on, deletion or update policy, condition, or a
    property written out with its default value) is updated even when no property value
    changed (``OS::Heat::None`` excepted: it is never updated).
    """
    if rec is None:
        return Decision(P_CREATE, "new resource")
    found = _by_record(plugin, rec, type_name, props, observed)
    if found is not None:
        return found
    if props is None:
        return Decision(P_UPDATE, "properties are known only during the operation")
    decision = _by_values(plugin, rec, type_name, props, frozenset(unknown), observed, metadata)
    if decision.action != P_NOOP or plugin.never_updates:
        return decision
    if (plugin.sees_deletion_policy and deletion_policy is not None
            and deletion_policy != rec.deletion_policy):
        return Decision(P_UPDATE, "deletion_policy changed")
    differ = _definition_changes(rec.given, given, frozenset(unknown))
    if differ:
        return Decision(P_UPDATE, f"definition changed: {', '.join(differ)}")
    return decision


def _by_record(plugin: ResourcePlugin, rec: ResourceState, type_name: str,
               props: Mapping[str, Any] | None, observed: Any) -> Decision | None:
    """What the record (and the cloud) alone decide, whatever the new values."""
    if rec.physical_id is None:
        if rec.action == INIT and rec.status == COMPLETE:
            # recorded when the operation started (a create is recorded IN_PROGRESS before
            # the cloud is asked): nothing can have been made yet
            return Decision(P_CREATE, "new resource")
        if rec.status == IN_PROGRESS:
            return Decision(P_ADOPT, f"{rec.action} was interrupted before the physical "
                                     "resource was recorded")
        if rec.status == FAILED:
            return Decision(P_ADOPT, f"{rec.action} failed before the physical resource was "
                                     "recorded")
        return Decision(P_ADOPT, "not created yet")
    if rec.type != type_name:
        if type(plugin).takes_over(rec.type, rec.nested):
            return Decision(P_UPDATE, f"type changed from {rec.type} to {type_name}",
                            frozenset(props or ()))
        return Decision(P_REPLACE, f"type changed from {rec.type} to {type_name}")
    if observed is None:
        return Decision(P_CREATE, "missing in the cloud")
    if isinstance(observed, Observed) and observed.failed:
        return Decision(P_REPLACE, f"failed in the cloud: {observed.failed}")
    if rec.status == FAILED and rec.action != CHECK and not rec.was_interrupted:
        if plugin.update_all_in_place:
            return Decision(P_UPDATE, f"resource {rec.action} failed",
                            frozenset(props or ()))
        return Decision(P_REPLACE, f"resource {rec.action} failed")
    if rec.status == IN_PROGRESS and rec.action in (DELETE, ROLLBACK):
        return Decision(P_REPLACE, f"{rec.action} was interrupted")
    return None


def _by_values(plugin: ResourcePlugin, rec: ResourceState, type_name: str,
               props: Mapping[str, Any], unknown: frozenset[str], observed: Any,
               metadata: Mapping[str, Any] | None) -> Decision:
    """What the new values decide, against the applied ones (and the observed ones)."""
    old = rec.properties
    changed = {k for k in set(props) | set(old)
               if k not in unknown and props.get(k) != old.get(k)}
    drift: set[str] = set()
    if isinstance(observed, Observed):
        drift = {k for k, v in observed.properties.items()
                 if k in props and k not in unknown and v != old.get(k)
                 and props.get(k) != v}
        changed |= drift
    frozen = frozenset(changed)
    if plugin.never_updates:
        return Decision(P_NOOP, "never updated" if changed else "", frozen)
    immutable = sorted(k for k in frozen
                       if k in plugin.properties and plugin.properties[k].immutable)
    if immutable:
        return Decision(P_UPDATE, f"immutable properties changed: {_fmt(immutable)}", frozen,
                        error=f"Update to properties {_fmt(immutable)} of {rec.name} "
                              f"({type_name}) is not supported.")
    replace = plugin.needs_replacement(old, props, frozen) if frozen else frozenset()
    if replace:
        return Decision(P_REPLACE, f"properties changed that cannot be updated in place: "
                                   f"{_fmt(replace)}", frozen, tried_update=True)
    if frozen:
        what = "drifted" if drift and frozen == drift else "changed"
        return Decision(P_UPDATE, f"properties {what}: {_fmt(frozen)}", frozen)
    if rec.update_unfinished:
        return Decision(P_UPDATE, "UPDATE was interrupted", frozenset())
    if rec.create_unfinished:
        return Decision(P_UPDATE, f"{rec.action} was interrupted: it is finished",
                        frozenset())
    if metadata is not None and dict(metadata) != rec.metadata:
        return Decision(P_UPDATE, "metadata changed")
    if unknown:
        return Decision(P_UPDATE, f"may change: {_fmt(unknown)} depend on resources "
                                  "changed by this operation")
    return Decision(P_NOOP)


__all__ = [
    "DEFINITION_KEYS",
    "NOT_OBSERVED",
    "PLAN_ACTIONS",
    "P_ADOPT",
    "P_CREATE",
    "P_DELETE",
    "P_NOOP",
    "P_REPLACE",
    "P_UPDATE",
    "Decision",
    "PlanAction",
    "decide",
    "definition_of",
    "written_keys",
]
