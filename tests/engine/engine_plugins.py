"""Throwaway resource types and helpers for the engine tests (registered in a private
registry, never in the global REGISTRY)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from typing import Any, ClassVar, TypeVar

from kubeheat.engine import (
    Engine,
    Event,
    ListEventSink,
    MemoryNativeStore,
    MemoryStateStore,
    StackState,
)
from kubeheat.resources import (
    INTEGER,
    STRING,
    Attribute,
    Created,
    Observed,
    PluginRegistry,
    Property,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    load_builtin_plugins,
)

T = TypeVar("T")

KIND = "thing"
#: seconds; an engine operation not ended by then is stuck (they take milliseconds)
GUARD = 60.0


class Thing(ResourcePlugin):
    """A tagged record in the native store: ``label`` updates in place, ``size`` replaces."""

    type_name = "Test::Thing"
    properties: ClassVar[Mapping[str, Property]] = {
        "label": Property(STRING, default="", update_allowed=True),
        "size": Property(INTEGER, default=1),
        "ref": Property(STRING),
    }
    attributes: ClassVar[Mapping[str, Attribute]] = {"label": Attribute("the label"),
                                                     "size": Attribute("the size")}
    signalable = True
    supports_snapshot = True
    snapshots: ClassVar[list[str]] = []

    def _store(self, ctx: ResourceContext) -> MemoryNativeStore:
        assert isinstance(ctx.native, MemoryNativeStore)
        return ctx.native

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        await asyncio.sleep(0)
        rid = self._store(ctx).put(KIND, ctx.tags, {"label": props["label"],
                                                    "size": props["size"]})
        return Created(rid)

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        for rid in self._store(ctx).find(KIND, ctx.tags):
            if rid not in ctx.exclude_ids:
                return Created(rid)
        return None

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        assert ctx.physical_id is not None
        rec = self._store(ctx).get(KIND, ctx.physical_id)
        if rec is None:
            return None
        return Observed(properties={"label": rec["label"], "size": rec["size"]},
                        attributes={"label": rec["label"], "size": rec["size"]})

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        await asyncio.sleep(0)
        assert ctx.physical_id is not None
        rec = self._store(ctx).get(KIND, ctx.physical_id)
        if rec is None:
            raise ResourceFailure("gone")
        rec["label"] = new["label"]
        self._store(ctx).update(KIND, ctx.physical_id, rec)
        return None

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        if ctx.physical_id is not None:
            self._store(ctx).delete(KIND, ctx.physical_id)

    async def snapshot(self, ctx: ResourceContext, props: dict[str, Any]) -> dict[str, Any]:
        Thing.snapshots.append(ctx.name)
        return {"label": props["label"]}

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        return {"label": props["label"], "size": props["size"]}

    async def signal(self, ctx: ResourceContext, props: dict[str, Any], details: Any
                     ) -> dict[str, Any] | None:
        return {**ctx.data, "signals": [*ctx.data.get("signals", []), details]}


class Exclusive(Thing):
    """A Thing whose replacement cannot coexist with the old one."""

    type_name = "Test::Exclusive"
    can_coexist = False
    supports_snapshot = False


def registry() -> PluginRegistry:
    reg = PluginRegistry()
    for name in load_builtin_plugins().names():
        cls = load_builtin_plugins().get(name)
        assert cls is not None
        reg.register(cls)
    reg.register(Thing)
    reg.register(Exclusive)
    return reg


def make_engine(store: Any = None, native: MemoryNativeStore | None = None,
                **kw: Any) -> tuple[Engine, MemoryStateStore, ListEventSink, MemoryNativeStore]:
    store = store if store is not None else MemoryStateStore()
    native = native if native is not None else MemoryNativeStore()
    events = ListEventSink()
    return Engine(store, events, registry=registry(), native=native, **kw), store, events, \
        native


async def bounded(coro: Coroutine[Any, Any, T], what: str = "the operation") -> T:
    """``await coro``, for at most :data:`GUARD` seconds: a hang fails the test instead of
    stalling the suite."""
    try:
        return await asyncio.wait_for(coro, GUARD)
    except TimeoutError:
        raise AssertionError(f"{what} did not end within {GUARD:.0f}s") from None


def builtin_engine(**kw: Any) -> tuple[Engine, MemoryStateStore, MemoryNativeStore]:
    """An engine with the built-in types only, on memory stores."""
    store, native = MemoryStateStore(), MemoryNativeStore()
    return Engine(store, ListEventSink(), native=native, **kw), store, native


def hot(resources: dict[str, Any], outputs: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None, conditions: dict[str, Any] | None = None
        ) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": "2021-04-16", "resources": resources}
    if outputs:
        doc["outputs"] = {k: {"value": v} for k, v in outputs.items()}
    if parameters:
        doc["parameters"] = parameters
    if conditions:
        doc["conditions"] = conditions
    return doc


def resource_events(events: list[Event], stack: StackState | None = None) -> list[tuple[str, str]]:
    """(resource, ACTION_STATUS) of every resource event, in order."""
    return [(e.resource_name, f"{e.resource_action}_{e.resource_status}") for e in events
            if not e.is_stack_event and (stack is None or e.stack_id == stack.id)]


def stack_events(events: list[Event], stack: StackState) -> list[tuple[str, str]]:
    return [(f"{e.resource_action}_{e.resource_status}", e.resource_status_reason)
            for e in events if e.is_stack_event and e.stack_id == stack.id]


def things(native: MemoryNativeStore) -> dict[str, list[dict[str, Any]]]:
    """Native Thing records by logical name."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rec in native.records.get(KIND, {}).values():
        out.setdefault(rec["tags"]["kubeheat-resource"], []).append(rec["data"])
    return out
