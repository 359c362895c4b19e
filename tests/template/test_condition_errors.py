"""Conditions that fail only when evaluated are errors where they are used, as in Heat.

Heat 27.0.1 checks the form of every named condition when it parses the template, but it
evaluates a condition only when a resource, an output or an ``if`` uses it: a condition that
names an undefined condition, is circular, gives no boolean or has ``not: [list]`` is harmless
while unused, and reported at the place that uses it (``resources.r.condition: Invalid
condition "nope"``) or, for Heat's "Condition validation error"s, at its definition. The
messages are Heat's, from the differential cases ``conditions_*``.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubeheat.template import Template, TemplateError

V = "2016-10-14"


def _doc(conditions: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {"heat_template_version": V, "conditions": conditions, **sections}


BAD = {
    "unknown": {"and": [True, "nope"]},
    "cycle_a": {"not": "cycle_b"},
    "cycle_b": {"not": "cycle_a"},
    "not_list": {"not": [True, False]},
}


def test_unused_bad_conditions_are_accepted() -> None:
    defn = Template.load(_doc({**BAD, "fine": True})).define()
    assert defn.conditions["fine"] is True


@pytest.mark.parametrize(
    ("name", "use", "message"),
    [
        ("unknown", "resource", 'resources.r.condition: Invalid condition "nope"'),
        ("unknown", "output", 'outputs.o.condition: Invalid condition "nope"'),
        ("not_list", "if", 'outputs.o.value.if: Invalid condition "[True, False]"'),
        (
            "cycle_a",
            "resource",
            "conditions.cycle_a: Condition validation error: Circular "
            'definition for condition "cycle_a": cycle_a -> cycle_b -> cycle_a',
        ),
    ],
)
def test_a_used_bad_condition_is_reported(name: str, use: str, message: str) -> None:
    sections: dict[str, Any] = {
        "resource": {"resources": {"r": {"type": "OS::Heat::None", "condition": name}}},
        "output": {"outputs": {"o": {"value": "x", "condition": name}}},
        "if": {"outputs": {"o": {"value": {"if": [name, "a", "b"]}}}},
    }[use]
    with pytest.raises(TemplateError) as info:
        Template.load(_doc(BAD, **sections)).define()
    assert str(info.value) == message


def test_a_condition_whose_value_is_no_boolean_is_reported_at_its_definition() -> None:
    doc = _doc(
        {"used": {"get_param": "p"}, "unused": {"get_param": "p"}},
        parameters={"p": {"type": "string", "default": "hello"}},
        resources={"r": {"type": "OS::Heat::None", "condition": "used"}},
    )
    with pytest.raises(TemplateError) as info:
        Template.load(doc).define()
    assert str(info.value) == (
        "conditions.used: Condition validation error: The definition "
        'of condition "used" is invalid: hello'
    )


def test_a_malformed_condition_is_refused_even_unused() -> None:
    with pytest.raises(TemplateError) as info:
        Template.load(_doc({"c": {"equals": ["a", "a", "a"]}})).define()
    assert info.value.message == 'Arguments to "equals" must be of the form: [value_1, value_2]'


def test_reading_a_failed_condition_raises_its_error() -> None:
    defn = Template.load(_doc(BAD)).define()
    with pytest.raises(TemplateError, match='Invalid condition "nope"'):
        defn.conditions["unknown"]
    with pytest.raises(KeyError):
        defn.conditions["undefined"]


def test_a_disabled_resource_in_an_output_fails_that_output() -> None:
    doc = _doc(
        {"off": False},
        resources={"a": {"type": "OS::Heat::None", "condition": "off"}},
        outputs={"o": {"value": {"get_resource": "a"}}},
    )
    defn = Template.load(doc).define()
    with pytest.raises(TemplateError) as info:
        defn.output_value("o")
    assert info.value.message == 'The specified reference "a" (in unknown) is incorrect.'
