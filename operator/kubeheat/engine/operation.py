"""One running stack operation: what the engine's collaborators share while it runs.

An :class:`Operation` is made by the executor for each create, update, rollback, delete or
check of one stack and dropped when it ends; nothing in it is persisted (the
:class:`~kubeheat.engine.model.StackState` it carries is, through the recorder). Its
:class:`LiveMarks` are the bookkeeping that decides when attributes that can change after a
resource's own action (``live_attributes``) are read again (:mod:`kubeheat.engine.live`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from kubeheat.engine.model import REPLACED_SEP, Action, StackState, base_name
from kubeheat.engine.walk import GraphWalk
from kubeheat.resources import ResourcePlugin
from kubeheat.template import ConstraintRegistry, ResourceResolver, StackDefinition


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
        #: entries of replaced resources by logical name
        self.replaced: dict[str, list[str]] = {}
        for key in state.resources:
            if REPLACED_SEP in key:
                self.replaced.setdefault(base_name(key), []).append(key)

    def exclude_ids(self, name: str) -> frozenset[str]:
        """Physical ids of the replaced entries of ``name`` (they carry the same tags)."""
        keys = self.replaced.get(name)
        if not keys:
            return frozenset()
        res = self.state.resources
        found = (res[k].physical_id for k in keys if k in res)
        return frozenset(pid for pid in found if pid is not None)


__all__ = ["LiveMarks", "Operation"]
