"""The Neutron resource types after a crash or a cancelled operation, against the sandbox
cloud with the real openstacksdk over HTTP: the run is cut at every few state saves, and
running it again adopts what the cloud already made (one object per resource, nothing left
after delete)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import pytest
from neutron_support import (
    Conn,
    EngineFactory,
    assert_complete,
    assert_nothing_left,
    ids,
    rule_keys,
    run,
    tagged,
    web_tier,
)

from crash_support import Crash, CrashingStore
from kubeheat.engine import Engine, MemoryStateStore, StackRequest, StateSaveError


def _saves_of_a_clean_create(engine: EngineFactory, conn: Conn) -> int:
    eng, store, _ = engine()
    state = run(eng.create(StackRequest("count", web_tier("10.50.0.0/24"))))
    assert_complete(state)
    saves = int(store.writes)
    run(eng.delete(state.id))
    assert_nothing_left(conn, state.id)
    return saves


def test_crash_during_create_is_adopted_not_duplicated(engine: EngineFactory,
                                                        conn: Conn) -> None:
    total = _saves_of_a_clean_create(engine, conn)
    assert total > 20
    for limit in range(2, total, 3):
        stack_id = str(uuid.uuid4())
        inner = MemoryStateStore()
        crashing, _, _ = engine(store=CrashingStore(inner, limit))
        with pytest.raises((Crash, StateSaveError)):
            run(crashing.create(StackRequest("crash", web_tier("10.51.0.0/24")), stack_id))
        survivor, _, _ = engine(store=inner)
        state = run(survivor.apply(StackRequest("crash", web_tier("10.51.0.0/24")),
                                   stack_id))
        assert_complete(state)
        found = tagged(conn, stack_id)
        counts = {k: len(v) for k, v in found.items()}
        assert counts == {"networks": 1, "subnets": 1, "ports": 1, "routers": 1,
                          "floating_ips": 1, "security_groups": 1, "rules": 1,
                          "router_ports": 1}, (limit, counts)
        recorded = ids(state)
        assert found["networks"][0].id == recorded["net"]
        assert found["floating_ips"][0].id == recorded["fip"]
        assert run(survivor.check(stack_id)).ok
        assert run(survivor.delete(stack_id)).state == "DELETE_COMPLETE"
        assert_nothing_left(conn, stack_id)


def _web_v2() -> dict[str, Any]:
    """The web tier renamed (in place), its port moved to a fixed address (in place), its
    rule resource on another port (replaced) and a second port added."""
    doc = web_tier("10.53.0.0/24")
    res = doc["resources"]
    res["net"]["properties"]["name"] = "web-v2"
    res["port"]["properties"]["fixed_ips"] = [{"subnet": {"get_resource": "subnet"},
                                               "ip_address": "10.53.0.77"}]
    res["http"]["properties"].update(port_range_min=8080, port_range_max=8080)
    res["extra"] = {"type": "OS::Neutron::Port", "properties": {
        "network": {"get_resource": "net"}, "security_groups": [{"get_resource": "sg"}]}}
    return doc


def test_crash_during_update_converges_without_duplicates(engine: EngineFactory,
                                                          conn: Conn) -> None:
    v1, v2 = web_tier("10.53.0.0/24"), _web_v2()
    eng, store, _ = engine()
    state = run(eng.create(StackRequest("cu", v1)))
    before = store.writes
    state = run(eng.update(state.id, StackRequest("cu", v2)))
    assert_complete(state)
    total = store.writes - before
    run(eng.delete(state.id))
    for limit in range(2, total, 4):
        stack_id = str(uuid.uuid4())
        inner = MemoryStateStore()
        first, _, _ = engine(store=inner)
        assert_complete(run(first.create(StackRequest("cu", v1), stack_id)))
        crashing, _, _ = engine(store=CrashingStore(inner, limit))
        with pytest.raises((Crash, StateSaveError)):
            run(crashing.update(stack_id, StackRequest("cu", v2)))
        survivor, _, sink = engine(store=inner)
        state = run(survivor.apply(StackRequest("cu", v2), stack_id))
        assert state.state == "UPDATE_COMPLETE", (limit, state.state, [
            (e.resource_name, e.resource_action, e.resource_status_reason)
            for e in sink.events if e.resource_status == "FAILED"])
        counts = {k: len(v) for k, v in tagged(conn, stack_id).items()}
        assert counts == {"networks": 1, "subnets": 1, "ports": 2, "routers": 1,
                          "floating_ips": 1, "security_groups": 1, "rules": 1,
                          "router_ports": 1}, (limit, counts)
        port = conn.network.get_port(ids(state)["port"])
        assert [ip["ip_address"] for ip in port.fixed_ips] == ["10.53.0.77"]
        assert ("ingress", "IPv4", "tcp", 8080, 8080, None) in rule_keys(
            conn, ids(state)["sg"])
        assert run(survivor.check(stack_id)).ok
        assert run(survivor.delete(stack_id)).state == "DELETE_COMPLETE"
        assert_nothing_left(conn, stack_id)


def test_cancelled_create_is_adopted(engine: EngineFactory, conn: Conn) -> None:
    """Cancelling the create task while calls are in flight (the cloud may have made objects
    the engine never heard of, or heard of but never saw finish) and running it again leaves
    one object per resource."""
    total = _saves_of_a_clean_create(engine, conn)
    made: list[int] = []
    for limit in range(4, total, 5):
        stack_id = str(uuid.uuid4())
        inner = MemoryStateStore()
        store = CrashingStore(inner, limit, cancel=True)
        eng, _, sink = engine(store=store)

        async def interrupted(eng: Engine = eng, store: CrashingStore = store,
                              stack_id: str = stack_id) -> None:
            store.task = asyncio.current_task()
            with contextlib.suppress(asyncio.CancelledError):
                await eng.create(StackRequest("cancel", web_tier("10.52.0.0/24")), stack_id)
            await asyncio.sleep(0.3)      # calls already sent finish in their threads

        run(interrupted())
        partial = inner.load(stack_id)
        assert partial is not None and partial.status != "COMPLETE"
        made.append(sum(len(v) for v in tagged(conn, stack_id).values()))
        again, _, sink = engine(store=inner)
        state = run(again.apply(StackRequest("cancel", web_tier("10.52.0.0/24")), stack_id))
        assert state.state == "CREATE_COMPLETE", (limit, state.state, [
            (e.resource_name, e.resource_action, e.resource_status_reason)
            for e in sink.events if e.resource_status == "FAILED"])
        counts = {k: len(v) for k, v in tagged(conn, stack_id).items()}
        assert counts == {"networks": 1, "subnets": 1, "ports": 1, "routers": 1,
                          "floating_ips": 1, "security_groups": 1, "rules": 1,
                          "router_ports": 1}, (limit, counts)
        assert run(again.check(stack_id)).ok
        assert run(again.delete(stack_id)).state == "DELETE_COMPLETE"
        assert_nothing_left(conn, stack_id)
    assert any(made), made          # some runs were cut with objects already in the cloud
