"""Nested stacks: child stacks run by a parent's resources, on the parent's engine.

:class:`EngineNestedStacks` implements :class:`~kubeheat.resources.base.NestedStacks` for one
resource: its child stacks are stored as their own :class:`StackState` (``parent`` set to the
parent stack's id) in the same state store, emit events to the same sink and share the engine's
concurrency limit. A child's stack id is derived from the parent resource's ``uid`` and the
child id, and recorded in the resource's ``nested`` map before the child is touched, so a rerun
after a crash finds the same child stack. Child stacks never roll back on their own (the parent
does), as in Heat. The engine is reached through the :class:`StackRunner` protocol.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from kubeheat.engine.model import FAILED, REPLACED_SEP, ResourceState, StackState, base_name
from kubeheat.engine.operation import Operation, TreeSize
from kubeheat.engine.recorder import Recorder
from kubeheat.engine.request import StackRequest
from kubeheat.resources import ResourceFailure, heat_physical_name, short_id
from kubeheat.template import DEFAULT_LIMITS, TOO_MANY_RESOURCES, TemplateLimitError, walk_path

_NAMESPACE = uuid.UUID("6f1f7f0e-3b7e-4c55-9d0a-6b7568656174")


class StackRunner(Protocol):
    """What nested stacks need of the engine (implemented by
    :class:`~kubeheat.engine.executor.Engine`)."""

    async def run_child(self, request: StackRequest, stack_id: str, parent: StackState, *,
                        deadline: float | None, facade: Mapping[str, Any] | None,
                        depth: int) -> StackState:
        """Create the child stack, or update it when it was created before."""

    async def delete_child(self, stack_id: str, deadline: float | None) -> StackState | None:
        """Delete the child stack (None: there was none)."""

    def load_cached(self, stack_id: str) -> StackState | None:
        """A stack's state for reading only."""

    def child_attribute(self, state: StackState, name: str, attribute: str | None,
                        path: Sequence[Any]) -> Any:
        """``get_attr`` evaluated inside the stack ``state``."""

    async def signal(self, stack_id: str, resource_name: str, details: Any = None
                     ) -> StackState:
        """Signal a resource of a stack."""


def root_id(state: StackState, load: Callable[[str], StackState | None]) -> str:
    """The id of the top-level stack above ``state`` (its own for a top-level stack)."""
    seen = {state.id}
    current = state
    while current.parent and current.parent not in seen:
        seen.add(current.parent)
        found = load(current.parent)
        if found is None:
            return current.parent
        current = found
    return current.id


class ChildResult:
    """A child stack as the parent's plugin sees it (``NestedStackResult``). With ``runner``,
    attributes of the child's resources are resolved as ``get_attr`` in the child would
    (dynamic attributes included), else read from the cached values."""

    def __init__(self, state: StackState, runner: StackRunner | None = None) -> None:
        self.state = state
        self.runner = runner
        self.stack_id = state.id
        self.stack_name = state.name
        self.status = state.state
        self.status_reason = state.status_reason
        self.outputs: dict[str, Any] = dict(state.outputs)
        self.output_errors: dict[str, str] = dict(state.output_errors)

    def resource_ids(self) -> dict[str, str | None]:
        return {name: rec.physical_id for name, rec in self.state.resources.items()
                if REPLACED_SEP not in name}

    def resource_reference(self, name: str) -> Any:
        rec = self.state.resources.get(name) if REPLACED_SEP not in name else None
        if rec is None:
            return None
        if rec.physical_id is None:
            return name
        ref = rec.data.get("reference")
        return ref if isinstance(ref, str) else rec.physical_id

    def resource_attribute(self, name: str, attribute: str | None, path: Sequence[Any]) -> Any:
        rec = self.state.resources.get(name)
        if rec is None:
            return None
        if self.runner is not None:
            return self.runner.child_attribute(self.state, name, attribute, path)
        if attribute is None:
            return {k: v for k, v in rec.attributes.items() if k != "show"}
        value = rec.attributes.get(attribute)
        return walk_path(value, path) if path else value


