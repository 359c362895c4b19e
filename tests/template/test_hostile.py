"""Malformed and hostile templates: each fails with a typed kubeheat error, its exact message
and its path; none raises a raw Python exception, and none takes long."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kubeheat.template import Limits, Template
from kubeheat.template.errors import (
    DependencyCycleError,
    FunctionError,
    ReferenceError_,
    TemplateError,
    TemplateLimitError,
    TemplateSectionError,
    TemplateSyntaxError,
    TemplateVersionError,
)

HOT = "heat_template_version: 2016-10-14\n"
OLD = "heat_template_version: 2013-05-23\n"


def billion_laughs() -> str:
    lines = ["heat_template_version: 2016-10-14", "a: &a [lol, lol, lol, lol, lol, lol, lol]"]
    prev = "a"
    for i in range(9):
        name = f"l{i}"
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join(lines) + "\n"


def deep(levels: int) -> str:
    return HOT + "description: " + "[" * levels + "]" * levels + "\n"


def resources(n: int) -> str:
    return HOT + "resources:\n" + "".join(
        f"  r{i}:\n    type: OS::Heat::None\n" for i in range(n))


#: Heat 27.0.1's words (heat/common/template_format.py), as kubeheat gives them
NOT_A_MAPPING = "Template not in valid format: The template is not a JSON object or YAML mapping."
BAD_YAML = "Template not in valid format: Error parsing template [root stack] "

CASES: list[tuple[str, Any, type[TemplateError], str]] = [
    ("empty document", "", TemplateVersionError,
     "Template not in valid format: Template format version not found."),
    ("a list", "- a\n- b\n", TemplateSyntaxError, NOT_A_MAPPING),
    ("a scalar", "hello\n", TemplateSyntaxError, NOT_A_MAPPING),
    ("unclosed flow sequence", HOT + "resources: [1, 2\n", TemplateSyntaxError,
     BAD_YAML + "while parsing a flow sequence\n"
     '  in "<unicode string>", line 2, column 12:\n    resources: [1, 2\n               ^\n'
     "expected ',' or ']', but got '<stream end>'\n"
     '  in "<unicode string>", line 3, column 1:\n    \n    ^'),
    ("tab indentation", HOT + "resources:\n\tweb: {}\n", TemplateSyntaxError,
     BAD_YAML + "while scanning for the next token\n"
     "found character '\\t' that cannot start any token\n"
     '  in "<unicode string>", line 3, column 1:\n    \tweb: {}\n    ^'),
    ("billion laughs", billion_laughs(), TemplateLimitError,
     "Template expands to more than 1000000 values (YAML aliases are followed); refusing to "
     "process it"),
    ("recursive alias", HOT + "description: &a [*a]\n", TemplateSyntaxError,
     "Template contains a recursive YAML alias"),
    ("python object tag", HOT + "description: !!python/object/apply:os.system [ls]\n",
     TemplateSyntaxError,
     BAD_YAML + "could not determine a constructor for the tag "
     "'tag:yaml.org,2002:python/object/apply:os.system'\n"
     '  in "<unicode string>", line 2, column 14:\n'
     "    description: !!python/object/apply:os.system [ls]\n                 ^"),
    ("unhashable key", HOT + "? [a, b]\n: c\n", TemplateSyntaxError,
     BAD_YAML + 'while constructing a mapping\n  in "<unicode string>", line 1, column 1:\n'
     "    heat_template_version: 2016-10-14\n    ^\nfound unhashable key\n"
     '  in "<unicode string>", line 2, column 3:\n    ? [a, b]\n      ^'),
    ("non-string top-level key", HOT + "1: x\n", TemplateSectionError,
     "1: The template section is invalid: 1 (allowed in heat_template_version: 2016-10-14: "
     "conditions, "
     "description, heat_template_version, outputs, parameter_groups, parameters, resources)"),
    ("too large", HOT + "description: " + "x" * 600_000 + "\n", TemplateLimitError,
     "Request limit exceeded: Template size (600048 bytes) exceeds maximum allowed size "
     "(524288 bytes)."),
    ("nesting too deep", deep(200), TemplateLimitError, "Template nests deeper than 128 levels"),
    ("not UTF-8", b"heat_template_version: 2016-10-14\ndescription: \xff\xfe\n",
     TemplateSyntaxError, "Template is not UTF-8 text: invalid start byte"),
    ("two versions", HOT + "AWSTemplateFormatVersion: '2010-09-09'\n", TemplateVersionError,
     "Ambiguous versions (heat_template_version, AWSTemplateFormatVersion); only one is "
     "allowed"),
    ("unknown version", "heat_template_version: 2099-01-01\n", TemplateVersionError,
     'heat_template_version: The template version is invalid: "heat_template_version: '
     '2099-01-01". "heat_template_version" should be one of: 2013-05-23, 2014-10-16, '
     "2015-04-30, 2015-10-15, 2016-04-08, 2016-10-14, 2017-02-24, 2017-09-01, 2018-03-02, "
     "2018-08-31, 2021-04-16, newton, ocata, pike, queens, rocky, wallaby"),
    ("version not a string", "heat_template_version: 2016\n", TemplateVersionError,
     "heat_template_version: The template version is invalid: Template version was not "
     "provided (heat_template_version: 2016 is not a string; quote it)"),
    ("unknown section", HOT + "resourcez: {}\n", TemplateSectionError,
     "resourcez: The template section is invalid: resourcez (allowed in heat_template_version: "
     "2016-10-14: conditions, description, heat_template_version, outputs, parameter_groups, "
     "parameters, resources)"),
    ("conditions before 2016-10-14", "heat_template_version: 2015-10-15\nconditions: {}\n",
     TemplateSectionError,
     "conditions: The template section is invalid: conditions (allowed in "
     "heat_template_version: 2015-10-15: description, heat_template_version, outputs, "
     "parameter_groups, parameters, resources)"),
    ("resources is a list", HOT + "resources: [a, b]\n", TemplateSectionError,
     "resources: The resources section must be a mapping, not list"),
    ("resource is a string", HOT + "resources:\n  web: OS::Nova::Server\n",
     TemplateSectionError, 'resources.web: Resource "web" must be a mapping with a "type" key'),
    ("resource without type", HOT + "resources:\n  web: {properties: {}}\n",
     TemplateSectionError, 'resources.web: Each resource must contain a type key.'),
    ("unknown resource key", HOT + "resources:\n  web: {type: OS::Heat::None, propertys: {}}\n",
     TemplateSectionError,
     "resources.web: Invalid keyword(s) inside a resource definition: propertys"),
    ("slash in resource name", HOT + "resources:\n  a/b: {type: OS::Heat::None}\n",
     TemplateSectionError, 'resources.a/b: Resource name may not contain "/": "a/b"'),
    ("properties is a list", HOT + "resources:\n  web: {type: OS::Heat::None, properties: []}\n",
     TemplateSectionError, 'resources.web.properties: "properties" must be a mapping, not list'),
    ("type is a number", HOT + "resources:\n  web: {type: 5}\n", TemplateSectionError,
     'resources.web.type: Resource "web" type must be a non-empty string'),
    ("depends_on unknown", HOT + "resources:\n  web: {type: OS::Heat::None, depends_on: db}\n",
     ReferenceError_, 'resources.web.depends_on: The specified reference "db" (in web) is '
     "incorrect."),
    ("depends_on unknown in list",
     HOT + "resources:\n  db: {type: OS::Heat::None}\n"
     "  web: {type: OS::Heat::None, depends_on: [db, cache]}\n",
     ReferenceError_, 'resources.web.depends_on[1]: The specified reference "cache" (in web) '
     "is incorrect."),
    ("depends_on a number", HOT + "resources:\n  web: {type: OS::Heat::None, depends_on: 3}\n",
     TemplateSectionError,
     'resources.web.depends_on: "depends_on" must be a resource name or a list of names'),
    ("dependency cycle",
     HOT + "resources:\n"
     "  a: {type: OS::Heat::None, depends_on: b}\n"
     "  b: {type: OS::Heat::None, depends_on: c}\n"
     "  c: {type: OS::Heat::None, depends_on: a}\n",
     DependencyCycleError, "resources.a: Circular Dependency Found: a -> b -> c -> a"),
    ("self reference",
     HOT + "resources:\n  a: {type: OS::Heat::None, properties: {x: {get_resource: a}}}\n",
     ReferenceError_, 'resources.a: Resource "a" refers to itself'),
    ("removed function",
     "heat_template_version: 2014-10-16\noutputs:\n  o: {value: {'Fn::Join': [',', [a]]}}\n",
     FunctionError,
     "outputs.o.value.Fn::Join: The template version is invalid: The function Fn::Join is "
     "not supported in this version of HOT."),
    ("resource function in conditions",
     HOT + "conditions:\n  c: {get_attr: [a, b]}\n", FunctionError,
     'conditions.c.get_attr: The function "get_attr" is invalid in this context'),
    ("condition cycle",
     HOT + "conditions:\n  a: {not: b}\n  b: {not: a}\n"
     "resources:\n  r: {type: OS::Heat::None, condition: b}\n", TemplateError,
     'conditions.a: Condition validation error: Circular definition for condition "a": '
     "a -> b -> a"),
    ("unknown condition on resource",
     HOT + "resources:\n  a: {type: OS::Heat::None, condition: nope}\n", ReferenceError_,
     'resources.a.condition: Invalid condition "nope"'),
    ("too many resources", resources(1001), TemplateLimitError,
     "resources: The template has 1001 resources; the maximum per stack is 1000"),
    ("output without value", HOT + "outputs:\n  o: {description: x}\n", TemplateSectionError,
     'outputs.o: Each output definition must contain a value key.'),
    ("output is a string", HOT + "outputs:\n  o: text\n", TemplateSectionError,
     "outputs.o: Output definitions must be a map. Found a str instead"),
    ("unknown output key", HOT + "outputs:\n  o: {value: 1, valu: 2}\n", TemplateSectionError,
     "outputs.o: Invalid keyword(s) inside an output definition: valu"),
    ("outputs is a string", HOT + "outputs: nope\n", TemplateSectionError,
     "outputs: The outputs section must be a mapping, not str"),
    ("bad deletion policy",
     HOT + "resources:\n  a: {type: OS::Heat::None, deletion_policy: Keep}\n",
     TemplateSectionError,
     'resources.a.deletion_policy: Invalid deletion policy "Keep"; expected one of Delete, '
     "Retain, Snapshot, delete, retain, snapshot"),
    ("lower-case deletion policy before 2016-10-14",
     "heat_template_version: 2015-10-15\nresources:\n"
     "  a: {type: OS::Heat::None, deletion_policy: retain}\n", TemplateSectionError,
     'resources.a.deletion_policy: Invalid deletion policy "retain"; expected one of Delete, '
     "Retain, Snapshot"),
    ("description not a string", HOT + "description: [a]\n", TemplateSectionError,
     "description: The description must be a string"),
]


@pytest.mark.parametrize(("source", "kind", "message"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_template(source: Any, kind: type[TemplateError], message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(TemplateError) as info:
        Template.load(source).define(strict=False)
    elapsed = time.perf_counter() - start
    assert type(info.value) is kind, repr(info.value)
    assert str(info.value) == message
    # Not a timing assertion on speed, a bound on pathological blow-up (10 s is 1000x typical).
    assert elapsed < 10


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_limits_are_configurable() -> None:
    limits = Limits(max_resources_per_stack=2, max_template_size=10_000)
    with pytest.raises(TemplateLimitError, match="maximum per stack is 2"):
        Template.load(resources(3), limits=limits)
    with pytest.raises(TemplateLimitError, match=r"maximum allowed size \(10000 bytes\)"):
        Template.load(HOT + "description: " + "x" * 10_000, limits=limits)
    Template.load(resources(2), limits=limits).define()
