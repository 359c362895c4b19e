"""ResourceGroup, ResourceChain, OS::Heat::Stack and AutoScalingGroup + ScalingPolicy end to end
through the engine (in memory): scaling with removal policies, nested stacks updated in place,
chain ordering, nested outputs through get_attr and scaling policies honouring cooldown and the
group's bounds."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from kubeheat.engine import Engine, ListEventSink, MemoryStateStore, StackRequest, StackState
from kubeheat.resources.heat import autoscaling

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def make_engine() -> tuple[Engine, MemoryStateStore, ListEventSink]:
    store, events = MemoryStateStore(), ListEventSink()
    return Engine(store, events), store, events


def child_of(store: MemoryStateStore, state: StackState, resource: str) -> StackState:
    rec = state.resources[resource]
    (child_id,) = rec.nested.values()
    child = store.load(child_id)
    assert child is not None
    return child


GROUP = {
    "heat_template_version": "2018-08-31",
    "parameters": {"count": {"type": "number", "default": 3},
                   "remove": {"type": "json", "default": []},
                   "value": {"type": "string", "default": "v"}},
    "resources": {
        "group": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": {"get_param": "count"},
            "removal_policies": [{"resource_list": {"get_param": "remove"}}],
            "resource_def": {"type": "OS::Heat::TestResource", "properties": {
                "value": {"list_join": ["-", [{"get_param": "value"}, "%index%"]]}}}}},
    },
    "outputs": {
        "refs": {"value": {"get_attr": ["group", "refs"]}},
        "refs_map": {"value": {"get_attr": ["group", "refs_map"]}},
        "first": {"value": {"get_attr": ["group", "resource.0.output"]}},
        "first_ref": {"value": {"get_attr": ["group", "resource.0"]}},
        "outputs": {"value": {"get_attr": ["group", "output"]}},
        "by_name": {"value": {"get_attr": ["group", "attributes", "output"]}},
        "removed": {"value": {"get_attr": ["group", "removed_rsrc_list"]}},
    },
}


def test_resource_group_scales_with_removal_policies_in_place() -> None:
    engine, store, _events = make_engine()

    async def scenario() -> None:
        state = await engine.create(StackRequest(name="s", template=GROUP))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        group_id = state.resources["group"].physical_id
        child = child_of(store, state, "group")
        assert sorted(child.resources) == ["0", "1", "2"]
        ids = {n: r.physical_id for n, r in child.resources.items()}
        assert state.outputs["outputs"] == ["v-0", "v-1", "v-2"]
        assert state.outputs["first"] == "v-0"
        assert state.outputs["by_name"] == {"0": "v-0", "1": "v-1", "2": "v-2"}
        assert state.outputs["refs"] == [ids["0"], ids["1"], ids["2"]]
        assert state.outputs["refs_map"] == ids
        assert state.outputs["first_ref"] == ids["0"]

        # scale up: members 0-2 untouched, the group and its nested stack updated in place
        state = await engine.update(state.id, StackRequest(name="s", template=GROUP,
                                                           parameters={"count": 5}))
        assert state.state == "UPDATE_COMPLETE", state.status_reason
        assert state.resources["group"].physical_id == group_id
        child = child_of(store, state, "group")
        assert child.id == group_id
        assert sorted(child.resources) == ["0", "1", "2", "3", "4"]
        assert all(child.resources[n].physical_id == ids[n] for n in ids)

        # removal policy: member 1 goes although the count stays; its name is retired
        state = await engine.update(state.id, StackRequest(
            name="s", template=GROUP, parameters={"count": 5, "remove": ["1"]}))
        assert state.state == "UPDATE_COMPLETE", state.status_reason
        child = child_of(store, state, "group")
        assert sorted(child.resources) == ["0", "2", "3", "4", "5"]
        assert state.outputs["removed"] == ["1"]
        assert state.outputs["outputs"] == ["v-0", "v-2", "v-3", "v-4", "v-5"]

        # by reference id, then scale down: the highest indexes go
        ref_of_3 = child.resources["3"].physical_id
        state = await engine.update(state.id, StackRequest(
            name="s", template=GROUP, parameters={"count": 2, "remove": [ref_of_3]}))
        assert state.state == "UPDATE_COMPLETE", state.status_reason
        child = child_of(store, state, "group")
        assert sorted(child.resources) == ["0", "2"]
        assert state.outputs["removed"] == ["1", "3"]

        # a changed resource_def updates the members in place
        state = await engine.update(state.id, StackRequest(
            name="s", template=GROUP, parameters={"count": 2, "value": "w"}))
        child = child_of(store, state, "group")
        assert child.resources["0"].physical_id == ids["0"]
        assert state.outputs["outputs"] == ["w-0", "w-2"]

        state = await engine.delete(state.id)
        assert state.state == "DELETE_COMPLETE"
        assert store.list() == []

    run(scenario())


CHAIN = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "chain": {"type": "OS::Heat::ResourceChain", "properties": {
            "resources": ["OS::Heat::TestResource"] * 3,
            "resource_properties": {"value": "x", "action_wait_secs": {"create": 0.01}}}},
    },
    "outputs": {"refs": {"value": {"get_attr": ["chain", "refs"]}},
                "values": {"value": {"get_attr": ["chain", "output"]}}},
}


def test_resource_chain_creates_in_order() -> None:
    engine, store, events = make_engine()

    async def scenario() -> None:
        state = await engine.create(StackRequest(name="c", template=CHAIN))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        child = child_of(store, state, "chain")
        mine = [e for e in events.events if e.stack_id == child.id
                and e.resource_name in {"0", "1", "2"} and e.resource_action == "CREATE"]
        order = [(e.resource_name, e.resource_status) for e in mine]
        assert order == [("0", "IN_PROGRESS"), ("0", "COMPLETE"), ("1", "IN_PROGRESS"),
                         ("1", "COMPLETE"), ("2", "IN_PROGRESS"), ("2", "COMPLETE")]
        assert state.outputs["values"] == ["x", "x", "x"]
        assert state.outputs["refs"] == [child.resources[n].physical_id for n in "012"]

    run(scenario())


INNER = """
heat_template_version: 2018-08-31
parameters:
  name: {type: string}
