"""Planning: what a stack operation will do to each resource, and why.

:func:`plan` compares a :class:`~kubeheat.template.stack.StackDefinition` (what the template
asks for) with the recorded :class:`~kubeheat.engine.model.StackState` (what was applied last
time) and, optionally, what the cloud holds now (``observed``), and gives per resource one of
``create``, ``update`` (in place), ``replace``, ``delete``, ``adopt`` (find the resource a
crashed run created, else create it) or ``noop``, with the reason.

Values that depend on resources the operation itself creates, replaces or updates are not known
while planning: the properties that use them are listed in ``may_change`` and the executor
decides when it gets there (both use :func:`kubeheat.engine.decide.decide`). Replacement
creates the new resource before deleting the old one, as Heat's convergence engine does, unless
the type says the two cannot coexist; removed resources are deleted after everything that
depended on them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubeheat.engine.decide import (
    NOT_OBSERVED,
    P_ADOPT,
    P_CREATE,
    P_DELETE,
    P_NOOP,
    P_REPLACE,
    P_UPDATE,
    PLAN_ACTIONS,
    PlanAction,
    decide,
    definition_of,
    written_keys,
)
from kubeheat.engine.external import not_supported, recorded_external
from kubeheat.engine.model import (
    COMPLETE,
    DELETE,
    REPLACED_SEP,
    ResourceState,
    StackState,
    base_name,
)
from kubeheat.engine.plugins import Plugins
from kubeheat.resources import (
    Observed,
    PluginRegistry,
    ResourcePlugin,
    check_properties,
    translated_names,
)
from kubeheat.template import (
    ABSENT,
    DependencyGraph,
    ResourceResolver,
    StackDefinition,
    TemplateError,
    walk_path,
)

# -------------------------------------------------------------------------------------------
# The plan
# -------------------------------------------------------------------------------------------

@dataclass
class ResourcePlan:
    name: str
    type: str
    action: PlanAction
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
            "name": self.name, "type": self.type, "action": str(self.action),
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
        out = {str(a): 0 for a in PLAN_ACTIONS}
        for item in self.resources.values():
            out[str(item.action)] += 1
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
        if attribute is None:
            return {k: v for k, v in rec.attributes.items() if k != "show"}
        if attribute not in rec.attributes:
            return None
        return walk_path(rec.attributes[attribute], path)


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
         observed: Mapping[str, Observed | None] | None, plugins: Plugins | PluginRegistry, *,
         attributes: ResourceResolver | None = None,
         requires: Mapping[str, frozenset[str]] | None = None) -> Plan:
    """What an operation applying ``definition`` over ``recorded`` would do.

    ``observed`` maps logical names to what the cloud holds (None: gone); names it lacks were
    not observed. ``plugins`` chooses each resource's plugin (the engine's, or a bare
    registry). ``attributes`` answers ``get_attr`` on the recorded resources the operation
    leaves alone (the engine's, which asks types with dynamic attributes); without it the
    cached attribute values are used. ``requires`` is the dependency graph to follow (the
    engine passes the template's with the implicit edges of its types,
    :func:`kubeheat.engine.deps.stack_requires`); default the template's.
    """
    entries = recorded.resources if recorded is not None else {}
    out = Plan(stack_name=recorded.name if recorded else definition.identity.name,
               stack_id=recorded.id if recorded else None)
    resolver = _PlanResolver(entries, set(), set(), attributes)
    chooser = plugins if isinstance(plugins, Plugins) else Plugins(plugins)
    graph = definition.graph if requires is None else DependencyGraph(dict(requires))
    for name in graph.order():
        rdef = definition.resources[name]
        seen = observed.get(name, NOT_OBSERVED) if observed is not None else NOT_OBSERVED
        out.resources[name] = _plan_resource(
            definition, name, entries.get(name), chooser.for_definition(definition, rdef),
            resolver, seen, tuple(sorted(graph.requires.get(name, rdef.dependencies))))
    removed = [k for k in entries if k not in definition.resources]
    ordered, cyclic = _in_removal_order(entries, removed)
    for key in ordered:
        out.resources[key] = _plan_removal(key, entries[key])
    for key in cyclic:        # a cycle in recorded requires: deleted in any order
        rec = entries[key]
        out.resources[key] = ResourcePlan(
            name=key, type=rec.type, action=P_DELETE, reason="removed from the template",
            physical_id=rec.physical_id, requires=tuple(rec.requires))
    return out


def _plan_resource(definition: StackDefinition, name: str, rec: ResourceState | None,
                   plugin: ResourcePlugin, resolver: _PlanResolver, observed: Any,
                   requires: tuple[str, ...]) -> ResourcePlan:
    """One resource of the definition: its values as far as they are known, then
    :func:`decide`; what it will change makes its reference or attributes unknown to the
    resources planned after it."""
    rdef = definition.resources[name]
    if rdef.external_id is not None or (rec is not None and rec.external_id is not None):
        return _plan_external(name, rdef.type, rdef.external_id, rec, requires)
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
    unknown = translated_names(type(plugin), unknown)   # an old name: its current one
    try:
        metadata: Any = definition.resolve(rdef.metadata, resolver)
    except (_Unknown, TemplateError):
        metadata = None
    try:
        policy: Any = definition.resolve(rdef.update_policy, resolver) if rdef.update_policy \
            else {}
    except (_Unknown, TemplateError):
        policy = None
    given = None if policy is None else definition_of(
        values, rdef.depends_on, rdef.deletion_policy,
        policy if isinstance(policy, dict) else {}, rdef.condition,
        written_keys(definition, rdef))
    try:
        checked = check_properties(
            type(plugin), {**values, **dict.fromkeys(unknown)},
            rdef.key_path("properties"), strict=not unknown, deferred=unknown)
        for key in unknown:
            checked.pop(key, None)
    except TemplateError as exc:
        error = error or str(exc)
        checked = dict(values)
    if rec is not None and rec.physical_id is None:
        observed = NOT_OBSERVED
    decision = decide(plugin, rec, rdef.type, checked, unknown=unknown, observed=observed,
                      metadata=metadata if isinstance(metadata, dict) else None,
                      deletion_policy=rdef.deletion_policy, given=given)
    may_replace = bool(unknown) and bool(
        plugin.needs_replacement(rec.properties if rec else {}, checked, frozenset(unknown)))
    if decision.action in (P_CREATE, P_REPLACE, P_ADOPT) or may_replace:
        resolver.volatile_ref.add(name)
    if decision.action != P_NOOP:
        resolver.volatile_attr.add(name)
    return ResourcePlan(
        name=name, type=rdef.type, action=decision.action, reason=decision.reason,
        changed=tuple(sorted(decision.changed)), may_change=tuple(sorted(unknown)),
        physical_id=rec.physical_id if rec else None, requires=requires,
        error=decision.error or error)


def _plan_external(name: str, type_name: str, external_id: Any, rec: ResourceState | None,
                   requires: tuple[str, ...]) -> ResourcePlan:
    """A resource naming an existing physical resource: adopted (shown as added), kept as
    it is, or an external id added, changed or removed (the update fails)."""
    wanted = None if external_id is None else str(external_id)
    if rec is not None and rec.physical_id is not None and (
            recorded_external(rec.copy(), wanted) != wanted):
        return ResourcePlan(name=name, type=type_name, action=P_UPDATE,
                            reason="external_id changed", physical_id=rec.physical_id,
                            requires=requires, error=not_supported(name, type_name))
    if rec is not None and rec.physical_id == wanted and rec.status == COMPLETE:
        return ResourcePlan(name=name, type=type_name, action=P_NOOP,
                            reason="existing resource (external_id)",
                            physical_id=rec.physical_id, requires=requires)
    return ResourcePlan(name=name, type=type_name, action=P_ADOPT,
                        reason="existing resource adopted (external_id)", physical_id=wanted,
                        requires=requires)


def _in_removal_order(entries: Mapping[str, ResourceState], removed: list[str]
                      ) -> tuple[list[str], list[str]]:
    """``removed`` in the order the deletes happen, and what a cycle in the recorded requires
    leaves unordered."""
    order = removal_order(entries, removed)
    done: set[str] = set()
    ordered: list[str] = []
    pending = list(removed)
    while pending:
        progressed = False
        for key in list(pending):
            if order[key] <= done:
                ordered.append(key)
                done.add(key)
                pending.remove(key)
                progressed = True
        if not progressed:
            return ordered, pending
    return ordered, []


def _plan_removal(key: str, rec: ResourceState) -> ResourcePlan:
    if rec.replaced_by:
        reason = f"replaced by the new {base_name(key)}"
    elif rec.action == DELETE and rec.status == COMPLETE:
        reason = "already deleted"
    else:
        reason = "removed from the template"
    if rec.deletion_policy != "Delete":
        reason += f" (deletion_policy {rec.deletion_policy}: kept in the cloud)"
    return ResourcePlan(name=key, type=rec.type, action=P_DELETE, reason=reason,
                        physical_id=rec.physical_id, requires=tuple(rec.requires))


__all__ = ["Plan", "ResourcePlan", "plan", "removal_order"]
