"""OS::Heat::WaitConditionHandle and OS::Heat::WaitCondition through their handlers: signals
(before and while waiting), count, FAILURE, timeout, update, delete, attributes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from kubeheat.engine import MemoryNativeStore
from kubeheat.resources import (
    REGISTRY,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    load_builtin_plugins,
)
from kubeheat.resources.heat.wait_condition import (
    WaitConditionFailure,
    WaitConditionTimeout,
)

T = TypeVar("T")
HANDLE, COND = "OS::Heat::WaitConditionHandle", "OS::Heat::WaitCondition"

load_builtin_plugins()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def plugin(type_name: str) -> ResourcePlugin:
    cls = REGISTRY.get(type_name)
    assert cls is not None
    return cls()


class Stack:
    """A handle and a wait condition sharing one native store."""

    def __init__(self) -> None:
        self.native = MemoryNativeStore()
        self.handle = plugin(HANDLE)
        self.cond = plugin(COND)
        self.hctx = ResourceContext(stack_id="sid", stack_name="stk", name="handle",
                                    type=HANDLE, native=self.native)
        self.cctx = ResourceContext(stack_id="sid", stack_name="stk", name="wait",
                                    type=COND, native=self.native)
        self.hprops: dict[str, Any] = {"signal_transport": "TOKEN_SIGNAL"}

    async def make_handle(self) -> str:
        created = await self.handle.create(self.hctx, self.hprops)
        self.hctx.physical_id = created.physical_id
        self.hctx.data = dict(created.data)
        return created.physical_id

    async def signal(self, details: Any) -> dict[str, Any] | None:
        return await self.handle.signal(self.hctx, self.hprops, details)

    def cprops(self, handle_id: str, timeout: float = 5, count: int = 1) -> dict[str, Any]:
        return {"handle": handle_id, "timeout": timeout, "count": count}

    async def make_cond(self, props: dict[str, Any]) -> None:
        created = await self.cond.create(self.cctx, props)
        self.cctx.physical_id = created.physical_id
        self.cctx.data = dict(created.data)
        assert await self.cond.check_create_complete(self.cctx, props)


def test_schemas_match_heat() -> None:
    h = plugin(HANDLE).schema()
    assert h["properties"]["signal_transport"]["default"] == "TOKEN_SIGNAL"
    assert h["properties"]["signal_transport"]["constraints"] == [{"allowed_values": [
        "CFN_SIGNAL", "TEMP_URL_SIGNAL", "HEAT_SIGNAL", "NO_SIGNAL", "ZAQAR_SIGNAL",
        "TOKEN_SIGNAL"]}]
    assert set(h["attributes"]) == {"token", "endpoint", "curl_cli", "signal"}
    assert plugin(HANDLE).signalable
    c = plugin(COND).schema()["properties"]
    assert c["handle"]["required"] and not c["handle"]["update_allowed"]
    assert c["timeout"]["required"] and not c["timeout"]["update_allowed"]
    assert c["timeout"]["constraints"] == [{"range": {"min": 1, "max": 43200}}]
    assert c["count"]["default"] == 1 and c["count"]["update_allowed"]
    assert c["count"]["type"] == "integer"
    assert list(plugin(COND).schema()["attributes"]) == ["data"]


def test_handle_attributes_tell_how_to_signal() -> None:
    s = Stack()

    async def scenario() -> dict[str, Any]:
        await s.make_handle()
        return await s.handle.attribute_values(s.hctx, s.hprops)

    attrs = run(scenario())
    assert attrs["curl_cli"] == "kubeheat signal stk handle"
    assert attrs["endpoint"] == "/stacks/stk/sid/resources/handle/signal"
    assert isinstance(attrs["token"], str) and len(attrs["token"]) >= 20
    assert json.loads(attrs["signal"]) == {"endpoint": attrs["endpoint"],
                                           "token": attrs["token"],
                                           "command": "kubeheat signal stk handle"}


def test_signals_before_the_condition_starts_count() -> None:
    s = Stack()

    async def scenario() -> str:
        handle_id = await s.make_handle()
        out = await s.signal({"status": "SUCCESS", "data": "one"})
        assert out is not None and out["signal_reason"] == "status:SUCCESS reason:Signal 1 " \
                                                           "received"
        await s.signal(None)
        props = s.cprops(handle_id, count=2)
        await s.make_cond(props)
        return str((await s.cond.attribute_values(s.cctx, props))["data"])

    assert run(scenario()) == '{"1": "one", "2": null}'


def test_condition_waits_for_count_signals() -> None:
    s = Stack()
    order: list[str] = []

    async def scenario() -> None:
        handle_id = await s.make_handle()
        props = s.cprops(handle_id, count=2)
        waiter = asyncio.create_task(s.make_cond(props))
        await asyncio.sleep(0.1)
        assert not waiter.done()
        await s.signal({"id": "a", "data": {"x": 1}, "reason": "first"})
        await asyncio.sleep(0.1)
        assert not waiter.done()
        order.append("second")
        await s.signal({"id": "b", "status": "SUCCESS", "reason": "r", "data": 2})
        await asyncio.wait_for(waiter, 2)
        data = (await s.cond.attribute_values(s.cctx, props))["data"]
        assert json.loads(data) == {"a": {"x": 1}, "b": 2}

    run(scenario())
    assert order == ["second"]


def test_same_id_replaces_a_signal() -> None:
    s = Stack()

    async def scenario() -> Any:
        handle_id = await s.make_handle()
        await s.signal({"id": "x", "data": 1})
        await s.signal({"id": "x", "data": 2})
        props = s.cprops(handle_id, timeout=1, count=2)
        with pytest.raises(WaitConditionTimeout, match=r"^1 of 2 received - Signal 2 received$"):
            await s.make_cond(props)

    run(scenario())


def test_failure_signal_fails_with_the_reasons() -> None:
    s = Stack()

    async def scenario() -> None:
        handle_id = await s.make_handle()
        await s.signal({"status": "SUCCESS"})
        await s.signal({"status": "FAILURE", "reason": "disk full"})
        await s.signal({"status": "FAILURE", "reason": "no network"})
        await s.make_cond(s.cprops(handle_id, count=5))

    with pytest.raises(WaitConditionFailure, match=r"^disk full;no network$"):
        run(scenario())


def test_timeout_message() -> None:
    s = Stack()

    async def scenario() -> None:
        handle_id = await s.make_handle()
        await s.signal({"reason": "ok-1"})
        props = s.cprops(handle_id, timeout=1, count=3)
        start = time.monotonic()
        with pytest.raises(WaitConditionTimeout, match=r"^1 of 3 received - ok-1$"):
            await s.make_cond(props)
        assert time.monotonic() - start >= 0.9

    run(scenario())


def test_timeout_with_no_signal() -> None:
    s = Stack()

    async def scenario() -> None:
        handle_id = await s.make_handle()
        await s.make_cond(s.cprops(handle_id, timeout=1))

    with pytest.raises(WaitConditionTimeout, match=r"^0 of 1 received$"):
        run(scenario())


def test_bad_signals_are_refused() -> None:
    s = Stack()

    async def scenario() -> None:
        await s.make_handle()
        with pytest.raises(ValueError, match=r"^Metadata format invalid$"):
            await s.signal({"status": "MAYBE"})
        with pytest.raises(ValueError, match=r"^Metadata format invalid$"):
            await s.signal({"status": "SUCCESS", "extra": 1})
        with pytest.raises(ValueError, match=r"^Metadata format invalid$"):
            await s.signal("text")

    run(scenario())


def test_invalid_handle() -> None:
    s = Stack()
    with pytest.raises(ValueError, match=r"^nope is not a valid wait condition handle.$"):
        run(s.cond.create(s.cctx, s.cprops("nope")))
    assert s.native.count() == 0


def test_update_count_waits_again_and_delete_clears_signals() -> None:
    s = Stack()

    async def scenario() -> None:
        handle_id = await s.make_handle()
        await s.signal({})
        props = s.cprops(handle_id, count=1)
        await s.make_cond(props)
        assert s.cond.needs_replacement(props, {**props, "count": 2},
                                        frozenset({"count"})) == frozenset()
        assert s.cond.needs_replacement(props, {**props, "timeout": 9},
                                        frozenset({"timeout"})) == {"timeout"}
        new = {**props, "count": 2}
        task = asyncio.create_task(s.cond.update(s.cctx, props, new, frozenset({"count"})))
        await asyncio.sleep(0.1)
        assert not task.done()
        await s.signal({})
        await asyncio.wait_for(task, 2)
        # Heat's reference of a WaitCondition is its name
        ref = getattr(s.cond, "reference")  # noqa: B009
        assert ref(s.cctx) == "wait"
        assert s.cctx.data["reference"] == "wait"
        await s.cond.delete(s.cctx, new)
        assert await s.cond.read(s.cctx, new) is None
        record = s.native.get(HANDLE, handle_id)
        assert record is not None and record["signals"] == {}

    run(scenario())


def test_crash_recovery_keeps_the_start_time() -> None:
    s = Stack()

    async def scenario() -> None:
        handle_id = await s.make_handle()
        props = s.cprops(handle_id, timeout=1)
        created = await s.cond.create(s.cctx, props)
        fresh = ResourceContext(stack_id="sid", stack_name="stk", name="wait", type=COND,
                                native=s.native)
        found = await s.cond.find_existing(fresh, props)
        assert found is not None and found.physical_id == created.physical_id
        assert found.data["started_at"] == created.data["started_at"]
        handle_found = await s.handle.find_existing(
            ResourceContext(stack_id="sid", stack_name="stk", name="handle", type=HANDLE,
                            native=s.native), s.hprops)
        assert handle_found is not None and handle_found.physical_id == handle_id

    run(scenario())


def test_attribute_data_when_the_handle_is_gone() -> None:
    s = Stack()

    async def scenario() -> Any:
        handle_id = await s.make_handle()
        await s.signal({})
        props = s.cprops(handle_id)
        await s.make_cond(props)
        s.native.delete(HANDLE, handle_id)
        assert await s.handle.read(s.hctx, s.hprops) is None
        return await s.cond.attribute_values(s.cctx, props)

    assert run(scenario()) == {"data": ""}


def test_stack_deadline_bounds_the_wait() -> None:
    s = Stack()

    async def scenario() -> None:
        handle_id = await s.make_handle()
        s.cctx.deadline = time.monotonic() + 0.1
        await s.make_cond(s.cprops(handle_id, timeout=100))

    with pytest.raises(ResourceFailure, match=r"^Timed out$"):
        run(scenario())
