"""``AWS::CloudFormation::Stack`` outputs and functions in paths in its child, as Heat 27.0.1.

The expected values and messages are what real Heat 27.0.1 gave for the same templates (it
fetched ``TemplateURL`` from a loopback http server; kubeheat takes the template from the files
map under the same text, and fetches nothing). The differential cases ``nested_cfn_stack_*``
check that Heat accepts these templates at validate time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import yaml
from engine_plugins import builtin_engine

from kubeheat.engine import StackRequest

URL = "http://127.0.0.1:18477/child.yaml"
CHILD = yaml.safe_dump({
    "heat_template_version": "2018-08-31",
    "parameters": {"a": {"type": "string", "default": "da"},
                   "names": {"type": "comma_delimited_list", "default": ["a", "b", "c"]},
                   "index": {"type": "number", "default": 0}},
    "outputs": {"o": {"value": {"list_join": ["+", [{"get_param": "a"}, "b"]]}},
                "m": {"value": {"k": "v"}},
                "d": {"value": {"get_param": ["names", {"get_param": "index"}]}}},
})


def _create(outputs: dict[str, Any], files: dict[str, str]) -> Any:
    engine, _store, _native = builtin_engine()
    return asyncio.run(engine.create(StackRequest("nested-cfn", _template(outputs), files=files,
                                                  disable_rollback=True)))


def _template(outputs: dict[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = {
        "heat_template_version": "2018-08-31",
        "resources": {"s": {"type": "AWS::CloudFormation::Stack", "properties": {
            "TemplateURL": URL, "Parameters": {"a": "given", "index": "2"}}}},
        "outputs": {k: {"value": v} for k, v in outputs.items()},
    }
    return template


def test_outputs_with_paths_and_their_errors() -> None:
    state = _create({"o": {"get_attr": ["s", "Outputs.o"]},
                     "m": {"get_attr": ["s", "Outputs.m"]},
                     "mk": {"get_attr": ["s", "Outputs.m", "k"]},
                     "d": {"get_attr": ["s", "Outputs.d"]},
                     "bad": {"get_attr": ["s", "Outputs.nosuch"]},
                     "deep_bad": {"get_attr": ["s", "Outputs.nosuch", 0]},
                     "other": {"get_attr": ["s", "nosuch"]},
                     "ref": {"get_resource": "s"}}, {URL: CHILD})
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert {k: state.outputs[k] for k in ("o", "m", "mk", "d")} == {
        "o": "given+b", "m": {"k": "v"}, "mk": "v", "d": "c"}
    assert state.outputs["ref"].startswith("arn:openstack:heat:")
    assert state.outputs["ref"].endswith("/" + state.resources["s"].physical_id)
    assert state.output_errors == {
        "bad": "The Referenced Attribute (s Outputs.nosuch) is incorrect.",
        "deep_bad": "The Referenced Attribute (s ('Outputs.nosuch', 0)) is incorrect.",
        "other": "The Referenced Attribute (s nosuch) is incorrect.",
    }


def test_template_not_in_the_files_map_fails_the_resource() -> None:
    state = _create({}, {})
    assert state.state == "CREATE_FAILED"
    assert f"Could not fetch remote template '{URL}'" in state.status_reason
