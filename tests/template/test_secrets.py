"""Hidden parameters and their masking (``kubeheat.template.secrets``), shared by the CLI and
the controller: which parameters are hidden, which values are secrets, and how text and data
are masked."""

from __future__ import annotations

import json

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


# -- structured hidden values (review 2026-12 H5) and whole-token masking (M5) ----------------
STRUCTURED = HOT + """parameters:
  creds: {type: json, hidden: true}
  tokens: {type: comma_delimited_list, hidden: true}
  port: {type: number, hidden: true, default: 1}
  letter: {type: string, hidden: true, default: a}
  flag: {type: boolean, hidden: true, default: true}
"""
CREDS = '{"user": "admin", "password": "OpSECRETjson2", "nested": {"deep": [12345678]}}'


def _structured_redactor() -> Redactor:
    """As the controller builds it: every value of the Secret as given, then the template's
    hidden values read by their types."""
    given = {"creds": CREDS, "tokens": "aaa,OpSECRETtok3"}
    redact = Redactor(given.values())
    redact.update(hidden_values(Template.load(STRUCTURED), given))
    return redact


def test_every_leaf_of_a_hidden_json_or_list_value_is_a_secret() -> None:
    found = set(hidden_values(Template.load(STRUCTURED),
                              {"creds": CREDS, "tokens": "aaa,OpSECRETtok3"}))
    assert {"admin", "OpSECRETjson2", "12345678", "aaa", "OpSECRETtok3"} <= found


def test_hidden_json_and_list_leaves_are_masked_in_errors_and_outputs() -> None:
    redact = _structured_redactor()
    # the error of get_param [creds, password] used as a number, and of repeat over it
    assert redact.text("Value 'OpSECRETjson2' is not an integer") == \
        f"Value '{MASK}' is not an integer"
    assert redact.text(str({"user": "admin", "password": "OpSECRETjson2"})) == \
        f"{{'user': '{MASK}', 'password': '{MASK}'}}"
    # outputs: a leaf, the list, and the list as its JSON text (the outputs ConfigMap)
    assert redact.data({"jp": "OpSECRETjson2", "t": ["aaa", "OpSECRETtok3"],
                        "tj": json.dumps(["aaa", "OpSECRETtok3"]), "n": 12345678}) == \
        {"jp": MASK, "t": [MASK, MASK], "tj": f'["{MASK}", "{MASK}"]', "n": MASK}
    assert "OpSECRET" not in redact.text(f"creds were {CREDS} and {json.loads(CREDS)!r}")


def test_recorded_hidden_values_without_their_template_are_read_by_structure() -> None:
    """A stack recorded by an earlier run (the controller's and the CLI's state) knows which
    parameters were hidden but not their types: a JSON text and a comma list are split too."""
    redact = Redactor(values_of(["creds", "tokens"], [{"creds": CREDS,
                                                      "tokens": "aaa,OpSECRETtok3"}]))
    assert redact.text("Value 'OpSECRETjson2' is not an integer") == \
        f"Value '{MASK}' is not an integer"
    assert redact.data(["aaa", "OpSECRETtok3"]) == [MASK, MASK]


def test_short_and_numeric_secrets_are_masked_only_as_whole_tokens() -> None:
    """A hidden ``1``, ``a`` or ``true`` never eats into ids, words or times; where it stands
    alone it is masked. (Data is masked as data, so that JSON stays JSON.)"""
    redact = _structured_redactor()
    ident = "f7bb0fe1-7ce6-41a1-9d1e-1a2b3c4d5e61"
    assert redact.text(ident) == ident
    assert redact.text("parameters.n: Parameter 'n' is invalid") == \
        "parameters.n: Parameter 'n' is invalid"
    assert redact.text("2026-12-04T01:01:01Z v1.2 truer") == "2026-12-04T01:01:01Z v1.2 truer"
    assert redact.text("port is 1, letter a, flag true") == \
        f"port is {MASK}, letter {MASK}, flag {MASK}"
    assert redact.data({"id": ident, "port": 1, "flag": True, "other": False}) == \
        {"id": ident, "port": MASK, "flag": MASK, "other": False}
    assert redact.whole(ident) == ident and redact.whole("1") == MASK


def test_the_start_of_a_secret_cut_by_a_truncated_message_is_masked() -> None:
    redact = Redactor(["OpSECRETjson2"])
    assert redact.text("value 'OpSECRETj...") == f"value '{MASK}..."
