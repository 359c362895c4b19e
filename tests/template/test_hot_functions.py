"""HOT intrinsic functions, condition functions and version tables (heat_template_version
2013-05-23 to 2021-04-16).

The version matrix is checked twice: the tables themselves against the matrix written out here
from the behaviour reference, and every function of every version evaluated (or rejected with its
exact message). Function behaviour and errors are then checked case by case. A small stand-in for
a stack definition (``FakeStack``, both the ParseContext and the Scope) drives the functions;
each error case states whether it must be found while parsing or only when evaluating.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeheat.template import (
    StackDefinition,
    StackIdentity,
    StaticResources,
    Template,
    VersionSpec,
    formats,
)
from kubeheat.template import hot as hot_versions
from kubeheat.template.errors import (
    FunctionError,
    Path,
    ReferenceError_,
    TemplateError,
    TemplateLimitError,
)
from kubeheat.template.functions import conditions as cond_fns
from kubeheat.template.functions import hot as fns
from kubeheat.template.functions.base import (
    Dependency,
    Scope,
    dependencies,
    parse,
    resolve,
)

VERSIONS = [v for v, _ in hot_versions.VERSIONS]
NEWEST = "2021-04-16"
OUT: Path = ("outputs", "o", "value")
COND: Path = ("conditions", "c")

PARAMS: dict[str, Any] = {
    "name": "world",
    "count": 3,
    "flag": True,
    "list": ["a", "b", "c"],
    "map": {"k": "v", "nested": {"x": [10, 20]}},
    "key": "k",
    "res": "web",
    "attr": "addr",
    "env": "prod",
    "expr": "$.data * 2",
    "which": "yes",
    "split_args": [",", "x,y"],
    "bad_expr": "invalid(",
    "OS::stack_id": "stack-uuid",
    "OS::stack_name": "mystack",
    "OS::project_id": "project-uuid",
}
REFS = {"web": "web-id", "db": "db-id"}
ATTRS: dict[str, dict[str, Any]] = {
    "web": {"addr": "10.0.0.1", "nets": {"private": ["10.0.0.1", "10.0.0.2"]},
            "show": {"id": "web-id"}},
    "db": {"port": 5432},
}
FILES = {"f.txt": "file content", "nested.yaml": "{get_file: f.txt}"}
FACADE = {"metadata": {"m": 1}, "deletion_policy": "Retain", "update_policy": {"u": 2}}
CONDITIONS: dict[str, Any] = {
    "yes": True,
    "no": False,
    "is_prod": {"equals": [{"get_param": "env"}, "prod"]},
}


class FakeStack:
    """What functions see of a stack definition: names, parameter values, files, resources,
    conditions and the facade."""

    def __init__(self, version: str = NEWEST, *, resources: Iterable[str] = ("web", "db"),
                 inactive: Iterable[str] = ("off",), params: Mapping[str, Any] | None = None,
                 conditions: Mapping[str, Any] | None = None,
                 files: Mapping[str, str] | None = None,
                 attrs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.version: VersionSpec = hot_versions.SPECS[version]
        self.active_resource_names = frozenset(resources)
        self.resource_names = self.active_resource_names | frozenset(inactive)
        self.params = {**PARAMS, **(params or {})}
        self.parameter_names = frozenset(self.params)
        self.mappings: dict[str, Any] = {}  # HOT has no Mappings section
        self.defer_value_errors = False
        self.raw_conditions = {**CONDITIONS, **(conditions or {})}
        self.files = {**FILES, **(files or {})}
        self.resources = StaticResources(REFS, attrs if attrs is not None else ATTRS)

    # ParseContext
    def condition_value(self, name_or_expr: Any, path: Path) -> bool:
        if isinstance(name_or_expr, bool):
            return name_or_expr
        if isinstance(name_or_expr, str):
            return self.condition(name_or_expr, path)
        value = resolve(parse(self, name_or_expr, path, condition=True), self)
        if not isinstance(value, bool):
            raise TemplateError("The definition of condition is invalid", path)
        return value

    def static_scope(self) -> Scope:
        return self

    # Scope
    def get_param(self, name: str, path: Path) -> Any:
        if name not in self.params:
            raise ReferenceError_(f"The Parameter ({name}) was not provided.", path)
        return self.params[name]

    def get_file(self, key: str, path: Path) -> str:
        if key not in self.files:
            raise FunctionError(
                f'No content found in the "files" section for get_file path: {key}', path)
        return self.files[key]

    def resource_ref(self, name: str, path: Path) -> Any:
        return self.resources.reference(name)

    def resource_attr(self, name: str, attribute: str | None, attr_path: Sequence[Any],
                      path: Path) -> Any:
        return self.resources.attribute(name, attribute, attr_path)

    def condition(self, name: str, path: Path) -> bool:
        if name not in self.raw_conditions:
            raise ReferenceError_(f'Invalid condition "{name}"', path)
        return self.condition_value(self.raw_conditions[name], ("conditions", name))

    def facade(self, key: str, path: Path) -> Any:
        return FACADE[key]

    def availability_zones(self) -> list[str]:
        return ["nova"]


def parsed(snippet: Any, version: str = NEWEST, path: Path = OUT, *, condition: bool = False,
           **kw: Any) -> tuple[Any, FakeStack]:
    stack = FakeStack(version, **kw)
    return parse(stack, snippet, path, condition=condition), stack


def ev(snippet: Any, version: str = NEWEST, **kw: Any) -> Any:
    tree, stack = parsed(snippet, version, **kw)
    return resolve(tree, stack)


def cond(snippet: Any, version: str = NEWEST, **kw: Any) -> Any:
    return ev(snippet, version, path=COND, condition=True, **kw)


def deps(snippet: Any, version: str = NEWEST, **kw: Any) -> list[Dependency]:
    tree, _ = parsed(snippet, version, **kw)
    return list(dependencies(tree))


def error_of(snippet: Any, version: str = NEWEST, *, when: str, condition: bool = False,
             **kw: Any) -> TemplateError:
    """The error ``snippet`` raises, checking it is raised while parsing (``when="parse"``) or
    only once evaluated (``when="eval"``)."""
    path = COND if condition else OUT
    if when == "parse":
        with pytest.raises(TemplateError) as info:
            parsed(snippet, version, path, condition=condition, **kw)
        return info.value
    tree, stack = parsed(snippet, version, path, condition=condition, **kw)
    with pytest.raises(TemplateError) as info:
        resolve(tree, stack)
    return info.value


# ------------------------------------------------------------------------------------------------
# Two ways to run a snippet: through the fake stack, and end to end as an output (or condition)
# of a whole template loaded with Template.load(...).define(...)
# ------------------------------------------------------------------------------------------------

IDENTITY = StackIdentity(name="mystack", id="stack-uuid", project_id="project-uuid")


def parameter_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "json"


def template_doc(version: str, value: Any = None, *, condition: Any = None,
                 has_condition: bool = False) -> dict[str, Any]:
    """A template whose output ``o`` is ``value`` (or whose condition ``c`` is ``condition``),
    with the parameters, resources and conditions the fake stack has."""
    newton = version >= "2016-10-14"
    resources: dict[str, Any] = {"web": {"type": "OS::Heat::None"},
                                 "db": {"type": "OS::Heat::None"}}
    doc: dict[str, Any] = {
        "heat_template_version": version,
        "parameters": {name: {"type": parameter_type(v), "default": v}
                       for name, v in PARAMS.items() if "::" not in name},
        "resources": resources,
    }
    if newton:
        resources["off"] = {"type": "OS::Heat::None", "condition": "no"}
        doc["conditions"] = dict(CONDITIONS)
    if has_condition:
        doc["conditions"]["c"] = condition
    else:
        doc["outputs"] = {"o": {"value": value}}
    return doc


def define(doc: Mapping[str, Any]) -> StackDefinition:
    return Template.load(doc, files=FILES).define(
        resources=StaticResources(REFS, ATTRS), identity=IDENTITY, facade=FACADE)


class UnitHarness:
    """Functions driven through the fake stack."""

    def value(self, snippet: Any, version: str) -> Any:
        return ev(snippet, version)

    def condition(self, snippet: Any, version: str) -> Any:
        return cond(snippet, version)

    def error(self, snippet: Any, version: str, *, when: str,
              condition: bool = False) -> TemplateError:
        return error_of(snippet, version, when=when, condition=condition)


class TemplateHarness:
    """Snippets as the output ``o`` (or condition ``c``) of a whole template: parse-time errors
    come from define(), evaluation errors from output_value()."""

    def value(self, snippet: Any, version: str) -> Any:
        return define(template_doc(version, snippet)).output_value("o")

    def condition(self, snippet: Any, version: str) -> Any:
        return define(template_doc(version, condition=snippet, has_condition=True)
                      ).conditions["c"]

    def error(self, snippet: Any, version: str, *, when: str,
              condition: bool = False) -> TemplateError:
        if condition:  # conditions are all decided by define()
            with pytest.raises(TemplateError) as info:
                # an error Heat finds when the condition is used: raised when it is read
                define(template_doc(version, condition=snippet, has_condition=True)
                       ).conditions["c"]
            return info.value
        doc = template_doc(version, snippet)
        if when == "parse":
            try:
                defn = define(doc)
            except TemplateError as exc:
                return exc
            # an error in the values given, in an output: as Heat, the output's error
            with pytest.raises(TemplateError) as info:
                defn.output_value("o")
            return info.value
        defn = define(doc)
        with pytest.raises(TemplateError) as info:
            defn.output_value("o")
        return info.value


Harness = UnitHarness | TemplateHarness


@pytest.fixture(params=[UnitHarness(), TemplateHarness()], ids=["unit", "template"])
def harness(request: pytest.FixtureRequest) -> Harness:
    value: Harness = request.param
    return value


# ------------------------------------------------------------------------------------------------
# The version matrix (heat-features.md section 1), written out independently of the tables
# ------------------------------------------------------------------------------------------------

def spans(*parts: tuple[str, int]) -> list[str]:
    """A matrix row: ``(class name or "-" absent or "R" removed, number of versions)``."""
    row = [name for name, count in parts for _ in range(count)]
    assert len(row) == len(VERSIONS)
    return row


MATRIX: dict[str, list[str]] = {
    "get_param": spans(("GetParam", 11)),
    "get_resource": spans(("GetResource", 11)),
    "get_attr": spans(("GetAttThenSelect", 1), ("GetAtt", 2), ("GetAttAllAttributes", 8)),
    "get_file": spans(("GetFile", 11)),
    "list_join": spans(("Join", 3), ("JoinMultiple", 8)),
    "str_replace": spans(("Replace", 3), ("ReplaceJson", 8)),
    "resource_facade": spans(("ResourceFacade", 11)),
    "repeat": spans(("-", 2), ("Repeat", 3), ("RepeatWithMap", 2), ("RepeatWithNestedLoop", 4)),
    "digest": spans(("-", 2), ("Digest", 9)),
    "str_split": spans(("-", 3), ("StrSplit", 8)),
    "map_merge": spans(("-", 4), ("MapMerge", 7)),
    "yaql": spans(("-", 5), ("Yaql", 6)),
    "map_replace": spans(("-", 5), ("MapReplace", 6)),
    "if": spans(("-", 5), ("If", 5), ("IfNullable", 1)),
    "filter": spans(("-", 6), ("Filter", 5)),
    "str_replace_strict": spans(("-", 6), ("ReplaceJsonStrict", 5)),
    "make_url": spans(("-", 7), ("MakeURL", 4)),
    "list_concat": spans(("-", 7), ("ListConcat", 4)),
    "list_concat_unique": spans(("-", 7), ("ListConcatUnique", 4)),
    "str_replace_vstrict": spans(("-", 7), ("ReplaceJsonVeryStrict", 4)),
    "contains": spans(("-", 7), ("Contains", 4)),
    "Fn::Select": spans(("Select", 3), ("R", 8)),
    "Fn::GetAZs": spans(("GetAZs", 1), ("R", 10)),
    "Fn::Join": spans(("CfnJoin", 1), ("R", 10)),
    "Fn::Split": spans(("CfnSplit", 1), ("R", 10)),
    "Fn::Replace": spans(("CfnReplace", 1), ("R", 10)),
    "Fn::Base64": spans(("Base64", 1), ("R", 10)),
    "Fn::MemberListToMap": spans(("MemberListToMap", 1), ("R", 10)),
    "Fn::ResourceFacade": spans(("CfnResourceFacade", 1), ("R", 10)),
    "Ref": spans(("Ref", 1), ("R", 10)),
}

CONDITION_MATRIX: dict[str, list[str]] = {
    "get_param": spans(("-", 5), ("GetParam", 6)),
    "equals": spans(("-", 5), ("Equals", 6)),
    "not": spans(("-", 5), ("Not", 6)),
    "and": spans(("-", 5), ("And", 6)),
    "or": spans(("-", 5), ("Or", 6)),
    "yaql": spans(("-", 7), ("Yaql", 4)),
    "contains": spans(("-", 7), ("Contains", 4)),
}

ALIASES = {"2016-10-14": "newton", "2017-02-24": "ocata", "2017-09-01": "pike",
           "2018-03-02": "queens", "2018-08-31": "rocky", "2021-04-16": "wallaby"}

#: one call per function, with a value that is the same in every version having it
SAMPLES: dict[str, tuple[Any, Any]] = {
    "get_param": (["map", "nested", "x", 1], 20),
    "get_resource": ("web", "web-id"),
    "get_attr": (["web", "nets", "private", 1], "10.0.0.2"),
    "get_file": ("f.txt", "file content"),
    "list_join": (["-", ["a", "b"]], "a-b"),
    "str_replace": ({"template": "Hello NAME", "params": {"NAME": "world"}}, "Hello world"),
    "resource_facade": ("deletion_policy", "Retain"),
    "repeat": ({"template": "x-%v%", "for_each": {"%v%": ["1", "2"]}}, ["x-1", "x-2"]),
    "digest": (["md5", "foobar"], "3858f62230ac3c915f300c664312c63f"),
    "str_split": ([",", "a,b,c", 1], "b"),
    "map_merge": ([{"a": 1, "b": 1}, {"b": 2}], {"a": 1, "b": 2}),
    "yaql": ({"expression": "$.data.v.sum()", "data": {"v": [1, 2, 3]}}, 6),
    "map_replace": ([{"a": 1}, {"keys": {"a": "b"}, "values": {1: 2}}], {"b": 2}),
    "if": ([True, "yes", "no"], "yes"),
    "filter": ([[2], [1, 2, 3]], [1, 3]),
    "str_replace_strict": ({"template": "a-X", "params": {"X": "b"}}, "a-b"),
    "make_url": ({"scheme": "https", "host": "example.com", "port": 8443, "path": "/p"},
                 "https://example.com:8443/p"),
    "list_concat": ([[1], [2, 1]], [1, 2, 1]),
    "list_concat_unique": ([[1], [2, 1]], [1, 2]),
    "str_replace_vstrict": ({"template": "a-X", "params": {"X": "b"}}, "a-b"),
    "contains": (["b", ["a", "b"]], True),
    "Fn::Select": ([1, ["a", "b"]], "b"),
    "Fn::GetAZs": ("", ["nova"]),
    "Fn::Join": ([",", ["a", "b"]], "a,b"),
    "Fn::Split": ([",", "a,b"], ["a", "b"]),
    "Fn::Replace": ([{"$x": "y"}, "a $x"], "a y"),
    "Fn::Base64": ("text", "text"),
    "Fn::MemberListToMap": (["Name", "Value", [".member.0.Name=k", ".member.0.Value=v"]],
                            {"k": "v"}),
    "Fn::ResourceFacade": ("DeletionPolicy", "Retain"),
    "Ref": ("web", "web-id"),
}

CONDITION_SAMPLES: dict[str, tuple[Any, bool]] = {
    "get_param": ("flag", True),
    "equals": ([{"get_param": "env"}, "prod"], True),
    "not": ("no", True),
    "and": (["yes", {"not": "no"}, True], True),
    "or": (["no", False], False),
    "yaql": ({"expression": "$.data.len() > 1", "data": [1, 2]}, True),
    "contains": (["b", ["a", "b"]], True),
}


def first_version(row: list[str]) -> str:
    return next(v for v, c in zip(VERSIONS, row, strict=True) if c not in ("-", "R"))


def test_matrix_covers_every_function_of_every_version() -> None:
    for spec in hot_versions.SPECS.values():
        assert set(spec.functions) | set(spec.removed_functions) <= set(MATRIX)
        assert set(spec.condition_functions) <= set(CONDITION_MATRIX)
    assert set(SAMPLES) == set(MATRIX)
    assert set(CONDITION_SAMPLES) == set(CONDITION_MATRIX)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", list(MATRIX))
def test_function_table(version: str, name: str) -> None:
    spec = hot_versions.SPECS[version]
    expected = MATRIX[name][VERSIONS.index(version)]
    if expected == "-":
        assert name not in spec.functions
        assert name not in spec.removed_functions
    elif expected == "R":
        assert name not in spec.functions
        assert name in spec.removed_functions
    else:
        assert spec.functions[name].__name__ == expected
        assert name not in spec.removed_functions
    available = tuple(v for v, c in zip(VERSIONS, MATRIX[name], strict=True)
                      if c not in ("-", "R"))
    assert spec.family_functions[name] == available


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", list(CONDITION_MATRIX))
def test_condition_function_table(version: str, name: str) -> None:
    spec = hot_versions.SPECS[version]
    expected = CONDITION_MATRIX[name][VERSIONS.index(version)]
    if expected == "-":
        assert name not in spec.condition_functions
    else:
        assert spec.condition_functions[name].__name__ == expected


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", list(MATRIX))
def test_every_function_in_every_version(harness: Harness, version: str, name: str) -> None:
    """Present: evaluates to the sample value. Removed: rejected with Heat's message naming the
    function and the path. Absent (a function of later versions only): plain data (Heat 27.0.1)."""
    args, value = SAMPLES[name]
    snippet = {"x": {name: args}}
    status = MATRIX[name][VERSIONS.index(version)]
    if status not in ("-", "R"):
        assert harness.value(snippet, version) == {"x": value}
        return
    if status == "-":   # a function of a later version only: plain data, as in Heat
        assert harness.value(snippet, version) == {"x": {name: args}}
        return
    err = harness.error(snippet, version, when="parse")
    assert type(err) is FunctionError
    assert str(err) == (f"outputs.o.value.x.{name}: The template version is invalid: The "
                        f"function {name} is not supported in this version of HOT.")


@pytest.mark.parametrize("version", VERSIONS[5:])
@pytest.mark.parametrize("name", list(CONDITION_MATRIX))
def test_every_condition_function_in_every_version(harness: Harness, version: str,
                                                   name: str) -> None:
    args, value = CONDITION_SAMPLES[name]
    snippet = {name: args}
    if CONDITION_MATRIX[name][VERSIONS.index(version)] != "-":
        assert harness.condition(snippet, version) is value
        return
    if name == "yaql":  # a function of these versions, but not a condition function yet
        err = harness.error(snippet, version, when="parse", condition=True)
        assert type(err) is FunctionError
        assert str(err) == 'conditions.c.yaql: The function "yaql" is invalid in this context'
        return
    # no function at all yet: plain data, so not a condition (Heat 27.0.1: "The definition of
    # condition "c" is invalid: {'contains': ['a', ['a']]}")
    with pytest.raises(TemplateError) as info:
        define(template_doc(version, condition=snippet, has_condition=True))
    assert str(info.value) == (f"conditions.c: Condition validation error: The definition of "
                               f'condition "c" is invalid: {snippet!r}')


@pytest.mark.parametrize("version", VERSIONS[:5])
def test_no_condition_functions_before_2016_10_14(version: str) -> None:
    spec = hot_versions.SPECS[version]
    assert spec.condition_functions == {}
    assert spec.sections.conditions is None


@pytest.mark.parametrize("version", VERSIONS[5:])
@pytest.mark.parametrize("name", ["get_attr", "get_resource", "list_join", "if", "str_split"])
def test_other_functions_are_invalid_in_conditions(version: str, name: str) -> None:
    err = error_of({"equals": [{name: ["web", "x"]}, 1]}, version, when="parse", condition=True)
    assert str(err) == (f'conditions.c.equals[0].{name}: The function "{name}" is invalid in '
                        "this context")


@pytest.mark.parametrize("version", VERSIONS[5:])
def test_removed_functions_in_conditions_say_so(version: str) -> None:
    err = error_of({"not": {"Fn::Select": [0, [True]]}}, version, when="parse", condition=True)
    assert str(err) == ("conditions.c.not.Fn::Select: The template version is invalid: The "
                        "function Fn::Select is not supported in this version of HOT.")


@pytest.mark.parametrize("name", ["equals", "not", "and", "or"])
def test_condition_only_functions_are_plain_data_elsewhere(name: str) -> None:
    assert ev({"x": {name: [1, 1]}}) == {"x": {name: [1, 1]}}


@pytest.mark.parametrize("version", VERSIONS)
def test_sections_keys_and_features(version: str) -> None:
    spec = hot_versions.SPECS[version]
    newton = version >= "2016-10-14"
    assert spec.family == "hot"
    assert spec.key == "heat_template_version"
    assert spec.version == version
    assert spec.aliases == ((ALIASES[version],) if version in ALIASES else ())
    base_sections = {"heat_template_version", "description", "parameter_groups", "parameters",
                     "resources", "outputs"}
    assert spec.allowed_sections == base_sections | ({"conditions"} if newton else set())
    assert spec.sections.mappings is None
    base_keys = {"type", "properties", "metadata", "depends_on", "deletion_policy",
                 "update_policy", "description"}
    assert spec.allowed_resource_keys == base_keys | (
        {"external_id", "condition"} if newton else set())
    assert spec.output_keys == {"description", "value"} | ({"condition"} if newton else set())
    policies = {"Delete", "Retain", "Snapshot"}
    assert spec.deletion_policies == policies | (
        {p.lower() for p in policies} if newton else set())
    features = set()
    if version >= "2017-02-24":
        features.add("modulo")
    if version >= "2018-03-02":
        features.add("tags")
    assert spec.param_features == features
    assert spec.strict_resource_keys is True
    assert spec.pseudo_parameters == ("OS::stack_id", "OS::stack_name", "OS::project_id")


@pytest.mark.parametrize("version", VERSIONS)
def test_versions_are_registered_under_their_aliases(version: str) -> None:
    spec = formats.lookup("heat_template_version", version)
    assert spec is hot_versions.SPECS[version]
    if version in ALIASES:
        assert formats.lookup("heat_template_version", ALIASES[version]) is spec
    assert formats.detect({"heat_template_version": version}) is spec


def test_rocky_has_exactly_the_functions_of_queens() -> None:
    queens, rocky = hot_versions.SPECS["2018-03-02"], hot_versions.SPECS["2018-08-31"]
    assert dict(queens.functions) == dict(rocky.functions)
    assert dict(queens.condition_functions) == dict(rocky.condition_functions)


def test_wallaby_only_changes_if() -> None:
    rocky, wallaby = hot_versions.SPECS["2018-08-31"], hot_versions.SPECS["2021-04-16"]
    changed = {n for n in wallaby.functions if wallaby.functions[n] is not rocky.functions[n]}
    assert changed == {"if"}


@pytest.mark.parametrize("spec", list(hot_versions.SPECS.values()), ids=VERSIONS)
def test_every_function_documents_itself(spec: VersionSpec) -> None:
    for table in (spec.functions, spec.condition_functions):
        for name, cls in table.items():
            assert cls.doc and "\n" not in cls.doc, name


# ------------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------------

VALUE_CASES: list[tuple[str, str, Any, Any]] = [
    # get_param
    ("get_param name", NEWEST, {"get_param": "name"}, "world"),
    ("get_param typed", NEWEST, {"get_param": "flag"}, True),
    ("get_param pseudo", NEWEST, {"get_param": "OS::stack_name"}, "mystack"),
    ("get_param map path", NEWEST, {"get_param": ["map", "nested", "x", 0]}, 10),
    ("get_param string index", NEWEST, {"get_param": ["list", "1"]}, "b"),
    ("get_param negative index", NEWEST, {"get_param": ["list", -1]}, "c"),
    ("get_param missing key", NEWEST, {"get_param": ["map", "nope"]}, ""),
    ("get_param index out of range", NEWEST, {"get_param": ["list", 9]}, ""),
    ("get_param bad string index", NEWEST, {"get_param": ["list", "x"]}, ""),
    ("get_param int key on map", NEWEST, {"get_param": ["map", 0]}, ""),
    ("get_param float key", NEWEST, {"get_param": ["map", 1.5]}, ""),
    ("get_param through scalar", NEWEST, {"get_param": ["count", 0]}, ""),
    ("get_param string is a sequence", NEWEST, {"get_param": ["name", 0]}, "w"),
    ("get_param list value", NEWEST, {"get_param": ["map", "nested", "x"]}, [10, 20]),
    ("get_param path from function", NEWEST, {"get_param": ["map", {"get_param": "key"}]}, "v"),
    ("get_param name from function", NEWEST,
     {"get_param": {"list_join": ["", ["na", "me"]]}}, "world"),
    # get_resource
    ("get_resource", NEWEST, {"get_resource": "web"}, "web-id"),
    ("get_resource from param", NEWEST, {"get_resource": {"get_param": "res"}}, "web-id"),
    # get_attr
    ("get_attr", NEWEST, {"get_attr": ["web", "addr"]}, "10.0.0.1"),
    ("get_attr path", NEWEST, {"get_attr": ["web", "nets", "private", 1]}, "10.0.0.2"),
    ("get_attr miss", NEWEST, {"get_attr": ["web", "nets", "public"]}, None),
    ("get_attr unknown attribute", NEWEST, {"get_attr": ["web", "nope"]}, None),
    ("get_attr attribute from param", NEWEST, {"get_attr": ["web", {"get_param": "attr"}]},
     "10.0.0.1"),
    ("get_attr all attributes", NEWEST, {"get_attr": ["web"]},
     {"addr": "10.0.0.1", "nets": {"private": ["10.0.0.1", "10.0.0.2"]}}),
    ("get_attr null attribute is all", "2015-10-15", {"get_attr": ["db", None]}, {"port": 5432}),
    ("get_attr 2013 walks path", "2013-05-23", {"get_attr": ["web", "nets", "private", 0]},
     "10.0.0.1"),
    ("get_attr 2013 miss", "2013-05-23", {"get_attr": ["web", "nets", "x", 0]}, None),
    ("get_attr 2013 path into number", "2013-05-23", {"get_attr": ["db", "port", 0]}, None),
    ("get_attr 2013 map of lists", "2013-05-23", {"get_attr": ["web", "nets", "private"]},
     ["10.0.0.1", "10.0.0.2"]),
    ("get_attr 2014 path", "2014-10-16", {"get_attr": ["web", "nets", "private", 1]},
     "10.0.0.2"),
    # get_file
    ("get_file", NEWEST, {"get_file": "f.txt"}, "file content"),
    ("get_file is not parsed", NEWEST, {"get_file": "nested.yaml"}, "{get_file: f.txt}"),
    ("get_file key from function", NEWEST, {"get_file": {"list_join": [".", ["f", "txt"]]}},
     "file content"),
    # resource_facade
    ("resource_facade metadata", NEWEST, {"resource_facade": "metadata"}, {"m": 1}),
    ("resource_facade update_policy", NEWEST, {"resource_facade": "update_policy"}, {"u": 2}),
    # list_join before 2015-10-15
    ("list_join", "2015-04-30", {"list_join": [",", ["bar", "baz"]]}, "bar,baz"),
    ("list_join empty", "2015-04-30", {"list_join": [",", []]}, ""),
    ("list_join null list", "2015-04-30", {"list_join": [",", None]}, ""),
    ("list_join null item", "2013-05-23", {"list_join": [",", ["a", None, "b"]]}, "a,,b"),
    ("list_join param", "2014-10-16", {"list_join": ["", {"get_param": "list"}]}, "abc"),
    ("list_join missing attribute", "2014-10-16",
     {"list_join": ["\n", {"get_attr": ["web", "nope"]}]}, ""),
    # list_join 2015-10-15+
    ("list_join multiple", "2015-10-15", {"list_join": [",", ["bar", "baz"], ["b2"]]},
     "bar,baz,b2"),
    ("list_join skips empty", NEWEST, {"list_join": [",", ["a"], None, [], {}, ["b"]]}, "a,b"),
    ("list_join json", NEWEST, {"list_join": [",", [{"foo": "json"}, {"b": 1, "a": [2]}]]},
     '{"foo": "json"},{"a": [2], "b": 1}'),
    ("list_join long delimiter", NEWEST, {"list_join": [", ", ["a", "b"]]}, "a, b"),
    ("list_join nested list json", NEWEST, {"list_join": [";", [[1, 2], "x"]]}, "[1, 2];x"),
    ("list_join null item new", NEWEST, {"list_join": ["-", ["a", None]]}, "a-"),
    ("list_join missing attributes", NEWEST,
     {"list_join": ["\n", {"get_attr": ["web", "x"]}, {"get_attr": ["web", "y"]}]}, ""),
    # str_replace
    ("str_replace", "2013-05-23",
     {"str_replace": {"template": "Template var1 string var2",
                      "params": {"var1": "foo", "var2": "bar"}}}, "Template foo string bar"),
    ("str_replace longest first", NEWEST,
     {"str_replace": {"template": "1234567890", "params": {
         "1": "a", "12": "b", "123": "c", "1234": "d", "12345": "e", "123456": "f",
         "1234567": "g"}}}, "g890"),
    ("str_replace single pass", NEWEST,
     {"str_replace": {"template": "1234567890", "params": {
         "1": "a", "4": "d", "8": "h", "9": "i", "123": "1", "456": "4", "890": "8",
         "90": "9"}}}, "1478"),
    ("str_replace lexicographic tie", NEWEST,
     {"str_replace": {"template": "9876543210", "params": {
         "987654": "a", "876543": "b", "765432": "c", "654321": "d", "543210": "e"}}},
     "9876e"),
    ("str_replace overlapping keys", NEWEST,
     {"str_replace": {"template": "aaa", "params": {"a": "b", "aa": "c"}}}, "cb"),
    ("str_replace no rescan of values", NEWEST,
     {"str_replace": {"template": "X", "params": {"X": "Y", "Y": "Z"}}}, "Y"),
    ("str_replace every occurrence", NEWEST,
     {"str_replace": {"template": "a-a-a", "params": {"a": "b"}}}, "b-b-b"),
    ("str_replace number", "2013-05-23",
     {"str_replace": {"template": "n=N f=F", "params": {"N": 1, "F": 1.5}}}, "n=1 f=1.5"),
    ("str_replace bool and null", NEWEST,
     {"str_replace": {"template": "b=B z=Z", "params": {"B": True, "Z": None}}}, "b=True z="),
    ("str_replace unused param", NEWEST,
     {"str_replace": {"template": "a", "params": {"zzz": "x"}}}, "a"),
    ("str_replace map json", "2015-10-15",
     {"str_replace": {"template": "jsonvar1", "params": {"jsonvar1": {"foo": 123, "a": 1}}}},
     '{"a": 1, "foo": 123}'),
    ("str_replace list json", NEWEST,
     {"str_replace": {"template": "listvar1", "params": {"listvar1": ["foo", 123]}}},
     '["foo", 123]'),
    ("str_replace from params", NEWEST,
     {"str_replace": {"template": {"get_param": "name"}, "params": {"get_param": "map"}}},
     "world"),
    ("str_replace_strict tricky", NEWEST,
     {"str_replace_strict": {"template": "Template var1 var1 s var2 t varvarvar3", "params": {
         "var1": "foo", "var2": "bar", "var3": "zed", "var": "tricky "}}},
     "Template foo foo s bar t tricky tricky zed"),
    ("str_replace_strict empty ok", NEWEST,
     {"str_replace_strict": {"template": "a var1 var2", "params": {"var1": "x", "var2": ""}}},
     "a x "),
    # str_split
    ("str_split", NEWEST, {"str_split": [",", "bar,baz"]}, ["bar", "baz"]),
    ("str_split index", NEWEST, {"str_split": [",", "bar,baz", 1]}, "baz"),
    ("str_split index string", NEWEST, {"str_split": [",", "bar,baz", "1"]}, "baz"),
    ("str_split negative index", NEWEST, {"str_split": [",", "bar,baz", -1]}, "baz"),
    ("str_split null string", NEWEST, {"str_split": [".", None]}, None),
    ("str_split null delimiter", NEWEST, {"str_split": [None, "check me"]}, ["check", "me"]),
    ("str_split args from param", NEWEST, {"str_split": {"get_param": "split_args"}},
     ["x", "y"]),
    # repeat
    ("repeat", "2015-04-30",
     {"repeat": {"template": "this is %var%", "for_each": {"%var%": ["a", "b", "c"]}}},
     ["this is a", "this is b", "this is c"]),
    ("repeat dict template", NEWEST,
     {"repeat": {"template": {"key-%var%": "this is %var%", "n": 1},
                 "for_each": {"%var%": ["a", "b"]}}},
     [{"key-a": "this is a", "n": 1}, {"key-b": "this is b", "n": 1}]),
    ("repeat list template", NEWEST,
     {"repeat": {"template": ["this is %var%", "static"], "for_each": {"%var%": ["a", "b"]}}},
     [["this is a", "static"], ["this is b", "static"]]),
    ("repeat product", "2015-04-30",
     {"repeat": {"template": "%a%-%b%", "for_each": {"%a%": ["x", "y"], "%b%": ["1", "2"]}}},
     ["x-1", "x-2", "y-1", "y-2"]),
    ("repeat three lists", "2015-04-30",
     {"repeat": {"template": "%a%%b%%c%", "for_each": {"%a%": ["0", "1"], "%b%": ["0", "1"],
                                                       "%c%": ["0", "1"]}}},
     ["000", "001", "010", "011", "100", "101", "110", "111"]),
    ("repeat map keys", "2016-10-14",
     {"repeat": {"template": "%a%-%b%", "for_each": {"%a%": ["x"], "%b%": {"k1": 1, "k2": 2}}}},
     ["x-k1", "x-k2"]),
    ("repeat null list", NEWEST,
     {"repeat": {"template": {"ROLE": "ROLE"}, "for_each": {"ROLE": None}}}, []),
    ("repeat from param", "2015-04-30",
     {"repeat": {"template": "this is var%", "for_each": {"var%": {"get_param": "list"}}}},
     ["this is a", "this is b", "this is c"]),
    ("repeat permutations false", "2017-09-01",
     {"repeat": {"template": {"n": "%n%", "p": "%p%"},
                 "for_each": {"%n%": ["n1", "n2"], "%p%": ["p1", "p2"]},
                 "permutations": False}},
     [{"n": "n1", "p": "p1"}, {"n": "n2", "p": "p2"}]),
    ("repeat permutations true", "2017-09-01",
     {"repeat": {"template": "%n%%p%", "for_each": {"%n%": ["a", "b"], "%p%": ["1"]},
                 "permutations": True}}, ["a1", "b1"]),
    ("repeat permutations ignored before pike", "2016-10-14",
     {"repeat": {"template": "%n%%p%", "for_each": {"%n%": ["a", "b"], "%p%": ["1", "2"]},
                 "permutations": False}}, ["a1", "a2", "b1", "b2"]),
    ("repeat zip with null", NEWEST,
     {"repeat": {"template": "%a%%b%", "for_each": {"%a%": None, "%b%": ["n1", "n2"]},
                 "permutations": False}}, []),
    ("repeat sequential replacement", NEWEST,
     {"repeat": {"template": "%a%", "for_each": {"%a%": ["%b%"], "%b%": ["x"]}}}, ["x"]),
    ("repeat non-string template", NEWEST,
     {"repeat": {"template": 5, "for_each": {"%a%": [1, 2]}}}, [5, 5]),
    ("map_merge repeat", "2016-04-08",
     {"map_merge": {"repeat": {"template": {"ROLE": "ROLE"},
                               "for_each": {"ROLE": ["role1", "role2"]}}}},
     {"role1": "role1", "role2": "role2"}),
    # digest
    ("digest md5", NEWEST, {"digest": ["md5", "foobar"]}, "3858f62230ac3c915f300c664312c63f"),
    ("digest sha256", NEWEST, {"digest": ["sha256", "a"]},
     "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
    ("digest upper case", NEWEST, {"digest": ["SHA256", "a"]},
     "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
    ("digest latin-1", NEWEST, {"digest": ["md5", "\u00e9"]}, "3406877694691ddd1dfb0aca54681407"),
    ("digest sha512 empty", NEWEST, {"digest": ["sha512", ""]},
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
    # map_merge
    ("map_merge later wins", NEWEST, {"map_merge": [{"f1": "b1", "f2": "b2"}, {"f1": "b2"}]},
     {"f1": "b2", "f2": "b2"}),
    ("map_merge empty", NEWEST, {"map_merge": []}, {}),
    ("map_merge null", NEWEST, {"map_merge": [{"f1": "b1"}, None]}, {"f1": "b1"}),
    ("map_merge shallow", NEWEST, {"map_merge": [{"a": {"x": 1}}, {"a": {"y": 2}}]},
     {"a": {"y": 2}}),
    ("map_merge params", NEWEST, {"map_merge": [{"get_param": "map"}, {"k": "w"}]},
     {"k": "w", "nested": {"x": [10, 20]}}),
    # map_replace
    ("map_replace", NEWEST,
     {"map_replace": [{"f1": "b1", "f2": "b2"}, {"keys": {"f1": "F1"}, "values": {"b2": "B2"}}]},
     {"F1": "b1", "f2": "B2"}),
    ("map_replace no keys", NEWEST,
     {"map_replace": [{"f1": "b1", "f2": "b2"}, {"values": {"b2": "B2"}}]},
     {"f1": "b1", "f2": "B2"}),
    ("map_replace no values", NEWEST,
     {"map_replace": [{"f1": "b1", "f2": "b2"}, {"keys": {"f2": "F2"}}]},
     {"f1": "b1", "F2": "b2"}),
    ("map_replace same key", NEWEST,
     {"map_replace": [{"f1": "b1", "f2": "b2"}, {"keys": {"f2": "f2"}}]},
     {"f1": "b1", "f2": "b2"}),
    ("map_replace value equal to a key", NEWEST,
     {"map_replace": [{"a": "a"}, {"values": {"a": "b"}}]}, {"a": "b"}),
    ("map_replace null values", NEWEST, {"map_replace": [{"f1": "b1"}, {"values": None}]},
     {"f1": "b1"}),
    ("map_replace null keys", NEWEST, {"map_replace": [{"f1": "b1"}, {"keys": None}]},
     {"f1": "b1"}),
    ("map_replace unhashable value", NEWEST,
     {"map_replace": [{"f1": "b1", "f2": []}, {"values": {}}]}, {"f1": "b1", "f2": []}),
    ("map_replace key to null keeps it", NEWEST,
     {"map_replace": [{"f1": "b1"}, {"keys": {"f1": None}}]}, {"f1": "b1"}),
    # yaql
    ("yaql", NEWEST, {"yaql": {"expression": "$.data.var1.sum()",
                               "data": {"var1": [1, 2, 3, 4]}}}, 10),
    ("yaql list data", NEWEST, {"yaql": {"expression": "$.data.sum()", "data": [1, 2, 3, 4]}},
     10),
    ("yaql string data", NEWEST, {"yaql": {"expression": "$.data", "data": "whynotastring"}},
     "whynotastring"),
    ("yaql int data", NEWEST, {"yaql": {"expression": "$.data + 2", "data": 2}}, 4),
    ("yaql no data", NEWEST, {"yaql": {"expression": "1 + 3"}}, 4),
    ("yaql data function", NEWEST,
     {"yaql": {"expression": "$.data.var1.len()",
               "data": {"var1": {"list_join": ["", ["1", "2"]]}}}}, 2),
    ("yaql merge", NEWEST,
     {"yaql": {"expression": "$.data.d.reduce($1.mergeWith($2))",
               "data": {"d": [{"a": [1]}, {"a": [2]}, {"a": [3]}]}}}, {"a": [1, 2, 3]}),
    ("yaql expression from param", NEWEST,
     {"yaql": {"expression": {"get_param": "expr"}, "data": 21}}, 42),
    ("yaql where", NEWEST, {"yaql": {"expression": "$.data.where($ > 1)", "data": [1, 2, 3]}},
     [2, 3]),
    ("yaql dict result", NEWEST, {"yaql": {"expression": "dict(a => $.data)", "data": 1}},
     {"a": 1}),
    ("yaql set result", NEWEST, {"yaql": {"expression": "$.data.toSet()", "data": [3, 1, 3]}},
     [1, 3]),
    # if
    ("if true", "2016-10-14", {"if": [True, "value_if_true", "value_if_false"]},
     "value_if_true"),
    ("if false", "2016-10-14", {"if": [False, "value_if_true", "value_if_false"]},
     "value_if_false"),
    ("if null", "2016-10-14", {"if": [True, None, "value_if_false"]}, None),
    ("if named", "2016-10-14", {"if": ["no", 1, 2]}, 2),
    ("if named function", "2016-10-14", {"if": ["is_prod", 1, 2]}, 1),
    ("if inline and", "2017-02-24", {"if": [{"and": ["yes", "is_prod"]}, "a", "b"]}, "a"),
    ("if inline", "2016-10-14", {"if": [{"not": "no"}, "t", "f"]}, "t"),
    ("if unchosen branch not parsed", "2016-10-14",
     {"if": [False, {"get_resource": "nope"}, {"get_param": "name"}]}, "world"),
    ("if nullable", NEWEST,
     {"single": {"if": [False, "value_if_true"]},
      "nested_true": {"if": [True, {"if": [False, "foo"]}, "bar"]},
      "nested_false": {"if": [False, "baz", {"if": [False, "quux"]}]},
      "control": {"if": [False, True, None]}}, {"control": None}),
    ("if nullable in list", NEWEST, ["a", {"if": ["no", "b"]}, {"if": ["yes", "c"]}],
     ["a", "c"]),
    # filter
    ("filter", NEWEST, {"filter": [[None], [1, None, 4, 2, None]]}, [1, 4, 2]),
    ("filter no values", NEWEST, {"filter": [None, [1, 2]]}, [1, 2]),
    ("filter null list", NEWEST, {"filter": [[1], None]}, None),
    ("filter everything", NEWEST, {"filter": [[1, 2], [1, 2, 1]]}, []),
    ("filter maps", NEWEST, {"filter": [[{"a": 1}], [{"a": 1}, {"a": 2}]]}, [{"a": 2}]),
    # make_url
    ("make_url", NEWEST, {"make_url": {"scheme": "http", "host": "example.com",
                                       "path": "/foo/bar"}}, "http://example.com/foo/bar"),
    ("make_url ipv6", NEWEST, {"make_url": {"scheme": "http", "host": "::1", "path": "/f"}},
     "http://[::1]/f"),
    ("make_url ipv6 bracketed", NEWEST,
     {"make_url": {"scheme": "http", "host": "[::1]", "path": "/f"}}, "http://[::1]/f"),
    ("make_url port string", NEWEST,
     {"make_url": {"scheme": "https", "host": "example.com", "port": "80", "path": "/f"}},
     "https://example.com:80/f"),
    ("make_url user", NEWEST,
     {"make_url": {"scheme": "http", "username": "wibble", "host": "example.com"}},
     "http://wibble@example.com"),
    ("make_url user password quoted", NEWEST,
     {"make_url": {"scheme": "http", "username": "a b", "password": "p@ss/w",
                   "host": "example.com", "path": "/foo/bar"}},
     "http://a%20b:p%40ss%2Fw@example.com/foo/bar"),
    ("make_url query", NEWEST,
     {"make_url": {"scheme": "http", "host": "example.com", "path": "/foo/?bar",
                   "query": {"foo#": "bar & baz", "blarg": "/wib=ble/"}}},
     "http://example.com/foo/%3Fbar?foo%23=bar+%26+baz&blarg=/wib%3Dble/"),
    ("make_url fragment", NEWEST,
     {"make_url": {"scheme": "http", "host": "example.com", "path": "foo/bar",
                   "fragment": "baz"}}, "http://example.com/foo/bar#baz"),
    ("make_url file", NEWEST, {"make_url": {"scheme": "file", "path": "foo/bar"}},
     "file:///foo/bar"),
    ("make_url file leading slash", NEWEST, {"make_url": {"scheme": "file", "path": "/foo/bar"}},
     "file:///foo/bar"),
    ("make_url empty", NEWEST, {"make_url": {}}, ""),
    ("make_url host only", NEWEST, {"make_url": {"host": "example.com"}}, "//example.com"),
    ("make_url empty query", NEWEST, {"make_url": {"scheme": "http", "host": "h", "query": {}}},
     "http://h"),
    ("make_url port param", NEWEST,
     {"make_url": {"scheme": "http", "host": "h", "port": {"get_param": "count"}}},
     "http://h:3"),
    # list_concat
    ("list_concat", NEWEST, {"list_concat": [["v1", "v2"], ["v3", "v4"]]},
     ["v1", "v2", "v3", "v4"]),
    ("list_concat null", NEWEST, {"list_concat": [["v1"], None]}, ["v1"]),
    ("list_concat repeats", NEWEST, {"list_concat": [["v1", "v2"], ["v2", "v3"]]},
     ["v1", "v2", "v2", "v3"]),
    ("list_concat maps", NEWEST, {"list_concat": [[{"v1": "v2"}], [{"v1": "v2"}]]},
     [{"v1": "v2"}, {"v1": "v2"}]),
    ("list_concat_unique", NEWEST, {"list_concat_unique": [["v1", "v2"], ["v1", "v3"]]},
     ["v1", "v2", "v3"]),
    ("list_concat_unique keeps first", NEWEST, {"list_concat_unique": [[2, 1], [3, 1, 2]]},
     [2, 1, 3]),
    ("list_concat_unique maps", NEWEST,
     {"list_concat_unique": [[{"v1": "v2"}], [{"v1": "v2"}, {"v1": 3}]]},
     [{"v1": "v2"}, {"v1": 3}]),
    ("list_concat_unique equal numbers", NEWEST, {"list_concat_unique": [[1], [1.0, True, 2]]},
     [1, 2]),
    ("list_concat param", NEWEST, {"list_concat": [{"get_param": "list"}, ["d"]]},
     ["a", "b", "c", "d"]),
    # contains
    ("contains list", NEWEST, {"contains": ["v1", ["v1", "v2"]]}, True),
    ("contains not", NEWEST, {"contains": ["v3", ["v1", "v2"]]}, False),
    ("contains string", NEWEST, {"contains": ["a", "abc"]}, True),
    ("contains typed", NEWEST, {"contains": ["1", [1, 2]]}, False),
    ("contains map in list", NEWEST, {"contains": [{"a": 1}, [{"a": 1}]]}, True),
    ("contains param", NEWEST, {"contains": ["b", {"get_param": "list"}]}, True),
]


@pytest.mark.parametrize(("version", "snippet", "value"), [c[1:] for c in VALUE_CASES],
                         ids=[c[0] for c in VALUE_CASES])
def test_value(harness: Harness, version: str, snippet: Any, value: Any) -> None:
    assert harness.value(snippet, version) == value


def test_there_are_many_value_cases() -> None:
    assert len(VALUE_CASES) >= 150


# ------------------------------------------------------------------------------------------------
# Errors: (id, version, snippet, when, error class, str(error))
# ------------------------------------------------------------------------------------------------

P = "parse"
E = "eval"
F = FunctionError
R = ReferenceError_
L = TemplateLimitError
O_ = "outputs.o.value"

REPEAT_SYNTAX = ('"repeat" syntax should be repeat: {template: This is %var%, for_each: '
                 "{%var%: [a, b, c]}}")
JOIN_OLD = 'Incorrect arguments to "list_join" should be: "list_join" : [ " ", [ "str1", "str2"]]'
JOIN_NEW = ('Incorrect arguments to "list_join" should be: "list_join" : '
            '[ " ", [ "str1", "str2"] ...]')
SPLIT_FORM = '"str_split" : [ ",", "apples,pears", <index>]'
SPLIT_USAGE = f'Incorrect arguments to "str_split" should be: {SPLIT_FORM}'
SPLIT_INDEX = f'Incorrect index to "str_split" should be: {SPLIT_FORM}'
EMPTY_VALUES: tuple[Any, ...] = (None, "", {}, [])
MERGE_USAGE = ('Incorrect arguments to "map_merge" should be: "map_merge" : '
               '[ { "key1": "val1" }, { "key2": "val2" } ]')
MAP_REPLACE_USAGE = ('Incorrect arguments to "map_replace" should be: "map_replace" : '
                     '[ { "key1": "val1" }, {"keys": {"key1": "key2"}, '
                     '"values": {"val1": "val2"}}]')
MAP_REPLACE_MAPS = ('Incorrect arguments: to "map_replace", arguments must be a list of maps. '
                    'Example:  [ { "key1": "val1" }, {"keys": {"key1": "key2"}, '
                    '"values": {"val1": "val2"}}]')
CONCAT_USAGE = ('Incorrect arguments to "list_concat" should be: "list_concat" : '
                "[ [ <value 1>, <value 2> ], [ <value 3>, <value 4> ] ]")
IF_FORM = 'Arguments to "if" must be of the form: [condition_name, value_if_true, value_if_false]'
YAQL_SYNTAX = ('"yaql" syntax should be yaql: {expression: $.data.var1.sum(), data: '
               "{var1: [3, 2, 1]}}")
REPLACE_SYNTAX = ('syntax should be {n}: {{template: This is var1 template var2, params: '
                  "{{var1: a, var2: string}}}}")

ERROR_CASES: list[tuple[str, str, Any, str, type[TemplateError], str]] = [
    # get_param
    ("get_param unknown", NEWEST, {"get_param": "nope"}, P, R,
     f"{O_}.get_param: The Parameter (nope) was not provided."),
    ("get_param unknown with path", NEWEST, {"get_param": ["nope", "x"]}, P, R,
     f"{O_}.get_param: The Parameter (nope) was not provided."),
    ("get_param unknown computed", NEWEST,
     {"get_param": {"list_join": ["", ["no", "pe"]]}}, E, R,
     f"{O_}.get_param: The Parameter (nope) was not provided."),
    ("get_param empty list", NEWEST, {"get_param": []}, P, F,
     f'{O_}.get_param: Function "get_param" must have arguments'),
    ("get_param empty string", NEWEST, {"get_param": ""}, P, F,
     f'{O_}.get_param: Function "get_param" must have arguments'),
    ("get_param null", NEWEST, {"get_param": None}, P, F,
     f'{O_}.get_param: Function "get_param" must have arguments'),
    ("get_param number", NEWEST, {"get_param": 5}, P, F,
     f'{O_}.get_param: Argument to "get_param" must be string or list'),
    ("get_param map", NEWEST, {"get_param": {"a": 1, "b": 2}}, P, F,
     f'{O_}.get_param: Argument to "get_param" must be string or list'),
    ("get_param name not string", NEWEST, {"get_param": [5, "x"]}, P, F,
     f'{O_}.get_param: Parameter name in "get_param" must be string'),
    ("get_param computed not string", NEWEST, {"get_param": {"get_param": "count"}}, E, F,
     f'{O_}.get_param: Argument to "get_param" must be string or list'),
    # get_resource
    ("get_resource unknown", NEWEST, {"get_resource": "nope"}, P, R,
     f'{O_}.get_resource: The specified reference "nope" (in unknown) is incorrect.'),
    ("get_resource disabled", NEWEST, {"get_resource": "off"}, P, R,
     f'{O_}.get_resource: The specified reference "off" (in unknown) is incorrect.'),
    ("get_resource not string", NEWEST, {"get_resource": ["web"]}, P, F,
     f'{O_}.get_resource: The resource name given to "get_resource" must be a string, '
     "not list"),
    ("get_resource param not a resource", NEWEST, {"get_resource": {"get_param": "name"}}, P, R,
     f'{O_}.get_resource: The specified reference "world" (in unknown) is incorrect.'),
    ("get_resource dynamic", NEWEST, {"get_resource": {"get_attr": ["web", "addr"]}}, P, F,
     f'{O_}.get_resource: The resource name given to "get_resource" may not depend on other '
     "resources"),
    # get_attr
    ("get_attr unknown", NEWEST, {"get_attr": ["nope", "a"]}, P, R,
     f'{O_}.get_attr: The specified reference "nope" (in unknown) is incorrect.'),
    ("get_attr disabled", "2013-05-23", {"get_attr": ["off", "a"]}, P, R,
     f'{O_}.get_attr: The specified reference "off" (in unknown) is incorrect.'),
    ("get_attr string", NEWEST, {"get_attr": "web"}, P, F,
     f'{O_}.get_attr: Argument to "get_attr" must be a list'),
    ("get_attr empty", NEWEST, {"get_attr": []}, P, F,
     f'{O_}.get_attr: Arguments to "get_attr" must be of the form [resource_name] or '
     "[resource_name, attribute, (path), ...]"),
    ("get_attr one arg before 2015-10-15", "2015-04-30", {"get_attr": ["web"]}, P, F,
     f'{O_}.get_attr: Arguments to "get_attr" must be of the form '
     "[resource_name, attribute, (path), ...]"),
    ("get_attr null attribute before 2015-10-15", "2014-10-16", {"get_attr": ["web", None]},
     P, F, f'{O_}.get_attr: Arguments to "get_attr" must be of the form '
     "[resource_name, attribute, (path), ...]"),
    ("get_attr attribute not string", NEWEST, {"get_attr": ["web", 5]}, P, F,
     f'{O_}.get_attr: The attribute name given to "get_attr" must be a string'),
    ("get_attr computed attribute", NEWEST, {"get_attr": ["web", {"get_param": "count"}]}, E, F,
     f'{O_}.get_attr: The attribute name given to "get_attr" must be a string'),
    # get_file
    ("get_file missing", NEWEST, {"get_file": "nope"}, E, F,
     f'{O_}.get_file: No content found in the "files" section for get_file path: nope'),
    ("get_file list", NEWEST, {"get_file": ["f.txt"]}, P, F,
     f'{O_}.get_file: Argument to "get_file" must be a string'),
    ("get_file computed", NEWEST, {"get_file": {"get_param": "count"}}, E, F,
     f'{O_}.get_file: Argument to "get_file" must be a string'),
    # resource_facade
    ("resource_facade", NEWEST, {"resource_facade": "wibble"}, P, F,
     f'{O_}.resource_facade: Incorrect arguments to "resource_facade" should be one of: '
     "metadata, deletion_policy, update_policy"),
    ("resource_facade function", NEWEST, {"resource_facade": {"get_param": "name"}}, P, F,
     f'{O_}.resource_facade: Incorrect arguments to "resource_facade" should be one of: '
     "metadata, deletion_policy, update_policy"),
    # list_join
    ("list_join string", "2015-04-30", {"list_join": "bad"}, P, F, f"{O_}.list_join: {JOIN_OLD}"),
    ("list_join one arg", "2015-04-30", {"list_join": [","]}, P, F,
     f"{O_}.list_join: {JOIN_OLD}"),
    ("list_join three args old", "2015-04-30", {"list_join": [",", ["a"], ["b"]]}, P, F,
     f"{O_}.list_join: {JOIN_OLD}"),
    ("list_join number", NEWEST, {"list_join": 5}, P, F, f"{O_}.list_join: {JOIN_NEW}"),
    ("list_join one arg new", NEWEST, {"list_join": [","]}, P, F, f"{O_}.list_join: {JOIN_NEW}"),
    ("list_join delimiter", "2013-05-23", {"list_join": [5, ["a"]]}, P, F,
     f'{O_}.list_join: "list_join" delimiter must be a string'),
    ("list_join computed delimiter", NEWEST, {"list_join": [{"get_param": "count"}, ["a"]]}, E,
     F, f'{O_}.list_join: "list_join" delimiter must be a string'),
    ("list_join string list", "2015-04-30", {"list_join": [",", "ab"]}, P, F,
     f'{O_}.list_join: "list_join" must operate on a list'),
    ("list_join string list new", NEWEST, {"list_join": [",", "bad", ["foo"]]}, P, F,
     f'{O_}.list_join: "list_join" must operate on a list'),
    ("list_join computed string", NEWEST, {"list_join": [",", {"get_param": "name"}]}, E, F,
     f'{O_}.list_join: "list_join" must operate on a list'),
    ("list_join map item old", "2015-04-30", {"list_join": [",", [{"foo": "json"}]]}, P, F,
     f"{O_}.list_join: Items to join must be strings not {{'foo': 'json'}}"),
    ("list_join number item old", "2013-05-23", {"list_join": [",", ["a", 1]]}, P, F,
     f"{O_}.list_join: Items to join must be strings not 1"),
    ("list_join number item new", NEWEST, {"list_join": [",", ["a", 1]]}, P, F,
     f"{O_}.list_join: Items to join must be string, map or list not 1"),
    ("list_join computed item", NEWEST, {"list_join": [",", [{"get_param": "count"}]]}, E, F,
     f"{O_}.list_join: Items to join must be string, map or list not 3"),
    # str_replace
    ("str_replace list", NEWEST,
     {"str_replace": [{"template": "t"}, {"params": {"v": "f"}}]}, P, F,
     f'{O_}.str_replace: Arguments to "str_replace" must be a map'),
    ("str_replace syntax", NEWEST, {"str_replace": {"tmpl": "t", "params": {}}}, P, F,
     f'{O_}.str_replace: "str_replace" ' + REPLACE_SYNTAX.format(n="str_replace")),
    ("str_replace_strict syntax", NEWEST, {"str_replace_strict": {"template": "t", "p": {}}}, P,
     F, f'{O_}.str_replace_strict: "str_replace_strict" '
     + REPLACE_SYNTAX.format(n="str_replace_strict")),
    ("str_replace params list", NEWEST,
     {"str_replace": {"template": "t", "params": ["var1", "foo"]}}, P, F,
     f'{O_}.str_replace: "str_replace" parameters must be a mapping'),
    ("str_replace template number", NEWEST,
     {"str_replace": {"template": 12345, "params": {"a": "b"}}}, P, F,
     f'{O_}.str_replace: "str_replace" template must be a string'),
    ("str_replace computed template", NEWEST,
     {"str_replace": {"template": {"get_param": "count"}, "params": {"a": "b"}}}, E, F,
     f'{O_}.str_replace: "str_replace" template must be a string'),
    ("str_replace computed params", NEWEST,
     {"str_replace": {"template": "t", "params": {"get_param": "name"}}}, E, F,
     f'{O_}.str_replace: "str_replace" params must be a map'),
    ("str_replace key not string", NEWEST, {"str_replace": {"template": "t", "params": {1: "a"}}},
     P, F, f'{O_}.str_replace: "str_replace" param placeholders must be strings'),
    ("str_replace empty key", NEWEST, {"str_replace": {"template": "t", "params": {"": "a"}}},
     P, F, f'{O_}.str_replace: "str_replace" param placeholders must not be empty'),
    ("str_replace map old", "2013-05-23",
     {"str_replace": {"template": "jsonvar1", "params": {"jsonvar1": {"foo": 123}}}}, P, F,
     f'{O_}.str_replace: "str_replace" params must be strings or numbers, param jsonvar1 is '
     "not valid"),
    ("str_replace list old", "2015-04-30",
     {"str_replace": {"template": "listvar1", "params": {"listvar1": ["foo", 123]}}}, P, F,
     f'{O_}.str_replace: "str_replace" params must be strings or numbers, param listvar1 is '
     "not valid"),
    ("str_replace computed map old", "2015-04-30",
     {"str_replace": {"template": "v", "params": {"v": {"get_param": "map"}}}}, E, F,
     f'{O_}.str_replace: "str_replace" params must be strings or numbers, param v is '
     "not valid"),
    ("str_replace_strict missing", NEWEST,
     {"str_replace_strict": {"template": "Template var1 string var2",
                             "params": {"var1": "foo", "var2": "bar", "var3": "zed"}}}, E, F,
     f"{O_}.str_replace_strict: The following params were not found in the template: var3"),
    ("str_replace_vstrict missing order", NEWEST,
     {"str_replace_vstrict": {"template": "Template var1 string var2",
                              "params": {"var1": "foo", "var2": "bar", "var0": "zed",
                                         "var": "z", "longvarname": "q"}}}, E, F,
     f"{O_}.str_replace_vstrict: The following params were not found in the template: "
     "longvarname,var0,var"),
    *[(f"str_replace_vstrict empty {value!r}", NEWEST,
       {"str_replace_vstrict": {"template": "var1 var2",
                                "params": {"var1": "foo", "var2": value}}}, P, F,
       f"{O_}.str_replace_vstrict: str_replace_vstrict has an undefined or empty value for "
       "param var2, must be a defined non-empty value") for value in EMPTY_VALUES],
    ("str_replace_vstrict computed empty", NEWEST,
     {"str_replace_vstrict": {"template": "var1", "params": {"var1": {"get_param": ["map",
                                                                                   "no"]}}}},
     E, F, f"{O_}.str_replace_vstrict: str_replace_vstrict has an undefined or empty value "
     "for param var1, must be a defined non-empty value"),
    # str_split
    ("str_split one arg", NEWEST, {"str_split": [","]}, P, F, f"{O_}.str_split: {SPLIT_USAGE}"),
    ("str_split empty", NEWEST, {"str_split": []}, P, F, f"{O_}.str_split: {SPLIT_USAGE}"),
    ("str_split string", NEWEST, {"str_split": "a,b"}, P, F, f"{O_}.str_split: {SPLIT_USAGE}"),
    ("str_split map", NEWEST, {"str_split": {"a": 1, "b": 2}}, P, F,
     f"{O_}.str_split: {SPLIT_USAGE}"),
    ("str_split computed", NEWEST, {"str_split": {"get_param": "name"}}, E, F,
     f"{O_}.str_split: {SPLIT_USAGE}"),
    ("str_split bad index", NEWEST, {"str_split": [",", "bar,baz", "bad"]}, P, F,
     f"{O_}.str_split: {SPLIT_INDEX}"),
    ("str_split out of range", NEWEST, {"str_split": [",", "bar,baz", "2"]}, E, F,
     f'{O_}.str_split: Incorrect index to "str_split" should be between 0 and 1'),
    ("str_split delimiter", NEWEST, {"str_split": [5, "a"]}, P, F,
     f'{O_}.str_split: "str_split" delimiter must be a string'),
    ("str_split empty delimiter", NEWEST, {"str_split": ["", "a"]}, P, F,
     f'{O_}.str_split: "str_split" delimiter must not be empty'),
    ("str_split too many", NEWEST, {"str_split": [",", "," * 100_000]}, E, L,
     f'{O_}.str_split: "str_split" would produce 100001 items; the limit is 100000'),
    ("str_split too many on whitespace", NEWEST, {"str_split": [None, "a " * 100_001]}, E, L,
     f'{O_}.str_split: "str_split" would produce 100001 items; the limit is 100000'),
    ("str_split negative out of range", NEWEST, {"str_split": [",", "bar,baz", "-3"]}, E, F,
     f'{O_}.str_split: Incorrect index to "str_split" should be between 0 and 1'),
    ("str_split not a string", NEWEST, {"str_split": [",", 5]}, P, F,
     f'{O_}.str_split: "str_split" can only split a string, not int'),
    ("str_split computed not a string", NEWEST, {"str_split": [",", {"get_param": "list"}]}, E,
     F, f'{O_}.str_split: "str_split" can only split a string, not list'),
    # repeat
    ("repeat not map", NEWEST, {"repeat": ["a"]}, P, F,
     f'{O_}.repeat: Arguments to "repeat" must be a map'),
    ("repeat no for_each", "2015-04-30", {"repeat": {"template": "this is %var%"}}, P, F,
     f"{O_}.repeat: {REPEAT_SYNTAX}"),
    ("repeat misspelt", NEWEST, {"repeat": {"templte": "x", "for_each": {"x": ["a"]}}}, P, F,
     f"{O_}.repeat: {REPEAT_SYNTAX}"),
    ("repeat for_each string", "2015-04-30",
     {"repeat": {"template": "this is %var%", "for_each": "%var%"}}, P, F,
     f'{O_}.repeat: The "for_each" argument to "repeat" must contain a map'),
    ("repeat computed for_each", NEWEST,
     {"repeat": {"template": "x", "for_each": {"get_param": "list"}}}, E, F,
     f'{O_}.repeat: The "for_each" argument to "repeat" must contain a map'),
    ("repeat empty for_each", NEWEST, {"repeat": {"template": "x", "for_each": {}}}, E, F,
     f'{O_}.repeat: The "for_each" argument to "repeat" must not be empty'),
    ("repeat map before newton", "2016-04-08",
     {"repeat": {"template": "%a%", "for_each": {"%a%": {"k": "v"}}}}, P, F,
     f'{O_}.repeat: The values of the "for_each" argument to "repeat" must be lists'),
    ("repeat string value", NEWEST, {"repeat": {"template": "%a%", "for_each": {"%a%": "ab"}}},
     P, F, f'{O_}.repeat: The values of the "for_each" argument to "repeat" must be lists or '
     "maps"),
    ("repeat computed string value", NEWEST,
     {"repeat": {"template": "%a%", "for_each": {"%a%": {"get_param": "name"}}}}, E, F,
     f'{O_}.repeat: The values of the "for_each" argument to "repeat" must be lists or maps'),
    ("repeat zip map", "2017-09-01",
     {"repeat": {"template": "%a%", "for_each": {"%a%": ["n1"], "%b%": {"p1": "pp"}},
                 "permutations": False}}, P, F,
     f'{O_}.repeat: The values of the "for_each" argument to "repeat" must be lists'),
    ("repeat zip lengths", "2017-09-01",
     {"repeat": {"template": "%a%", "for_each": {"%a%": ["n1", "n2", "n3"], "%b%": ["p1"]},
                 "permutations": False}}, E, F,
     f"{O_}.repeat: For repeat, the length of for_each values should be equal if no nested "
     "loop."),
    ("repeat permutations not bool", "2017-09-01",
     {"repeat": {"template": "%a%", "for_each": {"%a%": ["n1"]}, "permutations": "non bool"}},
     P, F, f'{O_}.repeat: "permutations" should be boolean type for repeat function.'),
    ("repeat number items", NEWEST,
     {"repeat": {"template": "n-%a%", "for_each": {"%a%": [1, 2]}}}, E, F,
     f'{O_}.repeat: "repeat" can only substitute strings, not int 1'),
    ("repeat too many", NEWEST,
     {"repeat": {"template": "%a%%b%", "for_each": {"%a%": [str(i) for i in range(400)],
                                                    "%b%": [str(i) for i in range(400)]}}},
     E, L, f'{O_}.repeat: "repeat" would produce 160000 items; the limit is 100000'),
    ("repeat too large", NEWEST,
     {"repeat": {"template": "x" * 5000, "for_each": {"%a%": [str(i) for i in range(5000)]}}},
     E, L, f'{O_}.repeat: "repeat" would produce 25030000 characters; the limit is 16777216'),
    # digest
    ("digest string", NEWEST, {"digest": "invalid"}, P, F,
     f'{O_}.digest: Argument to function "digest" must be a list of strings'),
    ("digest map", NEWEST, {"digest": {"foo": "invalid", "x": 1}}, P, F,
     f'{O_}.digest: Argument to function "digest" must be a list of strings'),
    ("digest number", NEWEST, {"digest": [123]}, P, F,
     f'{O_}.digest: Argument to function "digest" must be a list of strings'),
    *[(f"digest usage {args!r}", NEWEST, {"digest": args}, P, F,
       f'{O_}.digest: Function "digest" usage: ["<algorithm>", "<value>"]')
      for args in ([], ["foo"], ["md5"], ["md5", "foo", "bar"])],
    ("digest computed", NEWEST, {"digest": ["md5", {"get_param": "count"}]}, E, F,
     f'{O_}.digest: Argument to function "digest" must be a list of strings'),
    ("digest not latin-1", NEWEST, {"digest": ["md5", "\u20ac"]}, E, F,
     f'{O_}.digest: The value given to "digest" may only hold latin-1 characters'),
    # map_merge
    # Heat 27.0.1's words (differential case functions_map_merge_not_map)
    ("map_merge list item", NEWEST, {"map_merge": [{"f1": "b1"}, ["f1", "b2"]]}, P, F,
     f"{O_}.map_merge: Incorrect arguments: Items to merge must be maps. ['f1', 'b2'] is type "
     "<class 'list'> instead of a dict"),
    ("map_merge computed item", NEWEST, {"map_merge": [{"get_param": "list"}]}, E, F,
     f"{O_}.map_merge: Incorrect arguments: Items to merge must be maps. ['a', 'b', 'c'] is "
     "type <class 'list'> instead of a dict"),
    ("map_merge string", NEWEST, {"map_merge": "abc"}, P, F, f"{O_}.map_merge: {MERGE_USAGE}"),
    ("map_merge computed", NEWEST, {"map_merge": {"get_param": "map"}}, E, F,
     f"{O_}.map_merge: {MERGE_USAGE}"),
    # map_replace
    ("map_replace string", NEWEST, {"map_replace": "ab"}, P, F,
     f"{O_}.map_replace: {MAP_REPLACE_USAGE}"),
    ("map_replace empty", NEWEST, {"map_replace": []}, P, F,
     f"{O_}.map_replace: {MAP_REPLACE_USAGE}"),
    ("map_replace one", NEWEST, {"map_replace": [{"f1": "b1"}]}, P, F,
     f"{O_}.map_replace: {MAP_REPLACE_USAGE}"),
    ("map_replace second string", NEWEST, {"map_replace": [{"f1": "b1"}, "ab"]}, P, F,
     f"{O_}.map_replace: {MAP_REPLACE_MAPS}"),
    ("map_replace wrong key", NEWEST, {"map_replace": [{"f1": "b1"}, {"notkeys": {"f1": "F"}}]},
     P, F, f"{O_}.map_replace: {MAP_REPLACE_USAGE}"),
    ("map_replace keys list", NEWEST, {"map_replace": [{"f1": "b1"}, {"keys": ["f1"]}]}, P, F,
     f"{O_}.map_replace: {MAP_REPLACE_MAPS}"),
    ("map_replace collides input", NEWEST,
     {"map_replace": [{"f1": "b1", "f2": "b2"}, {"keys": {"f2": "f1"}}]}, E, F,
     f"{O_}.map_replace: key replacement f1 collides with a key in the input map"),
    ("map_replace collides output", NEWEST,
     {"map_replace": [{"f1": "b1", "f2": "b2"}, {"keys": {"f1": "f3", "f2": "f3"}}]}, E, F,
     f"{O_}.map_replace: key replacement f3 collides with a key in the output map"),
    ("map_replace computed", NEWEST, {"map_replace": [{"get_param": "list"}, {}]}, E, F,
     f"{O_}.map_replace: {MAP_REPLACE_MAPS}"),
    # yaql
    ("yaql string", NEWEST, {"yaql": "invalid"}, P, F,
     f'{O_}.yaql: Arguments to "yaql" must be a map.'),
    ("yaql bogus key", NEWEST, {"yaql": {"expression": "1 + 3", "data": {}, "bogus": ""}}, P, F,
     f"{O_}.yaql: {YAQL_SYNTAX}"),
    ("yaql no expression", NEWEST, {"yaql": {"wrong": "wrong_expr", "data": "d"}}, P, F,
     f"{O_}.yaql: {YAQL_SYNTAX}"),
    ("yaql bad expression", NEWEST, {"yaql": {"expression": "invalid(", "data": {}}}, P, F,
     f"{O_}.yaql: Bad expression Parse error: unexpected end of statement."),
    ("yaql expression not string", NEWEST, {"yaql": {"expression": 5}}, P, F,
     f'{O_}.yaql: The "expression" argument to yaql must contain a string.'),
    ("yaql computed bad expression", NEWEST,
     {"yaql": {"expression": {"get_param": "bad_expr"}}}, E, F,
     f"{O_}.yaql: Bad expression Parse error: unexpected end of statement."),
    ("yaql division by zero", NEWEST, {"yaql": {"expression": "$.data / 0", "data": 1}}, E, F,
     f"{O_}.yaql: Evaluating the yaql expression failed: ZeroDivisionError: integer division "
     "or modulo by zero"),
    ("yaql iterator limit", NEWEST, {"yaql": {"expression": "range(1000).sum()"}}, E, F,
     f"{O_}.yaql: Evaluating the yaql expression failed: CollectionTooLargeException: "
     "Collection length exceeds 200 elements"),
    ("yaql memory quota", NEWEST, {"yaql": {"expression": "$.data.len()", "data": "x" * 20000}},
     E, F, f"{O_}.yaql: Evaluating the yaql expression failed: "
     "MemoryQuotaExceededException: Expression consumed too much memory"),
    # if
    ("if two args before wallaby", "2018-08-31", {"if": ["yes", "one_value"]}, P, F,
     f"{O_}.if: {IF_FORM}"),
    ("if four args", "2016-10-14", {"if": ["yes", "a", "b", "c"]}, P, F, f"{O_}.if: {IF_FORM}"),
    ("if one arg wallaby", NEWEST, {"if": ["yes"]}, P, F, f"{O_}.if: {IF_FORM}"),
    ("if four args wallaby", NEWEST, {"if": ["yes", "a", "b", "c"]}, P, F,
     f"{O_}.if: {IF_FORM}"),
    ("if string", NEWEST, {"if": "yes"}, P, F, f"{O_}.if: {IF_FORM}"),
    # Heat 27.0.1 names the if (differential case conditions_unknown_in_if)
    ("if unknown condition", "2016-10-14", {"if": ["cd_not_existing", "t", "f"]}, P, R,
     f'{O_}.if: Invalid condition "cd_not_existing"'),
    ("if chosen branch parsed", "2016-10-14", {"if": [True, {"get_resource": "nope"}, "x"]}, P,
     R, f'{O_}.if[1].get_resource: The specified reference "nope" (in unknown) is '
     "incorrect."),
    ("if resource function in condition", "2016-10-14",
     {"if": [{"equals": [{"get_attr": ["web", "a"]}, 1]}, 1, 2]}, P, F,
     f'{O_}.if[0].equals[0].get_attr: The function "get_attr" is invalid in this context'),
    # filter
    ("filter string", NEWEST, {"filter": "foo"}, P, F,
     f'{O_}.filter: Argument to "filter" must be a list'),
    ("filter three args", NEWEST, {"filter": [[None], [1, 2], "foo"]}, P, F,
     f'{O_}.filter: "filter" expected 2 arguments of the form [values, sequence] but got 3 '
     "arguments instead"),
    ("filter map", NEWEST, {"filter": [[None], {"a": 1}]}, P, F,
     f'{O_}.filter: "filter" only works with lists'),
    ("filter str", NEWEST, {"filter": [["a"], "abcd"]}, P, F,
     f'{O_}.filter: "filter" only works with lists'),
    ("filter str values", NEWEST, {"filter": ["abcd", ["a", "b"]]}, P, F,
     f'{O_}.filter: "filter" filters a list of values'),
    ("filter computed", NEWEST, {"filter": [["a"], {"get_param": "map"}]}, E, F,
     f'{O_}.filter: "filter" only works with lists'),
    # make_url
    ("make_url string", NEWEST, {"make_url": "http://example.com/foo/bar"}, P, F,
     f'{O_}.make_url: The arguments to "make_url" must be a map'),
    ("make_url invalid key", NEWEST,
     {"make_url": {"scheme": "http", "host": "example.com", "foo": "bar", "bar": 1}}, P, F,
     f'{O_}.make_url: Invalid arguments to "make_url": bar, foo'),
    ("make_url port high", NEWEST, {"make_url": {"host": "h", "port": 100000}}, P, F,
     f"{O_}.make_url: Invalid URL port 100000, must be in range 1-65535"),
    ("make_url port low", NEWEST, {"make_url": {"host": "h", "port": "0"}}, P, F,
     f"{O_}.make_url: Invalid URL port 0, must be in range 1-65535"),
    ("make_url port string", NEWEST, {"make_url": {"host": "h", "port": "1.1"}}, P, F,
     f"{O_}.make_url: Invalid URL port \"1.1\" for make_url called with "
     "{'host': 'h', 'port': '1.1'}"),
    ("make_url computed port", NEWEST,
     {"make_url": {"host": "h", "port": {"get_param": "name"}}}, E, F,
     f"{O_}.make_url: Invalid URL port \"world\" for make_url called with "
     "{'host': 'h', 'port': 'world'}"),
    ("make_url host not string", NEWEST, {"make_url": {"host": ["h"]}}, P, F,
     f'{O_}.make_url: The "host" argument to "make_url" must be a string'),
    ("make_url query not map", NEWEST, {"make_url": {"host": "h", "query": "a=b"}}, P, F,
     f'{O_}.make_url: The "query" argument to "make_url" must be a map'),
    ("make_url fragment not string", NEWEST,
     {"make_url": {"host": "h", "query": {}, "fragment": 5}}, P, F,
     f'{O_}.make_url: The "fragment" argument to "make_url" must be a string'),
    ("make_url scheme colon", NEWEST, {"make_url": {"scheme": "http:", "host": "h"}}, E, F,
     f"{O_}.make_url: URL \"scheme\" should not contain ':'"),
    # list_concat
    ("list_concat string", NEWEST, {"list_concat": "I am string"}, P, F,
     f"{O_}.list_concat: {CONCAT_USAGE}"),
    # Heat 27.0.1's words (differential case functions_list_concat_not_list)
    ("list_concat map item", NEWEST, {"list_concat": [{"k1": "v2"}, ["v3", "v4"]]}, P, F,
     f"{O_}.list_concat: Incorrect arguments: Items to concat must be lists. "
     '[{"k1": "v2"}, ["v3", "v4"]] contains an item that is not a list: {"k1": "v2"}'),
    ("list_concat string item", NEWEST, {"list_concat": ["v1", "v2"]}, P, F,
     f"{O_}.list_concat: Incorrect arguments: Items to concat must be lists. "
     '["v1", "v2"] contains an item that is not a list: "v1"'),
    ("list_concat_unique computed", NEWEST, {"list_concat_unique": [{"get_param": "name"}]}, E,
     F, f"{O_}.list_concat_unique: Incorrect arguments: Items to concat must be lists. "
     '["world"] contains an item that is not a list: "world"'),
    # contains
    ("contains map", NEWEST, {"contains": {"key": "value"}}, P, F,
     f'{O_}.contains: Incorrect arguments to "contains" should be: "contains" : '
     '[ "value1", [ "value1", "value2"]]'),
    ("contains three", NEWEST, {"contains": ["v1", ["v1", "v2"], "redundant"]}, P, F,
     f'{O_}.contains: Arguments to "contains" must be of the form: [value1, [value1, value2]]'),
    ("contains map sequence", NEWEST, {"contains": ["v1", {"key": "value"}]}, P, F,
     f'{O_}.contains: Second argument to "contains" should be a sequence.'),
    ("contains computed map", NEWEST, {"contains": ["v1", {"get_param": "map"}]}, E, F,
     f'{O_}.contains: Second argument to "contains" should be a sequence.'),
    ("contains number in string", NEWEST, {"contains": [1, "abc"]}, E, F,
     f'{O_}.contains: "contains" can only look for a string in a string, not int'),
]


@pytest.mark.parametrize(("version", "snippet", "when", "kind", "message"),
                         [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_error(harness: Harness, version: str, snippet: Any, when: str,
               kind: type[TemplateError], message: str) -> None:
    err = harness.error(snippet, version, when=when)
    assert type(err) is kind, repr(err)
    assert str(err) == message


def test_there_are_many_error_cases() -> None:
    assert len(ERROR_CASES) >= 150


def test_unknown_parameter_is_heats_user_parameter_missing() -> None:
    err = error_of({"get_param": "nope"}, when="parse")
    assert err.code == "UserParameterMissing"


def test_reference_errors_are_invalid_template_reference() -> None:
    err = error_of({"get_resource": "nope"}, when="parse")
    assert err.code == "InvalidTemplateReference"


def test_reference_error_in_a_resource_names_the_resource_path() -> None:
    with pytest.raises(ReferenceError_) as info:
        parsed({"get_attr": ["nope", "a"]}, path=("resources", "web", "properties", "ip"))
    assert str(info.value) == ('resources.web.properties.ip.get_attr: The specified reference '
                               '"nope" (in web.Properties.ip) is incorrect.')


def test_digest_unknown_algorithm() -> None:
    err = error_of({"digest": ["invalid_algorithm", "foobar"]}, when="parse")
    assert str(err).startswith(f"{O_}.digest: Algorithm must be one of ")
    assert "md5" in str(err) and "sha256" in str(err)


def test_str_replace_result_size_is_bounded() -> None:
    err = error_of({"str_replace": {"template": "a" * 1000, "params": {"a": "b" * 20000}}},
                   when="eval")
    assert type(err) is TemplateLimitError
    assert str(err) == (f'{O_}.str_replace: "str_replace" would produce 20000000 characters; '
                        "the limit is 16777216")


def test_list_join_result_size_is_bounded() -> None:
    err = error_of({"list_join": ["x" * 20000, [""] * 1000]}, when="eval")
    assert type(err) is TemplateLimitError


# ------------------------------------------------------------------------------------------------
# Condition functions
# ------------------------------------------------------------------------------------------------

CONDITION_CASES: list[tuple[str, str, Any, bool]] = [
    ("equals", "2016-10-14", {"equals": ["a", "a"]}, True),
    ("equals typed", "2016-10-14", {"equals": ["1", 1]}, False),
    ("equals numbers", "2016-10-14", {"equals": [1, 1.0]}, True),
    ("equals lists", "2016-10-14", {"equals": [[1, {"a": 2}], [1, {"a": 2}]]}, True),
    ("equals param", "2016-10-14", {"equals": [{"get_param": "env"}, "prod"]}, True),
    ("equals param false", "2016-10-14", {"equals": [{"get_param": "env"}, "test"]}, False),
    ("not name", "2016-10-14", {"not": "yes"}, False),
    ("not bool", "2016-10-14", {"not": False}, True),
    ("not inline", "2016-10-14", {"not": {"equals": [1, 2]}}, True),
    ("not named function", "2016-10-14", {"not": "is_prod"}, False),
    ("not param bool", "2016-10-14", {"not": {"get_param": "flag"}}, False),
    ("not param naming a condition", "2016-10-14", {"not": {"get_param": "which"}}, False),
    ("and", "2016-10-14", {"and": ["yes", True, {"not": "no"}]}, True),
    ("and false", "2016-10-14", {"and": ["yes", "no"]}, False),
    ("and short circuits names", "2016-10-14", {"and": [False, "missing"]}, False),
    ("or", "2016-10-14", {"or": ["no", {"equals": [1, 1]}]}, True),
    ("or false", "2016-10-14", {"or": ["no", False, {"not": True}]}, False),
    ("or short circuits names", "2016-10-14", {"or": [True, "missing"]}, True),
    ("get_param", "2016-10-14", {"get_param": "flag"}, True),
    ("yaql", "2017-09-01",
     {"yaql": {"expression": '$.data.names.contains("b")',
               "data": {"names": {"get_param": "list"}}}}, True),
    ("contains", "2017-09-01", {"contains": [{"get_param": "env"}, ["prod", "stage"]]}, True),
    ("nested", NEWEST, {"or": [{"and": ["yes", {"not": "no"}]}, "no"]}, True),
]


@pytest.mark.parametrize(("version", "snippet", "value"), [c[1:] for c in CONDITION_CASES],
                         ids=[c[0] for c in CONDITION_CASES])
def test_condition(harness: Harness, version: str, snippet: Any, value: bool) -> None:
    assert harness.condition(snippet, version) is value


CONDITION_ERRORS: list[tuple[str, Any, str, type[TemplateError], str]] = [
    ("equals three", {"equals": ["test", "prod", "invalid"]}, P, F,
     'conditions.c.equals: Arguments to "equals" must be of the form: [value_1, value_2]'),
    ("equals string", {"equals": "invalid condition"}, P, F,
     'conditions.c.equals: Arguments to "equals" must be of the form: [value_1, value_2]'),
    # Heat 27.0.1: a list is an invalid condition, found when evaluated (conditions_not_bad_args)
    ("not list", {"not": ["yes"]}, P, F, 'conditions.c.not: Invalid condition "[\'yes\']"'),
    ("not null", {"not": None}, P, F, 'conditions.c.not: Argument to "not" must be a condition'),
    ("not number", {"not": 5}, P, F, 'conditions.c.not: Invalid condition "5"'),
    ("not unknown name", {"not": "missing"}, E, R, 'conditions.c.not: Invalid condition "missing"'),
    ("not computed number", {"not": {"get_param": "count"}}, E, F,
     'conditions.c.not: Invalid condition "3"'),
    ("and string", {"and": "yes"}, P, F,
     'conditions.c.and: Arguments to "and" must be a list of conditions'),
    ("and one", {"and": ["yes"]}, P, F,
     'conditions.c.and: The minimum number of condition arguments to "and" is 2.'),
    ("or one", {"or": [True]}, P, F,
     'conditions.c.or: The minimum number of condition arguments to "or" is 2.'),
    ("or number item", {"or": ["yes", 1]}, P, F, 'conditions.c.or: Invalid condition "1"'),
    ("and unknown name", {"and": ["yes", "missing"]}, E, R,
     'conditions.c.and: Invalid condition "missing"'),
    ("and computed list", {"and": ["yes", {"get_param": "list"}]}, E, F,
     "conditions.c.and: Invalid condition \"['a', 'b', 'c']\""),
    ("get_attr", {"get_attr": ["web", "a"]}, P, F,
     'conditions.c.get_attr: The function "get_attr" is invalid in this context'),
    ("if", {"if": [True, True, False]}, P, F,
     'conditions.c.if: The function "if" is invalid in this context'),
]


@pytest.mark.parametrize(("snippet", "when", "kind", "message"),
                         [c[1:] for c in CONDITION_ERRORS], ids=[c[0] for c in CONDITION_ERRORS])
def test_condition_error(harness: Harness, snippet: Any, when: str, kind: type[TemplateError],
                         message: str) -> None:
    err = harness.error(snippet, "2017-09-01", when=when, condition=True)
    assert type(err) is kind, repr(err)
    assert str(err) == message


def test_condition_functions_module_reuses_the_hot_classes() -> None:
    assert cond_fns.GetParam is fns.GetParam
    assert cond_fns.Yaql is fns.Yaql
    assert cond_fns.Contains is fns.Contains


# ------------------------------------------------------------------------------------------------
# Dependencies
# ------------------------------------------------------------------------------------------------

DEPENDENCY_CASES: list[tuple[str, str, Any, list[Dependency]]] = [
    ("get_resource", NEWEST, {"get_resource": "web"}, [Dependency("web")]),
    ("get_resource from param", NEWEST, {"get_resource": {"get_param": "res"}},
     [Dependency("web")]),
    ("get_attr", NEWEST, {"get_attr": ["web", "addr"]}, [Dependency("web", "addr")]),
    ("get_attr path", NEWEST, {"get_attr": ["web", "nets", "private", 0]},
     [Dependency("web", "nets", ("private", 0))]),
    ("get_attr path 2014", "2014-10-16", {"get_attr": ["web", "nets", "private"]},
     [Dependency("web", "nets", ("private",))]),
    ("get_attr path 2013", "2013-05-23", {"get_attr": ["web", "nets", "private"]},
     [Dependency("web", "nets")]),
    ("get_attr all", NEWEST, {"get_attr": ["web"]}, [Dependency("web", "*")]),
    ("get_attr attribute param", NEWEST, {"get_attr": ["web", {"get_param": "attr"}]},
     [Dependency("web", "addr")]),
    ("get_attr attribute from resource", NEWEST,
     {"get_attr": ["web", {"get_attr": ["db", "port"]}]},
     [Dependency("db", "port"), Dependency("web", "*")]),
    ("get_attr path from resource", NEWEST,
     {"get_attr": ["web", "nets", {"get_resource": "db"}]},
     [Dependency("db"), Dependency("web", "nets")]),
    ("nested", NEWEST,
     {"list_join": [",", [{"get_resource": "db"}, {"str_replace": {
         "template": "x", "params": {"x": {"get_attr": ["web", "addr"]}}}}]]},
     [Dependency("db"), Dependency("web", "addr")]),
    ("no resources", NEWEST, {"list_join": [",", [{"get_param": "name"}]]}, []),
    ("if keeps chosen branch only", "2016-10-14",
     {"if": ["yes", {"get_resource": "web"}, {"get_resource": "db"}]}, [Dependency("web")]),
    ("if dropped", NEWEST, [{"if": ["no", {"get_resource": "web"}]}], []),
]


@pytest.mark.parametrize(("version", "snippet", "expected"), [c[1:] for c in DEPENDENCY_CASES],
                         ids=[c[0] for c in DEPENDENCY_CASES])
def test_dependencies(version: str, snippet: Any, expected: list[Dependency]) -> None:
    assert deps(snippet, version) == expected


def test_cfn_ref_of_2013_depends_on_the_resource() -> None:
    found = deps({"Ref": "web"}, "2013-05-23")
    assert [(d.resource, d.attribute) for d in found] == [("web", None)]


def test_parsed_functions_keep_name_args_and_path() -> None:
    tree, _ = parsed({"a": [{"get_resource": "web"}]})
    fn = tree["a"][0]
    assert isinstance(fn, fns.GetResource)
    assert fn.name == "get_resource" and fn.args == "web"
    assert fn.path == (*OUT, "a", 0, "get_resource")


def test_functions_in_a_multi_key_map_are_plain_data() -> None:
    assert ev({"get_param": "name", "other": 1}) == {"get_param": "name", "other": 1}


# ------------------------------------------------------------------------------------------------
# Whole templates: resources, dependencies and conditions
# ------------------------------------------------------------------------------------------------

STACK = """
heat_template_version: {version}
parameters:
  env: {{type: string, default: prod}}
  names: {{type: comma_delimited_list, default: "a,b"}}
