"""The engine wired to the plugin contract: signals between resources, signal attributes,
dynamic attributes (also from a fresh process), attribute validation, CloudFormation paths,
nested depth, wait conditions, delays and random strings through the engine, groups scaling and
nested stacks updated in place."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
import yaml
from engine_plugins import Thing, hot, make_engine

from kubeheat.engine import (
    Engine,
    FileNativeStore,
    JsonFileStateStore,
    ListEventSink,
    MemoryStateStore,
    StackRequest,
    StackState,
)
from kubeheat.resources import ResourceContext
from kubeheat.resources.heat import autoscaling
from kubeheat.template import TemplateError

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def child_of(store: Any, state: StackState, resource: str) -> StackState:
    (child_id,) = state.resources[resource].nested.values()
    child = store.load(child_id)
    assert child is not None
    return child


# -- signals ------
class Counter(Thing):
    """A Thing whose attribute ``count`` is computed from its data (signals received)."""

    type_name = "Test::Counter"
    attributes: ClassVar[dict[str, Any]] = {**Thing.attributes,
                                            "count": Thing.attributes["label"]}

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        return {**await super().attribute_values(ctx, props),
                "count": len(ctx.data.get("signals", []))}


def test_signal_recomputes_attributes_from_the_new_data() -> None:
    engine, store, events, _native = make_engine()
    engine.registry.register(Counter)
    template = hot({"c": {"type": "Test::Counter", "properties": {"label": "x"}}},
                   outputs={"n": {"get_attr": ["c", "count"]}})

    async def go() -> StackState:
        state = await engine.create(StackRequest("s", template))
        assert state.outputs == {"n": 0}
        await engine.signal(state.id, "c", {"a": 1})
        return await engine.signal(state.id, "c", {"a": 2})

    state = run(go())
    assert state.resources["c"].attributes["count"] == 2
    saved = store.load(state.id)
    assert saved is not None and saved.resources["c"].attributes["count"] == 2
    assert [e.resource_action for e in events.events if e.resource_name == "c"][-2:] == [
        "SIGNAL", "SIGNAL"]


ASG = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "asg": {"type": "OS::Heat::AutoScalingGroup", "properties": {
            "min_size": 1, "max_size": 3, "cooldown": 0,
            "resource": {"type": "OS::Heat::Value", "properties": {
                "value": {"private": "10.0.0.1"}}}}},
        "up": {"type": "OS::Heat::ScalingPolicy", "properties": {
            "auto_scaling_group_id": {"get_resource": "asg"},
            "adjustment_type": "change_in_capacity", "scaling_adjustment": 1}},
        "by_name": {"type": "OS::Heat::ScalingPolicy", "properties": {
            "auto_scaling_group_id": "asg",
            "adjustment_type": "exact_capacity", "scaling_adjustment": 3}},
        "lost": {"type": "OS::Heat::ScalingPolicy", "properties": {
            "auto_scaling_group_id": "nowhere",
            "adjustment_type": "exact_capacity", "scaling_adjustment": 3}},
    },
    "outputs": {"size": {"value": {"get_attr": ["asg", "current_size"]}},
                "private": {"value": {"get_attr": ["asg", "outputs_list", "value",
                                                   "private"]}}},
}


def test_scaling_policy_signals_its_group_through_the_engine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(autoscaling, "clock", lambda: 1_000_000.0)
    store, events = MemoryStateStore(), ListEventSink()
    engine = Engine(store, events)

    async def go() -> StackState:
        state = await engine.create(StackRequest("a", ASG))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        state = await engine.signal(state.id, "up")
        assert state.resources["asg"].attributes["current_size"] == 2
        # the policy's own save did not overwrite the group's data
        saved = store.load(state.id)
        assert saved is not None and len(saved.resources["asg"].data["members"]) == 2
        assert saved.resources["up"].data["last_signal"]["result"] == "scaled"
        # found by logical name too
        state = await engine.signal(state.id, "by_name")
        assert len(child_of(store, state, "asg").resources) == 3
        with pytest.raises(Exception, match='could not find scaling group named "nowhere"'):
            await engine.signal(state.id, "lost")
        return state

    state = run(go())
    signalled = [e.resource_name for e in events.events if e.resource_action == "SIGNAL"]
    assert signalled == ["asg", "up", "asg", "by_name"]
    assert state.resources["asg"].attributes["current_size"] == 3


# -- dynamic attributes ------
GROUP = {
    "heat_template_version": "2018-08-31",
    "parameters": {"count": {"type": "number", "default": 2}},
    "resources": {
        "group": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": {"get_param": "count"},
            "resource_def": {"type": "OS::Heat::Value", "properties": {
                "value": {"private": "10.0.0.%index%", "public": "a-%index%"}}}}},
        "user": {"type": "OS::Heat::Value", "properties": {
            "value": {"get_attr": ["group", "value", "private"]}}},
    },
    "outputs": {
        "private": {"value": {"get_attr": ["group", "value", "private"]}},
        "one": {"value": {"get_attr": ["group", "resource.1.value", "public"]}},
        "by_member": {"value": {"get_attr": ["group", "attributes", "value"]}},
        "user": {"value": {"get_attr": ["user", "value"]}},
    },
}


def test_dynamic_attributes_with_paths_for_outputs_and_dependants() -> None:
    engine, _store, _events, _native = make_engine()
    state = run(engine.create(StackRequest("g", GROUP)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs["private"] == ["10.0.0.0", "10.0.0.1"]
    assert state.outputs["one"] == "a-1"
    assert state.outputs["by_member"] == {"0": {"private": "10.0.0.0", "public": "a-0"},
                                          "1": {"private": "10.0.0.1", "public": "a-1"}}
    assert state.outputs["user"] == ["10.0.0.0", "10.0.0.1"]
    state = run(engine.update(state.id, StackRequest("g", GROUP, parameters={"count": 3})))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.outputs["user"] == ["10.0.0.0", "10.0.0.1", "10.0.0.2"]


def test_dynamic_attributes_after_reloading_the_state(tmp_path: Path) -> None:
    path = tmp_path / "state.json"

    def engine() -> Engine:
        store = JsonFileStateStore(path)
        return Engine(store, ListEventSink(), native=FileNativeStore(store))

    first = engine()
    state = run(first.create(StackRequest("g", GROUP)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    first.close()
    # a fresh process: new store, new engine; the group is left alone, a new dependant and
    # new outputs read its members through the nested stack recorded in the file
    template = json.loads(json.dumps(GROUP))
    template["resources"]["late"] = {"type": "OS::Heat::Value", "properties": {
        "value": {"get_attr": ["group", "value", "public"]}}}
    template["outputs"]["late"] = {"value": {"get_attr": ["late", "value"]}}
    template["outputs"]["refs"] = {"value": {"get_attr": ["group", "refs"]}}
    second = engine()
    plan = run(second.plan(StackRequest("g", template), state.id))
    assert plan.resources["user"].action == "noop"
    state = run(second.update(state.id, StackRequest("g", template)))
    assert state.state == "UPDATE_COMPLETE", state.status_reason
    assert state.outputs["late"] == ["a-0", "a-1"]
    assert state.outputs["private"] == ["10.0.0.0", "10.0.0.1"]
    assert len(state.outputs["refs"]) == 2 and all(state.outputs["refs"])


def test_invalid_dynamic_attribute_fails_the_output_not_the_engine() -> None:
    engine, _store, _events, _native = make_engine()
    template = json.loads(json.dumps(GROUP))
    template["outputs"]["bad"] = {"value": {"get_attr": ["group", "resource.9.value"]}}
    state = run(engine.create(StackRequest("g", template)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs["bad"] is None
    assert "Member '9' not found in group resource 'group'" in state.output_errors["bad"]


# -- attribute validation ------
@pytest.mark.parametrize("where", ["output", "property"])
def test_unknown_attribute_is_refused_at_validation(where: str) -> None:
    engine, store, _events, _native = make_engine()
    resources: dict[str, Any] = {"web": {"type": "OS::Heat::Value",
                                         "properties": {"value": "x"}}}
    outputs: dict[str, Any] = {}
    if where == "output":
        outputs["o"] = {"get_attr": ["web", "foo"]}
    else:
        resources["user"] = {"type": "OS::Heat::Value",
                             "properties": {"value": {"get_attr": ["web", "foo", 0]}}}
    with pytest.raises(TemplateError) as info:
        run(engine.create(StackRequest("v", hot(resources, outputs=outputs))))
    assert info.value.message == "The Referenced Attribute (web foo) is incorrect."
    expected = ("outputs", "o", "value", "get_attr") if where == "output" else (
        "resources", "user", "properties", "value", "get_attr")
    assert tuple(info.value.path) == expected
    assert store.list() == []


def test_attributes_that_are_not_refused() -> None:
    engine, _store, _events, _native = make_engine()
    template = hot({
        "web": {"type": "OS::Heat::Value", "properties": {"value": "x"}},
        "nothing": {"type": "OS::Heat::None"},
        "group": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 1, "resource_def": {"type": "OS::Heat::Value",
                                         "properties": {"value": "m"}}}},
    }, outputs={"show": {"get_attr": ["web", "show"]},
                "any": {"get_attr": ["nothing", "whatever"]},
                "member": {"get_attr": ["group", "value"]},
                "all": {"get_attr": ["web"]}})
    state = run(engine.create(StackRequest("v", template)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs["any"] is None
    assert state.outputs["member"] == ["m"]
    assert state.outputs["show"] is None   # Heat 27.0.1: a Value has no API object to show
    assert state.outputs["all"]["value"] == "x"


def test_show_of_heat_types_is_as_heat_gives_it() -> None:
    # Heat 27.0.1: its own types without an API object show None; a software config shows
    # the stored config (inputs and outputs normalised as Heat stores them)
    engine, _store, _events, _native = make_engine()
    plain = {"none": {"type": "OS::Heat::None"},
             "value": {"type": "OS::Heat::Value", "properties": {"value": "x"}},
             "test": {"type": "OS::Heat::TestResource"},
             "random": {"type": "OS::Heat::RandomString"},
             "delay": {"type": "OS::Heat::Delay", "properties": {"max_jitter": 0}}}
    config = {"type": "OS::Heat::SoftwareConfig", "properties": {
        "group": "script", "config": "echo hi", "options": {"k": "v"},
        "inputs": [{"name": "foo"}, {"name": "bar", "type": "Number", "default": 3,
                                     "description": "d", "replace_on_change": True}],
        "outputs": [{"name": "r"}, {"name": "e", "error_output": True}]}}
    outputs = {name: {"get_attr": [name, "show"]} for name in (*plain, "config")}
    state = run(engine.create(StackRequest("v", hot({**plain, "config": config},
                                                    outputs=outputs))))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert {name: state.outputs[name] for name in plain} == dict.fromkeys(plain)
    shown = state.outputs["config"]
    assert sorted(shown) == ["config", "creation_time", "group", "id", "inputs", "name",
                             "options", "outputs"]
    assert shown["id"] == state.resources["config"].physical_id
    assert (shown["group"], shown["config"], shown["options"]) == ("script", "echo hi",
                                                                   {"k": "v"})
    assert shown["inputs"] == [
        {"default": "", "description": "", "name": "foo", "type": "String"},
        {"default": 3, "description": "d", "name": "bar", "replace_on_change": True,
         "type": "Number"}]
    assert shown["outputs"] == [
        {"description": "", "error_output": False, "name": "r", "type": "String"},
        {"description": "", "error_output": True, "name": "e", "type": "String"}]


# -- CloudFormation ------------------------------------------------------------------------------
CFN = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Greeting": {"Type": "String", "Default": "hello"}},
    "Resources": {
        "First": {"Type": "OS::Heat::Value", "Properties": {"value": {"Ref": "Greeting"}}},
        "Second": {"Type": "OS::Heat::Value", "Properties": {
            "value": {"Fn::Join": [" ", [{"Fn::GetAtt": ["First", "value"]}, "world"]]}}},
        "Third": {"Type": "OS::Heat::Value", "Properties": {
            "value": {"Ref": "Second"}}},
    },
    "Outputs": {
        "Joined": {"Value": {"Fn::GetAtt": ["Second", "value"]}},
        "SecondId": {"Value": {"Ref": "Second"}},
        "Third": {"Value": {"Fn::GetAtt": ["Third", "value"]}},
    },
}


def test_cloudformation_template_through_the_engine() -> None:
    engine, _store, _events, _native = make_engine()

    async def go() -> tuple[StackState, StackState]:
        state = await engine.create(StackRequest("cfn", CFN))
        first = state.copy()
        state = await engine.update(state.id, StackRequest(
            "cfn", CFN, parameters={"Greeting": "bye"}))
        return first, state

    first, second = run(go())
    assert first.state == "CREATE_COMPLETE", first.status_reason
    assert first.outputs["Joined"] == "hello world"
    second_id = first.resources["Second"].physical_id
    assert first.outputs["SecondId"] == second_id
    assert first.outputs["Third"] == second_id
    assert second.state == "UPDATE_COMPLETE", second.status_reason
    assert second.outputs["Joined"] == "bye world"
    assert second.resources["Second"].physical_id == second_id


def test_cloudformation_errors_use_the_template_spelling() -> None:
    engine, _store, _events, _native = make_engine()
    bad_type = json.loads(json.dumps(CFN))
    bad_type["Resources"]["First"]["Type"] = "OS::Nope"
    with pytest.raises(TemplateError) as info:
        run(engine.create(StackRequest("cfn", bad_type)))
    assert tuple(info.value.path) == ("Resources", "First", "Type")
    bad_prop = json.loads(json.dumps(CFN))
    bad_prop["Resources"]["First"]["Properties"]["nope"] = 1
    with pytest.raises(TemplateError) as info:
        run(engine.create(StackRequest("cfn", bad_prop)))
    assert tuple(info.value.path)[:3] == ("Resources", "First", "Properties")
    bad_attr = json.loads(json.dumps(CFN))
    bad_attr["Outputs"]["Joined"]["Value"] = {"Fn::GetAtt": ["Second", "nope"]}
    with pytest.raises(TemplateError, match=r"The Referenced Attribute \(Second nope\)"):
        run(engine.create(StackRequest("cfn", bad_attr)))


# -- nested depth ------
def test_recursive_heat_stack_stops_at_the_nesting_limit() -> None:
    engine, store, _events, _native = make_engine()
    me = yaml.safe_dump({"heat_template_version": "2018-08-31", "resources": {
        "inner": {"type": "OS::Heat::Stack",
                  "properties": {"template": {"get_file": "me.yaml"}}}}})
    state = run(engine.create(StackRequest("deep", yaml.safe_load(me),
                                           files={"me.yaml": me}, disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    assert "RequestLimitExceeded: resources.inner: Recursion depth exceeds 5." in (
        state.status_reason)
    # the top stack and five nested ones, no more
    assert len(store.list()) == 6


def test_recursive_group_of_provider_templates_stops_at_the_nesting_limit() -> None:
    engine, store, _events, _native = make_engine()
    me = yaml.safe_dump({"heat_template_version": "2018-08-31", "resources": {
        "group": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 1, "resource_def": {"type": "me.yaml"}}}}})
    state = run(engine.create(StackRequest("deep", yaml.safe_load(me),
                                           files={"me.yaml": me}, disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    assert "Recursion depth exceeds 5" in state.status_reason
    assert len(store.list()) <= 6


# -- wait conditions, delay, random string ---------------------------------------------------------
WAIT = hot({
    "handle": {"type": "OS::Heat::WaitConditionHandle"},
    "wait": {"type": "OS::Heat::WaitCondition", "properties": {
        "handle": {"get_resource": "handle"}, "timeout": 1, "count": 2}},
    "after": {"type": "OS::Heat::Value", "properties": {
        "value": {"get_attr": ["wait", "data"]}}},
}, outputs={"data": {"get_attr": ["wait", "data"]}})


def test_wait_condition_signalled_through_the_engine() -> None:
    engine, _store, _events, _native = make_engine()

    async def go() -> StackState:
        task = asyncio.create_task(engine.create(StackRequest("w", WAIT)))
        while True:
            await asyncio.sleep(0.01)
            (stack_id,) = list(engine._running) or [None]
            if stack_id is not None:
                state = engine.load(stack_id)
                assert state is not None
                wait = state.resources.get("wait")
                if wait is not None and wait.physical_id is not None:
                    break
        await engine.signal(stack_id, "handle", {"id": "a", "data": "one"})
        await engine.signal(stack_id, "handle", {"id": "b", "data": "two"})
        return await task

    state = run(go())
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert json.loads(state.outputs["data"]) == {"a": "one", "b": "two"}
    assert json.loads(state.resources["after"].properties["value"]) == {"a": "one",
                                                                        "b": "two"}


def test_wait_condition_times_out_through_the_engine() -> None:
    engine, _store, _events, _native = make_engine()

    async def go() -> StackState:
        task = asyncio.create_task(engine.create(StackRequest("w", WAIT,
                                                              disable_rollback=True)))
        while not engine._running:
            await asyncio.sleep(0.01)
        (stack_id,) = list(engine._running)
        while True:
            state = engine.load(stack_id)
            assert state is not None
            if "handle" in state.resources and state.resources["handle"].physical_id:
                break
            await asyncio.sleep(0.01)
        await engine.signal(stack_id, "handle", {"reason": "first"})
        return await task

    state = run(go())
    assert state.state == "CREATE_FAILED"
    wait = state.resources["wait"]
    assert wait.state == "CREATE_FAILED"
    assert wait.status_reason == ("WaitConditionTimeout: resources.wait: 1 of 2 received - "
                                  "first")
    assert "after" not in state.resources or state.resources["after"].physical_id is None


def test_delay_in_a_stack_orders_its_dependants() -> None:
    engine, _store, events, _native = make_engine()
    template = hot({
        "delay": {"type": "OS::Heat::Delay", "properties": {"min_wait": 0.05}},
        "after": {"type": "OS::Heat::Value", "properties": {"value": "x"},
                  "depends_on": "delay"},
    })
    started = time.monotonic()
    state = run(engine.create(StackRequest("d", template)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert time.monotonic() - started >= 0.05
    order = [(e.resource_name, e.resource_status) for e in events.events
             if e.resource_name in ("delay", "after")]
    assert order.index(("delay", "COMPLETE")) < order.index(("after", "IN_PROGRESS"))
    state = run(engine.delete(state.id))
    assert state.state == "DELETE_COMPLETE"


def test_random_string_reference_is_its_value() -> None:
    engine, _store, _events, _native = make_engine()
    template = hot({
        "pw": {"type": "OS::Heat::RandomString", "properties": {"length": 20}},
        "user": {"type": "OS::Heat::Value", "properties": {"value": {"get_resource": "pw"}}},
    }, outputs={"ref": {"get_resource": "pw"}, "value": {"get_attr": ["pw", "value"]},
                "user": {"get_attr": ["user", "value"]}})
    state = run(engine.create(StackRequest("r", template)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    value = state.outputs["value"]
    assert isinstance(value, str) and len(value) == 20
    assert state.outputs["ref"] == value == state.outputs["user"]
    assert state.resources["pw"].physical_id != value


# -- groups and nested stacks updated in place ------
RG = {
    "heat_template_version": "2018-08-31",
    "parameters": {"count": {"type": "number", "default": 3},
                   "remove": {"type": "json", "default": []}},
    "resources": {
        "group": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": {"get_param": "count"},
            "removal_policies": [{"resource_list": {"get_param": "remove"}}],
            "resource_def": {"type": "OS::Heat::Value",
                             "properties": {"value": "m-%index%"}}}},
    },
    "outputs": {"values": {"value": {"get_attr": ["group", "value"]}},
                "removed": {"value": {"get_attr": ["group", "removed_rsrc_list"]}}},
}


def test_resource_group_removal_policies_and_scaling() -> None:
    engine, store, _events, _native = make_engine()

    async def go() -> None:
        state = await engine.create(StackRequest("rg", RG))
        ids = {n: r.physical_id for n, r in child_of(store, state, "group").resources.items()}
        # remove member 0 and scale down to 1 at once: 0 is removed, then the highest go
        state = await engine.update(state.id, StackRequest(
            "rg", RG, parameters={"count": 1, "remove": ["0"]}))
        assert state.state == "UPDATE_COMPLETE", state.status_reason
        child = child_of(store, state, "group")
        assert sorted(child.resources) == ["1"]
        assert child.resources["1"].physical_id == ids["1"]
        assert state.outputs == {"values": ["m-1"], "removed": ["0"]}
        # scale up again: the removed name is never reused
        state = await engine.update(state.id, StackRequest(
            "rg", RG, parameters={"count": 3, "remove": ["0"]}))
        child = child_of(store, state, "group")
        assert sorted(child.resources) == ["1", "2", "3"]
        assert state.outputs["values"] == ["m-1", "m-2", "m-3"]
        # to zero
        state = await engine.update(state.id, StackRequest(
            "rg", RG, parameters={"count": 0, "remove": ["0"]}))
        assert child_of(store, state, "group").resources == {}
        assert state.outputs["values"] == []

    run(go())


PROVIDER = yaml.safe_dump({
    "heat_template_version": "2018-08-31",
    "parameters": {"label": {"type": "string"}},
    "resources": {"a": {"type": "OS::Heat::Value", "properties": {
        "value": {"get_param": "label"}}},
        "b": {"type": "OS::Heat::RandomString"}},
    "outputs": {"label": {"value": {"get_attr": ["a", "value"]}}},
})


def test_nested_stacks_are_updated_in_place() -> None:
    engine, store, _events, _native = make_engine()

    def template(label: str) -> dict[str, Any]:
        return hot({
            "prov": {"type": "child.yaml", "properties": {"label": label}},
            "stk": {"type": "OS::Heat::Stack", "properties": {
                "template": PROVIDER, "parameters": {"label": label}}},
            "grp": {"type": "OS::Heat::ResourceGroup", "properties": {
                "count": 2, "resource_def": {"type": "child.yaml",
                                             "properties": {"label": label}}}},
        }, outputs={"prov": {"get_attr": ["prov", "label"]},
                    "stk": {"get_attr": ["stk", "outputs", "label"]},
                    "grp": {"get_attr": ["grp", "label"]}})

    def physical_ids(state: StackState) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("prov", "stk", "grp"):
            child = child_of(store, state, name)
            out[name] = {n: r.physical_id for n, r in child.resources.items()}
        for member in ("0", "1"):
            nested = child_of(store, child_of(store, state, "grp"), member)
            out[f"grp.{member}"] = {n: r.physical_id for n, r in nested.resources.items()}
        return out

    files = {"child.yaml": PROVIDER}

    async def go() -> None:
        state = await engine.create(StackRequest("n", template("a"), files=files))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        before = physical_ids(state)
        top = {n: r.physical_id for n, r in state.resources.items()}
        state = await engine.update(state.id, StackRequest("n", template("b"), files=files))
        assert state.state == "UPDATE_COMPLETE", state.status_reason
        assert {n: r.physical_id for n, r in state.resources.items()} == top
        assert physical_ids(state) == before
        assert state.outputs == {"prov": "b", "stk": "b", "grp": ["b", "b"]}

    run(go())
