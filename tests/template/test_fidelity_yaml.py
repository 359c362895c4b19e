"""YAML and JSON as Heat 27.0.1 reads them, at the loader level.

Each row is a text, what it is (a root template, a child template file named ``c.yaml``, an
environment) and what Heat's own parser (``heat/common/template_format.py`` ``parse`` and
``environment_format.parse``, run on the same text) gave: the loaded value, or the message of its
refusal. kubeheat's loader must give the same value, or refuse with a message that contains
Heat's. ``Stored`` marks the values Heat holds as Python-only types (``bytes`` for ``!!binary``,
``set``, tuples for ``!!omap``/``!!pairs``) and gives back only once stored as JSON: kubeheat loads
them in that stored form directly (see notes on deliberate differences).
"""

from __future__ import annotations

import math
import pathlib
from typing import Any, NamedTuple

import pytest

from kubeheat.cli.main import main as kubeheat
from kubeheat.template import Template
from kubeheat.template.environment import parse_environment
from kubeheat.template.errors import (
    TemplateError,
    TemplateLimitError,
    TemplateSectionError,
    TemplateSyntaxError,
    TemplateVersionError,
)
from kubeheat.template.formats import detect
from kubeheat.template.loader import duplicate_key_warnings, load_mapping

H = "heat_template_version: 2018-08-31\n"
V = {"heat_template_version": "2018-08-31"}
INF = math.inf
NAN = math.nan
TEMPLATE, CHILD, ENVIRONMENT = "Template", 'Template "c.yaml"', "Environment"


class Refused(NamedTuple):
    """Heat refused the text with this message."""

    message: str


class Stored(NamedTuple):
    """Heat's value once stored as JSON (what kubeheat loads)."""

    value: Any


