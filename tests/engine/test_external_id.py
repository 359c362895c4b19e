"""``external_id`` in the engine with Heat's own types (no cloud): what Heat 27.0.1 does,
recorded from the peer: adopt then check events, properties not checked (required ones may be
missing, validation skips them), never deleted, the update rules and the plan."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeheat.engine import Engine, ListEventSink, MemoryStateStore, StackRequest
from kubeheat.template import TemplateError


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def hot(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": "2016-10-14", "resources": resources}
    if outputs:
        doc["outputs"] = {k: {"value": v} for k, v in outputs.items()}
    return doc


def make_engine() -> tuple[Engine, MemoryStateStore, ListEventSink]:
    store, events = MemoryStateStore(), ListEventSink()
    return Engine(store, events), store, events


def events_of(events: ListEventSink, name: str) -> list[tuple[str, str]]:
    return [
        (f"{e.resource_action}_{e.resource_status}", e.resource_status_reason)
        for e in events.events
        if e.resource_name == name
    ]


def test_adopted_resources_are_checked_and_not_validated() -> None:
    eng, _, events = make_engine()
    doc = hot(
        {
            "a": {"type": "OS::Heat::None", "external_id": "abc"},
            # wrong values and missing required properties are not looked at
            "v": {
                "type": "OS::Heat::Value",
                "external_id": "v1",
                "properties": {"value": "hello", "type": "nonsense"},
            },
            "t": {
                "type": "OS::Heat::TestResource",
                "external_id": "t1",
                "properties": {"wait_secs": "soon"},
            },
        },
        outputs={
            "a": {"get_resource": "a"},
            "v": {"get_attr": ["v", "value"]},
            "t": {"get_attr": ["t", "output"]},
        },
    )
    state = run(eng.create(StackRequest("adopt", doc)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs == {"a": "abc", "v": "hello", "t": None}
    assert {n: (r.state, r.physical_id) for n, r in state.resources.items()} == {
        "a": ("CHECK_COMPLETE", "abc"),
        "v": ("CHECK_COMPLETE", "v1"),
        "t": ("CHECK_COMPLETE", "t1"),
    }
    assert events_of(events, "a") == [
        ("ADOPT_IN_PROGRESS", "state changed"),
        ("ADOPT_COMPLETE", "state changed"),
        ("CHECK_COMPLETE", "CHECK not supported for OS::Heat::None"),
    ]
    assert events_of(events, "t")[2:] == [  # TestResource has a check
        ("CHECK_IN_PROGRESS", "state changed"),
        ("CHECK_COMPLETE", "state changed"),
    ]
    assert all(r.deletion_policy == "Retain" for r in state.resources.values())
    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE"


def test_update_rules() -> None:
    eng, _, _ = make_engine()
    first = hot(
        {
            "b": {"type": "OS::Heat::Value", "external_id": "vb", "properties": {"value": "first"}},
            "c": {"type": "OS::Heat::None"},
        },
        outputs={"b": {"get_attr": ["b", "value"]}},
    )
    state = run(eng.create(StackRequest("upd", first)))
    same = hot(
        {
            "b": {
                "type": "OS::Heat::Value",
                "external_id": "vb",
                "properties": {"value": "second"},
            },
            "c": {"type": "OS::Heat::None"},
        },
        outputs={"b": {"get_attr": ["b", "value"]}},
    )
    state = run(eng.update(state.id, StackRequest("upd", same, disable_rollback=True)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.outputs == {"b": "second"}
    assert state.resources["b"].state == "CHECK_COMPLETE"
    added = hot(
        {
            "b": {
                "type": "OS::Heat::Value",
                "external_id": "vb",
                "properties": {"value": "second"},
            },
            "c": {"type": "OS::Heat::None", "external_id": "cc"},
        }
    )
    preview = run(eng.plan(StackRequest("upd", added), state.id))
    assert preview.resources["c"].error == (
        "NotSupported: resources.c: Update to property external_id of c (OS::Heat::None) is "
        "not supported."
    )
    assert str(preview.resources["b"].action) == "noop"
    state = run(eng.update(state.id, StackRequest("upd", added, disable_rollback=True)))
    assert state.state == "UPDATE_FAILED"
    assert state.status_reason == (
        "Resource UPDATE failed: NotSupported: resources.c: Update "
        "to property external_id of c (OS::Heat::None) is not "
        "supported."
    )
    assert state.resources["c"].state == "CREATE_COMPLETE"  # left as it was


def test_plan_shows_an_adoption() -> None:
    eng, _, _ = make_engine()
    preview = run(
        eng.plan(StackRequest("p", hot({"a": {"type": "OS::Heat::None", "external_id": "x"}})))
    )
    assert str(preview.resources["a"].action) == "adopt"
    assert preview.resources["a"].physical_id == "x"


def test_depends_on_with_external_id_is_refused() -> None:
    eng, _, _ = make_engine()
    doc = hot(
        {
            "a": {"type": "OS::Heat::None"},
            "b": {"type": "OS::Heat::None", "external_id": "x", "depends_on": "a"},
        }
    )
    with pytest.raises(TemplateError) as err:
        run(eng.create(StackRequest("dep", doc)))
    assert err.value.message == "Invalid dependency with external OS::Heat::None resource: x"
    assert err.value.path == ("resources", "b")


def test_a_record_from_before_the_external_id_field() -> None:
    eng, store, _ = make_engine()
    doc = hot({"a": {"type": "OS::Heat::None", "external_id": "abc"}})
    state = run(eng.create(StackRequest("legacy", doc)))
    saved = store.load(state.id)
    assert saved is not None
    saved.resources["a"].external_id = None  # as an older kubeheat recorded it
    store.save(saved)
    again = Engine(store, ListEventSink())
    state = run(again.update(state.id, StackRequest("legacy", doc, disable_rollback=True)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.resources["a"].external_id == "abc"


def test_check_of_adopted_resources() -> None:
    eng, _, _ = make_engine()
    doc = hot(
        {
            "a": {"type": "OS::Heat::None", "external_id": "abc"},
            "v": {"type": "OS::Heat::Value", "external_id": "v1", "properties": {"value": 1}},
        }
    )
    state = run(eng.create(StackRequest("chk", doc)))
    result = run(eng.check(state.id))
    assert result.state.state == "CHECK_COMPLETE", result.state.status_reason
