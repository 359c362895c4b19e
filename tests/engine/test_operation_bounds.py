"""Every operation ends: a default stack timeout, a delete that cancels what is in progress, and
Heat's resource limit over a whole tree of nested stacks.

- A request without a timeout gets the engine's default (Heat's ``stack_action_timeout``,
  60 minutes), so a resource that never finishes cannot hold a stack for ever.
- ``delete`` cancels a create or update in progress on the stack (without rollback) and then
  deletes, as Heat's delete supersedes them; a delete in progress is waited for.
- ``max_resources_per_stack`` (1000) counts every resource of every nested stack below the
  root, as Heat's ``total_resources`` does: a child stack that would take the tree over it
  fails with ``RequestLimitExceeded``, counting children created by earlier operations too.
  The root's own resources are not counted in the tree (they are held to the limit on their
  own): Heat 27.0.1, with ``max_resources_per_stack = 1000``, created and updated a root of one
  ResourceGroup with 1000 members (measured on the peer).

Every operation is bounded by a guard, so a hang fails the test instead of stalling it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import yaml
from engine_plugins import bounded, builtin_engine

from kubeheat.engine import (
    Engine,
    StackRequest,
    StackState,
)
from kubeheat.engine.executor import DEFAULT_TIMEOUT_MINUTES

VERSION = "2018-08-31"


def _forever(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"heat_template_version": VERSION, "resources": {
        "quick": {"type": "OS::Heat::None"},
        "slow": {"type": "OS::Heat::TestResource",
                 "properties": {"value": "v", "action_wait_secs": {"create": 1e9}},
                 "depends_on": ["quick"]},
        **(extra or {})}}


def test_the_default_timeout_is_heats() -> None:
    engine, _store, _native = builtin_engine()
    assert DEFAULT_TIMEOUT_MINUTES == 60
    assert engine.default_timeout_minutes == 60
    engine.close()


def test_a_request_without_timeout_gets_the_default() -> None:
    engine, _store, native = builtin_engine(default_timeout_minutes=0.01)     # 0.6 s

    async def go() -> StackState:
        return await bounded(engine.create(StackRequest("s", _forever())))

    state = asyncio.run(go())
    assert state.state == "ROLLBACK_COMPLETE", state.status_reason
    assert native.count() == 0
    events = [e for e in engine.events.events if e.is_stack_event]  # type: ignore[attr-defined]
    assert ("CREATE", "FAILED", "Timed out") in [
        (e.resource_action, e.resource_status, e.resource_status_reason) for e in events]
    engine.close()


def test_a_request_timeout_wins_over_the_default() -> None:
    engine, _store, _native = builtin_engine(default_timeout_minutes=None)
    seen: list[float | None] = []

    async def go() -> None:
        task = asyncio.ensure_future(engine.create(
            StackRequest("s", _forever(), timeout_minutes=0.01)))
        while not engine._running:
            await asyncio.sleep(0.01)
        (op,) = engine._running.values()
        seen.append(op.deadline)
        state = await bounded(task)
        assert state.state == "ROLLBACK_COMPLETE"

    asyncio.run(go())
    assert seen[0] is not None
    # without any timeout an operation has no deadline
    engine2, _s, _n = builtin_engine(default_timeout_minutes=None)
    state = asyncio.run(bounded(engine2.create(StackRequest("q", {
        "heat_template_version": VERSION, "resources": {"a": {"type": "OS::Heat::None"}}}))))
    assert state.state == "CREATE_COMPLETE"
    assert state.timeout_minutes is None
    engine.close()
    engine2.close()


def _wait_running(engine: Engine, name: str) -> Coroutine[Any, Any, StackState]:
    async def wait() -> StackState:
        while True:
            for op in engine._running.values():
                slow = op.state.resources.get(name)
                if slow is not None and slow.status == "IN_PROGRESS":
                    return op.state
            await asyncio.sleep(0.01)
    return wait()


def test_delete_cancels_a_create_that_never_ends() -> None:
    engine, store, native = builtin_engine()

    async def go() -> tuple[StackState, StackState]:
        create = asyncio.ensure_future(engine.create(StackRequest("s", _forever())))
        state = await bounded(_wait_running(engine, "slow"))
        deleted = await bounded(engine.delete(state.id))
        created = await bounded(create)
        return created, deleted

    created, deleted = asyncio.run(go())
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    assert created.action == "CREATE" and created.status == "FAILED"   # cancelled, no rollback
    assert created.status_reason == "Stack CREATE cancelled"
    assert store.list() == [] and native.count() == 0
    stack_events = [(e.resource_action, e.resource_status) for e in engine.events.events  # type: ignore[attr-defined]
                    if e.is_stack_event]
    assert ("ROLLBACK", "IN_PROGRESS") not in stack_events
    engine.close()


def test_delete_cancels_an_update_in_progress_and_a_second_delete_waits() -> None:
    engine, store, native = builtin_engine()
    first = {"heat_template_version": VERSION,
             "resources": {"quick": {"type": "OS::Heat::None"}}}

    async def go() -> list[StackState]:
        state = await bounded(engine.create(StackRequest("s", first)))
        update = asyncio.ensure_future(engine.update(state.id, StackRequest("s", _forever())))
        await bounded(_wait_running(engine, "slow"))
        one, two = await bounded(asyncio.gather(engine.delete(state.id),
                                                 engine.delete(state.id)))
        updated = await bounded(update)
        return [one, two, updated]

    one, two, updated = asyncio.run(go())
    assert one.state == "DELETE_COMPLETE" and two.state == "DELETE_COMPLETE"
    assert updated.status_reason == "Stack UPDATE cancelled"
    assert store.list() == [] and native.count() == 0
    engine.close()


PROVIDER = yaml.safe_dump({
    "heat_template_version": VERSION,
    "parameters": {"count": {"type": "number"}},
    "resources": {"inner": {"type": "OS::Heat::ResourceGroup", "properties": {
        "count": {"get_param": "count"}, "resource_def": {"type": "OS::Heat::None"}}}},
})


def _groups(*counts: int) -> dict[str, Any]:
    return {"heat_template_version": VERSION, "resources": {
        f"g{i}": {"type": "OS::Heat::ResourceGroup",
                  "properties": {"count": n, "resource_def": {"type": "OS::Heat::None"}}}
        for i, n in enumerate(counts)}}


def test_the_resource_limit_counts_the_whole_tree() -> None:
    engine, store, native = builtin_engine()
    # a group of 1000 below a root of one resource is allowed, as in Heat
    ok = asyncio.run(bounded(engine.create(StackRequest("ok", _groups(1000)))))
    assert ok.state == "CREATE_COMPLETE", ok.status_reason
    # two groups of 600: each alone is fine, together the tree is over; with literal counts
    # validation refuses the stack (tests/engine/test_group_limits.py), with counts known
    # only while creating the group that would take the tree over fails
    dynamic = _groups(600, 600)
    dynamic["resources"]["v"] = {"type": "OS::Heat::Value", "properties": {"value": 600}}
    for name in ("g0", "g1"):
        dynamic["resources"][name]["properties"]["count"] = {"get_attr": ["v", "value"]}
    over = asyncio.run(bounded(engine.create(StackRequest("over", dynamic,
                                                           disable_rollback=True))))
    assert over.state == "CREATE_FAILED"
    # the group that would take the tree over fails; the other one, if still in flight, is
    # interrupted by that failure
    refused = [r for r in over.resources.values() if r.status == "FAILED"
               and not r.was_interrupted]
    assert len(refused) == 1
    assert refused[0].status_reason == (
        f"RequestLimitExceeded: resources.{refused[0].name}: Maximum resources per stack "
        "exceeded.")
    asyncio.run(bounded(engine.delete(over.id)))
    asyncio.run(bounded(engine.delete(ok.id)))
    assert store.list() == [] and native.count() == 0
    engine.close()


def test_children_from_earlier_operations_count_too() -> None:
    engine, store, native = builtin_engine()
    files = {"provider.yaml": PROVIDER}
    first = {"heat_template_version": VERSION, "resources": {
        "p": {"type": "provider.yaml", "properties": {"count": 600}}}}
    state = asyncio.run(bounded(engine.create(StackRequest("s", first, files=files))))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    # the update leaves p (two levels down: 600 members) alone and adds a group of 500
    second = {**first, "resources": {**first["resources"], **_groups(500)["resources"]}}
    updated = asyncio.run(bounded(engine.update(state.id, StackRequest(
        "s", second, files=files, disable_rollback=True))))
    assert updated.state == "UPDATE_FAILED"
    assert "Maximum resources per stack exceeded." in updated.resources["g0"].status_reason
    # shrinking p first makes room: the same tree then fits
    third = {**second, "resources": {
        "p": {"type": "provider.yaml", "properties": {"count": 400}},
        "g0": {**second["resources"]["g0"], "depends_on": ["p"]}}}
    fits = asyncio.run(bounded(engine.update(state.id, StackRequest("s", third, files=files))))
    assert fits.state == "UPDATE_COMPLETE", fits.status_reason
    assert native.count("OS::Heat::None") == 900
    asyncio.run(bounded(engine.delete(state.id)))
    assert store.list() == [] and native.count() == 0
    engine.close()
