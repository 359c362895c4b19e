"""Physical ids and ``get_resource`` of Heat's own types, as real Heat 27.0.1 gives them.

The expected shapes were read off real Heat (stacks ``helper-f-ids-*`` on the peer, the same
templates as here): Heat names what it makes ``<stack>-<resource>-<short id>`` (12 characters
of base32, ``[a-z2-7]``), shortened to 255 characters by keeping the first two, a hyphen and
the end; nested stacks are named the same way from their parent, so a group's members are
``<parent>-<group>-<short>-<index>-<short>``.

What Heat answered (``get_resource``):

- ``OS::Heat::None``, the software configs (``SoftwareConfig``, ``StructuredConfig``,
  ``CloudConfig``, ``MultipartMime``): a uuid;
- ``OS::Heat::Value``, ``OS::Heat::TestResource``: the physical name;
- ``OS::Heat::RandomString``: the random value (its physical id is the physical name);
- ``OS::Heat::Delay`` (no physical id): the resource's name;
- ``ResourceGroup``, ``ResourceChain``, ``AutoScalingGroup``, ``OS::Heat::Stack``: the nested
  stack's uuid; a provider template resource: the nested stack's ARN
  ``arn:openstack:heat::<project>:stacks/<parent>-<resource>-<short>/<uuid>``;
- members: ``refs`` of a group of TestResource ``<parent>-<group>-<short>-0-<short>``, of a
  chain ``<parent>-<chain>-<short>-0-<short>``, of an AutoScalingGroup
  ``<parent>-<asg>-<short>-<short>-<short>``; inside a provider template or OS::Heat::Stack
  ``<parent>-<resource>-<short>-inner-<short>``; OS::Heat::Stack's ``stack_name``
  ``<parent>-<resource>-<short>``.

``WaitConditionHandle`` and ``ScalingPolicy`` fail on the peer (no Keystone); in Heat their id
is the Keystone user Heat makes for them, whose ids are 32 hex digits.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import yaml
from engine_plugins import bounded, builtin_engine, hot, make_engine

from crash_support import Crash, CrashingStore
from kubeheat.engine import (
    MemoryNativeStore,
    MemoryStateStore,
    StackRequest,
    StackState,
    StateSaveError,
)
from kubeheat.resources import heat_physical_name, short_id
from kubeheat.template import SANDBOX_PROJECT_ID

SHORT = "[a-z2-7]{12}"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
STACK = "fid"

CHILD = yaml.safe_dump({
    "heat_template_version": "2018-08-31",
    "resources": {"inner": {"type": "OS::Heat::TestResource"}},
    "outputs": {"inner_ref": {"value": {"get_resource": "inner"}}}})

#: output -> the shape of Heat's answer (a regex matched against the whole value)
EXPECTED: dict[str, str] = {
    "none": UUID,
    "value": f"{STACK}-value-{SHORT}",
    "test": f"{STACK}-test-{SHORT}",
    "rand": "[A-Za-z0-9]{32}",
    "delay": "delay",
    "sc": UUID,
    "stc": UUID,
    "cc": UUID,
    "mm": UUID,
    "group": UUID,
    "chain": UUID,
    "asg": UUID,
    "nested": UUID,
    # the project part is the stack's project (the sandbox's, as no cloud is given here)
    "prov": f"arn:openstack:heat::{SANDBOX_PROJECT_ID}:stacks/{STACK}-prov-{SHORT}/{UUID}",
    "prov_inner": f"{STACK}-prov-{SHORT}-inner-{SHORT}",
    "nested_inner": f"{STACK}-nested-{SHORT}-inner-{SHORT}",
    "nested_name": f"{STACK}-nested-{SHORT}",
    # not checked on the peer (it has no Keystone, both types fail there): Heat's id is the
    # id of the Keystone user it makes for the resource, 32 hex digits
    "handle": "[0-9a-f]{32}",
    "policy": "[0-9a-f]{32}",
}
#: list outputs -> the shape of each item
EXPECTED_LISTS: dict[str, str] = {
    "group_refs": f"{STACK}-group-{SHORT}-[01]-{SHORT}",
    "vgroup_refs": f"{STACK}-vgroup-{SHORT}-0-{SHORT}",
    "none_group_refs": UUID,
    "chain_refs": f"{STACK}-chain-{SHORT}-0-{SHORT}",
    "asg_refs": f"{STACK}-asg-{SHORT}-{SHORT}-{SHORT}",
}


def template() -> dict[str, Any]:
    resources: dict[str, Any] = {
        "none": {"type": "OS::Heat::None"},
        "value": {"type": "OS::Heat::Value", "properties": {"value": "hello"}},
        "test": {"type": "OS::Heat::TestResource", "properties": {"value": "tv"}},
        "rand": {"type": "OS::Heat::RandomString"},
        "delay": {"type": "OS::Heat::Delay", "properties": {"min_wait": 0, "max_jitter": 0}},
        "sc": {"type": "OS::Heat::SoftwareConfig", "properties": {"config": "echo hi"}},
        "stc": {"type": "OS::Heat::StructuredConfig", "properties": {"config": {"a": 1}}},
        "cc": {"type": "OS::Heat::CloudConfig", "properties": {"cloud_config": {"a": 1}}},
        "mm": {"type": "OS::Heat::MultipartMime",
               "properties": {"parts": [{"config": {"get_resource": "sc"}}]}},
        "group": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 2, "resource_def": {"type": "OS::Heat::TestResource"}}},
        "vgroup": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 1, "resource_def": {"type": "OS::Heat::Value",
                                         "properties": {"value": "x"}}}},
        "ngroup": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 2, "resource_def": {"type": "OS::Heat::None"}}},
        "chain": {"type": "OS::Heat::ResourceChain",
                  "properties": {"resources": ["OS::Heat::TestResource"]}},
        "asg": {"type": "OS::Heat::AutoScalingGroup", "properties": {
            "min_size": 1, "max_size": 2, "resource": {"type": "OS::Heat::TestResource"}}},
        "handle": {"type": "OS::Heat::WaitConditionHandle"},
        "policy": {"type": "OS::Heat::ScalingPolicy", "properties": {
            "adjustment_type": "change_in_capacity", "scaling_adjustment": 1,
            "auto_scaling_group_id": {"get_resource": "asg"}}},
        "prov": {"type": "child.yaml"},
        "nested": {"type": "OS::Heat::Stack",
                   "properties": {"template": {"get_file": "child.yaml"}}},
    }
    outputs: dict[str, Any] = {name: {"get_resource": name} for name in EXPECTED
                               if name in resources}
    outputs.update({
        "prov_inner": {"get_attr": ["prov", "inner_ref"]},
        "nested_inner": {"get_attr": ["nested", "outputs", "inner_ref"]},
        "nested_name": {"get_attr": ["nested", "stack_name"]},
        "group_refs": {"get_attr": ["group", "refs"]},
        "vgroup_refs": {"get_attr": ["vgroup", "refs"]},
        "none_group_refs": {"get_attr": ["ngroup", "refs"]},
        "chain_refs": {"get_attr": ["chain", "refs"]},
        "asg_refs": {"get_attr": ["asg", "refs"]},
        "rand_value": {"get_attr": ["rand", "value"]},
    })
    return hot(resources, outputs=outputs)


def run(name: str = STACK) -> StackState:
    engine, _, _ = builtin_engine()

    async def go() -> StackState:
        return await bounded(engine.create(StackRequest(name, template(),
                                                        files={"child.yaml": CHILD})))

    return asyncio.run(go())


def test_get_resource_of_heat_types_has_heats_shape() -> None:
    stack = run()
    assert stack.state == "CREATE_COMPLETE", stack.status_reason
    out = stack.outputs
    for name, shape in EXPECTED.items():
        assert isinstance(out[name], str) and re.fullmatch(shape, out[name]), (name, out[name])
    for name, shape in EXPECTED_LISTS.items():
        assert out[name], name
        for item in out[name]:
            assert isinstance(item, str) and re.fullmatch(shape, item), (name, item)
    # RandomString: get_resource is the value; its physical id is the physical name
    assert out["rand"] == out["rand_value"]
    assert re.fullmatch(f"{STACK}-rand-{SHORT}", stack.resources["rand"].physical_id or "")
    # Value and TestResource: the physical id is what get_resource gives
    assert stack.resources["value"].physical_id == out["value"]
    assert stack.resources["test"].physical_id == out["test"]
    # OS::Heat::Stack's stack_name attribute names the stack its resources live in
    assert out["nested_inner"].startswith(out["nested_name"] + "-inner-")
    # the inner resource of the provider template lives in the stack the ARN names
    arn_stack = out["prov"].split("/")[1]
    assert out["prov_inner"].startswith(f"{arn_stack}-inner-")
    assert out["prov"].endswith("/" + (stack.resources["prov"].physical_id or ""))


def test_short_ids_differ_between_stacks() -> None:
    first, second = run(), run()
    assert first.outputs["test"] != second.outputs["test"]


def test_physical_name_is_shortened_as_heat_does() -> None:
    # Heat, a TestResource with a very long name in stack helper-f-ids-c: 255 characters,
    # "he-" then the end of "<stack>-<resource>-<short id>"
    long_name = "a_very_long_resource_name" + "_and_on" * 33
    name = heat_physical_name("helper-f-ids-c", long_name, "2lmdnqi7anlx")
    full = f"helper-f-ids-c-{long_name}-2lmdnqi7anlx"
    assert len(name) == 255 and name == "he-" + full[-252:]
    assert name.endswith("-2lmdnqi7anlx")
    assert heat_physical_name("s", "r", "abcdefghijkl") == "s-r-abcdefghijkl"


def test_short_id_is_base32_and_stable_for_a_uuid() -> None:
    sid = "762f0dce-2a57-4945-a09b-60d412f3e71c"
    assert short_id(sid) == short_id(sid)
    assert re.fullmatch(SHORT, short_id(sid)) and re.fullmatch(SHORT, short_id())


NAMED = {"value": "OS::Heat::Value", "test": "OS::Heat::TestResource",
         "rand": "OS::Heat::RandomString"}


def named_template() -> dict[str, Any]:
    res: dict[str, Any] = {"value": {"type": "OS::Heat::Value", "properties": {"value": 1}},
                           "test": {"type": "OS::Heat::TestResource"},
                           "rand": {"type": "OS::Heat::RandomString"}}
    return hot(res, outputs={n: {"get_resource": n} for n in res})


def test_named_records_made_before_a_crash_are_adopted_with_their_ids() -> None:
    doc = named_template()
    adopted = 0
    for limit in range(1, 12):
        inner, native = MemoryStateStore(), MemoryNativeStore()
        store = CrashingStore(inner, limit)
        engine, *_ = make_engine(store=store, native=native)
        sid = "0b7d6c8e-0000-4000-8000-0000000000f1"
        made: dict[str, list[str]] = {}
        try:
            asyncio.run(engine.create(StackRequest("crashy", doc), sid))
        except (Crash, StateSaveError, asyncio.CancelledError):
            made = {n: list(native.records.get(t, {})) for n, t in NAMED.items()}
        else:
            break
        engine2, *_ = make_engine(store=inner, native=native)
        state = asyncio.run(engine2.apply(StackRequest("crashy", doc), sid))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        for name, kind in NAMED.items():
            ids = list(native.records.get(kind, {}))
            assert len(ids) == 1, (limit, name, ids)
            assert re.fullmatch(f"crashy-{name}-{SHORT}", ids[0])
            assert state.resources[name].physical_id == ids[0]
            if made[name]:  # made before the crash: adopted, not made again
                assert made[name] == ids
                adopted += 1
    assert adopted > 0


@pytest.mark.parametrize("kind", sorted(NAMED.values()))
def test_a_record_with_a_uuid_id_is_still_read(kind: str) -> None:
    """Records of kubeheat 0.1.0 have uuid ids; the store finds and updates them by id."""
    native = MemoryNativeStore()
    old = native.put(kind, {"k": "v"}, {"value": 1})
    assert re.fullmatch(UUID, old) and native.find(kind, {"k": "v"}) == [old]
    named = native.put(kind, {"k": "v"}, {"value": 2}, "s-r-abcdefghijkl")
    assert native.find(kind, {"k": "v"}) == sorted([old, named])
    with pytest.raises(KeyError):
        native.put(kind, {}, {}, named)
