"""Nested stacks: child stacks run by a parent's resources, on the parent's engine.

:class:`EngineNestedStacks` implements :class:`~kubeheat.resources.base.NestedStacks` for one
resource: its child stacks are stored as their own :class:`StackState` (``parent`` set to the
parent stack's id) in the same state store, emit events to the same sink and share the engine's
concurrency limit. A child's stack id is derived from the parent resource's ``uid`` and the
child id, and recorded in the resource's ``nested`` map before the child is touched, so a rerun
after a crash finds the same child stack. Child stacks never roll back on their own (the parent
does), as in Heat.

:class:`TemplateResource` is the plugin behind provider templates: a resource whose type is a
template file (or is mapped to one by the environment's ``resource_registry``) is a nested stack
whose parameters are the resource's properties and whose outputs are its attributes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from kubeheat.engine.state import FAILED, ResourceState, StackState
from kubeheat.resources.base import (
    Created,
    Observed,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
)
from kubeheat.template.errors import TemplateLimitError
from kubeheat.template.limits import DEFAULT_LIMITS
from kubeheat.template.loader import load_mapping
from kubeheat.template.scope import walk_path

if TYPE_CHECKING:
    from kubeheat.engine.executor import Engine, _Op

#: child stack states a rerun may adopt as they are
_FINISHED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})

_NAMESPACE = uuid.UUID("6f1f7f0e-3b7e-4c55-9d0a-6b7568656174")


class ChildResult:
    """A child stack as the parent's plugin sees it (``NestedStackResult``). With ``engine``,
    attributes of the child's resources are resolved as ``get_attr`` in the child would
    (dynamic attributes included), else read from the cached values."""

    def __init__(self, state: StackState, engine: Engine | None = None) -> None:
        self.state = state
        self.engine = engine
        self.stack_id = state.id
        self.status = state.state
        self.status_reason = state.status_reason
        self.outputs: dict[str, Any] = dict(state.outputs)

    def resource_ids(self) -> dict[str, str | None]:
        return {name: rec.physical_id for name, rec in self.state.resources.items()
                if "~" not in name}

    def resource_attribute(self, name: str, attribute: str | None, path: Sequence[Any]) -> Any:
        rec = self.state.resources.get(name)
        if rec is None:
            return None
        if self.engine is not None:
            return self.engine.child_attribute(self.state, name, attribute, path)
        if attribute is None:
            return {k: v for k, v in rec.attributes.items() if k != "show"}
        value = rec.attributes.get(attribute)
        return walk_path(value, path) if path else value


class EngineNestedStacks:
    """The child stacks of one resource (the ``NestedStacks`` protocol)."""

    def __init__(self, engine: Engine, parent: StackState, key: str, op: _Op | None) -> None:
        self.engine = engine
        self.parent = parent
        self.key = key
        self.op = op

    def _record(self) -> ResourceState:
        rec = self.parent.resources.get(self.key)
        if rec is None:  # moved aside by a replacement meanwhile
            for candidate in self.parent.resources.values():
                if candidate.name == self.key:
                    return candidate
            raise ResourceFailure(f"The Resource ({self.key}) could not be found.")
        return rec

    def child_stack_id(self, child_id: str) -> str:
        rec = self._record()
        found = rec.nested.get(child_id)
        if found is not None:
            return found
        seed = rec.uid or rec.name
        return str(uuid.uuid5(_NAMESPACE, f"{self.parent.id}/{seed}/{child_id}"))

    def _deadline(self, timeout: float | None) -> float | None:
        deadline = self.op.deadline if self.op is not None else None
        if timeout is not None:
            mine = time.monotonic() + timeout
            deadline = mine if deadline is None else min(deadline, mine)
        return deadline

    def depth(self) -> int:
        """Nesting depth of the parent stack (0: top level)."""
        if self.op is not None:
            return self.op.depth
        depth, parent, seen = 0, self.parent.parent, set()
        while parent and parent not in seen:
            seen.add(parent)
            depth += 1
            found = self.engine.load_cached(parent)
            parent = found.parent if found is not None else None
        return depth

    def _check_depth(self, depth: int) -> None:
        defn = self.op.definition if self.op is not None else None
        limit = (defn.template.limits if defn is not None else DEFAULT_LIMITS).max_nested_depth
        if depth <= limit:
            return
        rdef = defn.resources.get(self.key.split("~")[0]) if defn is not None else None
        where = rdef.path if rdef is not None else ("resources", self.key.split("~")[0])
        raise TemplateLimitError(f"Recursion depth exceeds {limit}.", where)

    def _environment(self) -> list[dict[str, Any]]:
        env = dict(self.parent.environment)
        if not env:
            return []
        env["parameters"] = {}
        return [env]

    async def create_or_update(self, child_id: str, template: Mapping[str, Any],
                               parameters: Mapping[str, Any], *,
                               files: Mapping[str, str] | None = None,
                               timeout: float | None = None,
                               environment: Mapping[str, Any] | None = None,
                               facade: Mapping[str, Any] | None = None) -> ChildResult:
        from kubeheat.engine.executor import StackRequest

        depth = self.depth() + 1
        self._check_depth(depth)
        rec = self._record()
        sid = self.child_stack_id(child_id)
        if rec.nested.get(child_id) != sid:
            rec.nested[child_id] = sid
            self.engine._save(self.parent, self.key)
        name = f"{self.parent.name}-{rec.name.split('~')[0]}-{sid.replace('-', '')[:12]}"
        request = StackRequest(
            name=name, template=dict(template),
            files=dict(files if files is not None else self.parent.files),
            environments=[dict(environment)] if environment is not None
            else list(self._environment()),
            parameters=dict(parameters), disable_rollback=True)
        state = await self.engine.run_child(request, sid, self.parent,
                                            deadline=self._deadline(timeout), facade=facade,
                                            depth=depth)
        if state.status == FAILED:
            raise ResourceFailure(state.status_reason)
        return ChildResult(state, self.engine)

    async def delete(self, child_id: str) -> None:
        rec = self._record()
        sid = self.child_stack_id(child_id)
        state = await self.engine.delete_child(sid, self._deadline(None))
        if state is not None and state.status == FAILED:
            raise ResourceFailure(state.status_reason)
        if child_id in rec.nested:
            del rec.nested[child_id]
            self.engine._save(self.parent, self.key)

    def get(self, child_id: str) -> ChildResult | None:
        state = self.engine.load_cached(self.child_stack_id(child_id))
        return ChildResult(state, self.engine) if state is not None else None

    async def signal(self, child_id: str, resource: str, details: Any) -> None:
        await self.engine.signal(self.child_stack_id(child_id), resource, details)


class TemplateResource(ResourcePlugin):
    """A provider template run as a nested stack: properties are its parameters, outputs its
    attributes, ``get_resource`` its ``OS::stack_id`` output when it has one (else the nested
    stack's id)."""

    type_name = "<provider template>"
    description = "A resource implemented by a template (a nested stack)."
    update_all_in_place = True
    runs_nested_stacks = True
    accepts_any_properties: ClassVar[bool] = True
    any_attribute: ClassVar[bool] = True
    CHILD = "stack"

    def __init__(self, template_name: str, template_text: str | None,
                 environment: Mapping[str, Any] | None) -> None:
        self.template_name = template_name
        self.template_text = template_text
        self.environment = dict(environment) if environment is not None else None

    def _nested(self, ctx: ResourceContext) -> EngineNestedStacks:
        if not isinstance(ctx.nested, EngineNestedStacks):
            raise ResourceFailure("nested stacks are not available")
        return ctx.nested

    def _template(self) -> dict[str, Any]:
        if self.template_text is None:
            raise ResourceFailure(
                f'Could not fetch remote template "{self.template_name}": it is not in the '
                "files map")
        return load_mapping(self.template_text, what="Template")

    async def _apply(self, ctx: ResourceContext, props: Mapping[str, Any]) -> ChildResult:
        nested = self._nested(ctx)
        params = {k: v for k, v in props.items() if v is not None}
        facade = {"metadata": dict(ctx.metadata), "update_policy": dict(ctx.update_policy),
                  "deletion_policy": "Delete"}
        return await nested.create_or_update(
            self.CHILD, self._template(), params, environment=self.environment,
            facade=facade)

    @staticmethod
    def _created(result: ChildResult) -> Created:
        ref = result.outputs.get("OS::stack_id")
        data = {"reference": ref} if isinstance(ref, str) and ref else {}
        return Created(physical_id=result.stack_id, data=data)

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        return self._created(await self._apply(ctx, props))

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        """The child stack, when a previous run finished it. A child left unfinished
        (interrupted, failed, rolled back or deleted) is not adopted as it is: ``create``
        runs it again, which resumes it (adopting it would record the resource complete
        over a child whose resources were never made)."""
        found = self._nested(ctx).get(self.CHILD)
        if found is None or found.status not in _FINISHED:
            return None
        return self._created(found)

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        result = await self._apply(ctx, new)
        return self._created(result).data

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        if isinstance(ctx.nested, EngineNestedStacks):
            await ctx.nested.delete(self.CHILD)

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        found = self._nested(ctx).get(self.CHILD)
        if found is None:
            return None
        failed = found.status_reason if found.status.endswith(FAILED) else None
        return Observed(properties={}, attributes=dict(found.outputs), failed=failed)

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        found = self._nested(ctx).get(self.CHILD)
        if found is None:
            return {}
        return {**found.outputs, "OS::stack_id": found.stack_id}


__all__ = ["ChildResult", "EngineNestedStacks", "TemplateResource"]