def same(a: Any, b: Any) -> bool:
    """Equal, type for type (True is not 1), NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# (case, what, text, Heat's value or refusal)
TABLE: list[tuple[str, str, str, Any]] = [
    (
        "bool words",
        TEMPLATE,
        (H + "a: yes\nb: No\nc: ON\nd: off\ne: True\nf: FALSE\ng: y\nh: n\ni: tRue\nj: 'yes'\n"),
        {
            **V,
            "a": True,
            "b": False,
            "c": True,
            "d": False,
            "e": True,
            "f": False,
            "g": "y",
            "h": "n",
            "i": "tRue",
            "j": "yes",
        },
    ),
    (
        "octal",
        TEMPLATE,
        (H + "a: 0777\nb: 0o17\nc: 08\nd: 0_7\ne: -017\nf: 00\n"),
        {**V, "a": 511, "b": "0o17", "c": "08", "d": 7, "e": -15, "f": 0},
    ),
    (
        "hex and binary",
        TEMPLATE,
        (H + "a: 0x1F\nb: -0x1f\nc: 0b101\nd: 0x_1F\ne: 0xG\n"),
        {**V, "a": 31, "b": -31, "c": 5, "d": 31, "e": "0xG"},
    ),
    (
        "underscores",
        TEMPLATE,
        (H + "a: 1_000\nb: 1_0.5\nc: 1__0\nd: _1\n"),
        {**V, "a": 1000, "b": 10.5, "c": 10, "d": "_1"},
    ),
    (
        "sexagesimal",
        TEMPLATE,
        (H + "a: 190:20:30\nb: 190:20:30.15\nc: 1:30\nd: -1:30\ne: 1:70\nf: 01:30\n"),
        {**V, "a": 685230, "b": 685230.15, "c": 90, "d": -90, "e": "1:70", "f": "01:30"},
    ),
    (
        "floats",
        TEMPLATE,
        (H + "a: 1.5\nb: 1e5\nc: 1.0e5\nd: 1.0e+5\ne: .5\nf: 5.\ng: -1.5E-3\n"),
        {**V, "a": 1.5, "b": "1e5", "c": "1.0e5", "d": 100000.0, "e": 0.5, "f": 5.0, "g": -0.0015},
    ),
    (
        "infinity and nan",
        TEMPLATE,
        (H + "a: .inf\nb: -.Inf\nc: .NaN\nd: 1.0e+400\ne: .infinity\n"),
        {**V, "a": INF, "b": -INF, "c": NAN, "d": INF, "e": ".infinity"},
    ),
    (
        "dates stay strings",
        TEMPLATE,
        (
            H + "a: 2001-12-14\n"
            "b: 2001-12-14t21:59:43.10-05:00\n"
            "c: !!timestamp 2001-12-14\n"
            "d: 2001-12-14 21:59:43.10 -5\n"
        ),
        {
            **V,
            "a": "2001-12-14",
            "b": "2001-12-14t21:59:43.10-05:00",
            "c": "2001-12-14",
            "d": "2001-12-14 21:59:43.10 -5",
        },
    ),
    (
        "nulls",
        TEMPLATE,
        (H + "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nULL\n"),
        {**V, "a": None, "b": None, "c": None, "d": None, "e": None, "f": "nULL"},
    ),
    (
        "literal blocks",
        TEMPLATE,
        (H + "a: |\n  x\n   y\nb: |-\n  x\nc: |+\n  x\n\nd: |2\n    x\n"),
        {**V, "a": "x\n y\n", "b": "x", "c": "x\n\n", "d": "  x\n"},
    ),
    (
        "folded blocks",
        TEMPLATE,
        (H + "a: >\n  x\n  y\n\n  z\n    w\nb: >-\n  x\n  y\n"),
        {**V, "a": "x y\nz\n  w\n", "b": "x y"},
    ),
    (
        "duplicate keys keep the last",
        TEMPLATE,
        (H + "a: 1\na: 2\nb: {x: 1, x: 2}\n"),
        {**V, "a": 2, "b": {"x": 2}},
    ),
    (
        "duplicate section",
        TEMPLATE,
        (H + "outputs: {a: {value: 1}}\noutputs: {b: {value: 2}}\n"),
        {**V, "outputs": {"b": {"value": 2}}},
    ),
    (
        "json text",
        TEMPLATE,
        '{"heat_template_version": "2018-08-31", "a": 1e5, "b": 1E+2, "c": "yes", "d": -0.0}',
        {**V, "a": 100000.0, "b": 100.0, "c": "yes", "d": -0.0},
    ),
    (
        "json duplicate keys",
        TEMPLATE,
        '{"heat_template_version": "2018-08-31", "a": 1, "a": 2}',
        {**V, "a": 2},
    ),
    (
        "json words NaN and Infinity",
        TEMPLATE,
        '{"heat_template_version": "2018-08-31", "a": NaN, "b": Infinity, "c": -Infinity}',
        {**V, "a": NAN, "b": INF, "c": -INF},
    ),
    (
        "not json: yaml flow",
        TEMPLATE,
        '{"heat_template_version": 2018-08-31, "a": yes, "b": 0777, "c": 1e5}',
        {**V, "a": True, "b": 511, "c": "1e5"},
    ),
    (
        "json with a bom is read as yaml",
        TEMPLATE,
        '\ufeff{"heat_template_version": "2018-08-31", "c": 1e5}',
        {**V, "c": "1e5"},
    ),
    ("empty text", TEMPLATE, "", Refused("Template format version not found.")),
    ("blank text", TEMPLATE, ("  \n\n"), Refused("Template format version not found.")),
    ("comment only", TEMPLATE, "# nothing\n", Refused("Template format version not found.")),
    ("tilde", TEMPLATE, "~\n", Refused("Template format version not found.")),
    ("json null", TEMPLATE, "null", Refused("The template is not a JSON object or YAML mapping.")),
    ("document marker only", TEMPLATE, "---\n", Refused("Template format version not found.")),
    ("empty json object", TEMPLATE, "{}", Refused("Template format version not found.")),
    (
        "a sequence",
        TEMPLATE,
        ("- a\n- b\n"),
        Refused("The template is not a JSON object or YAML mapping."),
    ),
    (
        "json list",
        TEMPLATE,
        "[1, 2]",
        Refused("The template is not a JSON object or YAML mapping."),
    ),
    (
        "a scalar",
        TEMPLATE,
        "hello\n",
        Refused("The template is not a JSON object or YAML mapping."),
    ),
    ("a number", TEMPLATE, "42", Refused("The template is not a JSON object or YAML mapping.")),
    (
        "a json string",
        TEMPLATE,
        '"heat_template_version"',
        Refused("The template is not a JSON object or YAML mapping."),
    ),
    (
        "two documents",
        TEMPLATE,
        (H + "---\nheat_template_version: 2018-08-31\n"),
        Refused(
            "Error parsing template [root stack] expected a single document in the stream\n"
            '  in "<unicode string>", line 1, column 1:\n'
            "    heat_template_version: 2018-08-31\n"
            "    ^\n"
            "but found another document\n"
            '  in "<unicode string>", line 2, column 1:\n'
            "    ---\n"
            "    ^"
        ),
    ),
    ("document markers", TEMPLATE, ("%YAML 1.1\n---\nheat_template_version: 2018-08-31\n...\n"), V),
    (
        "tab indentation",
        TEMPLATE,
        (H + "a:\n\tb: 1\n"),
        Refused(
            "Error parsing template [root stack] while scanning for the next token\n"
            "found character '\\t' that cannot start any token\n"
            '  in "<unicode string>", line 3, column 1:\n'
            "    \tb: 1\n"
            "    ^"
        ),
    ),
    ("tab after colon", TEMPLATE, (H + "a:\tb\nc: 'd\te'\n"), {**V, "a": "b", "c": "d\te"}),
    ("bom", TEMPLATE, ("\ufeffheat_template_version: 2018-08-31\na: 1\n"), {**V, "a": 1}),
    (
        "anchors and aliases",
        TEMPLATE,
        (H + "x: &A {k: [1, 2]}\ny: *A\n"),
        {**V, "x": {"k": [1, 2]}, "y": {"k": [1, 2]}},
    ),
    (
        "merge keys",
        TEMPLATE,
        (H + "x: &A {k: 1, j: 1}\nz: {<<: *A, j: 2}\nw: {<<: [*A, {q: 3}], k: 9}\n"),
        {**V, "x": {"k": 1, "j": 1}, "z": {"k": 1, "j": 2}, "w": {"k": 9, "j": 1, "q": 3}},
    ),
    (
        "binary",
        TEMPLATE,
        (H + "a: !!binary aGVsbG8=\n"),
        Stored({"heat_template_version": "2018-08-31", "a": "hello"}),
    ),
    (
        "python tag",
        TEMPLATE,
        (H + "a: !!python/object/apply:os.system [ls]\n"),
        Refused(
            "Error parsing template [root stack] could not determine a constructor "
            "for the tag 'tag:yaml.org,2002:python/object/apply:os.system'\n"
            '  in "<unicode string>", line 2, column 4:\n'
            "    a: !!python/object/apply:os.system [ls]\n"
            "       ^"
        ),
    ),
    (
        "python tuple",
        TEMPLATE,
        (H + "a: !!python/tuple [1, 2]\n"),
        Refused(
            "Error parsing template [root stack] could not determine a constructor "
            "for the tag 'tag:yaml.org,2002:python/tuple'\n"
            '  in "<unicode string>", line 2, column 4:\n'
            "    a: !!python/tuple [1, 2]\n"
            "       ^"
        ),
    ),
    (
        "local tag",
        TEMPLATE,
        (H + "a: !custom x\n"),
        Refused(
            "Error parsing template [root stack] could not determine a constructor "
            "for the tag '!custom'\n"
            '  in "<unicode string>", line 2, column 4:\n'
            "    a: !custom x\n"
            "       ^"
        ),
    ),
    (
        "core tags",
        TEMPLATE,
        (
            H + "a: !!str 123\n"
            "b: !!int '7'\n"
            "c: !!float '1'\n"
            "d: !!bool 'yes'\n"
            "e: !!null ''\n"
            "f: !!str\n"
        ),
        {**V, "a": "123", "b": 7, "c": 1.0, "d": True, "e": None, "f": ""},
    ),
    (
        "set omap pairs",
        TEMPLATE,
        (H + "a: !!set {x}\nb: !!omap [{k: 1}, {j: 2}]\nc: !!pairs [{k: 1}, {k: 2}]\n"),
        Stored(
            {
                "heat_template_version": "2018-08-31",
                "a": ["x"],
                "b": [["k", 1], ["j", 2]],
                "c": [["k", 1], ["k", 2]],
            }
        ),
    ),
    (
        "non-string keys",
        TEMPLATE,
        (H + "1: one\n1.5: f\n~: nul\n2001-01-01: d\n"),
        {**V, 1: "one", 1.5: "f", None: "nul", "2001-01-01": "d"},
    ),
    ("true and 1 are one key", TEMPLATE, (H + "a: {1: x, true: y}\n"), {**V, "a": {1: "y"}}),
    (
        "unhashable key",
        TEMPLATE,
        (H + "? [1, 2]\n: x\n"),
        Refused(
            "Error parsing template [root stack] while constructing a mapping\n"
            '  in "<unicode string>", line 1, column 1:\n'
            "    heat_template_version: 2018-08-31\n"
            "    ^\n"
            "found unhashable key\n"
            '  in "<unicode string>", line 2, column 3:\n'
            "    ? [1, 2]\n"
            "      ^"
        ),
    ),
    (
        "null sections",
        TEMPLATE,
        (H + "resources:\noutputs: ~\nparameters: null\n"),
        {**V, "resources": None, "outputs": None, "parameters": None},
    ),
    (
        "unquoted versions",
        TEMPLATE,
        "heat_template_version: 2016-10-14\n",
        {"heat_template_version": "2016-10-14"},
    ),
    (
        "version as a number is present",
        TEMPLATE,
        "heat_template_version: 2018\n",
        {"heat_template_version": 2018},
    ),
    (
        "cfn version unquoted",
        TEMPLATE,
        "HeatTemplateFormatVersion: 2012-12-12\n",
        {"HeatTemplateFormatVersion": "2012-12-12"},
    ),
    (
        "quoting",
        TEMPLATE,
        (H + "a: 'it''s'\nb: \"\\u00e9\\t\\x41\"\nc: 'multi\n  line'\n"),
        {**V, "a": "it's", "b": "é\tA", "c": "multi line"},
    ),
    (
        "unclosed flow sequence",
        TEMPLATE,
        (H + "a: [1, 2\n"),
        Refused(
            "Error parsing template [root stack] while parsing a flow sequence\n"
            '  in "<unicode string>", line 2, column 4:\n'
            "    a: [1, 2\n"
            "       ^\n"
            "expected ',' or ']', but got '<stream end>'\n"
            '  in "<unicode string>", line 3, column 1:\n'
            "    \n"
            "    ^"
        ),
    ),
    (
        "mapping in a plain scalar",
        TEMPLATE,
        (H + "a: b: c\n"),
        Refused(
            "Error parsing template [root stack] mapping values are not allowed here\n"
            '  in "<unicode string>", line 2, column 5:\n'
            "    a: b: c\n"
            "        ^"
        ),
    ),
    (
        "reserved indicator",
        TEMPLATE,
        (H + "a: @x\n"),
        Refused(
            "Error parsing template [root stack] while scanning for the next token\n"
            "found character '@' that cannot start any token\n"
            '  in "<unicode string>", line 2, column 4:\n'
            "    a: @x\n"
            "       ^"
        ),
    ),
    (
        "large integers",
        TEMPLATE,
        (H + "a: 12345678901234567890123\nb: 1e400\n"),
        {**V, "a": 12345678901234567890123, "b": "1e400"},
    ),
    (
        "child template error names the file",
        CHILD,
        (H + "a: b: c\n"),
        Refused(
            "Error parsing template c.yaml mapping values are not allowed here\n"
            '  in "<unicode string>", line 2, column 5:\n'
            "    a: b: c\n"
            "        ^"
        ),
    ),
    (
        "child template not a mapping",
        CHILD,
        "[1]\n",
        Refused("The template is not a JSON object or YAML mapping."),
    ),
    (
        "child template without version",
        CHILD,
        "description: x\n",
        Refused("Template format version not found."),
    ),
    (
        "environment scalars",
        ENVIRONMENT,
        ("parameters:\n  a: yes\n  b: 0777\n  c: 2001-12-14\n  d: 1_0\n  e: 1:30\n"),
        {"parameters": {"a": True, "b": 511, "c": "2001-12-14", "d": 10, "e": 90}},
    ),
    (
        "environment duplicate sections",
        ENVIRONMENT,
        ("parameters:\n  a: 1\nparameters:\n  b: 2\n"),
        {"parameters": {"b": 2}},
    ),
    (
        "environment json is read as yaml",
        ENVIRONMENT,
        '{"parameter_defaults": {"a": NaN, "b": 1e5, "c": 1.0e+5}}',
        {"parameter_defaults": {"a": "NaN", "b": "1e5", "c": 100000.0}},
    ),
    ("environment empty", ENVIRONMENT, "", {}),
    ("environment tilde", ENVIRONMENT, "~", {}),
    ("environment json null", ENVIRONMENT, "null", {}),
    (
        "environment a sequence",
        ENVIRONMENT,
        "[1]",
        Refused("The environment is not a valid YAML mapping data type."),
    ),
    (
        "environment a scalar",
        ENVIRONMENT,
        "x",
        Refused("The environment is not a valid YAML mapping data type."),
    ),
    (
        "environment yaml error",
        ENVIRONMENT,
        "parameters: {a: [1\n",
        Refused(
            "while parsing a flow sequence\n"
            '  in "<unicode string>", line 1, column 17:\n'
            "    parameters: {a: [1\n"
            "                    ^\n"
            "expected ',' or ']', but got '<stream end>'\n"
            '  in "<unicode string>", line 2, column 1:\n'
            "    \n"
            "    ^"
        ),
    ),
    (
        "environment two documents",
        ENVIRONMENT,
        ("parameters: {a: 1}\n---\nb: 1\n"),
        Refused(
            "expected a single document in the stream\n"
            '  in "<unicode string>", line 1, column 1:\n'
            "    parameters: {a: 1}\n"
            "    ^\n"
            "but found another document\n"
            '  in "<unicode string>", line 2, column 1:\n'
            "    ---\n"
            "    ^"
        ),
    ),
    ("environment bom", ENVIRONMENT, "\ufeffparameters: {a: 1}\n", {"parameters": {"a": 1}}),
    (
        "environment binary",
        ENVIRONMENT,
        "parameters: {a: !!binary aGVsbG8=}\n",
        Stored({"parameters": {"a": "hello"}}),
    ),
    (
        "environment python tag",
        ENVIRONMENT,
        "parameters: {a: !!python/object:os.system x}\n",
        Refused(
            "could not determine a constructor "
            "for the tag 'tag:yaml.org,2002:python/object:os.system'\n"
            '  in "<unicode string>", line 1, column 17:\n'
            "    parameters: {a: !!python/object:os.system x}\n"
            "                    ^"
        ),
    ),
    (
        "environment tab",
        ENVIRONMENT,
        ("parameters:\n\ta: 1\n"),
        Refused(
            "while scanning for the next token\n"
            "found character '\\t' that cannot start any token\n"
            '  in "<unicode string>", line 2, column 1:\n'
            "    \ta: 1\n"
            "    ^"
        ),
    ),
    (
        "environment anchors",
        ENVIRONMENT,
        ("parameters: &p {a: 1}\nparameter_defaults: *p\n"),
        {"parameters": {"a": 1}, "parameter_defaults": {"a": 1}},
    ),
    # JSON indented with tabs: JSON for a template; YAML flow (tabs allowed) for an environment
    (
        "json indented with tabs",
        TEMPLATE,
        '{\n\t"heat_template_version": "2018-08-31",\n\t"a": 1\n}\n',
        {**V, "a": 1},
    ),
    (
        "environment json indented with tabs",
        ENVIRONMENT,
        '{\n\t"parameters": {"a": 1}\n}\n',
        {"parameters": {"a": 1}},
    ),
    (
        "crlf line ends",
        TEMPLATE,
        H.replace("\n", "\r\n") + "a: |\r\n  x\r\n  y\r\n",
        {**V, "a": "x\ny\n"},
    ),
    (
        "control character",
        TEMPLATE,
        H + 'a: "x\x07"\n',
        Refused(
            "Error parsing template [root stack] unacceptable character #x0007: special characters "
            'are not allowed\n  in "<unicode string>", position 39'
        ),
    ),
    (
        "json with a trailing comment is yaml",
        TEMPLATE,
        '{"heat_template_version": "2018-08-31", "a": 1e5} # c\n',
        {**V, "a": "1e5"},
    ),
    (
        "bad indentation",
        TEMPLATE,
        H + "a: 1\n  b: 2\n",
        Refused(
            "Error parsing template [root stack] mapping values are not allowed here\n"
            '  in "<unicode string>", line 3, column 4:\n      b: 2\n       ^'
        ),
    ),
    ("block scalar as a key", TEMPLATE, H + "? |\n  block key\n: v\n", {**V, "block key\n": "v"}),
    (
        "explicit tags convert",
        TEMPLATE,
        H + "a: !!float 1e5\nb: !!int 0x_1\n",
        {**V, "a": 100000.0, "b": 1},
    ),
    # libyaml refuses this; Heat then keeps what PyYAML's pure-Python parser loads. (There Heat's
    # dates are datetime objects: its version is 2018-08-31 as a date, so Heat goes on to say
    # "Template version was not provided"; kubeheat keeps dates strings in this case too.)
    (
        "libyaml refuses, pure-python loads",
        TEMPLATE,
        H + "a: [~:,  ]\n",
        {**V, "a": [{None: None}]},
    ),
    (
        "libyaml refuses, pure-python loads a sequence",
        TEMPLATE,
        "[~:,  ]",
        Refused("The template is not a JSON object or YAML mapping."),
    ),
    (
        "environment libyaml refuses",
        ENVIRONMENT,
        "parameters: {a: [~:,  ]}\n",
        {"parameters": {"a": [{None: None}]}},
    ),
    (
        "set of a sequence",
        TEMPLATE,
        H + "a: !!set [b]\n",
        Refused(
            "Error parsing template [root stack] expected a mapping node, but found sequence\n"
            '  in "<unicode string>", line 2, column 4:\n    a: !!set [b]\n       ^'
        ),
    ),
    (
        "omap of a mapping",
        TEMPLATE,
        H + "a: !!omap {k: 1}\n",
        Refused(
            "Error parsing template [root stack] while constructing an ordered map\n"
            "expected a sequence, but found mapping\n"
            '  in "<unicode string>", line 2, column 4:\n    a: !!omap {k: 1}\n       ^'
        ),
    ),
    (
        "set members once, in order",
        TEMPLATE,
        H + "a: !!set {b, c, b}\n",
        Stored({**V, "a": ["b", "c"]}),
    ),
]


@pytest.mark.parametrize(
    ("what", "text", "heat"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_loader_reads_as_heat_does(what: str, text: str, heat: Any) -> None:
    if isinstance(heat, Refused):
        with pytest.raises(TemplateError) as info:
            load_mapping(text, what=what)
        assert heat.message in str(info.value)
        kind = what.partition(" ")[0]
        assert f"{kind} not in valid format: " in str(info.value)
        return
    got = load_mapping(text, what=what)
    expected = heat.value if isinstance(heat, Stored) else heat
    assert same(expected, got), f"Heat {expected!r}, kubeheat {got!r}"


def test_the_table_is_big_enough() -> None:
    assert len(TABLE) >= 80


def test_size_is_counted_in_characters_as_heat_does() -> None:
    """Heat checks len(text) against max_template_size (524288), a character count."""
    wide = H + "description: '" + "\u00e9" * 300_000 + "'\n"  # 600 kB of UTF-8, 300k characters
    assert load_mapping(wide)["description"] == "\u00e9" * 300_000
    limit = H + "description: " + "x" * (524288 - len(H) - 14) + "\n"
    assert len(limit) == 524288
    load_mapping(limit)
    with pytest.raises(TemplateLimitError) as info:
        load_mapping(limit + " ")
    assert str(info.value) == (
        "Request limit exceeded: Template size (524289 bytes) exceeds "
        "maximum allowed size (524288 bytes)."
    )


def test_a_child_template_over_the_size_is_named() -> None:
    with pytest.raises(TemplateLimitError) as info:
        load_mapping("x" * 524290, what=CHILD)
    assert str(info.value) == (
        '"c.yaml": Request limit exceeded: Template size (524290 bytes) '
        "exceeds maximum allowed size (524288 bytes)."
    )


def test_where_the_document_is_comes_first() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        load_mapping(H + "a: b: c\n", what="Template /srv/t.yaml")
    assert str(info.value).startswith(
        "/srv/t.yaml: Template not in valid format: Error parsing template [root stack] "
        "mapping values are not allowed here\n"
    )
    with pytest.raises(TemplateSyntaxError) as info:
        parse_environment("- 1\n", name="env.yaml")
    assert str(info.value) == (
        "env.yaml: Environment not in valid format: The environment is "
        "not a valid YAML mapping data type."
    )


def test_binary_that_is_not_utf8_is_refused_with_its_place() -> None:
    """Heat loads it as bytes and then fails (UnicodeDecodeError) storing the template."""
    with pytest.raises(TemplateSyntaxError) as info:
        load_mapping(H + "a: !!binary /w==\n")
    assert str(info.value) == (
        "Template not in valid format: the !!binary value at line 2, column 4 is not UTF-8 text"
    )


def test_a_non_string_section_is_named_as_heat_names_it() -> None:
    """Heat 27.0.1 validate: 'The template section is invalid: 1' (and None, True)."""
    for key, shown in (("1", "1"), ("~", "None"), ("true", "True")):
        with pytest.raises(TemplateSectionError) as info:
            Template.load(H + f"{key}: x\n")
        assert f"The template section is invalid: {shown} " in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "heat_template_version: 2018\n",
        "heat_template_version: 2018.08\n",
        "heat_template_version: [2018-08-31]\n",
    ],
)
def test_a_version_that_is_not_a_string_is_no_version(text: str) -> None:
    """Heat only counts version keys with string values: 'The template version is invalid:
    Template version was not provided'."""
    with pytest.raises(TemplateVersionError) as info:
        Template.load(text)
    assert "The template version is invalid: Template version was not provided" in str(info.value)
    assert info.value.location == "heat_template_version"


