"""Errors in the values given to a function in an output fail that output, not the template.

Heat 27.0.1 validates an output's functions without evaluating them (the shape of their
arguments only): a bad value (an unknown parameter, a list where a map belongs, an unknown
digest algorithm...) is found when the stack is created, and only that output fails (its
``output_error``). In a resource's properties kubeheat still refuses such a call while
validating (Heat 27.0.1 accepts the template and fails the resource at create: a deliberate
difference). The expected messages are Heat's, from the differential cases ``functions_*``.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubeheat.template import Template, TemplateError


def _doc(value: Any, version: str = "2018-08-31") -> dict[str, Any]:
    return {
        "heat_template_version": version,
        "resources": {"a": {"type": "OS::Heat::None"}},
        "outputs": {"bad": {"value": value}, "good": {"value": "fine"}},
    }


DEFERRED = [
    ({"get_param": "nope"}, "The Parameter (nope) was not provided."),
    ({"digest": ["md5"]}, 'Function "digest" usage: ["<algorithm>", "<value>"]'),
    ({"filter": [["a"], "abc"]}, '"filter" only works with lists'),
    (
        {"list_concat": [["a"], "b"]},
        "Incorrect arguments: Items to concat must be lists. "
        '[["a"], "b"] contains an item that is not a list: "b"',
    ),
    ({"list_join": [1, ["a", "b"]]}, '"list_join" delimiter must be a string'),
    (
        {"map_merge": [{"a": 1}, ["b"]]},
        "Incorrect arguments: Items to merge must be maps. "
        "['b'] is type <class 'list'> instead of a dict",
    ),
    (
        {"map_replace": [{"k1": "v1"}, {"names": {"k1": "x"}}]},
        'Incorrect arguments to "map_replace" should be: "map_replace" : [ { "key1": "val1" }, '
        '{"keys": {"key1": "key2"}, "values": {"val1": "val2"}}]',
    ),
    (
        {"str_replace": {"template": 5, "params": {"5": "six"}}},
        '"str_replace" template must be a string',
    ),
    (
        {"str_replace_vstrict": {"template": "a=A", "params": {"A": ""}}},
        "str_replace_vstrict has an undefined or empty value for param A, must be a defined "
        "non-empty value",
    ),
    (
        {"str_split": [","]},
        'Incorrect arguments to "str_split" should be: "str_split" : [ ",", "apples,pears", '
        "<index>]",
    ),
    ({"str_split": [",", "a,b", 5]}, 'Incorrect index to "str_split" should be between 0 and 1'),
]


@pytest.mark.parametrize(("snippet", "message"), DEFERRED, ids=[next(iter(s)) for s, _ in DEFERRED])
def test_a_bad_value_in_an_output_fails_that_output_when_evaluated(
    snippet: dict[str, Any], message: str
) -> None:
    defn = Template.load(_doc(snippet)).define()  # validation accepts the template
    assert defn.output_value("good") == "fine"
    with pytest.raises(TemplateError) as info:
        defn.output_value("bad")
    assert info.value.message == message
    assert info.value.location.startswith("outputs.bad.value.")


def test_the_error_is_raised_each_time_with_the_same_path() -> None:
    defn = Template.load(_doc({"list_join": [1, ["a"]]})).define()
    for _ in range(2):
        with pytest.raises(TemplateError) as info:
            defn.output_value("bad")
        assert info.value.location == "outputs.bad.value.list_join"


def test_an_old_version_defers_too() -> None:
    defn = Template.load(_doc({"list_join": [",", ["a", 1]]}, "2014-10-16")).define()
    with pytest.raises(TemplateError, match="Items to join must be strings not 1"):
        defn.output_value("bad")


def test_the_same_call_in_a_resource_is_refused_when_parsed_unlike_heat() -> None:
    doc = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "v": {"type": "OS::Heat::Value", "properties": {"value": {"list_join": [1, ["a"]]}}}
        },
    }
    with pytest.raises(TemplateError, match='"list_join" delimiter must be a string'):
        Template.load(doc).define()


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        (
            {"make_url": {"scheme": "http", "host": "h", "bogus": 1}},
            'Invalid arguments to "make_url": bogus',
        ),
        (
            {"repeat": {"template": "A", "for_each": ["A"]}},
            'The "for_each" argument to "repeat" must contain a map',
        ),
        (
            {"str_replace": {"template": "abc", "params": ["a"]}},
            '"str_replace" parameters must be a mapping',
        ),
        (
            {"Fn::Select": ["0", ["a"]]},
            "The template version is invalid: The function Fn::Select is not supported in this "
            "version of HOT.",
        ),
    ],
)
def test_a_bad_shape_in_an_output_is_still_refused(snippet: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateError) as info:
        Template.load(_doc(snippet)).define()
    assert info.value.message == message


def test_reference_locations_are_heats() -> None:
    out = _doc({"get_attr": ["b", "x"]})
    with pytest.raises(TemplateError) as info:
        Template.load(out).define()
    assert info.value.message == 'The specified reference "b" (in unknown) is incorrect.'
    res = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "v": {
                "type": "OS::Heat::Value",
                "properties": {"value": [{"get_resource": "nope"}]},
                "metadata": {"m": {"get_resource": "nope"}},
            }
        },
    }
    with pytest.raises(TemplateError) as info:
        Template.load(res).define()
    assert info.value.message == (
        'The specified reference "nope" (in v.Properties.value[0]) is incorrect.'
    )
    del res["resources"]["v"]["properties"]
    with pytest.raises(TemplateError) as info:
        Template.load(res).define()
    assert info.value.message == ('The specified reference "nope" (in v.Metadata.m) is incorrect.')
