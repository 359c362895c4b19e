"""Live attributes: ``get_resource`` and ``get_attr`` answered against a live stack state, and
the re-reads that keep attributes fresh when they can change after a resource's own action.

:class:`LiveResolver` is the resolver the executor evaluates properties and outputs with:
references come from the recorded physical ids (or the plugin's reference id), attributes from
the values cached after each action, or from the plugin when its type answers ``get_attr``
itself (``dynamic_attributes``). For types declaring ``live_attributes`` (a network's
``subnets``, a floating IP's ``port_id``), :class:`Refresher` reads the attributes again before
a later ``get_attr`` on them when a resource depending on them acted since they were read, and
before outputs are computed (Heat reads attributes live), one read per resource, shared by
concurrent askers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from kubeheat.engine.model import COMPLETE, StackState
from kubeheat.engine.operation import Operation
from kubeheat.engine.runtime import Runtime
from kubeheat.engine.sizes import EvaluatedSize
from kubeheat.template import (
    ResourceDefinition,
    ResourceResolver,
    StackDefinition,
    TemplateError,
    TemplateLimitError,
    dependencies,
    walk_path,
)


class LiveResolver:
    """References and attributes of the resources recorded in a live stack state.

    Attributes of types with ``dynamic_attributes`` are asked of the plugin
    (:meth:`ResourcePlugin.get_attribute`, with the whole path); the others come from the
    values cached after the resource's last action."""

    def __init__(self, runtime: Runtime, state: StackState, op: Operation | None) -> None:
        self.runtime = runtime
        self.state = state
        self.op = op

    def reference(self, name: str) -> Any:
        rec = self.state.resources.get(name)
        if rec is None or rec.physical_id is None:
            return name
        ref = rec.data.get("reference")
        return ref if isinstance(ref, str) else rec.physical_id

    def attribute(self, name: str, attribute: str | None, path: Sequence[Any]) -> Any:
        rec = self.state.resources.get(name)
        if rec is None:
            return None
        plugin = self.runtime.plugin_of(rec, self.op)
        if plugin.dynamic_attributes and rec.physical_id is not None and attribute is None:
            return self.runtime.all_dynamic_attributes(self.state, name, rec, self.op, plugin)
        if attribute is not None and plugin.dynamic_attributes and (
                attribute != "show" or not plugin.has_show):
            if rec.physical_id is None:
                return None
            return self.runtime.dynamic_attribute(self.state, name, rec, self.op, plugin,
                                                  attribute, path)
        attrs = rec.attributes
        if attribute is None:
            return {k: v for k, v in attrs.items() if k != "show"}
        if attribute in attrs:
            value = attrs[attribute]
        elif attribute == "show":
            if self.runtime.plugin_of(rec, self.op).show_is_none:
                return None
            value = {"id": rec.physical_id, **attrs}
        else:
            return None
        return walk_path(value, path) if path else value


class Refresher:
    """Re-reads live attributes for the operations of one engine (see the module)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def before_resolving(self, op: Operation, rdef: ResourceDefinition) -> None:
        """Before ``rdef``'s properties are resolved: re-read the attributes of the resources
        it takes attributes from, when something depending on them acted since they were
        read."""
        marks = op.marks
        if not marks.live:
            return
        stale = {ref.resource for ref in rdef.references
                 if ref.attribute is not None and ref.resource in marks.live
                 and marks.stale(ref.resource)}
        if stale:
            await asyncio.gather(*(self.refresh(op, t) for t in sorted(stale)))

    async def before_outputs(self, op: Operation, defn: StackDefinition) -> None:
        """Before outputs are computed: re-read the attributes of the resources outputs take
        attributes from, unless read in this operation and untouched since; one read per
        resource, in parallel within the concurrency limit."""
        marks = op.marks
        if not marks.live:
            return
        targets: set[str] = set()
        for out in defn.outputs.values():
            if out.enabled:
                targets.update(d.resource for d in dependencies(out.value)
                               if d.attribute is not None and d.resource in marks.live)
        stale = [t for t in sorted(targets) if marks.unread_or_stale(t)]
        if stale:
            await asyncio.gather(*(self.refresh(op, t) for t in stale))

    async def refresh(self, op: Operation, name: str) -> None:
        """Re-read one resource's attributes into the state (one read, shared by concurrent
        askers); a failed read keeps the cached values."""
        marks = op.marks
        running = marks.refreshing.get(name)
        if running is not None:
            await asyncio.shield(running)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        marks.refreshing[name] = future
        try:
            state = op.state
            rec = state.resources.get(name)
            if rec is None or rec.physical_id is None or rec.status != COMPLETE:
                return
            plugin = op.plugins.get(name) or self.runtime.plugin_of(rec, op)
            mark = marks.seq
            try:
                async with self.runtime.limit(plugin):
                    attrs = await plugin.attribute_values(
                        self.runtime.context(state, name, rec, op), rec.properties)
            except asyncio.CancelledError:
                raise
            except Exception:
                return
            marks.read_at[name] = max(mark, marks.read_at.get(name, -1))
            if attrs and attrs != rec.attributes:
                rec.attributes = attrs
                self.runtime.recorder.save(state, name)
        finally:
            marks.refreshing.pop(name, None)
            future.set_result(None)


def output_values(defn: StackDefinition, resolver: ResourceResolver,
                  sizes: EvaluatedSize | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Every output's value (None and an error for the failing ones). The values are counted
    in ``sizes`` (a fresh count when None); one that takes the stack past the limit is an
    error, also recorded as ``sizes.failure``."""
    if sizes is None:
        sizes = EvaluatedSize(defn.template.limits.max_evaluated_bytes)
    outputs: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in defn.outputs:
        outputs[name] = None
        try:
            value = defn.output_value(name, resolver)
        except TemplateError as exc:
            errors[name] = str(exc)
            continue
        try:
            sizes.admit(("outputs", name), value, ("outputs", name))
        except TemplateLimitError as exc:
            errors[name] = str(exc)
            sizes.failure = sizes.failure or str(exc)
            continue
        outputs[name] = value
    return outputs, errors


__all__ = ["LiveResolver", "Refresher", "output_values"]