resources:
  v: {type: OS::Heat::Value, properties: {value: {str_replace: {template: hello N,
                                                                params: {N: {get_param: name}}}}}}
outputs:
  greeting: {value: {get_attr: [v, value]}}
"""

STACK = {
    "heat_template_version": "2018-08-31",
    "parameters": {"name": {"type": "string", "default": "world"}},
    "resources": {
        "inner": {"type": "OS::Heat::Stack", "properties": {
            "template": INNER, "parameters": {"name": {"get_param": "name"}}}},
        "user": {"type": "OS::Heat::Value", "properties": {
            "value": {"get_attr": ["inner", "outputs", "greeting"]}}},
    },
    "outputs": {
        "via_outputs": {"value": {"get_attr": ["inner", "outputs", "greeting"]}},
        "by_name": {"value": {"get_attr": ["inner", "greeting"]}},
        "user": {"value": {"get_attr": ["user", "value"]}},
        "stack_name": {"value": {"get_attr": ["inner", "stack_name"]}},
    },
}


def test_heat_stack_outputs_and_update_in_place() -> None:
    engine, store, _events = make_engine()

    async def scenario() -> None:
        state = await engine.create(StackRequest(name="top", template=STACK))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        assert state.outputs["via_outputs"] == "hello world"
        assert state.outputs["by_name"] == "hello world"
        assert state.outputs["user"] == "hello world"
        assert state.outputs["stack_name"].startswith("top-inner-")
        inner_id = state.resources["inner"].physical_id
        value_id = child_of(store, state, "inner").resources["v"].physical_id

        state = await engine.update(state.id, StackRequest(name="top", template=STACK,
                                                           parameters={"name": "there"}))
        assert state.state == "UPDATE_COMPLETE", state.status_reason
        assert state.resources["inner"].physical_id == inner_id
        assert child_of(store, state, "inner").resources["v"].physical_id == value_id
        assert state.outputs["by_name"] == "hello there"
        assert state.outputs["user"] == "hello there"

    run(scenario())


def test_heat_stack_runs_in_its_region() -> None:
    engine, _store, _events = make_engine()
    template = {"heat_template_version": "2018-08-31", "resources": {
        "inner": {"type": "OS::Heat::Stack", "properties": {
            "template": INNER, "parameters": {"name": "x"},
            "context": {"region_name": "RegionTwo"}}}}}

    async def scenario() -> StackState:
        return await engine.create(StackRequest(name="r", template=template,
                                                disable_rollback=True))

    state = run(scenario())
    assert state.state == "CREATE_COMPLETE", state.status_reason
    # no cloud to ask which regions exist: the child is recorded in the region it names
    assert child_of(_store, state, "inner").region == "RegionTwo"


# -- AutoScalingGroup + ScalingPolicy ----------------------------------------------------------
ASG = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "asg": {"type": "OS::Heat::AutoScalingGroup", "properties": {
            "min_size": 1, "max_size": 3, "cooldown": 0,
            "resource": {"type": "OS::Heat::TestResource", "properties": {"value": "m"}}}},
        "up": {"type": "OS::Heat::ScalingPolicy", "properties": {
            "auto_scaling_group_id": {"get_resource": "asg"}, "cooldown": 60,
            "adjustment_type": "change_in_capacity", "scaling_adjustment": 1}},
        "down": {"type": "OS::Heat::ScalingPolicy", "properties": {
            "auto_scaling_group_id": {"get_resource": "asg"},
            "adjustment_type": "percent_change_in_capacity", "scaling_adjustment": -100}},
    },
    "outputs": {"size": {"value": {"get_attr": ["asg", "current_size"]}},
                "values": {"value": {"get_attr": ["asg", "outputs_list", "output"]}},
                "url": {"value": {"get_attr": ["up", "signal_url"]}}},
}


def test_scaling_policies_honour_cooldown_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(autoscaling, "clock", lambda: now[0])
    engine, store, _events = make_engine()

    def size(state: StackState) -> int:
        return len(child_of(store, state, "asg").resources)

    async def scenario() -> None:
        state = await engine.create(StackRequest(name="a", template=ASG))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        assert state.outputs["size"] == 1
        assert state.outputs["values"] == ["m"]
        assert state.outputs["url"].endswith("/resources/up/signal")

        state = await engine.signal(state.id, "up")
        assert size(state) == 2
        assert state.resources["asg"].attributes["current_size"] == 2
        # inside the policy's cooldown: ignored, with Heat's words
        now[0] += 30
        state = await engine.signal(state.id, "up")
        assert size(state) == 2
        assert state.resources["up"].data["last_signal"]["reason"] == (
            "The resource up could not perform scaling action: due to cooldown, cooldown 60")
        now[0] += 31
        state = await engine.signal(state.id, "up")
        assert size(state) == 3
        now[0] += 61
        state = await engine.signal(state.id, "up")
        assert size(state) == 3          # max_size
        # the other policy has no cooldown of its own; the group's took the "up" policy's 60 s
        now[0] += 61
        state = await engine.signal(state.id, "down")
        assert size(state) == 1          # min_size
        state = await engine.signal(state.id, "down")
        assert size(state) == 1
        assert "no change in capacity" in state.resources["down"].data["last_signal"]["reason"]

        # an update to the stack keeps the scaled size (no desired_capacity)
        now[0] += 100
        state = await engine.signal(state.id, "up")
        assert size(state) == 2
        template = {**ASG, "resources": {**ASG["resources"]}}
        asg = dict(template["resources"]["asg"])
        asg["properties"] = {**asg["properties"], "max_size": 4}
        template["resources"]["asg"] = asg
        state = await engine.update(state.id, StackRequest(name="a", template=template))
        assert state.state == "UPDATE_COMPLETE", state.status_reason
        assert size(state) == 2
        assert state.outputs["size"] == 2

    run(scenario())
