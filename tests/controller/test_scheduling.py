"""The operator's fair slots and deletion tickets in one event loop (no cluster needed; the
operator-level behaviour is in test_operator_scheduling.py)."""

from __future__ import annotations

import asyncio

import pytest

from kubeheat.controller.scheduling import FairSlots, StackDeleted, Ticket

BOUND = 5.0     # no step here should take long: a hang fails instead


def run(coro: object) -> None:
    asyncio.run(asyncio.wait_for(coro, BOUND))  # type: ignore[arg-type]


async def _waiter(slots: FairSlots, namespace: str, order: list[str], tag: str,
                  release: asyncio.Event) -> None:
    async with slots.hold(namespace):
        order.append(tag)
        await release.wait()


def test_a_namespace_never_holds_more_than_its_share() -> None:
    async def main() -> None:
        slots = FairSlots(4, 2)
        order: list[str] = []
        release = asyncio.Event()
        tasks = [asyncio.create_task(_waiter(slots, "a", order, f"a{i}", release))
                 for i in range(5)]
        await asyncio.sleep(0.05)
        assert order == ["a0", "a1"] and slots.in_use == 2 and slots.waiting("a") == 3
        b = asyncio.create_task(_waiter(slots, "b", order, "b0", release))
        await asyncio.sleep(0.05)
        assert order[-1] == "b0" and slots.held == {"a": 2, "b": 1}
        release.set()
        await asyncio.gather(*tasks, b)
        assert slots.in_use == 0 and slots.waiting() == 0
    run(main())


def test_admission_is_round_robin_across_namespaces() -> None:
    async def main() -> None:
        slots = FairSlots(1, 1)
        order: list[str] = []
        gates = {tag: asyncio.Event() for tag in ("a0", "a1", "a2", "b0", "b1", "c0")}

        async def one(namespace: str, tag: str) -> None:
            async with slots.hold(namespace):
                order.append(tag)
                await gates[tag].wait()

        tasks = [asyncio.create_task(one(tag[0], tag)) for tag in gates]
        for _ in range(len(gates)):
            await asyncio.sleep(0.02)
            gates[order[-1]].set()
        await asyncio.gather(*tasks)
        # a0 ran first; then each namespace in turn, first come first served within one
        assert order == ["a0", "b0", "c0", "a1", "b1", "a2"]
    run(main())


def test_a_cancelled_waiter_leaks_no_slot() -> None:
    async def main() -> None:
        slots = FairSlots(1, 1)
        await slots.acquire("a")
        waiting = asyncio.create_task(slots.acquire("b"))
        await asyncio.sleep(0.02)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        slots.release("a")
        assert slots.in_use == 0 and slots.waiting() == 0
        await slots.acquire("c")            # the slot is free again
        assert slots.held == {"c": 1}
    run(main())


def test_a_ticket_cancels_the_work_once_the_stack_is_deleted() -> None:
    async def main() -> None:
        ticket = Ticket()
        stop = asyncio.Event()
        asked: list[str] = []

        async def operation() -> str:
            await stop.wait()
            return "CREATE_FAILED"

        async def cancel() -> bool:
            asked.append("cancel")
            stop.set()
            return True

        task = asyncio.create_task(ticket.guard(operation(), cancel))
        await asyncio.sleep(0.02)
        assert not task.done()
        ticket.deleting.set()
        assert await task == "CREATE_FAILED" and asked == ["cancel"]

        async def forever() -> None:
            await asyncio.Event().wait()

        other = Ticket()
        task2 = asyncio.create_task(other.guard(forever()))
        await asyncio.sleep(0.02)
        other.deleting.set()
        with pytest.raises(StackDeleted):
            await task2
    run(main())


def test_the_runner_knows_the_engine_threads_by_name() -> None:
    """At stop the runner does not wait for an engine thread still evaluating a template; it
    finds them by name, since started from the operator's daemon thread they are daemons too
    (and joined at exit all the same)."""
    import threading

    from kubeheat.controller.runner import ENGINE_THREADS
    from kubeheat.engine import Engine, ListEventSink, MemoryStateStore

    engine = Engine(MemoryStateStore(), ListEventSink())
    try:
        name = asyncio.run(engine.runtime.run_sync(lambda: threading.current_thread().name))
    finally:
        engine.close()
    assert name.startswith(ENGINE_THREADS)