conditions:
  is_prod: {{equals: [{{get_param: env}}, prod]}}
  is_dev: {{not: is_prod}}
resources:
  net: {{type: OS::Heat::None}}
  dev_only: {{type: OS::Heat::None, condition: is_dev}}
  server:
    type: OS::Heat::None
    properties:
      name: {{list_join: ["-", {{get_param: names}}, [{{get_attr: [net, name]}}]]}}
      network: {{get_resource: net}}
      debug: {{if: [is_dev, {{get_resource: dev_only}}, null]}}
      tags:
        repeat: {{template: "tag-%n%", for_each: {{"%n%": {{get_param: names}}}}}}
outputs:
  url:
    value: {{make_url: {{scheme: https, host: {{get_attr: [server, ip]}}, path: /x}}}}
  dev:
    value: {{get_attr: [dev_only, ip]}}
    condition: is_dev
"""


def test_template_dependencies_and_values() -> None:
    tmpl = Template.load(STACK.format(version="2017-09-01"))
    defn = tmpl.define(resources=StaticResources(
        {"net": "net-id"}, {"net": {"name": "private"}, "server": {"ip": "10.0.0.5"}}))
    assert defn.conditions == {"is_prod": True, "is_dev": False}
    assert set(defn.resources) == {"net", "server"}
    server = defn.resources["server"]
    assert server.dependencies == frozenset({"net"})
    assert list(server.references) == [Dependency("net", "name"), Dependency("net")]
    assert defn.resolve_properties("server") == {
        "name": "a-b-private", "network": "net-id", "debug": None,
        "tags": ["tag-a", "tag-b"]}
    assert defn.output_value("url") == "https://10.0.0.5/x"
    assert defn.output_value("dev") is None


def test_template_conditions_switch_branches() -> None:
    defn = Template.load(STACK.format(version="2017-09-01")).define({"env": "dev"})
    assert set(defn.resources) == {"net", "dev_only", "server"}
    assert defn.resources["server"].dependencies == frozenset({"net", "dev_only"})
    assert defn.resolve_properties("server")["debug"] == "dev_only"
    assert defn.output_value("dev") is None  # no attribute values yet


def test_two_argument_if_leaves_the_property_unset() -> None:
    doc = {"heat_template_version": "wallaby",
           "conditions": {"no": False},
           "resources": {"a": {"type": "OS::Heat::None", "properties": {
               "x": {"if": ["no", 1]}, "y": [1, {"if": ["no", 2]}]}}}}
    defn = Template.load(doc).define()
    assert defn.resolve_properties("a") == {"y": [1]}


def test_reference_to_a_disabled_resource_from_a_resource() -> None:
    doc = {"heat_template_version": "2016-10-14",
           "conditions": {"no": False},
           "resources": {"off": {"type": "OS::Heat::None", "condition": "no"},
                         "a": {"type": "OS::Heat::None",
                               "properties": {"x": [{"get_attr": ["off", "ip"]}]}}}}
    with pytest.raises(ReferenceError_) as info:
        Template.load(doc).define()
    assert str(info.value) == ('resources.a.properties.x[0].get_attr: The specified reference '
                               '"off" (in a.Properties.x[0]) is incorrect.')


def test_unknown_parameter_in_a_resource() -> None:
    doc = {"heat_template_version": "2013-05-23",
           "resources": {"a": {"type": "OS::Heat::None",
                               "properties": {"x": {"get_param": "nope"}}}}}
    with pytest.raises(ReferenceError_) as info:
        Template.load(doc).define()
    assert str(info.value) == ("resources.a.properties.x.get_param: The Parameter (nope) was "
                               "not provided.")


def test_get_file_from_the_files_map() -> None:
    doc = {"heat_template_version": "2014-10-16",
           "outputs": {"o": {"value": {"str_replace": {
               "template": {"get_file": "script.sh"}, "params": {"$NAME": "web"}}}}}}
    defn = Template.load(doc, files={"script.sh": "echo $NAME"}).define()
    assert defn.output_value("o") == "echo web"


def test_yaql_and_contains_conditions() -> None:
    doc = {"heat_template_version": "pike",
           "parameters": {"services": {"type": "comma_delimited_list", "default": "nova,heat"}},
           "conditions": {
               "has_heat": {"contains": ["heat", {"get_param": "services"}]},
               "many": {"yaql": {"expression": "$.data.s.len() > 2",
                                 "data": {"s": {"get_param": "services"}}}}},
           "resources": {}}
    assert Template.load(doc).define().conditions == {"has_heat": True, "many": False}


# ------------------------------------------------------------------------------------------------
# Robustness: whatever the arguments, only template errors escape
# ------------------------------------------------------------------------------------------------

ALL_NAMES = sorted(set(MATRIX) | set(CONDITION_MATRIX))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(
    ["", "a", "web", "name", "list", "map", "md5", "%v%", "x,y", "$.data", "yes", "metadata",
     "http", "::1", "9", "-1"]))
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(
            ["template", "params", "for_each", "permutations", "expression", "data", "keys",
             "values", "host", "port", "query", "scheme", "path", "a", "%v%"]),
            children, max_size=4),
        st.dictionaries(st.sampled_from(ALL_NAMES), children, min_size=1, max_size=1),
    ),
    max_leaves=12,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=st.sampled_from(VERSIONS), name=st.sampled_from(ALL_NAMES), args=values,
       condition=st.booleans())
def test_only_template_errors_escape(version: str, name: str, args: Any,
                                     condition: bool) -> None:
    with contextlib.suppress(TemplateError):
        ev({name: args}, version, path=COND if condition else OUT, condition=condition)