def test_a_number_version_beside_a_string_one_is_not_ambiguous() -> None:
    text = "heat_template_version: 2018\nHeatTemplateFormatVersion: '2012-12-12'\n"
    assert detect(load_mapping(text)).key == "HeatTemplateFormatVersion"


def test_an_environment_is_yaml_only() -> None:
    """Heat's environment_format.parse never tries JSON: NaN is a string, 1e5 too."""
    env = parse_environment('{"parameter_defaults": {"a": NaN, "b": 1e5, "c": 1.5e+3}}')
    assert env.parameter_defaults == {"a": "NaN", "b": "1e5", "c": 1500.0}


def test_an_environment_mapping_is_not_reread_as_yaml() -> None:
    """An already loaded environment keeps its values (1e+100 stays a float)."""
    env = parse_environment({"parameter_defaults": {"a": 1e100, "b": "yes"}})
    assert env.parameter_defaults == {"a": 1e100, "b": "yes"}


def test_duplicate_keys_are_kept_last_and_warned_about() -> None:
    text = (
        H + "resources:\n  web:\n    type: OS::Heat::None\n    properties:\n"
        "      flavor: a\n      flavor: b\n  db: {type: OS::Heat::None}\n"
        "outputs:\n  o: {value: [{k: 1, k: 2}]}\n  o: {value: 3}\n"
        "m: &A {x: 1}\nn: {<<: *A, x: 2}\n"
    )
    assert load_mapping(text)["outputs"] == {"o": {"value": 3}}
    assert duplicate_key_warnings(text) == [
        "resources.web.properties.flavor: duplicate key, the value at line 7 is kept",
        "outputs.o.value[0].k: duplicate key, the value at line 10 is kept",
        "outputs.o: duplicate key, the value at line 11 is kept",
    ]
    assert duplicate_key_warnings('{"a": 1, "a": 2}', "Environment e.json") == [
        "e.json: a: duplicate key, the value at line 1 is kept"
    ]
    assert duplicate_key_warnings(H + "a: [\n") == []


