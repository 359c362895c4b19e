"""Transient cloud failures (5xx, 429, no answer): a create is adopted by its tags or made
again, updates and deletes are tried again, within bounds; a create in flight when its
resource is cancelled is recorded (no orphan); a nested stack left unfinished is resumed, not
adopted; a signal recomputes the outputs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest
from engine_plugins import KIND, Thing, hot, make_engine, things

from kubeheat.engine import Engine, MemoryNativeStore, StackRequest
from kubeheat.resources import Created, Property, ResourceContext, ResourceFailure, TransientFailure


class Flaky(Thing):
    """A Thing whose calls fail transiently ``failures[action]`` times; with ``made`` the
    failing create makes its record first (the cloud created it, then answered 500)."""

    type_name = "Test::Flaky"
    failures: ClassVar[dict[str, int]] = {}
    calls: ClassVar[dict[str, int]] = {}
    made: ClassVar[bool] = False

    @classmethod
    def reset(cls, made: bool = False, **failures: int) -> None:
        cls.failures, cls.calls, cls.made = dict(failures), {}, made

    def _hit(self, action: str) -> bool:
        Flaky.calls[action] = Flaky.calls.get(action, 0) + 1
        if Flaky.failures.get(action, 0) > 0:
            Flaky.failures[action] -= 1
            return True
        return False

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        if self._hit("create"):
            if Flaky.made:
                await super().create(ctx, props)
            raise TransientFailure("HttpException: 500: An unexpected error")
        return await super().create(ctx, props)

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        if self._hit("update"):
            raise TransientFailure("HttpException: 503: unavailable")
        return await super().update(ctx, old, new, changed)

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        if self._hit("delete"):
            raise TransientFailure("HttpException: 502: bad gateway")
        await super().delete(ctx, props)


class Blocking(Thing):
    """A Thing whose create is a blocking call in the engine's thread pool (as SDK calls
    are): cancelling the resource does not stop the call, which still makes the record."""

    type_name = "Test::Blocking"

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        store = self._store(ctx)

        def post() -> str:
            time.sleep(0.3)
            return store.put(KIND, ctx.tags, {"label": props["label"], "size": props["size"]})

        return Created(await ctx.call(post))


class Broken(Thing):
    """Fails its create (not transiently) while ``broken``."""

    type_name = "Test::Broken"
    broken: ClassVar[bool] = True
    properties: ClassVar[Mapping[str, Property]] = Thing.properties

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        await asyncio.sleep(0.01)
        if Broken.broken:
            raise ResourceFailure("refused")
        return await super().create(ctx, props)


def engine(**kw: Any) -> tuple[Engine, Any, Any, MemoryNativeStore]:
    eng, store, events, native = make_engine(**kw)
    for cls in (Flaky, Blocking, Broken):
        eng.registry.register(cls)
    eng.transient_backoff = (0.001, 0.005)
    return eng, store, events, native


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def reasons(events: list[Any], name: str) -> list[str]:
    return [e.resource_status_reason for e in events.events if e.resource_name == name]


@pytest.mark.parametrize("made", [False, True], ids=["refused", "made-then-500"])
def test_transient_create_is_adopted_or_made_again(made: bool) -> None:
    Flaky.reset(made=made, create=1)
    eng, _, events, native = engine()
    state = run(eng.create(StackRequest("s", hot({"a": {"type": "Test::Flaky"}}))))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert len(things(native)["a"]) == 1                  # never twice
    assert Flaky.calls["create"] == (1 if made else 2)    # adopted: not created again
    assert any("transient failure" in r for r in reasons(events, "a"))
    assert state.resources["a"].physical_id in native.records[KIND]


def test_transient_create_gives_up_after_the_attempts() -> None:
    Flaky.reset(create=100)
    eng, _, _, native = engine()
    eng.transient_attempts = 3
    state = run(eng.create(StackRequest("s", hot({"a": {"type": "Test::Flaky"}}),
                                        disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    assert "An unexpected error" in state.resources["a"].status_reason
    assert Flaky.calls["create"] == 3
    assert not things(native)


def test_transient_retries_stop_at_the_stack_timeout() -> None:
    Flaky.reset(create=100)
    eng, _, _, _ = engine()
    eng.transient_attempts, eng.transient_backoff = 100, (30.0, 30.0)
    started = time.monotonic()
    state = run(eng.create(StackRequest("s", hot({"a": {"type": "Test::Flaky"}}),
                                        timeout_minutes=0.01, disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    assert time.monotonic() - started < 5
    assert Flaky.calls["create"] == 1      # a 30 s pause would pass the deadline


def test_transient_update_and_delete_are_tried_again() -> None:
    Flaky.reset()
    eng, _, _, native = engine()
    doc = hot({"a": {"type": "Test::Flaky", "properties": {"label": "one"}}})
    state = run(eng.create(StackRequest("s", doc)))
    Flaky.reset(update=2, delete=2)
    doc["resources"]["a"]["properties"]["label"] = "two"
    state = run(eng.update(state.id, StackRequest("s", doc)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert things(native)["a"] == [{"label": "two", "size": 1}]
    assert Flaky.calls["update"] == 3
    state = run(eng.delete(state.id))
    assert state.state == "DELETE_COMPLETE", state.status_reason
    assert Flaky.calls["delete"] == 3
    assert not things(native)


def test_create_in_flight_when_cancelled_is_recorded_and_rolled_back() -> None:
    """Another resource fails while a create call is in flight: the call still makes its
    object (a thread is not stopped by cancelling), and the object is recorded, so the
    rollback deletes it and no later run makes a second one (web-tier's two volumes)."""
    Broken.broken = True
    eng, _, _, native = engine()
    doc = hot({"slow": {"type": "Test::Blocking"}, "bad": {"type": "Test::Broken"}})
    state = run(eng.create(StackRequest("s", doc)))
    assert state.state == "ROLLBACK_COMPLETE", state.status_reason
    time.sleep(0.4)                      # the blocking call would have finished by now
    assert not things(native), things(native)
    Broken.broken = False
    try:
        state = run(eng.apply(StackRequest("s", doc), state.id))
    finally:
        Broken.broken = True
    assert state.status == "COMPLETE", state.status_reason
    assert {k: len(v) for k, v in things(native).items()} == {"slow": 1, "bad": 1}


CHILD = """
heat_template_version: 2021-04-16
resources:
  a: {type: Test::Thing}
  b: {type: Test::Broken, properties: {ref: {get_resource: a}}}
outputs:
  b_id: {value: {get_resource: b}}
"""


def test_unfinished_nested_stack_is_resumed_not_adopted() -> None:
    """A provider-template resource whose child stack failed is made again on the next run
    (the child resumed), not adopted over a child missing resources (nested-app's rerun
    reporting complete with its servers missing)."""
    Broken.broken = True
    eng, store, _, native = engine()
    doc = hot({"app": {"type": "app.yaml"}}, outputs={"b": {"get_attr": ["app", "b_id"]}})
    request = StackRequest("s", doc, files={"app.yaml": CHILD}, disable_rollback=True)
    state = run(eng.create(request))
    assert state.state == "CREATE_FAILED"
    assert state.resources["app"].physical_id is None
    Broken.broken = False
    try:
        state = run(eng.create(request, state.id))
    finally:
        Broken.broken = True
    assert state.state == "CREATE_COMPLETE", state.status_reason
    child = store.load(next(iter(state.resources["app"].nested.values())))
    assert child.state == "CREATE_COMPLETE"
    assert {n: r.state for n, r in child.resources.items()} == {
        "a": "CREATE_COMPLETE", "b": "CREATE_COMPLETE"}
    assert state.outputs["b"] == child.resources["b"].physical_id
    assert sorted(things(native)) == ["a", "b"]


GROUP = {
    "asg": {"type": "OS::Heat::AutoScalingGroup", "properties": {
        "min_size": 1, "max_size": 3, "desired_capacity": 1,
        "resource": {"type": "Test::Thing"}}},
    "up": {"type": "OS::Heat::ScalingPolicy", "properties": {
        "auto_scaling_group_id": {"get_resource": "asg"},
        "adjustment_type": "change_in_capacity", "scaling_adjustment": 1, "cooldown": 0}},
}


def test_signal_recomputes_the_outputs() -> None:
    """``kubeheat signal STACK scale_up`` then ``output show``: the group's new size shows
    (a fresh engine, as the CLI's direct-signal path uses)."""
    eng, store, _, native = engine()
    state = run(eng.create(StackRequest("s", hot(GROUP, outputs={
        "size": {"get_attr": ["asg", "current_size"]}}))))
    assert state.outputs["size"] == 1
    eng.close()
    again, _, _, _ = engine(store=store, native=native)
    run(again.signal(state.id, "up"))
    assert store.load(state.id).outputs["size"] == 2
    assert sum(len(v) for v in things(native).values()) == 2