class EngineNestedStacks:
    """The child stacks of one resource (the ``NestedStacks`` protocol)."""

    def __init__(self, runner: StackRunner, recorder: Recorder, parent: StackState, key: str,
                 op: Operation | None) -> None:
        self.runner = runner
        self.recorder = recorder
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
            found = self.runner.load_cached(parent)
            parent = found.parent if found is not None else None
        return depth

    def _check_depth(self, depth: int) -> None:
        defn = self.op.definition if self.op is not None else None
        limit = (defn.template.limits if defn is not None else DEFAULT_LIMITS).max_nested_depth
        if depth <= limit:
            return
        name = base_name(self.key)
        rdef = defn.resources.get(name) if defn is not None else None
        where = rdef.path if rdef is not None else ("resources", name)
        raise TemplateLimitError(f"Recursion depth exceeds {limit}.", where)

    def reserve(self, child_id: str, resources: int) -> None:
        self._check_size(self.child_stack_id(child_id), resources)

    def _check_size(self, sid: str, count: int) -> None:
        """Heat's limit on the resources of a whole tree of nested stacks: the child's
        ``count`` resources, with every other stack's below the root, must not exceed it."""
        tree = self.op.tree if self.op is not None else None
        if tree is None:
            defn = self.op.definition if self.op is not None else None
            limits = defn.template.limits if defn is not None else DEFAULT_LIMITS
            tree = TreeSize(root_id(self.parent, self.runner.load_cached),
                            limits.max_resources_per_stack)
        if not tree.admit(sid, count, self.runner.load_cached):
            name = base_name(self.key)
            raise TemplateLimitError(TOO_MANY_RESOURCES, ("resources", name))

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
                               facade: Mapping[str, Any] | None = None,
                               region: str | None = None) -> ChildResult:
        depth = self.depth() + 1
        self._check_depth(depth)
        rec = self._record()
        sid = self.child_stack_id(child_id)
        resources = template.get("resources", template.get("Resources"))
        self._check_size(sid, len(resources) if isinstance(resources, Mapping) else 0)
        if rec.nested.get(child_id) != sid:
            rec.nested[child_id] = sid
            self.recorder.save(self.parent, self.key)
        name = heat_physical_name(self.parent.name, base_name(rec.name), short_id(sid))
        request = StackRequest(
            name=name, template=dict(template),
            files=dict(files if files is not None else self.parent.files),
            environments=[dict(environment)] if environment is not None
            else list(self._environment()),
            parameters=dict(parameters), disable_rollback=True, region=region)
        state = await self.runner.run_child(request, sid, self.parent,
                                            deadline=self._deadline(timeout), facade=facade,
                                            depth=depth)
        if state.status == FAILED:
            raise ResourceFailure(state.status_reason)
        return ChildResult(state, self.runner)

    async def delete(self, child_id: str) -> None:
        rec = self._record()
        sid = self.child_stack_id(child_id)
        state = await self.runner.delete_child(sid, self._deadline(None))
        if self.op is not None and self.op.tree is not None:
            self.op.tree.forget(sid)
        if state is not None and state.status == FAILED:
            raise ResourceFailure(state.status_reason)
        if child_id in rec.nested:
            del rec.nested[child_id]
            self.recorder.save(self.parent, self.key)

    def file(self, name: str) -> str | None:
        return self.parent.files.get(name)

    def get(self, child_id: str) -> ChildResult | None:
        state = self.runner.load_cached(self.child_stack_id(child_id))
        return ChildResult(state, self.runner) if state is not None else None

    async def signal(self, child_id: str, resource: str, details: Any) -> None:
        await self.runner.signal(self.child_stack_id(child_id), resource, details)


__all__ = ["ChildResult", "EngineNestedStacks", "StackRunner", "root_id"]