def test_validate_warns_about_duplicate_keys(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        H + "resources:\n  v:\n    type: OS::Heat::Value\n    properties: {value: 1, value: 2}\n"
    )
    env = tmp_path / "e.yaml"
    env.write_text("parameter_defaults:\n  a: 1\n  a: 2\n")
    assert kubeheat(["validate", "-t", str(template), "-e", str(env)]) == 0
    err = capsys.readouterr().err
    assert (
        "WARNING: resources.v.properties.value: duplicate key, the value at line 5 is kept" in err
    )
    assert (
        f"WARNING: {env}: parameter_defaults.a: duplicate key, the value at line 3 is kept" in err
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Heat 27.0.1 refuses each, though with a Python error or a bare HTTP 400
        (H + "outputs:\n  1: {value: x}\n", "outputs.1: Output names must be strings, not 1"),
        (H + "outputs:\n  ~: {value: x}\n", "outputs.None: Output names must be strings, not None"),
        (
            H + "resources:\n  1: {type: OS::Heat::None}\n",
            "resources.1: Resource names must be non-empty strings",
        ),
        (
            H + "resources:\n  yes: {type: OS::Heat::None}\n",
            "resources.True: Resource names must be non-empty strings",
        ),
        (
            H + "parameters:\n  1: {type: string}\n",
            "parameters: Parameter names must be non-empty strings, not 1",
        ),
    ],
)
def test_names_that_yaml_reads_as_other_scalars_are_refused(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        Template.load(text)
    assert str(info.value) == message


def test_an_environment_default_under_a_non_string_key_is_kept_by_its_json_name() -> None:
    """Heat 27.0.1 validate with parameter_defaults {1: x}: accepted, given back as {"1": "x"};
    with parameters {1: x}: 'The Parameter (1) was not defined in template.'"""
    env = parse_environment("parameter_defaults: {1: x, ~: y, p: z}\n")
    assert env.parameter_defaults == {"1": "x", "null": "y", "p": "z"}
    with pytest.raises(TemplateError, match=r"parameters\.1: parameter name 1 is not a string"):
        parse_environment("parameters: {1: x}\n")


def test_an_empty_environment_section_is_refused_as_heat_does() -> None:
    """Heat: 'environment has empty section "parameters"' (the last of two keys counts)."""
    with pytest.raises(TemplateError, match='environment has empty section "parameters"'):
        parse_environment("parameters: {a: 1}\nparameters: ~\n")
