"""Member attributes of groups and provider templates, and their errors, as Heat 27.0.1 gives them.

Every expected value and message here is what real Heat 27.0.1 answered for the same templates
(recorded side by side on a running Heat; the differential cases ``groups_*`` and ``nested_*``
hold most of them too). What the differential table does not compare is checked here: the text
of failing outputs, a ResourceChain of provider templates (the CLI does not collect the chain's
template names into the files map), and member names after group updates (the Heat peer fails
the outputs after such updates; the names follow Heat's ``resource_group.py``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import yaml
from engine_plugins import builtin_engine

from kubeheat.engine import StackRequest

HOT = "2018-08-31"


def _tpl(resources: dict[str, Any], outputs: dict[str, Any],
         parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": HOT, "resources": resources,
                           "outputs": {k: {"value": v} for k, v in outputs.items()}}
    if parameters:
        doc["parameters"] = parameters
    return doc


def _child(doc: dict[str, Any]) -> str:
    return yaml.safe_dump({"heat_template_version": HOT, **doc})


def _create(name: str, template: dict[str, Any], files: dict[str, str] | None = None) -> Any:
    engine, _store, _native = builtin_engine()
    state = asyncio.run(engine.create(StackRequest(name, template, files=files or {})))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    return state


def _create_update(name: str, template: dict[str, Any], first: dict[str, Any],
                   second: dict[str, Any]) -> tuple[Any, Any]:
    engine, _store, _native = builtin_engine()
    created = asyncio.run(engine.create(StackRequest(name, template, parameters=first)))
    assert created.state == "CREATE_COMPLETE", created.status_reason
    before = (dict(created.outputs), dict(created.output_errors))
    updated = asyncio.run(engine.update(created.id,
                                        StackRequest(name, template, parameters=second)))
    assert updated.state == "UPDATE_COMPLETE", updated.status_reason
    return before, (dict(updated.outputs), dict(updated.output_errors))


def _group(count: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "OS::Heat::ResourceGroup",
            "properties": {"count": count, **extra, "resource_def": {
                "type": "OS::Heat::Value", "properties": {"value": "v%index%"}}}}


# -- failing outputs: Heat's messages ------------------------------------------------------------
def test_group_member_beyond_the_count() -> None:
    state = _create("groups-bad-index", _tpl(
        {"g": _group(2)},
        {"bad": {"get_attr": ["g", "resource.5"]},
         "bad_attr": {"get_attr": ["g", "resource.5.value"]},
         "good": {"get_attr": ["g", "resource.1.value"]},
         "sep": {"get_attr": ["g", "resource.0", "value"]}}))
    assert state.outputs["good"] == "v1"
    assert state.outputs["sep"] == "v0"
    assert state.output_errors == {
        "bad": "Member '5' not found in group resource 'g'.",
        "bad_attr": "Member '5' not found in group resource 'g'.",
    }


def test_provider_template_attributes_and_their_errors() -> None:
    child = _child({"resources": {"v": {"type": "OS::Heat::Value",
                                        "properties": {"value": {"k": [1, 2]}}}},
                    "outputs": {"o": {"value": 1}}})
    state = _create("nested-provider-attrs", _tpl(
        {"p": {"type": "p.yaml"}},
        {"ref": {"get_attr": ["p", "resource.v"]},
         "attr": {"get_attr": ["p", "resource.v.value"]},
         "attr_path": {"get_attr": ["p", "resource.v.value", "k", 1]},
         "sep": {"get_attr": ["p", "resource.v", "value", "k"]},
         "missing": {"get_attr": ["p", "resource.nosuch"]},
         "show": {"get_attr": ["p", "show"]},
         "show_path": {"get_attr": ["p", "show", "stack_status"]},
         "into_int": {"get_attr": ["p", "o", 0]},
         "bad": {"get_attr": ["p", "nosuch"]},
         "bad_path": {"get_attr": ["p", "nosuch", 0]}}), {"p.yaml": child})
    assert state.outputs["ref"].startswith("nested-provider-attrs-p-")
    assert {k: state.outputs[k] for k in ("attr", "attr_path", "sep", "into_int")} == {
        "attr": {"k": [1, 2]}, "attr_path": 2, "sep": [1, 2], "into_int": None}
    assert state.output_errors == {
        "missing": "Member 'nosuch' not found in group resource 'p'.",
        "show": "The Referenced Attribute (p show) is incorrect.",
        "show_path": "The Referenced Attribute (p ('show', 'stack_status')) is incorrect.",
        "bad": "The Referenced Attribute (p nosuch) is incorrect.",
        "bad_path": "The Referenced Attribute (p ('nosuch', 0)) is incorrect.",
    }


def test_provider_template_stack_id_is_the_reference() -> None:
    state = _create("nested-sid", _tpl(
        {"p": {"type": "p.yaml"},
         "w": {"type": "OS::Heat::Value", "properties": {"value": {"get_resource": "p"}}}},
        {"a": {"get_resource": "p"}, "b": {"get_attr": ["p", "OS::stack_id"]}}),
        {"p.yaml": _child({"outputs": {"o": {"value": 1}}})})
    assert state.outputs["a"] == state.outputs["b"]
    assert state.outputs["a"].startswith("arn:openstack:heat:")


def test_scaling_group_invalid_member_attribute_names_the_group() -> None:
    state = _create("groups-asg-bad", _tpl(
        {"asg": {"type": "OS::Heat::AutoScalingGroup",
                 "properties": {"min_size": 1, "max_size": 2, "desired_capacity": 2,
                                "resource": {"type": "m.yaml"}}}},
        {"ok": {"get_attr": ["asg", "outputs_list", "out"]},
         "bad": {"get_attr": ["asg", "outputs_list", "nosuch"]},
         "beyond": {"get_attr": ["asg", "resource.4.out"]}}),
        {"m.yaml": _child({"outputs": {"out": {"value": {"a": [1, 2]}}}})})
    assert state.outputs["ok"] == [{"a": [1, 2]}, {"a": [1, 2]}]
    assert state.output_errors == {
        "bad": "The Referenced Attribute (asg ('outputs_list', 'nosuch')) is incorrect.",
        "beyond": "Member '4' not found in group resource 'asg'.",
    }


def test_resource_chain_of_provider_templates() -> None:
    def member(tag: str) -> str:
        return _child({"parameters": {"p": {"type": "string", "default": "d"}},
                       "outputs": {"out": {"value": {"from": tag, "p": [{"get_param": "p"}]}}}})

    state = _create("groups-chain-provider", _tpl(
        {"c": {"type": "OS::Heat::ResourceChain",
               "properties": {"resources": ["a.yaml", "b.yaml"],
                              "resource_properties": {"p": "given"}}}},
        {"outs": {"get_attr": ["c", "out"]},
         "r1": {"get_attr": ["c", "resource.1.out", "from"]},
         "r0p": {"get_attr": ["c", "resource.0.out", "p", 0]},
         "bad": {"get_attr": ["c", "resource.2.out"]}}),
        {"a.yaml": member("a"), "b.yaml": member("b")})
    assert {k: v for k, v in state.outputs.items() if k != "bad"} == {
        "outs": [{"from": "a", "p": ["given"]}, {"from": "b", "p": ["given"]}],
        "r0p": "given", "r1": "b"}
    assert state.output_errors == {"bad": "Member '2' not found in group resource 'c'."}


# -- functions in paths inside nested templates -------------------------------------------------
def test_get_param_with_functions_in_its_path_in_a_provider_template() -> None:
    child = _child({
        "parameters": {"names": {"type": "comma_delimited_list", "default": ["a", "b", "c"]},
                       "index": {"type": "number", "default": 1},
                       "m": {"type": "json", "default": {"k": {"deep": ["d0", "d1"]}}},
                       "key": {"type": "string", "default": "k"}},
        "resources": {"v": {"type": "OS::Heat::Value", "properties": {
            "value": {"get_param": ["names", {"get_param": "index"}]}}}},
        "outputs": {
            "from_value": {"value": {"get_attr": ["v", "value"]}},
            "direct": {"value": {"get_param": ["names", {"get_param": "index"}]}},
            "mapped": {"value": {"get_param": ["m", {"get_param": "key"}, "deep",
                                               {"get_param": "index"}]}},
            "mapped1": {"value": {"get_param": ["m", {"get_param": "key"}, "deep", 1]}}}})
    state = _create("nested-fn-index", _tpl(
        {"p": {"type": "p.yaml", "properties": {"index": 2}}},
        {k: {"get_attr": ["p", k]} for k in ("from_value", "direct", "mapped", "mapped1")}),
        {"p.yaml": child})
    # index 2 is beyond deep's two items: Heat gives an empty string
    assert state.outputs == {"from_value": "c", "direct": "c", "mapped": "", "mapped1": "d1"}


def test_group_member_paths_with_functions() -> None:
    member = _child({"parameters": {"idx": {"type": "string"}},
                     "outputs": {"out": {"value": {"a": {"get_param": "idx"}, "b": ["x", "y"]}}}})
    state = _create("groups-fn-path", _tpl(
        {"g": {"type": "OS::Heat::ResourceGroup", "properties": {
            "count": 2, "resource_def": {"type": "member.yaml",
                                         "properties": {"idx": "%index%"}}}}},
        {"by_index": {"get_attr": [
            "g", {"list_join": [".", ["resource", {"get_param": "i"}, "out"]]},
            {"get_param": "k"}]},
         "by_key": {"get_attr": ["g", "resource.0.out", {"get_param": "k"}]},
         "list_key": {"get_attr": ["g", "out", {"get_param": "k"}]},
         # "1" (a string) does not index a list in a get_attr path
         "idx_in_list": {"get_attr": ["g", "resource.1.out", "b", {"get_param": "i"}]}},
        {"i": {"type": "string", "default": "1"}, "k": {"type": "string", "default": "a"}}),
        {"member.yaml": member})
    assert state.outputs == {"by_index": "1", "by_key": "0", "list_key": ["0", "1"],
                             "idx_in_list": None}


# -- member names after updates (Heat's resource_group.py) --------------------------------------
def _names(outputs: dict[str, Any]) -> list[str]:
    return sorted(outputs["refs_map"] or {}, key=int)


def test_group_grows_with_the_next_names() -> None:
    template = _tpl({"g": _group({"get_param": "n"})},
                    {"values": {"get_attr": ["g", "value"]},
                     "refs_map": {"get_attr": ["g", "refs_map"]}},
                    {"n": {"type": "number", "default": 1}})
    (before, _), (after, errors) = _create_update("groups-grow", template, {}, {"n": 3})
    assert before["values"] == ["v0"]
    assert after["values"] == ["v0", "v1", "v2"] and _names(after) == ["0", "1", "2"]
    assert errors == {}


def test_group_shrinks_from_the_highest_index() -> None:
    template = _tpl({"g": _group({"get_param": "n"})},
                    {"values": {"get_attr": ["g", "value"]},
                     "removed": {"get_attr": ["g", "removed_rsrc_list"]},
                     "gone": {"get_attr": ["g", "resource.2.value"]}},
                    {"n": {"type": "number", "default": 3}})
    (before, _), (after, errors) = _create_update("groups-shrink", template, {}, {"n": 1})
    assert before == {"values": ["v0", "v1", "v2"], "removed": [], "gone": "v2"}
    # recorded from Heat: a shrink does not list the removed members in removed_rsrc_list
    assert after == {"values": ["v0"], "removed": [], "gone": None}
    assert errors == {"gone": "Member '2' not found in group resource 'g'."}


def test_removal_policies_remove_a_member_and_its_name_is_not_reused() -> None:
    template = _tpl({"g": _group(3, removal_policies=[{"resource_list": {"get_param": "rm"}}])},
                    {"values": {"get_attr": ["g", "value"]},
                     "refs_map": {"get_attr": ["g", "refs_map"]},
                     "removed": {"get_attr": ["g", "removed_rsrc_list"]}},
                    {"rm": {"type": "comma_delimited_list", "default": ""}})
    (before, _), (after, _errors) = _create_update("groups-removal", template, {}, {"rm": "1"})
    assert before["values"] == ["v0", "v1", "v2"] and before["removed"] == []
    assert after["values"] == ["v0", "v2", "v3"] and _names(after) == ["0", "2", "3"]
    assert after["removed"] == ["1"]


def test_removal_policies_on_create_skip_the_names() -> None:
    state = _create("groups-removal-create", _tpl(
        {"g": _group(3, removal_policies=[{"resource_list": ["1"]}])},
        {"values": {"get_attr": ["g", "value"]},
         "attrs": {"get_attr": ["g", "attributes", "value"]}}))
    assert state.outputs == {"values": ["v0", "v2", "v3"],
                             "attrs": {"0": "v0", "2": "v2", "3": "v3"}}
