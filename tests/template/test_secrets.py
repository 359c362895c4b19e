"""Hidden parameters and their masking (``kubeheat.template.secrets``), shared by the CLI and
the controller: which parameters are hidden, which values are secrets, and how text and data
are masked."""

from __future__ import annotations

from kubeheat.template import Template, parse_environment
from kubeheat.template.secrets import (
    MASK,
    Redactor,
    hidden_parameter_names,
    hidden_values,
    texts,
    values_of,
)

HOT = "heat_template_version: 2018-08-31\n"
TEMPLATE = HOT + """parameters:
  password: {type: string, hidden: true, default: the-default}
  pin: {type: number, hidden: true}
  keys: {type: comma_delimited_list, hidden: true}
  flavor: {type: string, default: m1.small}
resources:
  child: {type: child.yaml}
"""
CHILD = HOT + "parameters:\n  token: {type: string, hidden: true}\n"


def test_hidden_names_include_provider_templates() -> None:
    template = Template.load(TEMPLATE, files={"child.yaml": CHILD, "data.txt": "not a template"})
    assert hidden_parameter_names(template) == {"password", "pin", "keys", "token"}


def test_cfn_no_echo_is_hidden() -> None:
    template = Template.load({"AWSTemplateFormatVersion": "2010-09-09", "Parameters": {
        "Key": {"Type": "String", "NoEcho": "true", "Default": "cfn-secret"},
        "Name": {"Type": "String"}}})
    assert hidden_parameter_names(template) == {"Key"}
    assert hidden_values(template, {"Name": "visible"}) == ["cfn-secret"]


def test_hidden_values_from_every_source() -> None:
    template = Template.load(TEMPLATE, files={"child.yaml": CHILD})
    env = parse_environment("parameters:\n  pin: 4321\n"
                            "parameter_defaults:\n  token: tok-value\n  flavor: m1.big\n")
    found = hidden_values(template, {"keys": ["key-one", "key-two"], "flavor": "m1.tiny"},
                          [env])
    assert set(found) == {"the-default", "4321", "tok-value", "key-one", "key-two",
                          "['key-one', 'key-two']"}
    assert found == sorted(found, key=lambda v: (-len(v), v))


def test_text_forms() -> None:
    assert texts(None) == [] and texts("") == []
    assert texts("pw") == ["pw"]
    assert texts(12) == ["12"]
    assert texts(["a", 2, True, None]) == ["['a', 2, True, None]", "a", "2"]
    assert texts({"k": "v"}) == ["{'k': 'v'}"]
    assert values_of(["a", "b"], [{"a": "one", "c": "other"}, {"b": ["two"]}]) == \
        ["['two']", "one", "two"]


def test_redactor_masks_long_secrets_inside_text_short_ones_only_whole() -> None:
    redact = Redactor(["s3cr3t", "abc", " padded\n"])
    assert redact.text("pw=s3cr3t;") == f"pw={MASK};"
    assert redact.text("abc") == MASK
    assert redact.text("abcdef") == "abcdef"
    assert redact.text("was padded") == f"was {MASK}"
    assert not redact.empty and Redactor().empty
    assert Redactor().text("anything") == "anything"


def test_redactor_of_the_cli_masks_every_occurrence() -> None:
    redact = Redactor(["abc", "abcdef"], min_partial=1)
    assert redact.text("x abcdef y abc") == f"x {MASK} y {MASK}"


def test_redactor_masks_data() -> None:
    redact = Redactor(["s3cr3t", "4321"])
    data = {"dsn": "pg://u:s3cr3t@db", "pin": 4321, "flag": True, "n": 7,
            "list": ["s3cr3t", ("x", 4321)], "s3cr3t": "key"}
    assert redact.data(data) == {"dsn": f"pg://u:{MASK}@db", "pin": MASK, "flag": True,
                                 "n": 7, "list": [MASK, ["x", MASK]], MASK: "key"}
    redact.add(None)
    redact.add("")
    redact.add(1234.5)
    assert redact.data(1234.5) == MASK
