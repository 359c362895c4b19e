"""Planning: what a stack operation will do to each resource, and why.

:func:`plan` compares a :class:`~kubeheat.template.stack.StackDefinition` (what the template
asks for) with the recorded :class:`~kubeheat.engine.state.StackState` (what was applied last
time) and, optionally, what the cloud holds now (``observed``), and gives per resource one of
``create``, ``update`` (in place), ``replace``, ``delete``, ``adopt`` (find the resource a
crashed run created, else create it) or ``noop``, with the reason.

Values that depend on resources the operation itself creates, replaces or updates are not known
while planning: the properties that use them are listed in ``may_change`` and the executor
decides when it gets there (:func:`decide` is shared by both). Replacement creates the new
resource before deleting the old one, as Heat's convergence engine does, unless the type says
the two cannot coexist; removed resources are deleted after everything that depended on them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubeheat.engine.state import (
    ADOPT,
    CHECK,
    COMPLETE,
    CREATE,
    DELETE,
    FAILED,
    IN_PROGRESS,
    INIT,
    ROLLBACK,
    UPDATE,
    ResourceState,
    StackState,
)
from kubeheat.resources.base import Observed, PluginRegistry, ResourcePlugin
from kubeheat.resources.properties import check_properties
from kubeheat.template.errors import TemplateError
from kubeheat.template.functions.base import ABSENT
from kubeheat.template.graph import DependencyGraph
from kubeheat.template.scope import ResourceResolver
from kubeheat.template.stack import StackDefinition, is_provider_template

#: plan actions
P_CREATE, P_UPDATE, P_REPLACE, P_DELETE, P_ADOPT, P_NOOP = (
    "create", "update", "replace", "delete", "adopt", "noop")
PLAN_ACTIONS = (P_CREATE, P_UPDATE, P_REPLACE, P_DELETE, P_ADOPT, P_NOOP)

#: separator of the entries kept for replaced resources (``web~1``)
REPLACED_SEP = "~"

class _NotObserved:
    def __repr__(self) -> str:
        return "NOT_OBSERVED"


#: ``decide``'s default for ``observed``: the resource was not read
NOT_OBSERVED: Any = _NotObserved()


def base_name(key: str) -> str:
    """The logical name of a state entry (``web~2`` -> ``web``)."""
    return key.split(REPLACED_SEP, 1)[0]


@dataclass
class Decision:
    """What to do with one existing resource, given its new property values."""

    action: str
    reason: str = ""
    changed: frozenset[str] = frozenset()
    #: an update that must fail (an immutable property changed)
    error: str | None = None


def _fmt(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


def aborted(rec: ResourceState) -> bool:
    """True when the resource's last action failed because it was interrupted (cancelled,
    timed out, the stack failing elsewhere), not because the cloud refused it: the engine
    records those ``<ACTION>_FAILED`` with the reason ``<ACTION> aborted``."""
    return rec.status == FAILED and rec.status_reason.startswith(f"{rec.action} aborted")


def create_interrupted(rec: ResourceState) -> bool:
    """A create that did not finish although its physical resource was recorded: the next
    operation finishes it (waits for it to be ready) instead of replacing it."""
    return rec.physical_id is not None and rec.action in (CREATE, ADOPT, INIT) and (
        rec.status == IN_PROGRESS or aborted(rec))


def decide(plugin: ResourcePlugin, rec: ResourceState | None, type_name: str,
           props: Mapping[str, Any] | None, *, unknown: Collection[str] = (),
           observed: Observed | Any | None = NOT_OBSERVED,
           metadata: Mapping[str, Any] | None = None) -> Decision:
    """The action for one resource of the new definition.

    ``rec`` is its recorded entry (None: new), ``props`` its checked new property values (None
    when they could not be computed), ``unknown`` the properties whose values are not known yet,
    ``observed`` what :meth:`ResourcePlugin.read` saw (None: gone; omitted: not observed).
    """
    if rec is None:
        return Decision(P_CREATE, "new resource")
    if rec.physical_id is None:
        if rec.status == IN_PROGRESS:
            return Decision(P_ADOPT, f"{rec.action} was interrupted before the physical "
                                     "resource was recorded")
        if rec.status == FAILED:
            return Decision(P_ADOPT, f"{rec.action} failed before the physical resource was "
                                     "recorded")
        return Decision(P_ADOPT, "not created yet")
    if rec.type != type_name:
        return Decision(P_REPLACE, f"type changed from {rec.type} to {type_name}")
    if observed is None:
        return Decision(P_CREATE, "missing in the cloud")
    if isinstance(observed, Observed) and observed.failed:
        return Decision(P_REPLACE, f"failed in the cloud: {observed.failed}")
    in_place = plugin.update_all_in_place
    finishing = create_interrupted(rec)
    was_aborted = aborted(rec)
    if rec.status == FAILED and rec.action != CHECK and not was_aborted:
        if in_place:
            return Decision(P_UPDATE, f"resource {rec.action} failed",
                            frozenset(props or ()))
        return Decision(P_REPLACE, f"resource {rec.action} failed")
    if rec.status == IN_PROGRESS and rec.action in (DELETE, ROLLBACK):
        return Decision(P_REPLACE, f"{rec.action} was interrupted")
    if props is None:
        return Decision(P_UPDATE, "properties are known only during the operation")
    old = rec.properties
    unknown_set = frozenset(unknown)
    changed = {k for k in set(props) | set(old)
               if k not in unknown_set and props.get(k) != old.get(k)}
    drift: set[str] = set()
    if isinstance(observed, Observed):
        drift = {k for k, v in observed.properties.items()
                 if k in props and k not in unknown_set and v != old.get(k)
                 and props.get(k) != v}
        changed |= drift
    interrupted = rec.action == UPDATE and (rec.status == IN_PROGRESS or was_aborted)
    if plugin.never_updates:
        return Decision(P_NOOP, "never updated" if changed else "", frozenset(changed))
    frozen = frozenset(changed)
    immutable = sorted(k for k in frozen
                       if k in plugin.properties and plugin.properties[k].immutable)
    if immutable:
        return Decision(P_UPDATE, f"immutable properties changed: {_fmt(immutable)}", frozen,
                        error=f"Update to properties {_fmt(immutable)} of {rec.name} "
                              f"({type_name}) is not supported.")
    replace = plugin.needs_replacement(old, props, frozen) if frozen else frozenset()
    if replace:
        return Decision(P_REPLACE, f"properties changed that cannot be updated in place: "
                                   f"{_fmt(replace)}", frozen)
    if frozen:
        what = "drifted" if drift and frozen == drift else "changed"
        return Decision(P_UPDATE, f"properties {what}: {_fmt(frozen)}", frozen)
    if interrupted:
        return Decision(P_UPDATE, "UPDATE was interrupted", frozenset())
    if finishing:
        return Decision(P_UPDATE, f"{rec.action} was interrupted: it is finished",
                        frozenset())
    if metadata is not None and dict(metadata) != rec.metadata:
        return Decision(P_UPDATE, "metadata changed")
    if unknown_set:
        return Decision(P_UPDATE, f"may change: {_fmt(unknown_set)} depend on resources "
                                  "changed by this operation")
    return Decision(P_NOOP)


# -------------------------------------------------------------------------------------------
# The plan
# -------------------------------------------------------------------------------------------

@dataclass
class ResourcePlan:
    name: str
    type: str
    action: str
    reason: str = ""
    changed: tuple[str, ...] = ()
    #: properties whose new value is only known once the operation gets to the resource
    may_change: tuple[str, ...] = ()
    physical_id: str | None = None
    requires: tuple[str, ...] = ()
    #: a problem found while planning (the resource's action will fail)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "type": self.type, "action": self.action,
            "reason": self.reason, "changed": list(self.changed),
            "may_change": list(self.may_change), "physical_id": self.physical_id,
            "requires": list(self.requires)}
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class Plan:
    """Per resource what an operation will do, in execution order (deletes last)."""

    stack_name: str
    stack_id: str | None = None
    resources: dict[str, ResourcePlan] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(PLAN_ACTIONS, 0)
        for item in self.resources.values():
            out[item.action] += 1
        return out

    @property
    def changes(self) -> list[ResourcePlan]:
        """Everything but the no-ops."""
        return [r for r in self.resources.values() if r.action != P_NOOP]

    def preview(self) -> dict[str, list[str]]:
        """Heat's update-preview shape: unchanged, updated, replaced, added, deleted."""
        out: dict[str, list[str]] = {"unchanged": [], "updated": [], "replaced": [],
                                     "added": [], "deleted": []}
        key = {P_NOOP: "unchanged", P_UPDATE: "updated", P_REPLACE: "replaced",
               P_CREATE: "added", P_ADOPT: "added", P_DELETE: "deleted"}
        for item in self.resources.values():
            out[key[item.action]].append(item.name)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"stack_name": self.stack_name, "stack_id": self.stack_id,
                "resources": [r.to_dict() for r in self.resources.values()],
                "summary": self.counts()}

    def table(self, *, all_resources: bool = True) -> str:
        """A plain-text table: RESOURCE, TYPE, ACTION, REASON."""
        rows = [("RESOURCE", "TYPE", "ACTION", "REASON")]
        for item in self.resources.values():
            if not all_resources and item.action == P_NOOP:
                continue
            reason = item.reason
            if item.error:
                reason = f"{reason} (error: {item.error})" if reason else f"error: {item.error}"
            action = item.action + ("?" if item.may_change and item.action != P_REPLACE
                                    else "")
            rows.append((item.name, item.type, action, reason))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3]
                 for r in rows]
        counts = self.counts()
        lines.append(", ".join(f"{n} to {a}" for a, n in counts.items() if n and a != P_NOOP)
                     or "no changes")
        return "\n".join(line.rstrip() for line in lines)


