"""``resource_facade`` in a provider template: the facade resource's own sections.

Every expected value and message here is what real Heat 27.0.1 gave for the same templates
(checked side by side on a running Heat): unset sections give ``"Delete"`` and ``{}``, set ones
their value (functions in them resolved in the parent), and a template resource refuses any
``update_policy`` key (its update policy schema is empty).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml
from engine_plugins import builtin_engine, hot

from kubeheat.engine import StackRequest
from kubeheat.template import TemplateError

CHILD = yaml.safe_dump({
    "heat_template_version": "2021-04-16",
    "resources": {"r": {"type": "OS::Heat::None"}},
    "outputs": {"md": {"value": {"resource_facade": "metadata"}},
                "dp": {"value": {"resource_facade": "deletion_policy"}},
                "up": {"value": {"resource_facade": "update_policy"}}},
})


def _create(resources: dict[str, Any], outputs: dict[str, Any]) -> Any:
    engine, _store, _native = builtin_engine()
    request = StackRequest("f-small-facade", hot(resources, outputs),
                           files={"child.yaml": CHILD})
    return asyncio.run(engine.create(request))


def _outputs_of(*names: str) -> dict[str, Any]:
    return {f"{n}_{o}": {"get_attr": [n, o]} for n in names for o in ("md", "dp", "up")}


def test_facade_sections_unset_and_set() -> None:
    state = _create({
        "bare": {"type": "child.yaml"},
        "full": {"type": "child.yaml", "deletion_policy": "Retain",
                 "metadata": {"k": "v", "n": 1}, "update_policy": {}},
    }, _outputs_of("bare", "full"))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs == {
        "bare_md": {}, "bare_dp": "Delete", "bare_up": {},
        "full_md": {"k": "v", "n": 1}, "full_dp": "Retain", "full_up": {},
    }


@pytest.mark.parametrize("policy", ["Delete", "Retain", "Snapshot"])
def test_facade_deletion_policy_is_the_resources(policy: str) -> None:
    state = _create({"c": {"type": "child.yaml", "deletion_policy": policy}},
                    {"dp": {"get_attr": ["c", "dp"]}})
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs == {"dp": policy}


def test_facade_metadata_with_functions_and_resources_of_the_parent() -> None:
    state = _create({
        "v": {"type": "OS::Heat::Value", "properties": {"value": "x"}},
        "c": {"type": "child.yaml",
              "metadata": {"name": {"get_param": "OS::stack_name"},
                           "v": {"get_attr": ["v", "value"]}}},
    }, {"md": {"get_attr": ["c", "md"]}})
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs == {"md": {"name": "f-small-facade", "v": "x"}}


def test_template_resource_refuses_update_policy_keys() -> None:
    with pytest.raises(TemplateError) as err:
        _create({"full": {"type": "child.yaml", "update_policy": {"batch": 2}}}, {})
    # Heat 27.0.1: "Property error: resources.full.update_policy: Unknown Property batch"
    assert str(err.value).endswith("resources.full.update_policy: Unknown Property batch")


def test_facade_argument_must_be_a_known_section() -> None:
    bad = yaml.safe_dump({"heat_template_version": "2021-04-16",
                          "resources": {"r": {"type": "OS::Heat::None"}},
                          "outputs": {"md": {"value": {"resource_facade": "properties"}}}})
    engine, _store, _native = builtin_engine()
    request = StackRequest("f-small-facade", hot({"r": {"type": "child2.yaml"}}),
                           files={"child2.yaml": bad})
    with pytest.raises(TemplateError) as err:
        asyncio.run(engine.create(request))
    # Heat 27.0.1: resources.r<file:///.../child2.yaml>.outputs.md.value.resource_facade: ...
    assert str(err.value).endswith(
        'outputs.md.value.resource_facade: Incorrect arguments to "resource_facade" should be '
        "one of: metadata, deletion_policy, update_policy")
    assert str(err.value).startswith("resources.r")


CFN_CHILD = yaml.safe_dump({
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {"r": {"Type": "OS::Heat::None"}},
    "Outputs": {"Policy": {"Value": {"Fn::ResourceFacade": "UpdatePolicy"}},
                "Deletion": {"Value": {"Fn::ResourceFacade": "DeletionPolicy"}},
                "Meta": {"Value": {"Fn::ResourceFacade": "Metadata"}}},
})


def test_cfn_facade_unset_and_set() -> None:
    engine, _store, _native = builtin_engine()
    parent = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "inner": {"Type": "My::Child", "DeletionPolicy": "Retain",
                      "Metadata": {"Name": {"Ref": "AWS::StackName"}}},
            "bare": {"Type": "My::Child"}},
        "Outputs": {f"{p}{o[0]}": {"Value": {"Fn::GetAtt": [r, o]}}
                    for p, r in (("", "inner"), ("B", "bare"))
                    for o in ("Policy", "Deletion", "Meta")},
    }
    env = {"resource_registry": {"My::Child": "cfnchild.yaml"}}
    request = StackRequest("f-small-cfnf3", parent, files={"cfnchild.yaml": CFN_CHILD},
                           environments=[env])
    state = asyncio.run(engine.create(request))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs == {"P": {}, "D": "Retain", "M": {"Name": "f-small-cfnf3"},
                             "BP": {}, "BD": "Delete", "BM": {}}


def test_facade_in_an_os_heat_stack_child_has_no_value() -> None:
    # OS::Heat::Stack's child is a stack of its own, not a facade of the resource: Heat 27.0.1
    # gives null for each resource_facade output (an output error in the child)
    state = _create({"s": {"type": "OS::Heat::Stack", "metadata": {"k": "v"},
                           "deletion_policy": "Retain",
                           "properties": {"template": CHILD}}},
                    {"o": {"get_attr": ["s", "outputs"]}})
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs == {"o": {"md": None, "dp": None, "up": None}}


def test_facade_outside_a_provider_template_is_an_output_error() -> None:
    # Heat 27.0.1: CREATE_COMPLETE, the output null with an error (its message is an internal
    # one, "'NoneType' object has no attribute 'metadata_get'"; kubeheat's says what is wrong)
    engine, _store, _native = builtin_engine()
    template = hot({"r": {"type": "OS::Heat::None"}}, {"md": {"resource_facade": "metadata"}})
    state = asyncio.run(engine.create(StackRequest("f-small-top", template)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs == {"md": None}
    assert "only available in a template used as a provider" in state.output_errors["md"]


def _update(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    engine, _store, _native = builtin_engine()
    outputs = {"dp": {"get_attr": ["c", "dp"]}, "md": {"get_attr": ["c", "md"]}}

    async def go() -> dict[str, Any]:
        files = {"child.yaml": CHILD}
        state = await engine.create(StackRequest("f-small-up", hot({"c": before}, outputs),
                                                 files=files))
        assert state.state == "CREATE_COMPLETE", state.status_reason
        state = await engine.update(state.id, StackRequest("f-small-up", hot({"c": after},
                                                                             outputs),
                                                           files=files))
        assert state.state == "UPDATE_COMPLETE", state.status_reason
        return dict(state.outputs)

    return asyncio.run(go())


BEFORE = {"type": "child.yaml", "metadata": {"k": "a"}}


def test_an_update_of_the_deletion_policy_alone_reaches_the_facade() -> None:
    # Heat 27.0.1: {'dp': 'Retain', 'md': {'k': 'a'}}
    assert _update(BEFORE, {**BEFORE, "deletion_policy": "Retain"}) == {
        "dp": "Retain", "md": {"k": "a"}}


def test_an_update_of_the_metadata_reaches_the_facade() -> None:
    # Heat 27.0.1 still gives the old metadata ({'k': 'a'}) right after this update (its
    # nested stack is updated before the parent resource's new metadata is stored);
    # kubeheat gives the new one (docs/migration.md)
    assert _update(BEFORE, {**BEFORE, "metadata": {"k": "b"}}) == {
        "dp": "Delete", "md": {"k": "b"}}
    # Heat 27.0.1 for both at once: {'dp': 'Retain', 'md': {'k': 'a'}}
    assert _update(BEFORE, {**BEFORE, "metadata": {"k": "b"}, "deletion_policy": "Retain"}) == {
        "dp": "Retain", "md": {"k": "b"}}
