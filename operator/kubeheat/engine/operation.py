"""One running stack operation: what the engine's collaborators share while it runs.

An :class:`Operation` is made by the executor for each create, update, rollback, delete or
check of one stack and dropped when it ends; nothing in it is persisted (the
:class:`~kubeheat.engine.model.StackState` it carries is, through the recorder). Its
:class:`LiveMarks` are the bookkeeping that decides when attributes that can change after a
resource's own action (``live_attributes``) are read again (:mod:`kubeheat.engine.live`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kubeheat.engine.model import REPLACED_SEP, Action, StackState, base_name
from kubeheat.engine.sizes import EvaluatedSize
from kubeheat.engine.walk import GraphWalk
from kubeheat.resources import ResourcePlugin
from kubeheat.template import (
    DEFAULT_LIMITS,
    ConstraintRegistry,
    ResourceResolver,
    StackDefinition,
)


class LiveMarks:
    """When each live-attribute resource was last read, and when something depending on it
    last acted (an action counter, not time)."""

    def __init__(self, live: Iterable[str] = ()) -> None:
        #: names of resources whose type has live attributes
        self.live: set[str] = set(live)
        self.seq = 0
        self.read_at: dict[str, int] = {}
        self.touched_at: dict[str, int] = {}
        #: reads in flight, shared by concurrent askers
        self.refreshing: dict[str, asyncio.Future[None]] = {}

    def acted(self, name: str, requires: Iterable[str]) -> None:
        """``name`` finished an action: its attributes are fresh, and those of what it
        depends on (``requires``) may have changed (a subnet added to a network, a floating
        IP associated)."""
        if not self.live:
            return
        self.seq += 1
        self.read_at[name] = self.seq
        for dep in requires:
            if dep in self.live:
                self.touched_at[dep] = self.seq

    def stale(self, name: str) -> bool:
        """Something depending on ``name`` acted since its attributes were read."""
        return self.touched_at.get(name, -1) > self.read_at.get(name, -1)

    def unread_or_stale(self, name: str) -> bool:
        """Not read in this operation, or stale."""
        return name not in self.read_at or self.stale(name)


class TreeSize:
    """The resources of the nested stacks below one top-level stack, held to Heat's
    ``max_resources_per_stack``, which counts every resource of every nested stack of the tree
    (the top-level stack's own resources are held to it on their own, by the template layer;
    Heat 27 does not count them in the tree either). Nested stacks operated on report their
    definition's size; the others are counted from their recorded states the first time a
    child stack asks to grow (``load`` reads a state)."""

    def __init__(self, root_id: str, limit: int) -> None:
        self.root_id = root_id
        self.limit = limit
        self.counts: dict[str, int] = {}
        self._loaded = False

    def set(self, stack_id: str, resources: int) -> None:
        self.counts[stack_id] = resources

    def forget(self, stack_id: str) -> None:
        self.counts.pop(stack_id, None)

    def admit(self, stack_id: str, resources: int,
              load: Callable[[str], StackState | None]) -> bool:
        """Whether stack ``stack_id`` may hold ``resources`` resources (recorded if so)."""
        if not self._loaded:
            self._count_recorded(load)
        total = sum(self.counts.values()) - self.counts.get(stack_id, 0) + resources
        if self.limit >= 0 and total > self.limit:
            return False
        self.counts[stack_id] = resources
        return True

    def _count_recorded(self, load: Callable[[str], StackState | None]) -> None:
        self._loaded = True
        todo, seen = [self.root_id], set()
        while todo:
            stack_id = todo.pop()
            if stack_id in seen:
                continue
            seen.add(stack_id)
            state = load(stack_id)
            if state is None:
                continue
            if stack_id != self.root_id:
                self.counts.setdefault(stack_id, sum(
                    1 for key in state.resources if REPLACED_SEP not in key))
            for rec in state.resources.values():
                todo.extend(rec.nested.values())


class Operation:
    """One running stack operation (see the module)."""

    def __init__(self, state: StackState, action: Action, deadline: float | None,
                 depth: int = 0, *, constraints: ConstraintRegistry) -> None:
        self.state = state
        self.action = action
        self.deadline = deadline
        #: nesting depth of the stack (0: a top-level stack)
        self.depth = depth
        self.walk: GraphWalk | None = None
        self.cancel_requested = False
        self.cancel_rollback = True
        #: the operation takes over one that was interrupted (a crash): every create first
        #: looks for the resource by its tags, since a lost state write may have hidden it
        self.resuming = False
        #: answers get_resource/get_attr against the live state (set by the executor)
        self.resolver: ResourceResolver | None = None
        self.definition: StackDefinition | None = None
        self.plugins: dict[str, ResourcePlugin] = {}
        #: the dependency graph of ``definition`` with the implicit edges of its types
        self.requires: Mapping[str, frozenset[str]] = {}
        #: constraints of this operation (cloud answers cached for its duration)
        self.constraints = constraints
        self.marks = LiveMarks()
        #: the size of the tree of nested stacks this operation belongs to (shared by the
        #: operations on the stacks of one tree)
        self.tree: TreeSize | None = None
        #: the size of what this operation evaluated (reset by each walk over a definition)
        self.evaluated = EvaluatedSize(DEFAULT_LIMITS.max_evaluated_bytes)
        #: set when the operation has ended (a delete waits for a cancelled operation)
        self.finished = asyncio.Event()
        #: each resource's definition as last evaluated (``decide.definition_of``), recorded
        #: with it when it is created, updated or left alone
        self.given: dict[str, dict[str, Any]] = {}
        #: entries of replaced resources by logical name
        self.replaced: dict[str, list[str]] = {}
        for key in state.resources:
            if REPLACED_SEP in key:
                self.replaced.setdefault(base_name(key), []).append(key)

    def cancel(self, *, rollback: bool) -> None:
        """Stop the operation: nothing more starts, what is in flight is cancelled, and it
        ends FAILED (then rolls back when ``rollback``)."""
        self.cancel_requested = True
        self.cancel_rollback = rollback
        if self.walk is not None:
            self.walk.stop(None)

    def exclude_ids(self, name: str) -> frozenset[str]:
        """Physical ids of the replaced entries of ``name`` (they carry the same tags)."""
        keys = self.replaced.get(name)
        if not keys:
            return frozenset()
        res = self.state.resources
        found = (res[k].physical_id for k in keys if k in res)
        return frozenset(pid for pid in found if pid is not None)


__all__ = ["LiveMarks", "Operation"]