class _Unknown(Exception):
    """A value the plan cannot know (raised through evaluation, caught per property)."""


class _PlanResolver:
    """References and attributes as far as the plan knows them."""

    def __init__(self, recorded: Mapping[str, ResourceState], volatile_ref: set[str],
                 volatile_attr: set[str], live: ResourceResolver | None = None) -> None:
        self.recorded = recorded
        self.volatile_ref = volatile_ref
        self.volatile_attr = volatile_attr
        self.live = live

    def reference(self, name: str) -> Any:
        if name in self.volatile_ref:
            raise _Unknown(name)
        rec = self.recorded.get(name)
        if rec is None or rec.physical_id is None:
            raise _Unknown(name)
        ref = rec.data.get("reference") if isinstance(rec.data, dict) else None
        return ref if isinstance(ref, str) else rec.physical_id

    def attribute(self, name: str, attribute: str | None, path: Sequence[Any]) -> Any:
        if name in self.volatile_attr or name in self.volatile_ref:
            raise _Unknown(name)
        rec = self.recorded.get(name)
        if rec is None:
            raise _Unknown(name)
        if self.live is not None:
            return self.live.attribute(name, attribute, path)
        from kubeheat.template.scope import walk_path

        if attribute is None:
            return {k: v for k, v in rec.attributes.items() if k != "show"}
        if attribute not in rec.attributes:
            return None
        return walk_path(rec.attributes[attribute], path)


