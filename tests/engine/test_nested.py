"""Provider templates run as nested stacks on the same engine, store and event sink."""

from __future__ import annotations

import asyncio
from typing import Any

import yaml
from engine_plugins import hot, make_engine, things

from kubeheat.engine import StackRequest, StackState

CHILD = yaml.safe_dump({
    "heat_template_version": "2021-04-16",
    "parameters": {"label": {"type": "string"}, "size": {"type": "number", "default": 1}},
    "resources": {"inner": {"type": "Test::Thing",
                            "properties": {"label": {"get_param": "label"},
                                           "size": {"get_param": "size"}}}},
    "outputs": {"inner_label": {"value": {"get_attr": ["inner", "label"]}},
                "inner_id": {"value": {"get_resource": "inner"}}},
})


def parent(label: str, size: int = 1, via_registry: bool = False) -> dict[str, Any]:
    return hot({"kid": {"type": "My::Child" if via_registry else "child.yaml",
                        "properties": {"label": label, "size": size}},
                "user": {"type": "Test::Thing",
                         "properties": {"label": {"get_attr": ["kid", "inner_label"]}}}},
               outputs={"o": {"get_attr": ["kid", "inner_label"]}})


def test_provider_template_create_update_delete() -> None:
    engine, store, events, native = make_engine()
    files = {"child.yaml": CHILD}

    async def go() -> tuple[StackState, StackState, StackState, list[str]]:
        s = await engine.create(StackRequest("p", parent("a"), files=files))
        first = s.copy()
        s = await engine.update(s.id, StackRequest("p", parent("b", 2), files=files))
        second = s.copy()
        ids = store.list()
        s = await engine.delete(s.id)
        return first, second, s, ids

    first, second, deleted, ids = asyncio.run(go())
    assert first.state == "CREATE_COMPLETE", first.status_reason
    assert first.outputs == {"o": "a"}
    child_id = first.resources["kid"].physical_id
    assert len(ids) == 2 and child_id in ids
    child = store.load(child_id) if deleted.state != "DELETE_COMPLETE" else None
    del child
    assert first.resources["user"].properties["label"] == "a"
    # the nested stack is updated in place (same child stack), its resource replaced (size)
    assert second.state == "UPDATE_COMPLETE", second.status_reason
    assert second.resources["kid"].physical_id == child_id
    assert second.outputs == {"o": "b"}
    assert second.resources["user"].properties["label"] == "b"
    assert deleted.state == "DELETE_COMPLETE"
    assert store.list() == [] and native.count() == 0
    child_events = [e for e in events.events if e.stack_id == child_id]
    assert child_events and child_events[0].resource_status_reason == "Stack CREATE started"


def test_provider_template_through_the_resource_registry() -> None:
    engine, store, _events, native = make_engine()
    env = {"resource_registry": {"My::Child": "child.yaml"}}
    s = asyncio.run(engine.create(StackRequest("p", parent("z", via_registry=True),
                                               files={"child.yaml": CHILD},
                                               environments=[env])))
    assert s.state == "CREATE_COMPLETE", s.status_reason
    assert s.outputs == {"o": "z"}
    assert s.resources["kid"].type == "My::Child"
    child = store.load(s.resources["kid"].physical_id)
    assert child is not None and child.parent == s.id
    assert list(things(native)) == ["inner", "user"]


def test_nested_failure_fails_the_parent_and_rolls_back() -> None:
    engine, store, events, native = make_engine()
    bad_child = yaml.safe_dump({
        "heat_template_version": "2021-04-16",
        "parameters": {"label": {"type": "string"}, "size": {"type": "number"}},
        "resources": {"ok": {"type": "Test::Thing"},
                      "bad": {"type": "OS::Heat::TestResource",
                              "properties": {"fail": True}}}})
    s = asyncio.run(engine.create(StackRequest("p", parent("a"),
                                               files={"child.yaml": bad_child})))
    assert s.state == "ROLLBACK_COMPLETE"
    assert store.list() == [s.id]
    assert native.count() == 0
    failed = [e for e in events.events if e.resource_name == "kid"
              and e.resource_status == "FAILED"]
    assert "Test Resource failed bad" in failed[0].resource_status_reason


def test_unknown_type_inside_a_provider_template_is_a_validation_error() -> None:
    import pytest

    from kubeheat.template import TemplateError

    engine, store, *_ = make_engine()
    child = yaml.safe_dump({"heat_template_version": "2021-04-16",
                            "parameters": {"label": {"type": "string"},
                                           "size": {"type": "number"}},
                            "resources": {"x": {"type": "No::Such"}}})
    with pytest.raises(TemplateError, match=r"The Resource Type \(No::Such\) could not be"):
        asyncio.run(engine.create(StackRequest("p", parent("a"),
                                               files={"child.yaml": child})))
    assert store.list() == []
