"""``OS::Heat::Value``'s ``type``: what Heat accepts, refuses and returns.

Every expected value and message here is what real Heat 27.0.1 gave for the same template
(checked side by side on a running Heat): the value is checked against ``type`` when the stack
is validated, and the ``value`` attribute is the value *as given*, never converted.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from engine_plugins import builtin_engine, hot

from kubeheat.engine import StackRequest
from kubeheat.template import TemplateError

#: (type, value as written, the value attribute Heat 27.0.1 returned)
ACCEPTED: dict[str, tuple[str | None, Any, Any]] = {
    "s_str": ("string", "007", "007"),
    "s_int": ("string", 7, 7),
    "s_bool": ("string", True, True),
    "n_str": ("number", "007", "007"),
    "n_flt": ("number", "1.50", "1.50"),
    "n_sp": ("number", " 7 ", " 7 "),
    "n_int": ("number", 7, 7),
    "n_float": ("number", 2.5, 2.5),
    "n_bool": ("number", True, True),
    "j_map": ("json", {"a": 1}, {"a": 1}),
    "l_list": ("comma_delimited_list", ["a", "b"], ["a", "b"]),
    "b_False": ("boolean", "False", "False"),
    "b_true": ("boolean", True, True),
    "untyped": (None, "007", "007"),
}

#: (type, value, Heat 27.0.1's message after ``resources.v.properties.<prop>: ``)
REFUSED: list[tuple[str, Any, str]] = [
    ("string", ["a", "b"], "Value must be a string; got ['a', 'b']"),
    ("string", 2.5, "Value must be a string; got 2.5"),
    ("number", "abc", "could not convert string to float: 'abc'"),
    ("number", [1], "int() argument must be a string, a bytes-like object or a real number, "
                    "not 'list'"),
    ("json", '{"a": 1}', '"{"a": 1}" is not a map'),
    ("json", [1, 2], '"[1, 2]" is not a map'),
    ("json", 3, '"3" is not a map'),
    ("comma_delimited_list", "a, b,c", "\"'a, b,c'\" is not a list"),
    ("comma_delimited_list", {"a": 1}, "\"{'a': 1}\" is not a list"),
    ("comma_delimited_list", 3, '"3" is not a list'),
    ("boolean", "yes", '"yes" is not a valid boolean'),
    ("boolean", 1, '"1" is not a valid boolean'),
    ("boolean", "1", '"1" is not a valid boolean'),
]


def _props(type_: str | None, value: Any) -> dict[str, Any]:
    return {"value": value} if type_ is None else {"type": type_, "value": value}


def test_values_are_returned_as_given() -> None:
    engine, _store, _native = builtin_engine()
    template = hot({n: {"type": "OS::Heat::Value", "properties": _props(t, v)}
                    for n, (t, v, _) in ACCEPTED.items()},
                   {n: {"get_attr": [n, "value"]} for n in ACCEPTED})
    state = asyncio.run(engine.create(StackRequest("f-small-value", template)))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert state.outputs == {n: expected for n, (_, _, expected) in ACCEPTED.items()}
    for n, (_, _, expected) in ACCEPTED.items():
        assert state.resources[n].attributes["value"] == expected


@pytest.mark.parametrize(("type_", "value", "message"), REFUSED)
def test_mismatches_are_refused_before_anything_is_created(type_: str, value: Any,
                                                           message: str) -> None:
    engine, _store, _native = builtin_engine()
    template = hot({"v": {"type": "OS::Heat::Value", "properties": _props(type_, value)}})
    with pytest.raises(TemplateError) as err:
        asyncio.run(engine.create(StackRequest("f-small-value", template)))
    assert str(err.value) == f"resources.v.properties.value: {message}"
    assert err.value.code == "StackValidationFailed"


def test_unknown_type_is_refused() -> None:
    engine, _store, _native = builtin_engine()
    template = hot({"v": {"type": "OS::Heat::Value",
                          "properties": {"type": "integer", "value": 1}}})
    with pytest.raises(TemplateError) as err:
        asyncio.run(engine.create(StackRequest("f-small-value", template)))
    # Heat 27.0.1 goes on: ["string", "number", "comma_delimited_list", "json", "boolean"]
    # (JSON-quoted); the list's quoting is the property constraints' general message, not
    # Value's
    assert str(err.value).startswith(
        'resources.v.properties.type: "integer" is not an allowed value [')


def test_a_value_known_only_later_is_checked_when_known() -> None:
    engine, _store, _native = builtin_engine()
    template = hot({
        "src": {"type": "OS::Heat::Value", "properties": {"value": "abc"}},
        "v": {"type": "OS::Heat::Value",
              "properties": {"type": "number", "value": {"get_attr": ["src", "value"]}}}})
    state = asyncio.run(engine.create(StackRequest("f-small-value", template,
                                                                 disable_rollback=True)))
    assert state.state == "CREATE_FAILED"
    assert "resources.v.properties.value: could not convert string to float: 'abc'" \
        in state.status_reason
