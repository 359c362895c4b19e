"""Parameters and constraints: schemas (HOT and CFN), typed values, constraints with Heat's
messages, custom constraints, parameter groups, immutability, template-validate output, and
hidden values never leaking.

Messages are checked against Heat's wording (heat/engine/parameters.py, constraints.py,
hot/parameters.py, parameter_groups.py, constraint/common_constraints.py, common/exception.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeheat.template import Limits, ParameterError, TemplateError, VersionSpec
from kubeheat.template import cfn as cfn_versions
from kubeheat.template.constraints import (
    DEFAULT_CONSTRAINTS,
    AllowedPatternConstraint,
    AllowedValuesConstraint,
    ConstraintRegistry,
    ConstraintViolation,
    CustomConstraint,
    CustomConstraintRef,
    LengthConstraint,
    ModuloConstraint,
    RangeConstraint,
)
from kubeheat.template.custom_constraints import cron_error, parse_iso8601
from kubeheat.template.parameters import (
    NO_DEFAULT,
    ParameterGroup,
    ParameterSchema,
    check_immutable,
    format_parameter_groups,
    format_validate_parameters,
    parse_parameter_groups,
    parse_parameter_schemas,
    resolve_parameters,
)

CFN = cfn_versions.AWS_2010_09_09
HOT_FEATURES = {
    "2013-05-23": frozenset(),
    "2016-10-14": frozenset(),
    "2017-02-24": frozenset({"modulo"}),
    "2018-03-02": frozenset({"modulo", "tags"}),
}


def hot(version: str = "2018-03-02") -> VersionSpec:
    """A HOT spec good enough for parameters (only family and param_features matter here), so
    these tests do not depend on the HOT version tables."""
    return dataclasses.replace(CFN, family="hot", key="heat_template_version", version=version,
                               param_features=HOT_FEATURES[version])


HOT = hot()
SECRET = "Sup3rS3cretV4lue"


def schemas(section: Any, spec: VersionSpec = HOT) -> dict[str, ParameterSchema]:
    path = ("Parameters",) if spec.family == "cfn" else ("parameters",)
    return parse_parameter_schemas(section, spec, path)


def one(body: Mapping[str, Any], spec: VersionSpec = HOT) -> dict[str, ParameterSchema]:
    return schemas({"p": dict(body)}, spec)


def value(body: Mapping[str, Any], raw: Any, **kwargs: Any) -> Any:
    """The typed value of parameter ``p`` (declared by ``body``) given ``raw``."""
    return resolve_parameters(one(body), {"p": raw}, **kwargs)["p"]


def schema_fails(section: Any, spec: VersionSpec = HOT) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        schemas(section, spec)
    assert info.value.code == "InvalidSchemaError", repr(info.value)
    return info.value


def value_fails(body: Mapping[str, Any], raw: Any, **kwargs: Any) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        value(body, raw, **kwargs)
    return info.value


def error_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def assert_no_secret(exc: BaseException, secret: str = SECRET) -> None:
    for err in error_chain(exc):
        for text in (str(err), repr(err), *map(str, err.args)):
            assert secret not in text, text


# ---------------------------------------------------------------------------------------------
# Type conversion
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ptype", "raw", "expected"), [
    ("string", "abc", "abc"),
    ("string", "", ""),
    ("string", 5, "5"),
    ("string", 1.5, "1.5"),
    ("string", True, "True"),
    ("number", "5", 5),
    ("number", "-12", -12),
    ("number", "5.5", 5.5),
    ("number", " 7 ", 7),
    ("number", "1e3", 1000.0),
    ("number", 5, 5),
    ("number", 2.5, 2.5),
    ("comma_delimited_list", "one, two", ["one", " two"]),
    ("comma_delimited_list", "a,b,,c", ["a", "b", "", "c"]),
    ("comma_delimited_list", "single", ["single"]),
    ("comma_delimited_list", "", []),
    ("comma_delimited_list", ["a", 1, True], ["a", "1", "True"]),
    ("json", '{"a": 1}', {"a": 1}),
    ("json", "[1, 2]", [1, 2]),
    ("json", {"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}),
    ("json", {1: "x"}, {"1": "x"}),
    ("json", [1, "two"], [1, "two"]),
    ("json", "", {}),
])
def test_conversion(ptype: str, raw: Any, expected: Any) -> None:
    got = value({"type": ptype}, raw)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize("raw", ["t", "true", "on", "y", "yes", "1", "T", "TRUE", "Yes", " on ",
                                 True, 1])
def test_boolean_true(raw: Any) -> None:
    assert value({"type": "boolean"}, raw) is True


@pytest.mark.parametrize("raw", ["f", "false", "off", "n", "no", "0", "F", "False", "NO", False,
                                 0])
def test_boolean_false(raw: Any) -> None:
    assert value({"type": "boolean"}, raw) is False


@pytest.mark.parametrize(("ptype", "raw", "message"), [
    ("number", "abc", "could not convert string to float: 'abc'"),
    ("number", [1], "float() argument must be a string or a real number, not 'list'"),
    ("number", "nan", "nan is not a finite number"),
    ("boolean", "maybe", "Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', "
                         "'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"),
    ("boolean", 2, "Unrecognized value '2', acceptable values are: '0', '1', 'f', 'false', "
                   "'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"),
    ("comma_delimited_list", 5, "Value must be a comma-delimited list string: 'int' object "
                                "has no attribute 'split'"),
    ("json", "{bad", "Value must be valid JSON: Expecting property name enclosed in double "
                     "quotes: line 1 column 2 (char 1)"),
    ("json", "5", "Value must be valid JSON: a map or a list is expected, not int"),
])
def test_conversion_errors(ptype: str, raw: Any, message: str) -> None:
    err = value_fails({"type": ptype}, raw)
    assert err.message == f"Parameter 'p' is invalid: {message}"
    assert err.code == "StackValidationFailed"
    assert err.location == "parameters.p"


def test_json_round_trip_is_a_copy() -> None:
    raw = {"a": [1, 2]}
    got = value({"type": "json"}, raw)
    assert got == raw
    assert got is not raw and got["a"] is not raw["a"]


@given(st.lists(st.text(alphabet=st.characters(exclude_characters=",",
                                               exclude_categories=["Cs"])), min_size=1))
def test_comma_delimited_list_round_trip(items: list[str]) -> None:
    text = ",".join(items)
    expected = items if text else []
    assert value({"type": "comma_delimited_list"}, text) == expected


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_number_strings_become_ints(number: int) -> None:
    assert value({"type": "number"}, str(number)) == number


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(), inner, max_size=3), max_leaves=10))
def test_json_parameter_round_trips(data: Any) -> None:
    doc = {"k": data}
    assert value({"type": "json"}, doc) == doc


# ---------------------------------------------------------------------------------------------
# Constraints: accepting and rejecting, with Heat's messages
# ---------------------------------------------------------------------------------------------

CONSTRAINT_CASES: list[tuple[str, dict[str, Any], list[Any], Any, str]] = [
    # (type, constraint entry, accepted raw values, rejected raw value, Heat's message)
    ("number", {"range": {"min": 1, "max": 10}}, [1, 10, "5", 5.5], 11,
     "11 is out of range (min: 1, max: 10)"),
    ("number", {"range": {"min": 1}}, [1, 10**9], 0, "0 is out of range (min: 1, max: None)"),
    ("number", {"range": {"max": "2.5"}}, [2.5, -3], "2.6",
     "2.6 is out of range (min: None, max: 2.5)"),
    ("string", {"length": {"min": 2, "max": 4}}, ["ab", "abcd"], "abcde",
     "length (5) is out of range (min: 2, max: 4)"),
    ("string", {"length": {"max": 0}}, [""], "a", "length (1) is out of range (min: None, max: 0)"),
    ("comma_delimited_list", {"length": {"min": 2}}, ["a,b", ["x", "y", "z"]], "a",
     "length (1) is out of range (min: 2, max: None)"),
    ("json", {"length": {"max": 1}}, ['{"a": 1}', "[]"], {"a": 1, "b": 2},
     "length (2) is out of range (min: None, max: 1)"),
    # Heat 27.0.1's messages (differential cases params_modulo_fail, params_allowed_values_*)
    ("number", {"modulo": {"step": 2, "offset": 1}}, [1, 3, "5", -1], 4,
     "4 is not a multiple of 2 with an offset of 1"),
    ("number", {"modulo": {"step": -3, "offset": -1}}, [-1, 2, 5], 3,
     "3 is not a multiple of -3 with an offset of -1"),
    ("string", {"allowed_values": ["a", "b"]}, ["a", "b"], "c",
     '"c" is not an allowed value ["a", "b"]'),
    ("string", {"allowed_values": [1, 2]}, ["1", 2], "3", '"3" is not an allowed value [1, 2]'),
    ("number", {"allowed_values": [1, "2", 3.5]}, [1, "1", 2, "2.0", 3.5], 4,
     '4 is not an allowed value [1, "2", 3.5]'),   # a number given: shown as given
    ("boolean", {"allowed_values": [True]}, [True, "yes", "on"], "no",
     '"no" is not an allowed value [true]'),
    ("comma_delimited_list", {"allowed_values": ["a", "b"]}, ["a,b", "b,b,a", ""], "a,c",
     '["a", "c"] is not an allowed value ["a", "b"]'),
    ("string", {"allowed_pattern": "[a-z]+"}, ["abc", "z"], "abc1",
     '"abc1" does not match pattern "[a-z]+"'),
    ("string", {"allowed_pattern": "a|ab"}, ["a"], "ab", '"ab" does not match pattern "a|ab"'),
    ("string", {"allowed_pattern": "[0-9]*"}, ["", "123"], "12a",
     '"12a" does not match pattern "[0-9]*"'),
]


@pytest.mark.parametrize(("ptype", "entry", "good", "bad", "message"), CONSTRAINT_CASES)
def test_constraint(ptype: str, entry: dict[str, Any], good: list[Any], bad: Any,
                    message: str) -> None:
    body = {"type": ptype, "constraints": [entry]}
    for raw in good:
        value(body, raw)
    err = value_fails(body, bad)
    assert err.message == f"Parameter 'p' is invalid: {message}"
    assert err.code == "StackValidationFailed"
    assert err.location == "parameters.p"


@pytest.mark.parametrize(("ptype", "entry", "good", "bad", "message"), CONSTRAINT_CASES)
def test_constraint_description_replaces_message(ptype: str, entry: dict[str, Any],
                                                 good: list[Any], bad: Any,
                                                 message: str) -> None:
    body = {"type": ptype, "constraints": [{**entry, "description": "Pick a better one"}]}
    assert value_fails(body, bad).message == "Parameter 'p' is invalid: Pick a better one"


def test_first_failing_constraint_reports() -> None:
    body = {"type": "string", "constraints": [{"length": {"min": 3}},
                                              {"allowed_pattern": "[0-9]+"}]}
    assert value_fails(body, "ab").message.endswith("length (2) is out of range (min: 3, "
                                                    "max: None)")
    assert value_fails(body, "abc").message.endswith('"abc" does not match pattern "[0-9]+"')


def test_constraint_entry_first_key_wins_in_heat_order() -> None:
    (c,) = one({"type": "number", "constraints": [
        {"allowed_values": [1], "range": {"min": 0}}]})["p"].constraints
    assert isinstance(c, RangeConstraint)


# ---------------------------------------------------------------------------------------------
# Constraint objects describe themselves
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("constraint", "name", "description", "as_dict"), [
    (RangeConstraint(min=1, max=5), "range", "The value must be in the range 1 to 5.",
     {"range": {"min": 1, "max": 5}}),
    (RangeConstraint(min=1), "range", "The value must be at least 1.", {"range": {"min": 1}}),
    (RangeConstraint(max=5), "range", "The value must be no greater than 5.",
     {"range": {"max": 5}}),
    (LengthConstraint(min=1, max=5, description="d"), "length",
     "The length must be in the range 1 to 5.", {"description": "d",
                                                 "length": {"min": 1, "max": 5}}),
    (LengthConstraint(min=2), "length", "The length must be at least 2.", {"length": {"min": 2}}),
    (LengthConstraint(max=2), "length", "The length must be no greater than 2.",
     {"length": {"max": 2}}),
    (ModuloConstraint(step=2, offset=1), "modulo",
     "The value must be a multiple of 2 with an offset of 1.",
     {"modulo": {"step": 2, "offset": 1}}),
    (AllowedValuesConstraint(allowed=("a", 1)), "allowed_values", "Allowed values: a, 1",
     {"allowed_values": ["a", 1]}),
    (AllowedPatternConstraint(pattern="[a-z]+"), "allowed_pattern",
     "Value must match pattern: [a-z]+", {"allowed_pattern": "[a-z]+"}),
    (CustomConstraintRef(constraint="ip_addr"), "ip_addr", "Value must be of type ip_addr",
     {"custom_constraint": "ip_addr"}),
    (CustomConstraintRef(constraint="nova.flavor"), "nova.flavor",
     "Value must be of type nova.flavor", {"custom_constraint": "nova.flavor"}),
])
def test_constraint_self_description(constraint: Any, name: str, description: str,
                                     as_dict: dict[str, Any]) -> None:
    assert constraint.name == name
    assert constraint.default_description() == description
    assert constraint.as_dict() == as_dict
    assert constraint.custom is isinstance(constraint, CustomConstraintRef)


def test_parsed_constraints_keep_template_description() -> None:
    (c,) = one({"type": "string", "constraints": [
        {"length": {"min": 1}, "description": "not empty"}]})["p"].constraints
    assert c.description == "not empty"
    assert c.key == "length"


def test_constraint_check_directly() -> None:
    RangeConstraint(min=1).check(3)
    with pytest.raises(ConstraintViolation) as info:
        RangeConstraint(min=1).check(0)
    assert info.value.message == "0 is out of range (min: 1, max: None)"
    assert info.value.redacted == "****** is out of range (min: 1, max: None)"
    CustomConstraintRef(constraint="unknown.thing").check("anything")  # unchecked: no error
    with pytest.raises(ConstraintViolation):
        CustomConstraintRef(constraint="ip_addr").check("nope")


# ---------------------------------------------------------------------------------------------
# Which constraints apply to which type
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ptype", "entry", "heat_name"), [
    ("string", {"range": {"min": 1}}, "Range"),
    ("string", {"modulo": {"step": 2, "offset": 0}}, "Modulo"),
    ("boolean", {"range": {"min": 1}}, "Range"),
    ("comma_delimited_list", {"range": {"min": 1}}, "Range"),
    ("number", {"length": {"min": 1}}, "Length"),
    ("boolean", {"length": {"min": 1}}, "Length"),
    ("json", {"allowed_values": ["a"]}, "AllowedValues"),
    ("number", {"allowed_pattern": "[0-9]+"}, "AllowedPattern"),
    ("comma_delimited_list", {"allowed_pattern": "[a-z]+"}, "AllowedPattern"),
    ("json", {"allowed_pattern": "x"}, "AllowedPattern"),
    ("json", {"custom_constraint": "json_string"}, "CustomConstraint"),
])
def test_constraint_invalid_for_type(ptype: str, entry: dict[str, Any], heat_name: str) -> None:
    err = schema_fails({"p": {"type": ptype, "constraints": [{"description": "x", **entry}]}})
    assert err.message == f"Parameter 'p' is invalid: {heat_name} constraint invalid for {ptype}"
    assert err.location == "parameters.p.constraints[0]"


def test_constraint_invalid_for_type_located_by_index() -> None:
    err = schema_fails({"p": {"type": "number", "constraints": [{"range": {"min": 1}},
                                                                {"length": {"min": 1}}]}})
    assert err.location == "parameters.p.constraints[1]"


@pytest.mark.parametrize(("ptype", "entry"), [
    ("string", {"length": {"min": 1}}),
    ("string", {"allowed_values": ["a"]}),
    ("string", {"allowed_pattern": "a"}),
    ("string", {"custom_constraint": "ip_addr"}),
    ("number", {"range": {"min": 1}}),
    ("number", {"modulo": {"step": 2, "offset": 0}}),
    ("number", {"allowed_values": [1]}),
    ("number", {"custom_constraint": "test_constr"}),
    ("boolean", {"allowed_values": [True]}),
    ("boolean", {"custom_constraint": "x.y"}),
    ("comma_delimited_list", {"length": {"min": 1}}),
    ("comma_delimited_list", {"allowed_values": ["a"]}),
    ("comma_delimited_list", {"custom_constraint": "ip_addr"}),
    ("json", {"length": {"min": 1}}),
])
def test_constraint_valid_for_type(ptype: str, entry: dict[str, Any]) -> None:
    assert len(one({"type": ptype, "constraints": [entry]})["p"].constraints) == 1


# ---------------------------------------------------------------------------------------------
# Malformed constraints
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("constraints", "message", "location"), [
    ("x", "Invalid parameter constraints for parameter flavor, expected a list",
     "parameters.flavor.constraints"),
    ({"range": {"min": 1}}, "Invalid parameter constraints for parameter flavor, expected a list",
     "parameters.flavor.constraints"),
    (["x"], "Invalid parameter constraints, expected a mapping",
     "parameters.flavor.constraints[0]"),
    ([{"foo": 1}], "Invalid key 'foo' for parameter constraints",
     "parameters.flavor.constraints[0]"),
    ([{"description": "only words"}], "No constraint expressed",
     "parameters.flavor.constraints[0]"),
    ([{"range": [1, 2]}], "Invalid range constraint, expected a mapping",
     "parameters.flavor.constraints[0].range"),
    ([{"length": {"min": 1}}, {"range": {"low": 1}}], "Invalid key 'low' for range constraint",
     "parameters.flavor.constraints[1].range"),
    ([{"range": {}}], "A range constraint must have a min value and/or a max value specified.",
     "parameters.flavor.constraints[0].range"),
    ([{"range": {"min": None, "max": None}}],
     "A range constraint must have a min value and/or a max value specified.",
     "parameters.flavor.constraints[0].range"),
    ([{"range": {"min": "abc"}}], "min/max must be numeric",
     "parameters.flavor.constraints[0].range"),
    ([{"range": {"max": [1]}}], "min/max must be numeric",
     "parameters.flavor.constraints[0].range"),
    ([{"length": "5"}], "Invalid length constraint, expected a mapping",
     "parameters.flavor.constraints[0].length"),
    ([{"length": {"size": 1}}], "Invalid key 'size' for length constraint",
     "parameters.flavor.constraints[0].length"),
    ([{"length": {}}], "A length constraint must have a min value and/or a max value specified.",
     "parameters.flavor.constraints[0].length"),
    ([{"length": {"min": 1.5}}], "min/max length must be integral",
     "parameters.flavor.constraints[0].length"),
    ([{"modulo": 2}], "Invalid modulo constraint, expected a mapping",
     "parameters.flavor.constraints[0].modulo"),
    ([{"modulo": {"step": 2, "by": 1}}], "Invalid key 'by' for modulo constraint",
     "parameters.flavor.constraints[0].modulo"),
    ([{"modulo": {"step": 2}}],
     "A modulo constraint must have a step value and an offset value specified.",
     "parameters.flavor.constraints[0].modulo"),
    ([{"modulo": {"step": "x", "offset": 1}}], "step/offset must be numeric",
     "parameters.flavor.constraints[0].modulo"),
    ([{"modulo": {"step": 2.5, "offset": 1}}], "step/offset must be integer",
     "parameters.flavor.constraints[0].modulo"),
    ([{"modulo": {"step": 0, "offset": 0}}], "step cannot be 0.",
     "parameters.flavor.constraints[0].modulo"),
    ([{"modulo": {"step": 2, "offset": 2}}],
     "offset must be smaller (by absolute value) than step.",
     "parameters.flavor.constraints[0].modulo"),
    ([{"modulo": {"step": 2, "offset": -1}}],
     "step and offset must be both positive or both negative.",
     "parameters.flavor.constraints[0].modulo"),
    ([{"allowed_values": "abc"}], "AllowedValues must be a list",
     "parameters.flavor.constraints[0].allowed_values"),
    ([{"allowed_values": {"a": 1}}], "AllowedValues must be a list",
     "parameters.flavor.constraints[0].allowed_values"),
    ([{"allowed_pattern": 5}], "AllowedPattern must be a string",
     "parameters.flavor.constraints[0].allowed_pattern"),
    ([{"allowed_pattern": "("}],
     'Invalid AllowedPattern "(": missing ), unterminated subpattern at position 0',
     "parameters.flavor.constraints[0].allowed_pattern"),
    ([{"custom_constraint": 5}], "custom_constraint must be the name of a constraint",
     "parameters.flavor.constraints[0].custom_constraint"),
])
def test_malformed_constraints(constraints: Any, message: str, location: str) -> None:
    ptype = "number" if "modulo" in str(constraints) or "range" in str(constraints) else "string"
    err = schema_fails({"flavor": {"type": ptype, "constraints": constraints}})
    assert err.message == message
    assert err.location == location
    assert str(err) == f"{location}: {message}"


def test_numeric_strings_are_accepted_as_bounds() -> None:
    (c,) = one({"type": "number", "constraints": [{"range": {"min": "1", "max": "2.5"}}]}
               )["p"].constraints
    assert c == RangeConstraint(min=1, max=2.5)


def test_null_constraints_is_none() -> None:
    assert one({"type": "string", "constraints": None})["p"].constraints == ()


# ---------------------------------------------------------------------------------------------
# Schema keys, types and versions
# ---------------------------------------------------------------------------------------------


def test_hot_schema_fields() -> None:
    s = one({"type": "string", "description": "The flavor", "default": "m1.small",
             "label": "Flavor", "hidden": False, "immutable": True, "tags": ["compute"],
             "schema": {"ignored": True}, "constraints": [{"allowed_values": ["m1.small"]}]})["p"]
    assert s == ParameterSchema(
        name="p", type="string", default="m1.small", description="The flavor", label="Flavor",
        hidden=False, immutable=True, tags=("compute",),
        constraints=(AllowedValuesConstraint(allowed=("m1.small",)),))
    assert s.has_default and s.kind == "string" and s.type_name == "string"
    assert s.cfn_type is None


@pytest.mark.parametrize("default", [None, NO_DEFAULT])
def test_no_default(default: Any) -> None:
    body = {"type": "string"} if default is NO_DEFAULT else {"type": "string", "default": None}
    s = one(body)["p"]
    assert s.default is NO_DEFAULT and not s.has_default


@pytest.mark.parametrize(("section", "message", "location"), [
    ({"p": {"type": "string", "foo": 1}}, "Invalid key 'foo' for parameter (p)", "parameters.p"),
    ({"p": {"type": "string", "Default": 1}}, "Invalid key 'Default' for parameter (p)",
     "parameters.p"),
    ({"p": {"default": 1}}, "Missing parameter type for parameter: p", "parameters.p"),
    ({"p": {"type": "strin"}}, "Invalid type (strin)", "parameters.p.type"),
    ({"p": {"type": "String"}}, "Invalid type (String)", "parameters.p.type"),
    ({"p": {"type": {"a": 1}}}, "Invalid type ({'a': 1})", "parameters.p.type"),
    ({"p": "string"}, "Invalid parameter (p), expected a mapping", "parameters.p"),
    ({"p": None}, "Invalid parameter (p), expected a mapping", "parameters.p"),
    ({"p": {"type": "string", "tags": "a"}}, "Tags property should be a list for parameter: p",
     "parameters.p.tags"),
    ({"p": {"type": "string", "tags": [1]}}, "Tags of parameter p must be strings",
     "parameters.p.tags"),
    ({"p": {"type": "string", "hidden": "sometimes"}},
     "The hidden property of parameter p must be a boolean", "parameters.p.hidden"),
    ({"p": {"type": "string", "immutable": 1}},
     "The immutable property of parameter p must be a boolean", "parameters.p.immutable"),
    ({"p": {"type": "string", "description": ["x"]}},
     "The description of parameter p must be a string", "parameters.p.description"),
    ({5: {"type": "string"}}, "Parameter names must be non-empty strings, not 5", "parameters"),
    (["p"], "The parameters section must be a mapping of parameter names to parameter "
            "definitions", "parameters"),
])
def test_hot_schema_errors(section: Any, message: str, location: str) -> None:
    err = schema_fails(section)
    assert err.message == message
    assert err.location == location


@pytest.mark.parametrize("section", [None, {}])
def test_empty_section(section: Any) -> None:
    assert schemas(section) == {}
    assert schemas(section, CFN) == {}


@pytest.mark.parametrize(("flag", "expected"), [(True, True), (False, False), ("true", True),
                                                ("False", False)])
def test_hot_flags(flag: Any, expected: bool) -> None:
    s = one({"type": "string", "hidden": flag, "immutable": flag})["p"]
    assert s.hidden is expected and s.immutable is expected


def test_keeps_template_order() -> None:
    assert list(schemas({"b": {"type": "string"}, "a": {"type": "string"}})) == ["b", "a"]


@pytest.mark.parametrize(("version", "modulo", "tags"), [
    ("2013-05-23", False, False),
    ("2016-10-14", False, False),
    ("2017-02-24", True, False),
    ("2018-03-02", True, True),
])
def test_version_gating(version: str, modulo: bool, tags: bool) -> None:
    spec = hot(version)
    mod = {"p": {"type": "number", "constraints": [{"modulo": {"step": 2, "offset": 0}}]}}
    tag = {"p": {"type": "string", "tags": ["a"]}}
    if modulo:
        assert schemas(mod, spec)["p"].constraints == (ModuloConstraint(step=2, offset=0),)
    else:
        err = schema_fails(mod, spec)
        assert err.message == ("No constraint expressed (modulo needs heat_template_version "
                               "2017-02-24 or later)")
        assert err.location == "parameters.p.constraints[0]"
    if tags:
        assert schemas(tag, spec)["p"].tags == ("a",)
    else:
        err = schema_fails(tag, spec)
        assert err.message == "Invalid key 'tags' for parameter (p)"


# ---------------------------------------------------------------------------------------------
# CloudFormation parameters
# ---------------------------------------------------------------------------------------------


def test_cfn_schema_fields() -> None:
    s = one({"Type": "String", "Default": "abc", "NoEcho": "true", "AllowedValues": ["abc", "d"],
             "AllowedPattern": "[a-z]+", "MinLength": "1", "MaxLength": 5,
             "Description": "desc", "ConstraintDescription": "lower case", "Label": "L"}, CFN)["p"]
    assert s.type == "string" and s.cfn_type == "String" and s.type_name == "String"
    assert s.hidden is True and s.description == "desc" and s.label == "L"
    assert s.constraints == (
        LengthConstraint(min=1, max=5, description="lower case"),
        AllowedValuesConstraint(allowed=("abc", "d"), description="lower case"),
        AllowedPatternConstraint(pattern="[a-z]+", description="lower case"),
    )


@pytest.mark.parametrize(("cfn_type", "hot_type"), [
    ("String", "string"), ("Number", "number"), ("CommaDelimitedList", "comma_delimited_list"),
    ("Json", "json"), ("Boolean", "boolean")])
def test_cfn_types(cfn_type: str, hot_type: str) -> None:
    s = one({"Type": cfn_type}, CFN)["p"]
    assert (s.type, s.cfn_type) == (hot_type, cfn_type)


@pytest.mark.parametrize(("no_echo", "hidden"), [
    ("true", True), ("TRUE", True), (True, True), ("false", False), (False, False),
    ("yes", False)])
def test_cfn_no_echo(no_echo: Any, hidden: bool) -> None:
    assert one({"Type": "String", "NoEcho": no_echo}, CFN)["p"].hidden is hidden


def test_cfn_number_range() -> None:
    s = one({"Type": "Number", "MinValue": "1", "MaxValue": 10,
             "ConstraintDescription": "1 to 10"}, CFN)
    assert s["p"].constraints == (RangeConstraint(min=1, max=10, description="1 to 10"),)
    assert resolve_parameters(s, {"p": "7"})["p"] == 7
    with pytest.raises(ParameterError) as info:
        resolve_parameters(s, {"p": "11"})
    assert info.value.message == "Parameter 'p' is invalid: 1 to 10"


@pytest.mark.parametrize(("body", "message", "location"), [
    ({"Type": "String", "type": "x"}, "Invalid key 'type' for parameter (p)", "Parameters.p"),
    ({"Type": "String", "Hidden": True}, "Invalid key 'Hidden' for parameter (p)",
     "Parameters.p"),
    ({"Default": "x"}, "Missing parameter type for parameter: p", "Parameters.p"),
    ({"Type": "string"}, "Invalid type (string)", "Parameters.p.Type"),
    ({"Type": ["String"]}, "Invalid type (['String'])", "Parameters.p.Type"),
    ({"Type": "String", "MinValue": 1}, "Parameter 'p' is invalid: Range constraint invalid for "
                                        "String", "Parameters.p.MinValue"),
    ({"Type": "Number", "MaxLength": 1}, "Parameter 'p' is invalid: Length constraint invalid "
                                         "for Number", "Parameters.p.MaxLength"),
    ({"Type": "Json", "AllowedValues": []}, "Parameter 'p' is invalid: AllowedValues constraint "
                                            "invalid for Json", "Parameters.p.AllowedValues"),
    ({"Type": "CommaDelimitedList", "AllowedPattern": "x"},
     "Parameter 'p' is invalid: AllowedPattern constraint invalid for CommaDelimitedList",
     "Parameters.p.AllowedPattern"),
    ({"Type": "String", "MinLength": 1.5}, "min/max length must be integral",
     "Parameters.p.MinLength"),
    ({"Type": "Number", "MaxValue": "big"}, "min/max must be numeric", "Parameters.p.MaxValue"),
    ({"Type": "Number", "Default": 20, "MaxValue": 10},
     "Parameter 'p' is invalid: Invalid default 20 (20 is out of range (min: None, max: 10))",
     "Parameters.p"),
])
def test_cfn_schema_errors(body: dict[str, Any], message: str, location: str) -> None:
    err = schema_fails({"p": body}, CFN)
    assert err.message == message
    assert err.location == location


def test_cfn_comma_delimited_default_checked_per_item() -> None:
    s = one({"Type": "CommaDelimitedList", "Default": "a,b", "AllowedValues": ["a", "b"]}, CFN)
    assert resolve_parameters(s, {})["p"] == ["a", "b"]
    err = schema_fails({"p": {"Type": "CommaDelimitedList", "Default": "a,c",
                              "AllowedValues": ["a", "b"]}}, CFN)
    assert err.message == ("Parameter 'p' is invalid: Invalid default a,c ([\"a\", \"c\"] is not "
                           'an allowed value ["a", "b"])')


# ---------------------------------------------------------------------------------------------
# Default validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "message"), [
    ({"type": "number", "default": 20, "constraints": [{"range": {"max": 10}}]},
     "Invalid default 20 (20 is out of range (min: None, max: 10))"),
    ({"type": "number", "default": 20,
      "constraints": [{"range": {"max": 10}, "description": "Too big"}]},
     "Invalid default 20 (Too big)"),
    ({"type": "string", "default": "abc", "constraints": [{"allowed_values": ["x"]}]},
     'Invalid default abc ("abc" is not an allowed value ["x"])'),
    ({"type": "number", "default": "many"},
     "Invalid default many (could not convert string to float: 'many')"),
    ({"type": "boolean", "default": "perhaps"},
     "Invalid default perhaps (Unrecognized value 'perhaps', acceptable values are: '0', '1', "
     "'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes')"),
    ({"type": "comma_delimited_list", "default": ["a", "b", "c"],
      "constraints": [{"length": {"max": 2}}]},
     "Invalid default ['a', 'b', 'c'] (length (3) is out of range (min: None, max: 2))"),
    ({"type": "json", "default": "{", "constraints": []},
     "Invalid default { (Value must be valid JSON: Expecting property name enclosed in double "
     "quotes: line 1 column 2 (char 1))"),
])
def test_invalid_default(body: dict[str, Any], message: str) -> None:
    err = schema_fails({"p": body})
    assert err.message == f"Parameter 'p' is invalid: {message}"
    assert err.location == "parameters.p"


def test_default_not_checked_against_custom_constraints_until_used() -> None:
    s = one({"type": "string", "default": "not-an-ip",
             "constraints": [{"custom_constraint": "ip_addr"}]})
    assert resolve_parameters(s, {"p": "10.0.0.1"})["p"] == "10.0.0.1"
    with pytest.raises(ParameterError) as info:
        resolve_parameters(s, {})
    assert info.value.message == ("Parameter 'p' is invalid: Error validating value "
                                  "'not-an-ip': Invalid IP address")


# ---------------------------------------------------------------------------------------------
# Resolving values: precedence, unknown and missing parameters
# ---------------------------------------------------------------------------------------------

PRECEDENCE = {"p": {"type": "string", "default": "template"}, "q": {"type": "number"}}


@pytest.mark.parametrize(("values", "defaults", "expected"), [
    ({}, {}, "template"),
    ({}, {"p": "env"}, "env"),
    ({"p": "user"}, {"p": "env"}, "user"),
    ({"p": "user"}, {}, "user"),
    ({"p": None}, {"p": "env"}, "env"),
    ({}, {"p": None}, "template"),
])
def test_precedence(values: dict[str, Any], defaults: dict[str, Any], expected: str) -> None:
    s = schemas(PRECEDENCE)
    got = resolve_parameters(s, {**values, "q": 1}, defaults=defaults)
    assert got["p"] == expected
    assert got.user_supplied("p") is (expected == "user")
    assert got.user_supplied("q")


def test_parameter_defaults_for_unknown_names_are_ignored() -> None:
    got = resolve_parameters(schemas(PRECEDENCE), {"q": 1}, defaults={"nope": 1, "q": 5})
    assert dict(got) == {"p": "template", "q": 1}


def test_parameter_defaults_satisfy_required_and_are_validated() -> None:
    s = one({"type": "number", "constraints": [{"range": {"max": 3}}]})
    assert resolve_parameters(s, {}, defaults={"p": "2"})["p"] == 2
    with pytest.raises(ParameterError) as info:
        resolve_parameters(s, {}, defaults={"p": "4"})
    assert info.value.message == "Parameter 'p' is invalid: 4 is out of range (min: None, max: 3)"


def test_unknown_parameter() -> None:
    with pytest.raises(ParameterError) as info:
        resolve_parameters(schemas(PRECEDENCE), {"q": 1, "extra": "x"})
    err = info.value
    assert err.code == "UnknownUserParameter"
    assert err.message == "The Parameter (extra) was not defined in template."
    assert str(err) == "parameters.extra: The Parameter (extra) was not defined in template."


def test_pseudo_parameter_names_are_not_user_parameters() -> None:
    with pytest.raises(ParameterError) as info:
        resolve_parameters({}, {"OS::stack_id": "x"}, pseudo={"OS::stack_id": "y"})
    assert info.value.code == "UnknownUserParameter"


def test_missing_parameter() -> None:
    with pytest.raises(ParameterError) as info:
        resolve_parameters(schemas(PRECEDENCE), {})
    err = info.value
    assert err.code == "UserParameterMissing"
    assert err.message == "The Parameter (q) was not provided."
    assert err.location == "parameters.q"


def test_missing_parameter_not_strict_is_none() -> None:
    got = resolve_parameters(schemas(PRECEDENCE), {}, strict=False)
    assert dict(got) == {"p": "template", "q": None}


def test_not_strict_still_checks_given_values() -> None:
    with pytest.raises(ParameterError):
        resolve_parameters(schemas(PRECEDENCE), {"q": "x"}, strict=False)


def test_pseudo_parameters() -> None:
    s = schemas({"p": {"type": "string", "hidden": True, "default": "x"},
                 "OS::stack_name": {"type": "string", "default": "mine"}})
    got = resolve_parameters(s, {}, pseudo={"OS::stack_id": "abc", "OS::stack_name": "theirs",
                                            "OS::project_id": "bad value is fine: not validated"})
    assert list(got) == ["OS::stack_id", "OS::project_id", "p", "OS::stack_name"]
    assert got["OS::stack_id"] == "abc"
    assert got["OS::stack_name"] == "mine"
    assert not got.is_hidden("OS::stack_id") and got.is_pseudo("OS::stack_id")
    assert not got.user_supplied("OS::stack_id")
    assert got.redacted()["OS::stack_id"] == "abc"
    assert "OS::stack_id" not in got.schemas and len(got) == 4


def test_parameters_mapping_api() -> None:
    s = schemas({"a": {"type": "number", "default": 1}, "h": {"type": "string", "hidden": True}})
    got = resolve_parameters(s, {"h": "x"})
    assert got.schemas == s
    assert got.is_hidden("h") and not got.is_hidden("a") and not got.is_hidden("nope")
    assert got.redacted() == {"a": 1, "h": "******"}
    assert got.user_value("h") == "x" and got.user_value("a") is NO_DEFAULT
    assert got.default_for("a") == 1 and got.default_for("h") is NO_DEFAULT
    assert repr(got) == "Parameters({'a': 1, 'h': '******'})"
    assert got.unchecked == {} and got.unchecked_constraints == []


# ---------------------------------------------------------------------------------------------
# Size limit
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ptype", "ok", "too_big"), [
    ("string", "x" * 10, "x" * 11),
    ("string", "é" * 5, "é" * 6),
    ("json", {"k": "12"}, {"k": "123"}),
    ("comma_delimited_list", ["a", "b"], ["abc", "defgh"]),
])
def test_size_limit(ptype: str, ok: Any, too_big: Any) -> None:
    limits = Limits(max_parameter_value_size=10)
    assert value({"type": ptype}, ok, limits=limits) is not None
    err = value_fails({"type": ptype}, too_big, limits=limits)
    assert err.code == "RequestLimitExceeded"
    assert err.message == ("Parameter 'p' is invalid: the value is larger than the maximum of "
                           "10 bytes")
    assert err.location == "parameters.p"


def test_size_limit_applies_to_defaults_from_environment() -> None:
    limits = Limits(max_parameter_value_size=4)
    with pytest.raises(ParameterError) as info:
        resolve_parameters(one({"type": "string"}), {}, defaults={"p": "12345"}, limits=limits)
    assert info.value.code == "RequestLimitExceeded"


# ---------------------------------------------------------------------------------------------
# Hidden values never leak
# ---------------------------------------------------------------------------------------------

LEAK_CASES: list[tuple[dict[str, Any], Any]] = [
    ({"type": "number"}, SECRET),
    ({"type": "boolean"}, SECRET),
    ({"type": "comma_delimited_list"}, {"k": SECRET}),
    ({"type": "json"}, "{" + SECRET),
    ({"type": "json"}, f'"{SECRET}"'),
    ({"type": "string", "constraints": [{"length": {"max": 3}}]}, SECRET),
    ({"type": "string", "constraints": [{"allowed_values": ["a"]}]}, SECRET),
    ({"type": "string", "constraints": [{"allowed_pattern": "[0-9]+"}]}, SECRET),
    ({"type": "comma_delimited_list", "constraints": [{"allowed_values": ["a"]}]}, f"a,{SECRET}"),
    ({"type": "string", "constraints": [{"custom_constraint": "dns_name"}]}, f"{SECRET}.com"),
    ({"type": "string", "constraints": [{"custom_constraint": "net_cidr"}]}, SECRET),
    ({"type": "string", "constraints": [{"custom_constraint": "expiration"}]}, SECRET),
    ({"type": "string", "constraints": [{"custom_constraint": "cron_expression"}]}, SECRET),
    ({"type": "string", "constraints": [{"custom_constraint": "timezone"}]}, SECRET),
    ({"type": "string", "constraints": [{"custom_constraint": "ip_addr"}]}, SECRET),
    ({"type": "string", "constraints": [{"custom_constraint": "iso_8601"}]}, SECRET),
]


@pytest.mark.parametrize(("body", "raw"), LEAK_CASES)
def test_hidden_value_not_in_errors(body: dict[str, Any], raw: Any) -> None:
    err = value_fails({**body, "hidden": True}, raw)
    assert err.message.startswith("Parameter 'p' is invalid: ")
    assert_no_secret(err)
    visible = value_fails(body, raw).message
    if SECRET in visible:  # a visible parameter's message quotes it; the hidden one masks it
        assert "******" in err.message


@pytest.mark.parametrize(("body", "raw"), LEAK_CASES)
def test_hidden_default_not_in_errors(body: dict[str, Any], raw: Any) -> None:
    if any("custom_constraint" in c for c in body.get("constraints", [])):
        with pytest.raises(ParameterError) as info:
            resolve_parameters(one({**body, "hidden": True, "default": raw}), {})
    else:
        with pytest.raises(ParameterError) as info:
            one({**body, "hidden": True, "default": raw})
        assert info.value.message.startswith("Parameter 'p' is invalid: Invalid default ****** (")
    assert_no_secret(info.value)


def test_hidden_size_limit_error() -> None:
    err = value_fails({"type": "string", "hidden": True}, SECRET,
                      limits=Limits(max_parameter_value_size=4))
    assert_no_secret(err)


def test_hidden_cfn_no_echo() -> None:
    s = one({"Type": "String", "NoEcho": "true", "AllowedValues": ["x"]}, CFN)
    with pytest.raises(ParameterError) as info:
        resolve_parameters(s, {"p": SECRET})
    assert info.value.message == ('Parameter \'p\' is invalid: "******" is not an allowed value '
                                  '["x"]')
    assert_no_secret(info.value)


def test_hidden_value_not_in_reprs_or_outputs() -> None:
    s = schemas({"pw": {"type": "string", "hidden": True, "default": SECRET + "0"},
                 "other": {"type": "string", "default": "visible"}})
    got = resolve_parameters(s, {"pw": SECRET}, defaults={"pw": SECRET + "1"})
    assert got["pw"] == SECRET
    for text in (repr(got), str(got), repr(s), repr(s["pw"]), str(got.redacted()),
                 str(format_validate_parameters(s, got)), str(format_validate_parameters(s))):
        assert SECRET not in text
    assert got.redacted() == {"pw": "******", "other": "visible"}
    assert "visible" in repr(got)


@settings(max_examples=50)
@given(secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                      min_size=8, max_size=40).map(lambda s: f"Qz{s}Xj"),
       case=st.sampled_from(LEAK_CASES))
def test_hidden_values_never_leak_property(secret: str, case: tuple[dict[str, Any], Any]) -> None:
    body, raw = case
    raw = (raw.replace(SECRET, secret) if isinstance(raw, str)
           else {k: v.replace(SECRET, secret) for k, v in raw.items()})
    with pytest.raises(TemplateError) as info:
        value({**body, "hidden": True}, raw)
    assert_no_secret(info.value, secret)


# ---------------------------------------------------------------------------------------------
# Custom constraints
# ---------------------------------------------------------------------------------------------

CUSTOM_CASES: list[tuple[str, list[Any], Any, str]] = [
    # (name, accepted, rejected, message after "Parameter 'p' is invalid: ")
    ("ip_addr", ["10.0.0.1", "::1", "2001:db8::1", "255.255.255.255"], "abc",
     "Error validating value 'abc': Invalid IP address"),
    ("ip_addr", [], "010.0.0.1", "Error validating value '010.0.0.1': Invalid IP address"),
    ("ip_addr", [], "10.0.0", "Error validating value '10.0.0': Invalid IP address"),
    ("ip_addr", [], " 10.0.0.1", "Error validating value ' 10.0.0.1': Invalid IP address"),
    ("ip_addr", [], "1.2.3.256", "Error validating value '1.2.3.256': Invalid IP address"),
    ("net_cidr", ["10.0.0.0/24", "10.0.0.1/24", "2001:db8::/32", "0.0.0.0/0"], "10.0.0.0",
     "Error validating value '10.0.0.0': '10.0.0.0' isn't a recognized IP subnet cidr, "
     "'10.0.0.0/32' is recommended"),
    ("net_cidr", [], "10.0.0.1/255.255.255.0",
     "Error validating value '10.0.0.1/255.255.255.0': '10.0.0.1/255.255.255.0' isn't a "
     "recognized IP subnet cidr, '10.0.0.0/24' is recommended"),
    ("net_cidr", [], "abc/24",
     "Error validating value 'abc/24': Invalid net cidr invalid IPNetwork abc/24 "),
    ("mac_addr", ["fa:16:3e:00:00:01", "FA-16-3E-00-00-01", "fa16.3e00.0001", "fa163e000001",
                  "fa163e-000001"], "fa:16:3e:00:00",
     "Error validating value 'fa:16:3e:00:00': Invalid MAC address."),
    ("mac_addr", [], "gg:16:3e:00:00:01",
     "Error validating value 'gg:16:3e:00:00:01': Invalid MAC address."),
    ("iso_8601", ["2015-01-01", "2015-01-01T12:30:00Z", "2015-01-01 12:30:00+02:00",
                  "20150101T123000Z", "2015", "2015-06", "2015-01-01T12:30:00.123456-0530",
                  "2015-01-01T12"], "yesterday", "Error validating value 'yesterday'"),
    ("iso_8601", [], "2015-13-01", "Error validating value '2015-13-01'"),
    ("iso_8601", [], "2015-01-01T25:00", "Error validating value '2015-01-01T25:00'"),
    ("iso_8601", [], "201501", "Error validating value '201501'"),
    ("dns_name", ["example.com", "example.com.", "a-b.c", "x", ""], "Example.com",
     "Error validating value 'Example.com': 'Example.com' not in valid format. Reason: Name "
     "'Example' must be 1-63 characters long, each of which can only be alphanumeric or a "
     "hyphen."),
    ("dns_name", [], "-a.com", "Error validating value '-a.com': '-a.com' not in valid format. "
                               "Reason: Name '-a' must not start or end with a hyphen."),
    ("dns_name", [], "a..b", "Error validating value 'a..b': 'a..b' not in valid format. "
                             "Reason: Encountered an empty component."),
    ("dns_name", [], "a.123.", "Error validating value 'a.123.': 'a.123.' not in valid format. "
                               "Reason: TLD '123' must not be all numeric."),
    ("dns_name", [], "a" * 64, f"Error validating value '{'a' * 64}': '{'a' * 64}' not in valid "
                               f"format. Reason: Name '{'a' * 64}' must be 1-63 characters long, "
                               "each of which can only be alphanumeric or a hyphen."),
    ("dns_domain", ["example.com.", ""], "example.com",
     "Error validating value 'example.com': 'example.com' must end with '.'."),
    ("rel_dns_name", ["host", "host.sub", ""], "host.",
     "Error validating value 'host.': 'host.' is a FQDN. It should be a relative domain name."),
    ("rel_dns_name", [], "a" * 253,
     f"Error validating value '{'a' * 253}': '{'a' * 253}' contains '253' characters. Adding a "
     "domain name will cause it to exceed the maximum length of a FQDN of '255'."),
    ("json_string", ['{"a": 1}', "[]", '"x"', "5"], "{",
     "Error validating value '{': Invalid JSON: Expecting property name enclosed in double "
     "quotes: line 1 column 2 (char 1)"),
    ("cron_expression", ["*/5 * * * *", "0 0 * * mon-fri", "0 0 1 jan *", "0 0 * * * 30",
                         "0 0 1 1 * 0 2030", "0 0 1 1 * 0 2020-2030/2",
                         "@daily", "", "0 12 ? * 1#2", "0 0 L * *", "1,2,3 1-5/2 * 1-12 0-7"],
     "* * *", "Error validating value '* * *': Invalid CRON expression: Exactly 5, 6 or 7 "
              "columns has to be specified for iterator expression."),
    ("cron_expression", [], "61 * * * *", "Error validating value '61 * * * *': Invalid CRON "
                                          "expression: [61 * * * *] is not acceptable (minute "
                                          "field: '61')"),
    ("cron_expression", [], "* * * foo *", "Error validating value '* * * foo *': Invalid CRON "
                                           "expression: [* * * foo *] is not acceptable (month "
                                           "field: 'foo')"),
    ("timezone", ["Europe/Paris", "UTC", "America/New_York", ""], "Mars/Base",
     "Error validating value 'Mars/Base': Invalid timezone: 'No time zone found with key "
     "Mars/Base'"),
    ("timezone", [], "../etc/passwd",
     "Error validating value '../etc/passwd': Invalid timezone: ZoneInfo keys must refer to "
     "subdirectories of TZPATH, got: ../etc/passwd"),
    ("expiration", ["2999-01-01T00:00:00Z", " 2999-01-01 ", ""], "2000-01-01T00:00:00Z",
     "Error validating value '2000-01-01T00:00:00Z': Expiration 2000-01-01T00:00:00Z is "
     "invalid: Expiration time is out of date."),
    ("expiration", [], "soon", "Error validating value 'soon': Expiration soon is invalid: "
                               "Unable to parse date string 'soon'"),
]


@pytest.mark.parametrize(("name", "good", "bad", "message"), CUSTOM_CASES)
def test_builtin_custom_constraint(name: str, good: list[Any], bad: Any, message: str) -> None:
    body = {"type": "string", "constraints": [{"custom_constraint": name}]}
    for raw in good:
        assert value(body, raw) == raw
    err = value_fails(body, bad)
    assert err.message == f"Parameter 'p' is invalid: {message}"


def test_custom_constraint_description_replaces_message() -> None:
    body = {"type": "string", "constraints": [{"custom_constraint": "ip_addr",
                                               "description": "Need an address"}]}
    assert value_fails(body, "x").message == "Parameter 'p' is invalid: Need an address"


def test_test_constr_accepts_numbers() -> None:
    body = {"type": "number", "constraints": [{"custom_constraint": "test_constr"}]}
    assert value(body, "2") == 2
    assert value(body, 0.5) == 0.5
    plugin = DEFAULT_CONSTRAINTS.get("test_constr")
    assert plugin is not None
    with pytest.raises(ConstraintViolation):
        plugin.check("soon")


def test_custom_constraint_checks_each_list_item() -> None:
    body = {"type": "comma_delimited_list", "constraints": [{"custom_constraint": "ip_addr"}]}
    assert value(body, "10.0.0.1,10.0.0.2") == ["10.0.0.1", "10.0.0.2"]
    assert value_fails(body, "10.0.0.1,nope").message == (
        "Parameter 'p' is invalid: Error validating value 'nope': Invalid IP address")


def test_default_registry_contents() -> None:
    assert DEFAULT_CONSTRAINTS.names() == sorted([
        "ip_addr", "net_cidr", "mac_addr", "iso_8601", "dns_name", "dns_domain", "rel_dns_name",
        "json_string", "cron_expression", "timezone", "expiration", "test_constr"])
    for plugin in DEFAULT_CONSTRAINTS:
        assert plugin.description and not plugin.needs_cloud
    assert "nova.flavor" not in DEFAULT_CONSTRAINTS


class FakeFlavor(CustomConstraint):
    name = "nova.flavor"
    description = "A Nova flavor"
    message: ClassVar[str | None] = "Value must be a flavor name."
    needs_cloud = True

    def check(self, value: Any) -> None:
        if value not in ("m1.small", "m1.large"):
            raise self.fail("The Flavor ID (x) could not be found.", quotes_value=False)


def test_unknown_custom_constraint_is_unchecked() -> None:
    flavor = {"custom_constraint": "nova.flavor"}
    s = schemas({"flavor": {"type": "string", "constraints": [flavor]},
                 "image": {"type": "string", "constraints": [{"custom_constraint": "glance.image"},
                                                             {"length": {"max": 3}}]},
                 "n": {"type": "string", "constraints": [flavor]}})
    got = resolve_parameters(s, {"flavor": "anything", "image": "abc", "n": "x"})
    assert got.unchecked == {"flavor": ("nova.flavor",), "image": ("glance.image",),
                             "n": ("nova.flavor",)}
    assert got.unchecked_constraints == ["glance.image", "nova.flavor"]
    with pytest.raises(ParameterError):  # the other constraints still apply
        resolve_parameters(s, {"flavor": "anything", "image": "abcd", "n": "x"})


def test_registered_cloud_constraint() -> None:
    registry = DEFAULT_CONSTRAINTS.child()
    registry.register(FakeFlavor())
    assert "nova.flavor" in registry and "ip_addr" in registry
    assert "nova.flavor" not in DEFAULT_CONSTRAINTS
    assert registry.names() == sorted([*DEFAULT_CONSTRAINTS.names(), "nova.flavor"])
    s = one({"type": "string", "constraints": [{"custom_constraint": "nova.flavor"}]})
    assert resolve_parameters(s, {"p": "m1.small"}, constraints=registry).unchecked == {}
    with pytest.raises(ParameterError) as info:
        resolve_parameters(s, {"p": "m9"}, constraints=registry)
    assert info.value.message == ("Parameter 'p' is invalid: Error validating value 'm9': The "
                                  "Flavor ID (x) could not be found.")
    skipped = resolve_parameters(s, {"p": "m9"}, constraints=registry, skip_cloud=True)
    assert skipped.unchecked == {"p": ("nova.flavor",)}
    (ref,) = s["p"].constraints
    assert isinstance(ref, CustomConstraintRef)
    assert ref.default_description(registry) == "Value must be a flavor name."


def test_hidden_custom_violation_shows_value_free_reason() -> None:
    registry = ConstraintRegistry([FakeFlavor()])
    s = one({"type": "string", "hidden": True,
             "constraints": [{"custom_constraint": "nova.flavor"}]})
    with pytest.raises(ParameterError) as info:
        resolve_parameters(s, {"p": SECRET}, constraints=registry)
    assert info.value.message == ("Parameter 'p' is invalid: Error validating value '******': "
                                  "The Flavor ID (x) could not be found.")


def test_registry_rejects_duplicates_unless_replacing() -> None:
    registry = ConstraintRegistry([FakeFlavor()])
    with pytest.raises(ValueError, match="already registered"):
        registry.register(FakeFlavor())
    replacement = FakeFlavor()
    assert registry.register(replacement, replace=True) is replacement
    assert registry.get("nova.flavor") is replacement
    assert registry.get("nope") is None
    assert list(registry) == [replacement]


@pytest.mark.parametrize(("expression", "ok"), [
    ("0 0 * * 7", True), ("0 0 * * 8", False), ("0 24 * * *", False), ("0 0 0 * *", False),
    ("0 0 32 * *", False), ("*/0 * * * *", False), ("5-1 * * * *", False),
    ("0 0 * * sun", True), ("0 0 * * SAT", True), ("0 0 * DEC *", True), ("@hourly", True),
    ("@sometimes", False), ("0 0 * * * 60", False), ("* * * * 1#6", False),
    # seven columns: a year, 1970 to 2099 (Heat 27.0.1's croniter)
    ("0 0 * * * * *", True), ("0 0 1 1 * 0 1969", False), ("0 0 1 1 * 0 2100", False),
    ("0 0 * * * * * *", False),
])
def test_cron_fields(expression: str, ok: bool) -> None:
    assert (cron_error(expression) is None) is ok


def test_iso8601_parsing() -> None:
    assert parse_iso8601("2015-01-02T03:04:05.5+01:00").isoformat() == (
        "2015-01-02T03:04:05.500000+01:00")
    assert parse_iso8601("2015").isoformat() == "2015-01-01T00:00:00+00:00"


# ---------------------------------------------------------------------------------------------
# Parameter groups
# ---------------------------------------------------------------------------------------------

GROUPED = {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}}


def groups(section: Any) -> list[ParameterGroup]:
    return parse_parameter_groups(section, schemas(GROUPED), ("parameter_groups",))


def test_parameter_groups() -> None:
    got = groups([{"label": "First", "description": "the a", "parameters": ["a"]},
                  {"parameters": ["b", "c"]}])
    assert got == [ParameterGroup(parameters=["a"], label="First", description="the a"),
                   ParameterGroup(parameters=["b", "c"])]
    assert format_parameter_groups(got) == [
        {"label": "First", "description": "the a", "parameters": ["a"]},
        {"parameters": ["b", "c"]}]


@pytest.mark.parametrize("section", [None, []])
def test_no_parameter_groups(section: Any) -> None:
    assert groups(section) == []


# Heat 27.0.1's messages name the section and the group's label (empty without one): the
# differential cases params_parameter_groups_*
@pytest.mark.parametrize(("section", "message", "location"), [
    ({"parameters": ["a"]}, "parameter_groups: The parameter_groups should be a list.",
     "parameter_groups"),
    (["a"], "parameter_groups: Each parameter group must be a mapping.", "parameter_groups[0]"),
    ([{"label": "x"}], "parameter_groups.x: The parameters must be provided for each parameter "
     "group.", "parameter_groups[0]"),
    ([{"parameters": "a"}], "parameter_groups.: The parameters of parameter group should be a "
     "list.", "parameter_groups[0].parameters"),
    ([{"parameters": ["a"]}, {"label": "g2", "parameters": ["b", "a"]}],
     "parameter_groups.g2: The a parameter must be assigned to one parameter group only.",
     "parameter_groups[1].parameters[1]"),
    ([{"parameters": ["a", "a"]}],
     "parameter_groups.: The a parameter must be assigned to one parameter group only.",
     "parameter_groups[0].parameters[1]"),
    ([{"parameters": ["a", "zzz"]}],
     "parameter_groups.: The grouped parameter zzz does not reference a valid parameter.",
     "parameter_groups[0].parameters[1]"),
    ([{"parameters": ["a"], "label": ["x"]}],
     "parameter_groups.['x']: The label of a parameter group must be a string.",
     "parameter_groups[0].label"),
    ([{"parameters": [["a"]]}],
     "parameter_groups.: The grouped parameter ['a'] does not reference a valid parameter.",
     "parameter_groups[0].parameters[0]"),
])
def test_parameter_group_errors(section: Any, message: str, location: str) -> None:
    with pytest.raises(ParameterError) as info:
        groups(section)
    assert info.value.message == f"Parameter Groups error: {message}"
    assert info.value.location == location
    assert info.value.code == "StackValidationFailed"


def test_parameter_groups_may_name_pseudo_parameters_when_told() -> None:
    got = parse_parameter_groups([{"parameters": ["OS::stack_id"]}], {}, ("parameter_groups",),
                                 extra_names=["OS::stack_id"])
    assert got[0].parameters == ["OS::stack_id"]


# ---------------------------------------------------------------------------------------------
# Immutable parameters
# ---------------------------------------------------------------------------------------------

IMMUTABLE = {"a": {"type": "string", "immutable": True, "default": "1"},
             "b": {"type": "number", "immutable": True, "default": 1},
             "c": {"type": "string", "default": "x"}}


def test_immutable_unchanged_or_mutable_changes_pass() -> None:
    s = schemas(IMMUTABLE)
    old = resolve_parameters(s, {})
    check_immutable(old, resolve_parameters(s, {"c": "changed", "b": "1"}))


@pytest.mark.parametrize(("values", "names", "location"), [
    ({"a": "2"}, "a", "parameters.a"),
    ({"a": "2", "b": 2}, "a, b", "parameters"),
])
def test_immutable_changed(values: dict[str, Any], names: str, location: str) -> None:
    s = schemas(IMMUTABLE)
    with pytest.raises(ParameterError) as info:
        check_immutable(resolve_parameters(s, {}), resolve_parameters(s, values))
    assert info.value.code == "ImmutableParameterModified"
    assert info.value.message == ("The following parameters are immutable and may not be "
                                  f"updated: {names}")
    assert info.value.location == location


def test_immutable_only_for_parameters_in_both_stacks() -> None:
    old = resolve_parameters(schemas({"c": {"type": "string", "default": "x"}}), {})
    check_immutable(old, resolve_parameters(schemas(IMMUTABLE), {"a": "new"}))


def test_immutability_follows_the_new_template() -> None:
    old = resolve_parameters(schemas({"a": {"type": "string", "immutable": True}}), {"a": "1"})
    check_immutable(old, resolve_parameters(schemas({"a": {"type": "string"}}), {"a": "2"}))


def test_immutable_error_does_not_show_values() -> None:
    s = schemas({"pw": {"type": "string", "hidden": True, "immutable": True}})
    with pytest.raises(ParameterError) as info:
        check_immutable(resolve_parameters(s, {"pw": SECRET}),
                        resolve_parameters(s, {"pw": SECRET + "2"}))
    assert_no_secret(info.value)


# ---------------------------------------------------------------------------------------------
# template-validate output
# ---------------------------------------------------------------------------------------------


def test_format_validate_hot() -> None:
    s = schemas({
        "flavor": {"type": "string", "label": "Flavor", "description": "Size", "default": "m1",
                   "tags": ["compute"],
                   "constraints": [{"length": {"min": 1, "max": 10}, "description": "short"},
                                   {"allowed_pattern": "m[0-9]+"},
                                   {"custom_constraint": "nova.flavor",
                                    "description": "a flavor"}]},
        "count": {"type": "number", "constraints": [{"range": {"min": 1}},
                                                    {"modulo": {"step": 2, "offset": 1}},
                                                    {"allowed_values": [1, 3]}]},
        "pw": {"type": "string", "hidden": True, "default": SECRET},
        "names": {"type": "comma_delimited_list", "default": "a,b"},
        "data": {"type": "json", "default": {"k": "v"}},
        "flag": {"type": "boolean", "default": False},
    })
    assert format_validate_parameters(s) == {
        "flavor": {"Type": "String", "Description": "Size", "NoEcho": "false", "Label": "Flavor",
                   "Default": "m1", "Tags": ["compute"], "MinLength": 1, "MaxLength": 10,
                   "AllowedPattern": "m[0-9]+", "CustomConstraint": "nova.flavor",
                   "ConstraintDescription": "short a flavor"},
        "count": {"Type": "Number", "Description": "", "NoEcho": "false", "Label": "count",
                  "MinValue": 1, "Step": 2, "Offset": 1, "AllowedValues": [1, 3]},
        "pw": {"Type": "String", "Description": "", "NoEcho": "true", "Label": "pw",
               "Default": "******"},
        "names": {"Type": "CommaDelimitedList", "Description": "", "NoEcho": "false",
                  "Label": "names", "Default": "a,b"},
        "data": {"Type": "Json", "Description": "", "NoEcho": "false", "Label": "data",
                 "Default": {"k": "v"}},
        "flag": {"Type": "Boolean", "Description": "", "NoEcho": "false", "Label": "flag",
                 "Default": False},
    }


def test_format_validate_cfn() -> None:
    s = schemas({"Size": {"Type": "Number", "MinValue": 1, "MaxValue": 5, "Default": 2,
                          "ConstraintDescription": "1-5", "NoEcho": "True"}}, CFN)
    assert format_validate_parameters(s) == {
        "Size": {"Type": "Number", "Description": "", "NoEcho": "true", "Label": "Size",
                 "Default": "******", "MinValue": 1, "MaxValue": 5,
                 "ConstraintDescription": "1-5"}}


def test_format_validate_with_values() -> None:
    s = schemas({"a": {"type": "string", "default": "t"}, "b": {"type": "string"},
                 "h": {"type": "string", "hidden": True}})
    got = resolve_parameters(s, {"b": "given", "h": SECRET}, defaults={"a": "env"})
    out = format_validate_parameters(s, got)
    assert out["a"]["Default"] == "env" and "Value" not in out["a"]
    assert out["b"]["Value"] == "given" and "Default" not in out["b"]
    assert out["h"]["Value"] == "******"


# ---------------------------------------------------------------------------------------------
# Robustness: anything a YAML document can hold fails cleanly
# ---------------------------------------------------------------------------------------------

YAML_DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["string", "number", "json", "comma_delimited_list", "boolean", "range",
                       "length", "modulo", "allowed_values", "custom_constraint", "min", "max",
                       "step", "offset", "constraints", "default", "type"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "default", "constraints", "range", "length", "modulo", "min",
                         "max", "step", "offset", "allowed_values", "allowed_pattern",
                         "custom_constraint", "hidden", "tags", "description", "x"]),
        inner, max_size=4),
    max_leaves=16)


@settings(max_examples=300)
@given(section=st.dictionaries(st.text(min_size=1, max_size=4), YAML_DATA, max_size=3),
       raw=YAML_DATA)
def test_arbitrary_schemas_and_values_fail_cleanly(section: dict[str, Any], raw: Any) -> None:
    try:
        parsed = schemas(section)
    except ParameterError:
        return
    values = {name: raw for name in parsed}
    with contextlib.suppress(ParameterError):
        resolve_parameters(parsed, values, strict=False)


@settings(max_examples=200)
@given(section=YAML_DATA)
def test_arbitrary_groups_fail_cleanly(section: Any) -> None:
    with contextlib.suppress(ParameterError):
        groups(section)


@pytest.mark.parametrize("version", sorted(HOT_FEATURES))
def test_fixture_matches_registered_hot_versions(version: str) -> None:
    from kubeheat.template import formats

    spec = formats.lookup("heat_template_version", version)
    if spec is None:
        pytest.skip("HOT version tables not available")
    assert spec.family == "hot"
    assert spec.param_features == HOT_FEATURES[version]


@pytest.mark.parametrize(("kind", "given", "message"), [
    # Heat 27.0.1 (create with these values): the value as given, the allowed ones as JSON
    ("number", "4", '"4" is not an allowed value [1, "2", 3.5]'),
    ("number", 4, '4 is not an allowed value [1, "2", 3.5]'),
    ("boolean", "false", '"false" is not an allowed value [true]'),
])
def test_allowed_values_message_shows_the_value_as_given(kind: str, given: Any,
                                                         message: str) -> None:
    allowed = [1, "2", 3.5] if kind == "number" else [True]
    with pytest.raises(ParameterError) as info:
        resolve_parameters(one({"type": kind, "constraints": [{"allowed_values": allowed}]}),
                           {"p": given})
    assert info.value.message == f"Parameter 'p' is invalid: {message}"
