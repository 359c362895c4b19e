"""Heat's max_resources_per_stack (1000) holds the members of the group types before any
member template is built (review H7): ``count: 10000000`` took 8 GB and never failed. The
count is checked when the stack is validated (a literal, a parameter), and, when it comes from
a resource (known only while creating), by the group before it builds its child; both count in
the total over the tree of nested stacks, as Heat's ``total_resources``. The wording is
Heat's (``Maximum resources per stack exceeded.``, a ``RequestLimitExceeded``), at the
group's path.

Every operation is bounded by a guard, so a hang fails the test instead of stalling it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from engine_plugins import bounded

from kubeheat.engine import (
    Engine,
    ListEventSink,
    MemoryNativeStore,
    MemoryStateStore,
    StackRequest,
    StackState,
)
from kubeheat.template import TemplateLimitError

HUGE = 10_000_000
FAILED_REASON = "RequestLimitExceeded: resources.g: Maximum resources per stack exceeded."


def _create(template: dict[str, Any], **kw: Any) -> tuple[StackState, MemoryNativeStore]:
    native = MemoryNativeStore()
    engine = Engine(MemoryStateStore(), ListEventSink(), native=native)

    async def go() -> StackState:
        return await bounded(engine.create(StackRequest("s", template, **kw)))

    try:
        return asyncio.run(go()), native
    finally:
        engine.close()


def _hot(resources: dict[str, Any], parameters: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    return {"heat_template_version": "2018-08-31", "parameters": parameters or {},
            "resources": resources}


def _group(count: Any) -> dict[str, Any]:
    return {"type": "OS::Heat::ResourceGroup",
            "properties": {"count": count, "resource_def": {"type": "OS::Heat::None"}}}


def _refused(template: dict[str, Any], **kw: Any) -> str:
    with pytest.raises(TemplateLimitError) as exc:
        _create(template, **kw)
    assert exc.value.code == "RequestLimitExceeded"
    return str(exc.value)


def test_a_huge_literal_count_is_refused_before_anything_is_built() -> None:
    assert _refused(_hot({"g": _group(HUGE)})) == (
        "resources.g: Maximum resources per stack exceeded.")


def test_a_huge_count_from_a_parameter_is_refused_too() -> None:
    template = _hot({"g": _group({"get_param": "n"})}, {"n": {"type": "number"}})
    assert _refused(template, parameters={"n": HUGE}) == (
        "resources.g: Maximum resources per stack exceeded.")


def test_a_count_known_only_while_creating_fails_the_group_before_it_builds() -> None:
    template = _hot({"v": {"type": "OS::Heat::Value", "properties": {"value": HUGE}},
                     "g": _group({"get_attr": ["v", "value"]})})
    state, _native = _create(template, disable_rollback=True)
    assert state.state == "CREATE_FAILED"
    assert state.status_reason == f"Resource CREATE failed: {FAILED_REASON}"
    assert state.resources["g"].status_reason == FAILED_REASON
    assert state.resources["g"].nested == {}          # no child stack was made


def test_groups_add_up_over_the_tree() -> None:
    # two groups of 600: each within the limit, together over it
    message = _refused(_hot({"a": _group(600), "g": _group(600)}))
    assert message.endswith(": Maximum resources per stack exceeded.")
    assert message.split(":")[0] in ("resources.a", "resources.g")


def test_a_group_in_a_provider_template_counts_in_the_tree() -> None:
    files = {"inner.yaml": "heat_template_version: 2018-08-31\nresources:\n"
                           "  g: {type: OS::Heat::ResourceGroup, properties: "
                           "{count: 1000, resource_def: {type: OS::Heat::None}}}\n"}
    # the provider's own resource (g) and its 1000 members: 1001 below the root
    message = _refused(_hot({"p": {"type": "inner.yaml"}}), files=files)
    assert message == ("resources.p.type.inner.yaml.resources.g: Maximum resources per stack "
                       "exceeded.")


def test_autoscaling_group_and_resource_chain_sizes_are_held_too() -> None:
    asg = {"type": "OS::Heat::AutoScalingGroup",
           "properties": {"min_size": 1, "max_size": HUGE, "desired_capacity": HUGE,
                          "resource": {"type": "OS::Heat::None"}}}
    assert _refused(_hot({"g": asg})) == "resources.g: Maximum resources per stack exceeded."
    asg["properties"] = {"min_size": 5000, "max_size": HUGE,
                         "resource": {"type": "OS::Heat::None"}}
    assert _refused(_hot({"g": asg})) == "resources.g: Maximum resources per stack exceeded."
    chain = {"type": "OS::Heat::ResourceChain",
             "properties": {"resources": {"get_param": "types"}}}
    template = _hot({"g": chain}, {"types": {"type": "comma_delimited_list"}})
    assert _refused(template, parameters={"types": ",".join(["OS::Heat::None"] * 1001)}) == (
        "resources.g: Maximum resources per stack exceeded.")


def test_an_autoscaling_group_with_a_large_max_size_is_created_at_its_capacity() -> None:
    asg = {"type": "OS::Heat::AutoScalingGroup",
           "properties": {"min_size": 1, "max_size": HUGE, "desired_capacity": 2,
                          "resource": {"type": "OS::Heat::None"}}}
    state, _native = _create(_hot({"g": asg}))
    assert state.state == "CREATE_COMPLETE", state.status_reason


def test_a_group_within_the_limit_is_created() -> None:
    state, _native = _create(_hot({"g": _group(20)}))
    assert state.state == "CREATE_COMPLETE", state.status_reason
