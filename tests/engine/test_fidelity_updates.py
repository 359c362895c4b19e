"""Stack updates as Heat 27.0.1's convergence engine does them.

Every expected status, reason and message here is what a running Heat 27.0.1 (convergence
engine) gave for the same templates, created and then updated with a PUT; the differential
table (``differential/cases/updates``) holds more of them. What Heat showed:

- a resource is updated (``UPDATE_COMPLETE``) when its definition changed, not only its
  property values: its ``depends_on`` (added, removed, another resource, another order), its
  ``deletion_policy``, its ``condition`` (added, renamed), its metadata, or a property written
  out with its default value; ``OS::Heat::None`` never is;
- changing an ``immutable`` parameter is refused (``The following parameters are immutable and
  may not be updated: p``) and nothing changes;
- a stack whose create failed is *updated* by the next run (``UPDATE_COMPLETE``), its failed
  resource replaced, the resources the create never reached (listed ``INIT_COMPLETE``)
  created.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from engine_plugins import builtin_engine, hot

from kubeheat.engine import Engine, StackRequest, StackState
from kubeheat.template import TemplateError


def _statuses(state: StackState) -> dict[str, str]:
    return {n: r.state for n, r in sorted(state.resources.items()) if "~" not in n}


def _update(before: dict[str, Any], after: dict[str, Any], *, params: dict[str, Any] | None
            = None, new_params: dict[str, Any] | None = None
            ) -> tuple[Engine, StackState, StackState]:
    engine, _store, _native = builtin_engine()
    first = asyncio.run(engine.create(StackRequest("updates-f", before, parameters=params or {},
                                                   disable_rollback=True)))
    assert first.state == "CREATE_COMPLETE", first.status_reason
    created = first.copy()
    state = asyncio.run(engine.update(first.id, StackRequest(
        "updates-f", after, parameters=new_params or {}, disable_rollback=True)))
    return engine, created, state


TEST = "OS::Heat::TestResource"
VALUE = "OS::Heat::Value"

#: (what changes, resources before, after, the statuses after the update in Heat 27.0.1)
DEFINITION_CHANGES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, str]]] = [
    ("depends_on added",
     {"a": {"type": TEST}, "b": {"type": TEST, "properties": {"value": "b"}}},
     {"a": {"type": TEST}, "b": {"type": TEST, "properties": {"value": "b"}, "depends_on": "a"}},
     {"a": "CREATE_COMPLETE", "b": "UPDATE_COMPLETE"}),
    ("depends_on removed",
     {"a": {"type": VALUE, "properties": {"value": "a"}},
      "b": {"type": VALUE, "properties": {"value": "b"}, "depends_on": ["a"]}},
     {"a": {"type": VALUE, "properties": {"value": "a"}},
      "b": {"type": VALUE, "properties": {"value": "b"}}},
     {"a": "CREATE_COMPLETE", "b": "UPDATE_COMPLETE"}),
    ("depends_on reordered",
     {"a": {"type": "OS::Heat::None"}, "b": {"type": "OS::Heat::None"},
      "v": {"type": VALUE, "properties": {"value": "v"}, "depends_on": ["a", "b"]}},
     {"a": {"type": "OS::Heat::None"}, "b": {"type": "OS::Heat::None"},
      "v": {"type": VALUE, "properties": {"value": "v"}, "depends_on": ["b", "a"]}},
     {"a": "CREATE_COMPLETE", "b": "CREATE_COMPLETE", "v": "UPDATE_COMPLETE"}),
    ("None never updated",
     {"a": {"type": "OS::Heat::None"}, "b": {"type": "OS::Heat::None"},
      "c": {"type": "OS::Heat::None", "properties": {"x": 1}}},
     {"a": {"type": "OS::Heat::None"}, "b": {"type": "OS::Heat::None", "depends_on": "a"},
      "c": {"type": "OS::Heat::None", "properties": {"x": 2}}},
     {"a": "CREATE_COMPLETE", "b": "CREATE_COMPLETE", "c": "CREATE_COMPLETE"}),
    ("deletion_policy",
     {"v": {"type": VALUE, "properties": {"value": "v"}},
      "t": {"type": TEST, "deletion_policy": "Retain"}},
     {"v": {"type": VALUE, "properties": {"value": "v"}, "deletion_policy": "Retain"},
      "t": {"type": TEST}},
     {"t": "UPDATE_COMPLETE", "v": "UPDATE_COMPLETE"}),
    ("default written out",
     {"a": {"type": TEST}, "v": {"type": VALUE, "properties": {"value": "x"}}},
     {"a": {"type": TEST, "properties": {"value": "test_string"}},
      "v": {"type": VALUE, "properties": {"value": "x"}}},
     {"a": "UPDATE_COMPLETE", "v": "CREATE_COMPLETE"}),
    ("metadata",
     {"v": {"type": VALUE, "properties": {"value": "v"}, "metadata": {"k": 1}},
      "r": {"type": "OS::Heat::RandomString", "metadata": {"k": 1}},
      "n": {"type": "OS::Heat::None", "metadata": {"k": 1}}},
     {"v": {"type": VALUE, "properties": {"value": "v"}, "metadata": {"k": 2}},
      "r": {"type": "OS::Heat::RandomString", "metadata": {"k": 2}},
      "n": {"type": "OS::Heat::None", "metadata": {"k": 2}}},
     {"n": "CREATE_COMPLETE", "r": "UPDATE_COMPLETE", "v": "UPDATE_COMPLETE"}),
]


@pytest.mark.parametrize(("before", "after", "expected"), [c[1:] for c in DEFINITION_CHANGES],
                         ids=[c[0] for c in DEFINITION_CHANGES])
def test_a_changed_definition_updates_the_resource(before: dict[str, Any],
                                                   after: dict[str, Any],
                                                   expected: dict[str, str]) -> None:
    _engine, created, state = _update(hot(before), hot(after))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert _statuses(state) == expected
    for name, status in expected.items():     # updated in place: the same physical resource
        assert state.resources[name].physical_id == created.resources[name].physical_id
        if status == "UPDATE_COMPLETE":
            assert state.resources[name].status_reason == "state changed"


def test_a_random_string_updated_for_its_depends_on_keeps_its_value() -> None:
    before = hot({"a": {"type": "OS::Heat::None"}, "b": {"type": "OS::Heat::None"},
                  "r": {"type": "OS::Heat::RandomString", "depends_on": "a"}},
                 {"r": {"get_attr": ["r", "value"]}})
    after = hot({"a": {"type": "OS::Heat::None"}, "b": {"type": "OS::Heat::None"},
                 "r": {"type": "OS::Heat::RandomString", "depends_on": "b"}},
                {"r": {"get_attr": ["r", "value"]}})
    _engine, created, state = _update(before, after)
    assert _statuses(state)["r"] == "UPDATE_COMPLETE"
    assert state.outputs["r"] == created.outputs["r"]


def test_a_condition_added_or_renamed_updates_the_resource() -> None:
    before = hot({"v": {"type": VALUE, "properties": {"value": "v"}},
                  "w": {"type": VALUE, "properties": {"value": "w"}, "condition": "first"}},
                 conditions={"first": True, "second": True})
    after = hot({"v": {"type": VALUE, "properties": {"value": "v"}, "condition": "first"},
                 "w": {"type": VALUE, "properties": {"value": "w"}, "condition": "second"}},
                conditions={"first": True, "second": True})
    _engine, _created, state = _update(before, after)
    assert _statuses(state) == {"v": "UPDATE_COMPLETE", "w": "UPDATE_COMPLETE"}


def test_the_plan_shows_a_changed_definition_as_an_update() -> None:
    before = hot({"a": {"type": TEST}, "b": {"type": TEST}})
    after = hot({"a": {"type": TEST}, "b": {"type": TEST, "depends_on": "a"}})
    engine, _store, _native = builtin_engine()
    state = asyncio.run(engine.create(StackRequest("updates-f", before)))
    plan = asyncio.run(engine.plan(StackRequest("updates-f", after), state.id))
    assert {n: (str(p.action), p.reason) for n, p in plan.resources.items()} == {
        "a": ("noop", ""), "b": ("update", "definition changed: depends_on")}


IMMUTABLE = {"p": {"type": "string", "default": "x", "immutable": True}}
MESSAGE = "The following parameters are immutable and may not be updated: p"


@pytest.mark.parametrize(("after", "new_params"), [
    ({"p": {"type": "string", "default": "x", "immutable": True}}, {"p": "y"}),
    ({"p": {"type": "string", "default": "y", "immutable": True}}, {}),
    ({"p": {"type": "string", "default": "x", "immutable": True}}, {"p": "y"}),
], ids=["value given", "default changed", "given again"])
def test_changing_an_immutable_parameter_is_refused_and_nothing_changes(
        after: dict[str, Any], new_params: dict[str, Any]) -> None:
    resources = {"a": {"type": VALUE, "properties": {"value": {"get_param": "p"}}}}
    engine, _store, _native = builtin_engine()
    first = asyncio.run(engine.create(StackRequest(
        "updates-f", hot(resources, {"a": {"get_attr": ["a", "value"]}}, IMMUTABLE))))
    before = first.to_dict()
    request = StackRequest("updates-f", hot(dict(resources, b={"type": "OS::Heat::None"}),
                                            parameters=after), parameters=new_params)
    with pytest.raises(TemplateError) as err:
        asyncio.run(engine.update(first.id, request))
    assert str(err.value) == f"parameters.p: {MESSAGE}"
    assert err.value.code == "ImmutableParameterModified"
    with pytest.raises(TemplateError, match=MESSAGE):      # the plan says so too
        asyncio.run(engine.plan(request, first.id))
    after_state = engine.load(first.id)
    assert after_state is not None and after_state.to_dict() == before
    assert after_state.state == "CREATE_COMPLETE" and after_state.outputs == {"a": "x"}


@pytest.mark.parametrize(("before", "after", "params", "new_params"), [
    # kept at its value, the rest of the update goes on
    ({"p": {"type": "string", "immutable": True}}, {"p": {"type": "string", "immutable": True}},
     {"p": "fixed"}, {"p": "fixed"}),
    # immutable before, not in the new template: may change
    (IMMUTABLE, {"p": {"type": "string", "default": "x"}}, {}, {"p": "z"}),
    # deliberate difference: the same number given again as text is no change (Heat 27.0.1
    # compares the text with the typed old value and refuses)
    ({"p": {"type": "number", "immutable": True}}, {"p": {"type": "number", "immutable": True}},
     {"p": 3}, {"p": "3"}),
], ids=["unchanged", "no longer immutable", "number given again"])
def test_immutable_parameters_that_may_be_updated(before: dict[str, Any], after: dict[str, Any],
                                                  params: dict[str, Any],
                                                  new_params: dict[str, Any]) -> None:
    resources = {"a": {"type": VALUE, "properties": {"value": {"get_param": "p"}}}}
    _engine, _created, state = _update(hot(resources, parameters=before),
                                       hot(resources, parameters=after), params=params,
                                       new_params=new_params)
    assert state.state == "UPDATE_COMPLETE", state.status_reason


def test_a_new_immutable_parameter_takes_any_value() -> None:
    _engine, _created, state = _update(
        hot({"a": {"type": VALUE, "properties": {"value": "old"}}}),
        hot({"a": {"type": VALUE, "properties": {"value": {"get_param": "p"}}}},
            parameters={"p": {"type": "string", "immutable": True}}),
        new_params={"p": "new"})
    assert _statuses(state) == {"a": "UPDATE_COMPLETE"}


def test_a_parameter_made_immutable_cannot_change_in_that_update() -> None:
    engine, _store, _native = builtin_engine()
    resources = {"a": {"type": VALUE, "properties": {"value": {"get_param": "p"}}}}
    first = asyncio.run(engine.create(StackRequest(
        "updates-f", hot(resources, parameters={"p": {"type": "string", "default": "x"}}))))
    with pytest.raises(TemplateError, match=MESSAGE):
        asyncio.run(engine.update(first.id, StackRequest(
            "updates-f", hot(resources, parameters=IMMUTABLE), parameters={"p": "z"})))


FAILING = {"ok": {"type": VALUE, "properties": {"value": "fine"}},
           "bad": {"type": TEST, "properties": {"value": "x", "fail": True}},
           "after": {"type": VALUE, "properties": {"value": {"get_attr": ["bad", "output"]}}}}


def test_a_failed_create_lists_the_resources_it_never_reached() -> None:
    engine, _store, _native = builtin_engine()
    state = asyncio.run(engine.create(StackRequest(
        "updates-f", hot(FAILING, {"after": {"get_attr": ["after", "value"]}}),
        disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    assert state.status_reason == ("Resource CREATE failed: ValueError: resources.bad: Test "
                                   "Resource failed bad")
    assert _statuses(state) == {"after": "INIT_COMPLETE", "bad": "CREATE_FAILED",
                                "ok": "CREATE_COMPLETE"}
    assert state.resources["after"].physical_id is None
    assert state.outputs == {"after": None}


def test_rerunning_a_stack_whose_create_failed_updates_it() -> None:
    engine, _store, _native = builtin_engine()
    failed = asyncio.run(engine.apply(StackRequest("updates-f", hot(FAILING),
                                                   disable_rollback=True), "sid"))
    assert failed.state == "CREATE_FAILED"
    ok_id = failed.resources["ok"].physical_id
    fixed = dict(FAILING, bad={"type": TEST, "properties": {"value": "x"}})
    state = asyncio.run(engine.apply(StackRequest(
        "updates-f", hot(fixed, {"after": {"get_attr": ["after", "value"]}}),
        disable_rollback=True), "sid"))
    assert (state.state, state.status_reason) == ("UPDATE_COMPLETE",
                                                  "Stack UPDATE completed successfully")
    assert _statuses(state) == {"after": "CREATE_COMPLETE", "bad": "CREATE_COMPLETE",
                                "ok": "CREATE_COMPLETE"}
    assert state.resources["ok"].physical_id == ok_id
    assert state.outputs == {"after": "x"}


def test_rerunning_a_failed_create_unchanged_fails_as_an_update() -> None:
    engine, _store, _native = builtin_engine()
    template = hot({"ok": FAILING["ok"], "bad": {"type": TEST, "properties": {"fail": True}}})
    asyncio.run(engine.apply(StackRequest("updates-f", template, disable_rollback=True), "sid"))
    state = asyncio.run(engine.apply(StackRequest("updates-f", template,
                                                  disable_rollback=True), "sid"))
    assert (state.state, state.status_reason) == (
        "UPDATE_FAILED", "Resource CREATE failed: ValueError: resources.bad: Test Resource "
                         "failed bad")
    assert _statuses(state) == {"bad": "CREATE_FAILED", "ok": "CREATE_COMPLETE"}


def test_a_condition_turning_false_deletes_its_resource() -> None:
    """Heat 27.0.1: ``b`` UPDATE_COMPLETE, ``a`` deleted, the output null."""
    template = hot({"a": {"type": TEST, "condition": "c", "properties": {"value": "a"}},
                    "b": {"type": VALUE, "properties": {
                        "value": {"if": ["c", {"get_attr": ["a", "output"]}, "none"]}}}},
                   {"b": {"get_attr": ["b", "value"]}},
                   {"enabled": {"type": "boolean", "default": True}},
                   {"c": {"get_param": "enabled"}})
    _engine, created, state = _update(template, template, new_params={"enabled": False})
    assert created.outputs == {"b": "a"}
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert _statuses(state) == {"b": "UPDATE_COMPLETE"}
    assert state.outputs == {"b": "none"}


def test_a_failed_update_lists_the_resources_it_added_and_never_reached() -> None:
    before = hot({"a": {"type": TEST, "properties": {"value": "one"}}})
    after = hot({"a": {"type": TEST, "properties": {"value": "two", "fail": True}},
                 "later": {"type": VALUE, "properties": {"value": {"get_attr": ["a", "output"]}}}},
                {"later": {"get_attr": ["later", "value"]}})
    _engine, _created, state = _update(before, after)
    assert (state.state, state.status_reason) == (
        "UPDATE_FAILED", "Resource UPDATE failed: ValueError: resources.a: Test Resource failed a")
    assert state.resources["a"].status_reason == (
        "ValueError: resources.a: Test Resource failed a")
    assert _statuses(state) == {"a": "UPDATE_FAILED", "later": "INIT_COMPLETE"}
    assert state.outputs == {"later": None}


def test_a_replacement_found_by_the_update_is_announced_on_the_old_resource() -> None:
    """Heat 27.0.1's events for ``update_replace: true`` with a new value: the old resource
    UPDATE_IN_PROGRESS, UPDATE_COMPLETE "... requires replacement.", the new one created, its
    users updated, then the old one deleted."""
    before = hot({"a": {"type": TEST, "properties": {"value": "one", "update_replace": True}},
                  "d": {"type": VALUE, "properties": {"value": {"get_attr": ["a", "output"]}}}})
    after = hot({"a": {"type": TEST, "properties": {"value": "two", "update_replace": True}},
                 "d": {"type": VALUE, "properties": {"value": {"get_attr": ["a", "output"]}}}})
    engine, created, state = _update(before, after)
    assert _statuses(state) == {"a": "CREATE_COMPLETE", "d": "UPDATE_COMPLETE"}
    old_id = created.resources["a"].physical_id
    assert state.resources["a"].physical_id != old_id
    events = engine.events.events      # type: ignore[attr-defined]
    start = max(i for i, e in enumerate(events) if e.resource_name == "updates-f"
                and e.resource_action == "UPDATE" and e.resource_status == "IN_PROGRESS")
    seen = [(e.resource_name, f"{e.resource_action}_{e.resource_status}",
             e.resource_status_reason) for e in events[start + 1:]]
    assert seen == [
        ("a", "UPDATE_IN_PROGRESS", "state changed"),
        ("a", "UPDATE_COMPLETE", f'The Resource TestResource "a" [{old_id}] Stack '
                                 f'"updates-f" [{state.id}] requires replacement.'),
        ("a", "CREATE_IN_PROGRESS", "state changed"),
        ("a", "CREATE_COMPLETE", "state changed"),
        ("d", "UPDATE_IN_PROGRESS", "state changed"),
        ("d", "UPDATE_COMPLETE", "state changed"),
        ("a", "DELETE_IN_PROGRESS", "state changed"),
        ("a", "DELETE_COMPLETE", "state changed"),
        ("updates-f", "UPDATE_COMPLETE", "Stack UPDATE completed successfully")]


def test_a_failure_lets_the_actions_in_flight_finish_and_starts_nothing_more() -> None:
    """Heat 27.0.1 (convergence): after ``a`` fails, ``x`` (in flight) is still created, ``y``
    (waiting for ``x``) is never started (INIT_COMPLETE)."""
    before = hot({"a": {"type": TEST, "properties": {"value": "one"}}})
    after = hot({"a": {"type": TEST, "properties": {"value": "two", "fail": True}},
                 "x": {"type": TEST, "properties": {"action_wait_secs": {"create": 0.3}}},
                 "y": {"type": VALUE, "properties": {"value": "y"}, "depends_on": "x"}})
    _engine, _created, state = _update(before, after)
    assert state.state == "UPDATE_FAILED"
    assert _statuses(state) == {"a": "UPDATE_FAILED", "x": "CREATE_COMPLETE",
                                "y": "INIT_COMPLETE"}
