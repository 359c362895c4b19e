"""Crash safety with nested stacks: a ResourceGroup's create interrupted at every state save
(the process dies: nothing more is recorded), then rerun: the group ends with all its members,
each exactly once, and the stack only reports COMPLETE when they exist."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crash_support import CrashingStore
from kubeheat.engine import Engine, ListEventSink, MemoryNativeStore, MemoryStateStore, StackRequest

MEMBERS = 4
TEMPLATE: dict[str, Any] = {
    "heat_template_version": "2021-04-16",
    "resources": {
        "a": {"type": "OS::Heat::None"},
        "g": {"type": "OS::Heat::ResourceGroup", "depends_on": ["a"],
              "properties": {"count": MEMBERS, "resource_def": {
                  "type": "OS::Heat::TestResource", "properties": {"value": "x"}}}},
    },
    "outputs": {"refs": {"value": {"get_attr": ["g", "refs"]}}},
}


def _saves_of_a_clean_create() -> int:
    store = CrashingStore(MemoryStateStore(), limit=10**9)
    engine = Engine(store, ListEventSink(), native=MemoryNativeStore())
    try:
        asyncio.run(engine.create(StackRequest("s", TEMPLATE), "sid"))
    finally:
        engine.close()
    return store.count


@pytest.mark.parametrize("limit", range(1, _saves_of_a_clean_create() + 1))
def test_group_create_killed_at_every_save_converges(limit: int) -> None:
    inner, native = MemoryStateStore(), MemoryNativeStore()

    async def crashed() -> None:
        engine = Engine(CrashingStore(inner, limit), ListEventSink(), native=native)
        try:
            await engine.create(StackRequest("s", TEMPLATE), "sid")
        except Exception:
            pass
        finally:
            engine.close()

    async def rerun() -> Any:
        engine = Engine(inner, ListEventSink(), native=native)
        try:
            return await engine.apply(StackRequest("s", TEMPLATE), "sid")
        finally:
            engine.close()

    asyncio.run(crashed())
    state = asyncio.run(rerun())
    assert state.status == "COMPLETE", state.status_reason
    assert native.count("OS::Heat::TestResource") == MEMBERS
    refs = state.outputs["refs"]
    assert len(refs) == MEMBERS and all(refs)
