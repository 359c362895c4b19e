"""The engine's plugin hooks, with throwaway types in a private registry: implicit dependencies
(merged into the graph, cycles skipped, ordering create and delete), interrupted creates
finished rather than replaced, live attributes re-read for later ``get_attr`` and outputs,
batched observation (``read_many``), and custom constraints that ask a cloud (run off the
event loop, answered once per operation, failing validation before anything is created)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest
from engine_plugins import hot

from kubeheat.engine import Engine, ListEventSink, MemoryNativeStore, MemoryStateStore, StackRequest
from kubeheat.resources import (
    LIST,
    STRING,
    Attribute,
    Created,
    DependencyView,
    Observed,
    PluginRegistry,
    Property,
    ResourceContext,
    ResourcePlugin,
    load_builtin_plugins,
)
from kubeheat.template import (
    DEFAULT_CONSTRAINTS,
    CustomConstraint,
    CustomConstraintRef,
    TemplateError,
)

#: what the test types did, in order: (verb, logical name)
CALLS: list[tuple[str, str]] = []


class _Base(ResourcePlugin):
    kind: ClassVar[str] = "gap"

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        CALLS.append(("create", ctx.name))
        assert ctx.native is not None
        await asyncio.sleep(0)
        return Created(ctx.native.put(self.kind, ctx.tags, {**props, "failed": None}))

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        CALLS.append(("read", ctx.name))
        assert ctx.native is not None and ctx.physical_id is not None
        rec = ctx.native.get(self.kind, ctx.physical_id)
        if rec is None:
            return None
        return Observed(properties={}, attributes={}, failed=rec.get("failed"))

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        CALLS.append(("delete", ctx.name))
        assert ctx.native is not None
        if ctx.physical_id is not None:
            ctx.native.delete(self.kind, ctx.physical_id)


class Net(_Base):
    type_name = "Gap::Net"
    kind = "net"
    live_attributes = True
    attributes: ClassVar[Mapping[str, Attribute]] = {"subnets": Attribute("subnet ids", LIST)}

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        CALLS.append(("attributes", ctx.name))
        assert ctx.native is not None
        subnets = [rid for rid in ctx.native.find("subnet", {})
                   if (ctx.native.get("subnet", rid) or {}).get("network") == ctx.physical_id]
        return {"subnets": sorted(subnets)}


class Subnet(_Base):
    type_name = "Gap::Subnet"
    kind = "subnet"
    properties: ClassVar[Mapping[str, Property]] = {"network": Property(STRING)}


class Port(_Base):
    """Waits for the subnets of its network (as a Neutron port does)."""

    type_name = "Gap::Port"
    kind = "port"
    adds_dependencies = True
    properties: ClassVar[Mapping[str, Property]] = {
        "network": Property(STRING), "seen": Property(LIST)}

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Mapping[str, Any],
                              stack: DependencyView) -> set[str]:
        return {s.name for s in stack.of_type("Gap::Subnet")
                if stack.same(s.properties.get("network"), properties.get("network"))}


class Slow(_Base):
    """check_create_complete waits until RELEASE is set (an async cloud)."""

    type_name = "Gap::Slow"
    kind = "slow"
    RELEASE: ClassVar[asyncio.Event | None] = None

    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]
                                    ) -> bool:
        CALLS.append(("poll", ctx.name))
        return Slow.RELEASE is not None and Slow.RELEASE.is_set()


class Batched(_Base):
    """Observed in one call by read_many, except what it leaves out."""

    type_name = "Gap::Batched"
    kind = "batched"
    batch_observe = True
    BATCHES: ClassVar[list[list[str]]] = []
    LEAVE_OUT: ClassVar[set[str]] = set()

    @classmethod
    async def read_many(cls, items: Sequence[tuple[ResourceContext, dict[str, Any]]]
                        ) -> dict[str, Observed | None]:
        cls.BATCHES.append(sorted(ctx.name for ctx, _ in items))
        out: dict[str, Observed | None] = {}
        for ctx, _ in items:
            if ctx.name not in cls.LEAVE_OUT and ctx.physical_id is not None:
                out[ctx.physical_id] = Observed(properties={}, attributes={"seen": True})
        return out


class CloudLookup(CustomConstraint):
    """``gap.network``: a name the "cloud" knows (counts the lookups and their threads)."""

    name = "gap.network"
    needs_cloud = True
    KNOWN: ClassVar[set[str]] = {"public", "private"}
    LOOKUPS: ClassVar[list[tuple[str, str]]] = []

    def check(self, value: Any) -> None:
        CloudLookup.LOOKUPS.append((str(value), threading.current_thread().name))
        if value not in self.KNOWN:
            raise self.fail(f"The Network ({value}) could not be found.")


class Server(_Base):
    type_name = "Gap::Server"
    kind = "server"
    properties: ClassVar[Mapping[str, Property]] = {
        "network": Property(STRING, constraints=(CustomConstraintRef(constraint="gap.network"),)),
    }


def registry() -> PluginRegistry:
    reg = PluginRegistry()
    builtin = load_builtin_plugins()
    for name in builtin.names():
        cls = builtin.get(name)
        assert cls is not None
        reg.register(cls)
    for cls in (Net, Subnet, Port, Slow, Batched, Server):
        reg.register(cls)
    return reg


def make(store: MemoryStateStore | None = None, native: MemoryNativeStore | None = None,
         **kw: Any) -> tuple[Engine, MemoryStateStore, ListEventSink, MemoryNativeStore]:
    store = store if store is not None else MemoryStateStore()
    native = native if native is not None else MemoryNativeStore()
    events = ListEventSink()
    return Engine(store, events, registry=registry(), native=native, **kw), store, events, \
        native


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    Batched.BATCHES.clear()
    Batched.LEAVE_OUT = set()
    CloudLookup.LOOKUPS.clear()
    Slow.RELEASE = None


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def order(verb: str) -> list[str]:
    return [name for v, name in CALLS if v == verb]


def network_doc(**extra: Any) -> dict[str, Any]:
    return hot({
        "net": {"type": "Gap::Net"},
        "port": {"type": "Gap::Port", "properties": {
            "network": {"get_resource": "net"},
            "seen": {"get_attr": ["net", "subnets"]}}},
        "a": {"type": "Gap::Subnet", "properties": {"network": {"get_resource": "net"}}},
        "b": {"type": "Gap::Subnet", "properties": {"network": {"get_resource": "net"}}},
        "elsewhere": {"type": "Gap::Subnet", "properties": {"network": "other"}},
        **extra,
    }, outputs={"subnets": {"get_attr": ["net", "subnets"]}})


# -- 1. implicit dependencies ----------------------------------------------------------------

def test_implicit_dependencies_order_create_and_delete() -> None:
    eng, _, _, _ = make()
    state = run(eng.create(StackRequest("deps", network_doc())))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    created = order("create")
    # the port waited for both subnets of its network, not for the other network's
    assert created.index("port") > max(created.index("a"), created.index("b"))
    assert state.resources["port"].requires == ["a", "b", "net"]
    assert state.resources["elsewhere"].requires == []
    CALLS.clear()
    assert run(eng.delete(state.id)).state == "DELETE_COMPLETE"
    deleted = order("delete")
    assert deleted.index("port") < min(deleted.index("a"), deleted.index("b"))


def test_implicit_dependencies_by_parameter_value_and_plan_requires() -> None:
    doc = hot({
        "port": {"type": "Gap::Port", "properties": {"network": {"get_param": "net"}}},
        "sub": {"type": "Gap::Subnet", "properties": {"network": "private"}},
        "other": {"type": "Gap::Subnet", "properties": {"network": "public"}},
    }, parameters={"net": {"type": "string", "default": "private"}})
    eng, _, _, _ = make()
    preview = run(eng.plan(StackRequest("p", doc)))
    assert preview.resources["port"].requires == ("sub",)
    state = run(eng.create(StackRequest("p", doc)))
    assert state.state == "CREATE_COMPLETE"
    assert order("create").index("port") > order("create").index("sub")


def test_implicit_edge_closing_a_cycle_is_skipped() -> None:
    doc = network_doc()
    doc["resources"]["a"]["depends_on"] = ["port"]      # the port must wait for b only
    eng, _, _, _ = make()
    state = run(eng.create(StackRequest("cycle", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.resources["port"].requires == ["b", "net"]
    created = order("create")
    assert created.index("b") < created.index("port") < created.index("a")


# -- 2. interrupted creates are finished, not replaced ------------------------------------------

def _interrupted_create(eng: Engine, doc: dict[str, Any], stack_id: str) -> None:
    async def go() -> None:
        task = asyncio.ensure_future(eng.create(StackRequest("slow", doc), stack_id))
        while ("poll", "slow") not in CALLS:
            await asyncio.sleep(0.001)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    run(go())


def test_aborted_create_is_finished_on_the_next_run() -> None:
    doc = hot({"slow": {"type": "Gap::Slow"}, "after": {"type": "Gap::Subnet",
                                                       "depends_on": ["slow"]}})
    store = MemoryStateStore()
    eng, _, _, native = make(store=store)
    stack_id = "5e1f0000-0000-4000-8000-000000000001"
    _interrupted_create(eng, doc, stack_id)
    partial = store.load(stack_id)
    assert partial is not None
    rec = partial.resources["slow"]
    assert rec.state == "CREATE_FAILED" and rec.status_reason.startswith("CREATE aborted")
    first_id = rec.physical_id
    assert first_id is not None

    preview = run(eng.plan(StackRequest("slow", doc), stack_id))
    assert preview.resources["slow"].action == "update"
    assert "interrupted" in preview.resources["slow"].reason

    Slow.RELEASE = asyncio.Event()
    Slow.RELEASE.set()
    CALLS.clear()
    again, _, _, _ = make(store=store, native=native)
    state = run(again.apply(StackRequest("slow", doc), stack_id))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.resources["slow"].physical_id == first_id       # finished, not replaced
    assert "slow" not in order("create") and "slow" not in order("delete")
    assert len(native.find("slow", {})) == 1


def test_create_failed_in_the_cloud_is_replaced() -> None:
    doc = hot({"slow": {"type": "Gap::Slow"}})
    store = MemoryStateStore()
    eng, _, _, native = make(store=store)
    stack_id = "5e1f0000-0000-4000-8000-000000000002"
    _interrupted_create(eng, doc, stack_id)
    partial = store.load(stack_id)
    assert partial is not None
    first_id = partial.resources["slow"].physical_id
    assert first_id is not None
    record = native.get("slow", first_id)
    assert record is not None
    native.update("slow", first_id, {**record, "failed": "went to ERROR"})
    Slow.RELEASE = asyncio.Event()
    Slow.RELEASE.set()
    again, _, _, _ = make(store=store, native=native)
    state = run(again.apply(StackRequest("slow", doc), stack_id))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.resources["slow"].physical_id != first_id
    assert native.get("slow", first_id) is None                  # the failed one is gone


def test_create_interrupted_in_progress_is_finished() -> None:
    """The process died while the create was polled: the record stays IN_PROGRESS."""
    doc = hot({"slow": {"type": "Gap::Slow"}})
    store = MemoryStateStore()
    eng, _, _, native = make(store=store)
    stack_id = "5e1f0000-0000-4000-8000-000000000003"
    _interrupted_create(eng, doc, stack_id)
    partial = store.load(stack_id)
    assert partial is not None
    rec = partial.resources["slow"]
    rec.status, rec.status_reason = "IN_PROGRESS", "state changed"
    store.save(partial)
    Slow.RELEASE = asyncio.Event()
    Slow.RELEASE.set()
    again, _, _, _ = make(store=store, native=native)
    state = run(again.apply(StackRequest("slow", doc), stack_id))
    assert state.state == "CREATE_COMPLETE"
    assert state.resources["slow"].physical_id == rec.physical_id


# -- 3. live attributes -------------------------------------------------------------------------

def test_live_attributes_are_read_again_for_later_get_attr_and_outputs() -> None:
    eng, _, _, _ = make()
    state = run(eng.create(StackRequest("live", network_doc())))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    subnets = sorted(str(state.resources[n].physical_id) for n in ("a", "b"))
    # the port came after the subnets (implicit dependency): it saw them
    assert state.resources["port"].properties["seen"] == subnets
    # so do the outputs, although the net's attributes were first read before any subnet
    assert state.outputs["subnets"] == subnets
    assert state.resources["net"].attributes["subnets"] == subnets
    # one read at create, one before the port (the subnets acted since), one for the outputs
    # (the port, which depends on the net, acted since)
    assert order("attributes") == ["net", "net", "net"]


def test_outputs_read_live_attributes_on_every_update() -> None:
    eng, _, _, native = make()
    state = run(eng.create(StackRequest("live", network_doc())))
    extra = native.put("subnet", {}, {"network": state.resources["net"].physical_id})
    CALLS.clear()
    state = run(eng.update(state.id, StackRequest("live", network_doc())))
    assert state.state == "UPDATE_COMPLETE"
    assert extra in state.outputs["subnets"]
    assert order("attributes") == ["net"]


def test_heat_types_are_not_read_again() -> None:
    doc = hot({"v": {"type": "OS::Heat::Value", "properties": {"value": 1}},
               "w": {"type": "OS::Heat::Value", "properties": {
                   "value": {"get_attr": ["v", "value"]}}}},
              outputs={"w": {"get_attr": ["w", "value"]}})
    eng, _, _, _ = make()
    calls: list[str] = []
    cls = eng.registry.get("OS::Heat::Value")
    assert cls is not None and not cls.live_attributes
    original = cls.attribute_values

    async def counting(self: ResourcePlugin, ctx: ResourceContext, props: dict[str, Any]
                       ) -> dict[str, Any]:
        calls.append(ctx.name)
        return await original(self, ctx, props)  # type: ignore[arg-type]

    cls.attribute_values = counting  # type: ignore[method-assign]
    try:
        state = run(eng.create(StackRequest("heat", doc)))
    finally:
        cls.attribute_values = original  # type: ignore[method-assign]
    assert state.outputs == {"w": 1}
    assert sorted(calls) == ["v", "w"]          # once each, at create


# -- 4. batched observation ---------------------------------------------------------------------

def test_check_and_plan_observe_in_one_batch_per_type() -> None:
    doc = hot({f"r{i}": {"type": "Gap::Batched"} for i in range(6)})
    eng, _, _, _ = make()
    state = run(eng.create(StackRequest("batch", doc)))
    CALLS.clear()
    result = run(eng.check(state.id))
    assert result.ok
    assert [[f"r{i}" for i in range(6)]] == Batched.BATCHES
    assert order("read") == []
    assert state.id and result.state.resources["r0"].attributes.get("seen") is True

    Batched.BATCHES.clear()
    Batched.LEAVE_OUT = {"r3"}           # not in the listing: read on its own
    preview = run(eng.plan(StackRequest("batch", doc), state.id, observe=True))
    assert preview.counts()["noop"] == 6
    assert len(Batched.BATCHES) == 1 and order("read") == ["r3"]


# -- 5. constraints that ask the cloud --------------------------------------------------------

def _cloud_registry() -> Any:
    reg = DEFAULT_CONSTRAINTS.child()
    reg.register(CloudLookup())
    return reg


def test_cloud_constraints_fail_validation_before_anything_is_created() -> None:
    eng, _, _, native = make(constraints=_cloud_registry())
    doc = hot({"ok": {"type": "Gap::Server", "properties": {"network": "public"}},
               "bad": {"type": "Gap::Server", "properties": {"network": "no-such-net"}}})
    with pytest.raises(TemplateError) as info:
        run(eng.create(StackRequest("bad", doc)))
    text = str(info.value)
    assert "resources.bad.properties.network" in text and "no-such-net" in text
    assert "could not be found" in text
    assert native.find("server", {}) == [] and order("create") == []
    # asked in the engine's thread pool, never on the event loop's thread
    assert CloudLookup.LOOKUPS
    assert all(t.startswith("kubeheat-engine") for _, t in CloudLookup.LOOKUPS)


def test_cloud_constraint_answers_are_cached_per_operation() -> None:
    eng, _, _, _ = make(constraints=_cloud_registry())
    doc = hot({f"s{i}": {"type": "Gap::Server", "properties": {"network": "public"}}
               for i in range(5)})
    state = run(eng.create(StackRequest("cached", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert [v for v, _ in CloudLookup.LOOKUPS] == ["public"]
    assert all(t.startswith("kubeheat-engine") for _, t in CloudLookup.LOOKUPS)
    CloudLookup.LOOKUPS.clear()
    run(eng.update(state.id, StackRequest("cached", doc)))
    assert [v for v, _ in CloudLookup.LOOKUPS] == ["public"]     # asked again next time


def test_engine_with_a_cloud_uses_the_cloud_constraints() -> None:
    eng, _, _, _ = make(cloud=object())
    assert "neutron.network" in eng.constraints
    found = eng.constraints.get("neutron.network")
    assert found is not None and found.needs_cloud
    plain, _, _, _ = make()
    assert plain.constraints is DEFAULT_CONSTRAINTS
