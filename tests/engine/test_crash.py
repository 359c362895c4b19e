"""Crash safety: the executor interrupted at every step of a 20-resource create and update
(store failing, task cancelled), then rerun: exactly the desired resources exist, none twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from engine_plugins import KIND, hot, make_engine, things

from crash_support import Crash, CrashingStore
from kubeheat.engine import (
    MemoryNativeStore,
    MemoryStateStore,
    StackRequest,
    StackState,
    StateSaveError,
)

STACK_ID = "0b7d6c8e-0000-4000-8000-000000000001"


def template_v1() -> dict[str, Any]:
    res: dict[str, Any] = {}
    for i in range(20):
        props: dict[str, Any] = {"label": f"v1-{i}", "size": 1}
        if i >= 4:
            props["ref"] = {"get_resource": f"r{i % 4 + (i // 4 - 1) * 4}"}
        res[f"r{i}"] = {"type": "Test::Thing", "properties": props}
    return hot(res)


def template_v2() -> dict[str, Any]:
    """Relabels some (update in place), resizes some (replace), drops r16..r19, adds n0..n3."""
    doc = template_v1()
    res = doc["resources"]
    for i in range(20):
        p = res[f"r{i}"]["properties"]
        if i % 3 == 0:
            p["label"] = f"v2-{i}"
        if i % 5 == 1:
            p["size"] = 2
    for i in range(16, 20):
        del res[f"r{i}"]
    for i in range(4):
        res[f"n{i}"] = {"type": "Test::Thing",
                        "properties": {"label": "new", "ref": {"get_resource": f"r{12 + i}"}}}
    return doc


def desired(doc: dict[str, Any]) -> dict[str, tuple[str, int]]:
    return {n: (r["properties"].get("label", ""), r["properties"].get("size", 1))
            for n, r in doc["resources"].items()}


def assert_exact(native: MemoryNativeStore, state: StackState, doc: dict[str, Any]) -> None:
    assert state.status == "COMPLETE", (state.state, state.status_reason)
    got = things(native)
    want = desired(doc)
    assert sorted(got) == sorted(want)
    for name, records in got.items():
        assert len(records) == 1, (name, records)
        assert (records[0]["label"], records[0]["size"]) == want[name]
    assert set(state.resources) == set(want)
    for rec in state.resources.values():
        assert native.get(KIND, rec.physical_id) is not None
    assert native.count() == len(want)


def clean_saves(doc_steps: list[dict[str, Any]]) -> int:
    """How many saves the last step of a clean run makes."""
    inner = MemoryStateStore()
    engine, *_ = make_engine(store=inner)

    async def go() -> None:
        await engine.create(StackRequest("s", doc_steps[0]), STACK_ID)
        before = inner.writes
        for doc in doc_steps[1:]:
            await engine.update(STACK_ID, StackRequest("s", doc))
        if len(doc_steps) > 1:
            clean_saves.last = inner.writes - before  # type: ignore[attr-defined]
        else:
            clean_saves.last = inner.writes  # type: ignore[attr-defined]

    asyncio.run(go())
    return int(clean_saves.last)  # type: ignore[attr-defined]


@pytest.mark.parametrize("cancel", [False, True], ids=["store-fails", "task-cancelled"])
def test_crash_at_every_step_of_create(cancel: bool) -> None:
    doc = template_v1()
    total = clean_saves([doc])
    assert total > 40
    for limit in range(1, total + 1):
        inner, native = MemoryStateStore(), MemoryNativeStore()
        store = CrashingStore(inner, limit, cancel)
        engine, *_ = make_engine(store=store, native=native)

        async def first(engine: Any = engine, store: CrashingStore = store) -> None:
            store.task = asyncio.current_task()
            await engine.create(StackRequest("s", doc), STACK_ID)

        with pytest.raises((Crash, StateSaveError, asyncio.CancelledError)):
            asyncio.run(first())
        engine2, *_ = make_engine(store=inner, native=native)
        state = asyncio.run(engine2.apply(StackRequest("s", doc), STACK_ID))
        assert_exact(native, state, doc)


@pytest.mark.parametrize("cancel", [False, True], ids=["store-fails", "task-cancelled"])
def test_crash_at_every_step_of_update(cancel: bool) -> None:
    v1, v2 = template_v1(), template_v2()
    total = clean_saves([v1, v2])
    assert total > 40
    for limit in range(1, total + 1):
        inner, native = MemoryStateStore(), MemoryNativeStore()
        engine, *_ = make_engine(store=inner, native=native)
        asyncio.run(engine.create(StackRequest("s", v1), STACK_ID))
        store = CrashingStore(inner, limit, cancel)
        engine1, *_ = make_engine(store=store, native=native)

        async def first(engine: Any = engine1, store: CrashingStore = store) -> None:
            store.task = asyncio.current_task()
            await engine.update(STACK_ID, StackRequest("s", v2))

        with pytest.raises((Crash, StateSaveError, asyncio.CancelledError)):
            asyncio.run(first())
        engine2, *_ = make_engine(store=inner, native=native)
        state = asyncio.run(engine2.apply(StackRequest("s", v2), STACK_ID))
        assert_exact(native, state, v2)