def plugin_for(registry: PluginRegistry, type_name: str, implementation: str | None
               ) -> type[ResourcePlugin] | None:
    """The plugin class for a resource type (None: unknown, or a provider template)."""
    impl = implementation or type_name
    if is_provider_template(impl):
        return None
    return registry.get(impl) or registry.get(type_name)


def removal_order(entries: Mapping[str, ResourceState], keys: Collection[str]
                  ) -> dict[str, frozenset[str]]:
    """For each entry to delete, the other entries to delete first: those that required it."""
    by_base: dict[str, list[str]] = {}
    for key in keys:
        by_base.setdefault(base_name(key), []).append(key)
    before: dict[str, set[str]] = {k: set() for k in keys}
    for key in keys:
        for dep in entries[key].requires:
            for target in by_base.get(dep, ()):
                if target != key:
                    before[target].add(key)
    # a replaced entry goes after the entry that replaced it when both are removed
    for key in keys:
        if REPLACED_SEP in key and base_name(key) in before:
            before[key].add(base_name(key))
    return {k: frozenset(v) for k, v in before.items()}


def plan(definition: StackDefinition, recorded: StackState | None,
         observed: Mapping[str, Observed | None] | None, registry: PluginRegistry, *,
         plugins: Mapping[str, ResourcePlugin] | None = None,
         attributes: ResourceResolver | None = None,
         requires: Mapping[str, frozenset[str]] | None = None) -> Plan:
    """What an operation applying ``definition`` over ``recorded`` would do.

    ``observed`` maps logical names to what the cloud holds (None: gone); names it lacks were
    not observed. ``plugins`` may give plugin instances by resource name (the engine passes
    the provider-template plugins it builds). ``attributes`` answers ``get_attr`` on the
    recorded resources the operation leaves alone (the engine's, which asks types with dynamic
    attributes); without it the cached attribute values are used. ``requires`` is the
    dependency graph to follow (the engine passes the template's with the implicit edges of
    its types, :func:`kubeheat.engine.deps.stack_requires`); default the template's.
    """
    entries = recorded.resources if recorded is not None else {}
    out = Plan(stack_name=recorded.name if recorded else definition.identity.name,
               stack_id=recorded.id if recorded else None)
    volatile_ref: set[str] = set()
    volatile_attr: set[str] = set()
    resolver = _PlanResolver(entries, volatile_ref, volatile_attr, attributes)
    instances: dict[type[ResourcePlugin], ResourcePlugin] = {}
    graph = definition.graph if requires is None else DependencyGraph(dict(requires))
    for name in graph.order():
        rdef = definition.resources[name]
        rec = entries.get(name)
        plugin: ResourcePlugin | None = (plugins or {}).get(name)
        if plugin is None:
            cls = plugin_for(registry, rdef.type, rdef.implementation)
            if cls is None:
                from kubeheat.engine.nested import TemplateResource

                key = rdef.implementation or rdef.type
                plugin = TemplateResource(key, definition.template.files.get(key), None)
            else:
                plugin = instances.get(cls) or instances.setdefault(cls, cls())
        values: dict[str, Any] = {}
        unknown: list[str] = []
        error: str | None = None
        for key, snippet in rdef.properties.items():
            try:
                value = definition.resolve(snippet, resolver)
            except _Unknown:
                unknown.append(key)
                continue
            except TemplateError as exc:
                error = str(exc)
                continue
            if value is not ABSENT:
                values[key] = value
        try:
            metadata: Any = definition.resolve(rdef.metadata, resolver)
        except (_Unknown, TemplateError):
            metadata = None
        checked: dict[str, Any] | None = None
        try:
            checked = check_properties(
                type(plugin), {**values, **dict.fromkeys(unknown)},
                rdef.key_path("properties"), strict=not unknown, deferred=unknown)
            for key in unknown:
                checked.pop(key, None)
        except TemplateError as exc:
            error = error or str(exc)
            checked = dict(values)
        obs = observed.get(name, NOT_OBSERVED) if observed is not None else NOT_OBSERVED
        if rec is not None and rec.physical_id is None:
            obs = NOT_OBSERVED
        decision = decide(plugin, rec, rdef.type, checked, unknown=unknown, observed=obs,
                          metadata=metadata if isinstance(metadata, dict) else None)
        if decision.error:
            error = decision.error
        may_replace = bool(unknown) and bool(
            plugin.needs_replacement(rec.properties if rec else {}, checked or {},
                                     frozenset(unknown)))
        if decision.action in (P_CREATE, P_REPLACE, P_ADOPT) or may_replace:
            volatile_ref.add(name)
        if decision.action != P_NOOP:
            volatile_attr.add(name)
        out.resources[name] = ResourcePlan(
            name=name, type=rdef.type, action=decision.action, reason=decision.reason,
            changed=tuple(sorted(decision.changed)), may_change=tuple(sorted(unknown)),
            physical_id=rec.physical_id if rec else None,
            requires=tuple(sorted(graph.requires.get(name, rdef.dependencies))), error=error)
    removed = [k for k in entries if k not in definition.resources]
    order = removal_order(entries, removed)
    done: set[str] = set()
    pending = list(removed)
    while pending:
        progressed = False
        for key in list(pending):
            if order[key] <= done:
                rec = entries[key]
                if rec.replaced_by:
                    reason = f"replaced by the new {base_name(key)}"
                elif rec.action == DELETE and rec.status == COMPLETE:
                    reason = "already deleted"
                else:
                    reason = "removed from the template"
                if rec.deletion_policy != "Delete":
                    reason += f" (deletion_policy {rec.deletion_policy}: kept in the cloud)"
                out.resources[key] = ResourcePlan(
                    name=key, type=rec.type, action=P_DELETE, reason=reason,
                    physical_id=rec.physical_id, requires=tuple(rec.requires))
                done.add(key)
                pending.remove(key)
                progressed = True
        if not progressed:  # a cycle in recorded requires: delete the rest in any order
            for key in pending:
                rec = entries[key]
                out.resources[key] = ResourcePlan(
                    name=key, type=rec.type, action=P_DELETE,
                    reason="removed from the template", physical_id=rec.physical_id,
                    requires=tuple(rec.requires))
            break
    return out


__all__ = [
    "NOT_OBSERVED",
    "PLAN_ACTIONS",
    "P_ADOPT",
    "P_CREATE",
    "P_DELETE",
    "P_NOOP",
    "P_REPLACE",
    "P_UPDATE",
    "REPLACED_SEP",
    "Decision",
    "Plan",
    "ResourcePlan",
    "aborted",
    "base_name",
    "create_interrupted",
    "decide",
    "plan",
    "plugin_for",
    "removal_order",
]
