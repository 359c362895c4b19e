"""CloudFormation functions and versions (AWSTemplateFormatVersion 2010-09-09,
HeatTemplateFormatVersion 2012-12-12).

Most cases run end to end: the snippet under test becomes output "o" (or condition "c") of a
generated template, loaded with ``Template.load(...).define(...)`` and evaluated with
``output_value``. A small stand-in stack (``FakeStack``: ParseContext and Scope in one) covers what
a whole template cannot show (every facade key, how lazily named conditions are looked up, the
parsed node types). The last part loads hand-written templates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeheat.cli.template_cmds import function_rows
from kubeheat.template import (
    StackDefinition,
    StackIdentity,
    StaticResources,
    Template,
    VersionSpec,
    formats,
)
from kubeheat.template import cfn as cfn_versions
from kubeheat.template.errors import (
    FunctionError,
    Path,
    ReferenceError_,
    TemplateError,
    TemplateLimitError,
    TemplateSectionError,
)
from kubeheat.template.functions import cfn
from kubeheat.template.functions.base import (
    Dependency,
    Function,
    Scope,
    dependencies,
    parse,
    resolve,
)
from kubeheat.template.functions.hot import MAX_RESULT_ITEMS

AWS = cfn_versions.AWS_2010_09_09
HEAT = cfn_versions.HEAT_2012_12_12
OUT: Path = ("Outputs", "o", "Value")
AWS_DOC = "AWSTemplateFormatVersion: '2010-09-09'\n"
HEAT_DOC = "HeatTemplateFormatVersion: '2012-12-12'\n"


class FakeStack:
    """A stack definition reduced to what functions use: names, values, conditions."""

    def __init__(self, *, spec: VersionSpec = AWS, resources: Iterable[str] = (),
                 inactive: Iterable[str] = (), params: Mapping[str, Any] | None = None,
                 conditions: Mapping[str, Any] | None = None,
                 mappings: Mapping[str, Any] | None = None,
                 refs: Mapping[str, Any] | None = None,
                 attrs: Mapping[str, Mapping[str, Any]] | None = None,
                 facade: Mapping[str, Any] | None = None,
                 zones: Sequence[str] = ("nova",)) -> None:
        self.version = spec
        self.resource_names = frozenset(resources) | frozenset(inactive)
        self.active_resource_names = frozenset(resources)
        self.params: dict[str, Any] = {
            "AWS::StackId": "arn:openstack:heat::p:stacks/s/1", "AWS::StackName": "s",
            "AWS::Region": "ap-southeast-1", **(params or {})}
        self.parameter_names = frozenset(self.params)
        self.raw_conditions = dict(conditions or {})
        self.mappings = dict(mappings or {})
        self.defer_value_errors = False
        self.refs = dict(refs or {})
        self.attrs = {k: dict(v) for k, v in (attrs or {}).items()}
        self.facade_values = dict(facade or {})
        self.zones = list(zones)
        self.condition_calls: list[str] = []

    # ParseContext
    def condition_value(self, name_or_expr: Any, path: Path) -> bool:
        if isinstance(name_or_expr, bool):
            return name_or_expr
        if isinstance(name_or_expr, str):
            return self.condition(name_or_expr, path)
        value = resolve(parse(self, name_or_expr, path, condition=True), self)
        assert isinstance(value, bool)
        return value

    def static_scope(self) -> Scope:
        return self

    # Scope
    def get_param(self, name: str, path: Path) -> Any:
        if name not in self.params:
            raise ReferenceError_(f"The Parameter ({name}) was not provided.", path)
        return self.params[name]

    def get_file(self, key: str, path: Path) -> str:
        raise AssertionError("CFN has no get_file")

    def resource_ref(self, name: str, path: Path) -> Any:
        return self.refs.get(name, name)

    def resource_attr(self, name: str, attribute: str | None, attr_path: Sequence[Any],
                      path: Path) -> Any:
        assert attribute is not None and list(attr_path) == []
        return self.attrs.get(name, {}).get(attribute)

    def condition(self, name: str, path: Path) -> bool:
        if name not in self.raw_conditions:
            raise ReferenceError_(f'Invalid condition "{name}"', path)
        self.condition_calls.append(name)
        return self.condition_value(self.raw_conditions[name], ("Conditions", name))

    def facade(self, key: str, path: Path) -> Any:
        if key not in self.facade_values:
            raise FunctionError("not a provider template", path)
        return self.facade_values[key]

    def availability_zones(self) -> list[str]:
        return self.zones


# -- unit harness (the few cases a whole template cannot express) --------------------------------

def unit_parsed(snippet: Any, path: Path = OUT, **kw: Any) -> tuple[Any, FakeStack]:
    stack = FakeStack(**kw)
    return parse(stack, snippet, path), stack


def unit_ev(snippet: Any, **kw: Any) -> Any:
    tree, stack = unit_parsed(snippet, **kw)
    return resolve(tree, stack)


# -- end-to-end harness: the snippet is output "o" (or condition "c") of a generated template ----

_UNSET: Any = object()


def _schema(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"Type": "Boolean"}
    if isinstance(value, int | float):
        return {"Type": "Number"}
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return {"Type": "CommaDelimitedList"}
    if isinstance(value, list | dict):
        return {"Type": "Json"}
    return {"Type": "String"}


def document(output: Any = _UNSET, *, spec: VersionSpec = AWS, condition: Any = _UNSET,
             resources: Iterable[str] = (), inactive: Iterable[str] = (),
             params: Mapping[str, Any] | None = None,
             conditions: Mapping[str, Any] | None = None,
             mappings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A template with ``output`` as output "o", ``condition`` as condition "c", resources of type
    OS::Heat::None (``inactive`` ones under a false condition) and a parameter per ``params``."""
    doc: dict[str, Any] = {spec.key: spec.version}
    if params:
        doc["Parameters"] = {name: _schema(value) for name, value in params.items()}
    res: dict[str, Any] = {name: {"Type": "OS::Heat::None"} for name in resources}
    res.update({name: {"Type": "OS::Heat::None", "Condition": "Off"} for name in inactive})
    if res:
        doc["Resources"] = res
    conds = dict(conditions or {})
    if inactive:
        conds["Off"] = False
    if condition is not _UNSET:
        conds["c"] = condition
    if conds:
        doc["Conditions"] = conds
    if mappings:
        doc["Mappings"] = mappings
    if output is not _UNSET:
        doc["Outputs"] = {"o": {"Value": output}}
    return doc


def define(output: Any = _UNSET, *, zones: Sequence[str] = ("nova",),
           **kw: Any) -> StackDefinition:
    identity = StackIdentity(name="s", id="1", project_id="p", region="ap-southeast-1",
                             availability_zones=tuple(zones))
    return Template.load(document(output, **kw)).define(kw.get("params"), identity=identity)


def ev(snippet: Any, *, refs: Mapping[str, Any] | None = None,
       attrs: Mapping[str, Mapping[str, Any]] | None = None, **kw: Any) -> Any:
    """The value of ``snippet`` as an output, resources answering from ``refs`` / ``attrs``."""
    return define(snippet, **kw).output_value("o", StaticResources(refs, attrs))


def cond(snippet: Any, **kw: Any) -> bool:
    """The value of ``snippet`` as a condition."""
    return define(condition=snippet, **kw).conditions["c"]


def deps(snippet: Any, *, refs: Any = None, attrs: Any = None,
         **kw: Any) -> list[Dependency]:
    return list(dependencies(define(snippet, **kw).outputs["o"].value))


def fails(snippet: Any, kind: type[TemplateError], message: str, *,
          condition: bool = False, **kw: Any) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        if condition:
            cond(snippet, **kw)
        else:
            ev(snippet, **kw)
    assert type(info.value) is kind, repr(info.value)
    assert str(info.value) == message
    return info.value


# ------------------------------------------------------------------------------------------------
# Ref
# ------------------------------------------------------------------------------------------------

def test_ref_parameter() -> None:
    assert ev({"Ref": "size"}, params={"size": 3}) == 3
    assert deps({"Ref": "size"}, params={"size": 3}) == []


@pytest.mark.parametrize(("name", "value"), [
    ("AWS::StackId", "arn:openstack:heat::p:stacks/s/1"),
    ("AWS::StackName", "s"),
    ("AWS::Region", "ap-southeast-1"),
])
def test_ref_pseudo_parameters(name: str, value: str) -> None:
    assert ev({"Ref": name}) == value


def test_ref_resource_is_its_reference_and_a_dependency() -> None:
    assert ev({"Ref": "web"}, resources=["web"]) == "web"
    assert ev({"Ref": "web"}, resources=["web"], refs={"web": "1234-abcd"}) == "1234-abcd"
    assert deps({"a": [{"Ref": "web"}]}, resources=["web"]) == [Dependency("web")]


def test_a_parameter_and_a_resource_may_not_share_a_name() -> None:
    # Heat 27.0.1 refuses the template (validate and create): "Duplicate names {'db'}"
    fails({"Ref": "db"}, TemplateSectionError, "Resources.db: Duplicate names {'db'}",
          resources=["db"], params={"db": "param"})


def test_ref_unknown_name() -> None:
    err = fails({"x": {"Ref": "nope"}}, ReferenceError_,
                'Outputs.o.Value.x.Ref: The specified reference "nope" (in o.Value.x) is '
                "incorrect.")
    assert err.code == "InvalidTemplateReference"


def test_ref_in_a_resource_names_the_resource_path() -> None:
    doc = document(resources=["other"])
    doc["Resources"]["web"] = {"Type": "X", "Properties": {"image": [{"Ref": "nope"}]}}
    with pytest.raises(ReferenceError_) as info:
        Template.load(doc).define()
    assert str(info.value) == ('Resources.web.Properties.image[0].Ref: The specified reference '
                               '"nope" (in web.Properties.image[0]) is incorrect.')


def test_ref_to_a_disabled_resource_is_an_error() -> None:
    fails({"Ref": "db"}, ReferenceError_,
          'Outputs.o.Value.Ref: The specified reference "db" (in o.Value) is incorrect.',
          inactive=["db"])


@pytest.mark.parametrize("arg", [["a"], {"a": 1}, 3, None])
def test_ref_argument_must_be_a_name(arg: Any) -> None:
    fails({"Ref": arg}, FunctionError,
          'Outputs.o.Value.Ref: The argument to "Ref" must be a resource or parameter name')


# ------------------------------------------------------------------------------------------------
# Fn::GetAtt
# ------------------------------------------------------------------------------------------------

def test_getatt_value_and_dependency() -> None:
    snippet = {"Fn::GetAtt": ["web", "PublicIp"]}
    assert ev(snippet, resources=["web"], attrs={"web": {"PublicIp": "10.0.0.1"}}) == "10.0.0.1"
    assert ev(snippet, resources=["web"]) is None
    # The dependency's path is the attribute path (none for Fn::GetAtt), never the location.
    assert deps(snippet, resources=["web"]) == [Dependency("web", "PublicIp")]


def test_getatt_attribute_from_a_parameter_is_known_while_parsing() -> None:
    # As for HOT's get_attr: an attribute name computed from parameters only is known.
    snippet = {"Fn::GetAtt": ["web", {"Ref": "which"}]}
    kw: dict[str, Any] = {"resources": ["web"], "params": {"which": "Name"},
                          "attrs": {"web": {"Name": "w1"}}}
    assert ev(snippet, **kw) == "w1"
    assert deps(snippet, **kw) == [Dependency("web", "Name")]


def test_getatt_attribute_from_a_resource_depends_on_every_attribute() -> None:
    snippet = {"Fn::GetAtt": ["web", {"Fn::GetAtt": ["db", "Which"]}]}
    kw: dict[str, Any] = {"resources": ["web", "db"],
                          "attrs": {"web": {"Name": "w1"}, "db": {"Which": "Name"}}}
    assert ev(snippet, **kw) == "w1"
    assert deps(snippet, **kw) == [Dependency("db", "Which"), Dependency("web", "*")]


def test_getatt_dependency_matches_hot_get_attr() -> None:
    cfn_doc = {"AWSTemplateFormatVersion": "2010-09-09",
               "Resources": {"web": {"Type": "OS::Heat::None"}},
               "Outputs": {"o": {"Value": {"Fn::GetAtt": ["web", "addr"]}}}}
    hot_doc = {"heat_template_version": "2018-08-31",
               "resources": {"web": {"type": "OS::Heat::None"}},
               "outputs": {"o": {"value": {"get_attr": ["web", "addr"]}}}}
    cfn_deps = list(dependencies(Template.load(cfn_doc).define().outputs["o"].value))
    hot_deps = list(dependencies(Template.load(hot_doc).define().outputs["o"].value))
    assert cfn_deps == hot_deps == [Dependency("web", "addr", ())]


@pytest.mark.parametrize("args", [["web"], ["web", "a", "b"], "web", {"web": "a"}, []])
def test_getatt_needs_exactly_resource_and_attribute(args: Any) -> None:
    fails({"Fn::GetAtt": args}, FunctionError,
          'Outputs.o.Value.Fn::GetAtt: Arguments to "Fn::GetAtt" must be of the form '
          "[resource_name, attribute]", resources=["web"])


def test_getatt_names_must_be_strings() -> None:
    fails({"Fn::GetAtt": [["web"], "a"]}, FunctionError,
          'Outputs.o.Value.Fn::GetAtt: The resource name in "Fn::GetAtt" must be a string')
    fails({"Fn::GetAtt": ["web", 5]}, FunctionError,
          'Outputs.o.Value.Fn::GetAtt: The attribute name in "Fn::GetAtt" must be a string',
          resources=["web"])
    fails({"Fn::GetAtt": ["web", {"Ref": "n"}]}, FunctionError,
          'Outputs.o.Value.Fn::GetAtt: The attribute name in "Fn::GetAtt" must be a string, '
          "not int", resources=["web"], params={"n": 5})


@pytest.mark.parametrize("kw", [{}, {"inactive": ["web"]}, {"params": {"web": "x"}}])
def test_getatt_unknown_or_disabled_resource(kw: dict[str, Any]) -> None:
    fails({"Fn::GetAtt": ["web", "Name"]}, ReferenceError_,
          'Outputs.o.Value.Fn::GetAtt: The specified reference "web" (in o.Value) is '
          "incorrect.", **kw)


# ------------------------------------------------------------------------------------------------
# Fn::Select
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "result"), [
    ([1, ["a", "b", "c"]], "b"),
    (["1", ["a", "b", "c"]], "b"),          # list index through int()
    ([0, ["a"]], "a"),
    ([-1, ["a", "b"]], "b"),                # Python indexing, as in Heat
    ([3, ["a", "b"]], ""),                  # out of range
    (["k", {"k": "v"}], "v"),
    (["x", {"k": "v"}], ""),                # map miss
    (["1", '["a", "b"]'], "b"),             # JSON list in a string
    (["k", '{"k": [1, 2]}'], [1, 2]),       # JSON map in a string
    ([0, ""], ""),                          # empty string: value not available yet
    ([0, None], ""),
    ([0, [{"deep": True}]], {"deep": True}),
])
def test_select(args: list[Any], result: Any) -> None:
    assert ev({"Fn::Select": args}) == result


@given(st.lists(st.text(max_size=3), max_size=5), st.integers(min_value=0, max_value=7))
def test_select_any_list_index(items: list[str], index: int) -> None:
    expected = items[index] if index < len(items) else ""
    assert unit_ev({"Fn::Select": [index, items]}) == expected
    assert unit_ev({"Fn::Select": [str(index), items]}) == expected


def test_select_from_parameters() -> None:
    kw: dict[str, Any] = {"params": {"i": "2", "zones": ["z1", "z2", "z3"]}}
    assert ev({"Fn::Select": [{"Ref": "i"}, {"Ref": "zones"}]}, **kw) == "z3"
    assert ev({"Fn::Select": [0, {"Fn::GetAZs": ""}]}, zones=["az1", "az2"]) == "az1"


@pytest.mark.parametrize(("args", "message"), [
    ([1, {"k": "v"}], 'Index to "Fn::Select" must be a string'),
    (["one", ["a"]], 'Index to "Fn::Select" must be an integer'),
    ([None, ["a"]], 'Index to "Fn::Select" must be an integer'),
    ([0, "[1, 2"], '"Fn::Select": Expecting \',\' delimiter: line 1 column 6 (char 5)'),
    ([0, "5"], "Arguments to Fn::Select not fully resolved"),
    ([0, 5], "Arguments to Fn::Select not fully resolved"),
])
def test_select_errors(args: list[Any], message: str) -> None:
    fails({"Fn::Select": args}, FunctionError, "Outputs.o.Value.Fn::Select: " + message)


@pytest.mark.parametrize("args", [[1], [1, [2], 3], "ab", {"a": 1}])
def test_select_shape(args: Any) -> None:
    fails({"Fn::Select": args}, FunctionError,
          'Outputs.o.Value.Fn::Select: Arguments to "Fn::Select" must be of the form '
          "[index, collection]")


# ------------------------------------------------------------------------------------------------
# Fn::Join
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "result"), [
    ([",", ["a", "b", "c"]], "a,b,c"),
    ([", ", []], ""),
    (["", ["a", "b"]], "ab"),
    (["-", ["a", None, "c"]], "a--c"),
    (["-", None], ""),
])
def test_join(args: list[Any], result: str) -> None:
    assert ev({"Fn::Join": args}) == result


def test_join_with_references() -> None:
    snippet = {"Fn::Join": ["", ["http://", {"Fn::GetAtt": ["web", "Ip"]}, ":",
                                 {"Ref": "port"}]]}
    kw: dict[str, Any] = {"resources": ["web"], "params": {"port": "80"}}
    assert ev(snippet, **kw) == "http://:80"          # attribute not available yet
    assert ev(snippet, attrs={"web": {"Ip": "1.2.3.4"}}, **kw) == "http://1.2.3.4:80"
    assert [d.resource for d in deps(snippet, **kw)] == ["web"]


@pytest.mark.parametrize(("args", "message"), [
    ([",", "abc"], '"Fn::Join" must operate on a list'),
    ([",", {"a": "b"}], '"Fn::Join" must operate on a list'),
    ([1, ["a"]], '"Fn::Join" delimiter must be a string'),
    ([",", ["a", 1]], "Items to join must be strings not 1"),
    ([",", ["a", ["b"]]], "Items to join must be strings not ['b']"),
])
def test_join_errors(args: list[Any], message: str) -> None:
    fails({"Fn::Join": args}, FunctionError, "Outputs.o.Value.Fn::Join: " + message)


@pytest.mark.parametrize("args", [",", [","], [",", [], []], {",": []}])
def test_join_shape(args: Any) -> None:
    fails({"Fn::Join": args}, FunctionError,
          'Outputs.o.Value.Fn::Join: Incorrect arguments to "Fn::Join" should be: '
          '"Fn::Join" : [ " ", [ "str1", "str2"]]')


# ------------------------------------------------------------------------------------------------
# Fn::Split
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "result"), [
    ([",", "a,b,c"], ["a", "b", "c"]),
    ([",", "abc"], ["abc"]),
    ([",", ""], [""]),
    ([", ", "a, b,c"], ["a", "b,c"]),        # the delimiter is literal, not a character set
    (["*", "a*b"], ["a", "b"]),              # ... and not a pattern
    ([",", "a,,b,"], ["a", "", "b", ""]),
])
def test_split(args: list[Any], result: list[str]) -> None:
    assert ev({"Fn::Split": args}) == result


@given(st.text(alphabet="ab,;", max_size=12), st.sampled_from([",", ";", ",;", "ab"]))
def test_join_undoes_split(text: str, delimiter: str) -> None:
    parts = unit_ev({"Fn::Split": [delimiter, text]})
    assert all(delimiter not in part for part in parts)
    assert unit_ev({"Fn::Join": [delimiter, {"Fn::Split": [delimiter, text]}]}) == text


@given(st.text(alphabet="xy$", max_size=12), st.text(alphabet="xy", max_size=3))
def test_replace_one_placeholder_is_str_replace(template: str, value: str) -> None:
    assert unit_ev({"Fn::Replace": [{"$x": value}, template]}) == template.replace("$x", value)


def test_split_a_parameter_and_a_missing_value() -> None:
    assert ev({"Fn::Split": [";", {"Ref": "p"}]}, params={"p": "x;y"}) == ["x", "y"]
    assert ev({"Fn::Split": [",", {"Fn::GetAtt": ["web", "Ips"]}]}, resources=["web"]) is None


def test_split_errors() -> None:
    fails({"Fn::Split": [{"Ref": "d"}, "a,b"]}, FunctionError,
          "Outputs.o.Value.Fn::Split: Delimiter for Fn::Split must be string", params={"d": ","})
    fails({"Fn::Split": ["", "a,b"]}, FunctionError,
          "Outputs.o.Value.Fn::Split: Delimiter for Fn::Split must not be empty")
    fails({"Fn::Split": [",", ["a"]]}, FunctionError,
          "Outputs.o.Value.Fn::Split: String to split must be string; got list")
    for args in ("a,b", [","], [",", "a", "b"], {",": "a"}):
        fails({"Fn::Split": args}, FunctionError,
              'Outputs.o.Value.Fn::Split: Incorrect arguments to "Fn::Split" should be: '
              '"Fn::Split" : [ ",", "str1,str2"]')


def test_split_result_is_capped_like_str_split() -> None:
    """Review H6: a split makes at most MAX_RESULT_ITEMS items, as repeat and str_split."""
    assert cfn.MAX_SPLIT_ITEMS == MAX_RESULT_ITEMS
    fails({"Fn::Split": [",", "," * MAX_RESULT_ITEMS]}, TemplateLimitError,
          'Outputs.o.Value.Fn::Split: "Fn::Split" would produce 100001 items; the limit is '
          "100000")
    assert len(ev({"Fn::Split": [",", "," * (MAX_RESULT_ITEMS - 1)]})) == MAX_RESULT_ITEMS


# ------------------------------------------------------------------------------------------------
# Fn::Replace
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("params", "template", "result"), [
    ({"$var": "x"}, "a $var b $var", "a x b x"),
    ({"$var": "short", "$var1": "long"}, "$var1 $var", "long short"),   # longest key first
    ({"ab": "1", "bc": "2"}, "abc", "1c"),              # equal length: lexical order
    ({"bc": "2", "ab": "1"}, "abc", "1c"),
    ({"a": "b", "b": "c"}, "ab", "bc"),                 # replaced text is not scanned again
    ({"%n%": None}, "[%n%]", "[]"),                     # None replaced by ''
    ({"N": 3, "F": 1.5, "B": True}, "N F B", "3 1.5 True"),
    ({}, "unchanged", "unchanged"),
])
def test_replace(params: dict[str, Any], template: str, result: str) -> None:
    assert ev({"Fn::Replace": [params, template]}) == result


def test_replace_with_functions() -> None:
    snippet = {"Fn::Replace": [{"%ip%": {"Fn::GetAtt": ["db", "Ip"]}, "%name%": {"Ref": "n"}},
                               {"Fn::Join": ["", ["%name%@", "%ip%"]]}]}
    kw: dict[str, Any] = {"resources": ["db"], "params": {"n": "app"},
                          "attrs": {"db": {"Ip": "10.1.1.1"}}}
    assert ev(snippet, **kw) == "app@10.1.1.1"
    assert [(d.resource, d.attribute) for d in deps(snippet, **kw)] == [("db", "Ip")]


@pytest.mark.parametrize(("args", "message", "kw"), [
    ([{"k": ["a"]}, "k"], '"Fn::Replace" params must be strings or numbers, param k is not '
     "valid", {}),
    ([{1: "a"}, "1"], '"Fn::Replace" param placeholders must be strings', {}),
    ([{"k": "v"}, ["k"]], '"Fn::Replace" template must be a string', {}),
    ([{"Ref": "m"}, "k"], '"Fn::Replace" params must be a map', {"params": {"m": "x"}}),
    ([["k", "v"], "k"], '"Fn::Replace" parameters must be a mapping', {}),
    ([{"": "v"}, "k"], '"Fn::Replace" param placeholders must not be empty', {}),
])
def test_replace_errors(args: list[Any], message: str, kw: dict[str, Any]) -> None:
    fails({"Fn::Replace": args}, FunctionError, "Outputs.o.Value.Fn::Replace: " + message, **kw)


@pytest.mark.parametrize("args", ["x", [{"a": "b"}], {"a": "b"}, [{}, "a", "b"]])
def test_replace_shape(args: Any) -> None:
    fails({"Fn::Replace": args}, FunctionError,
          'Outputs.o.Value.Fn::Replace: Incorrect arguments to "Fn::Replace" should be: '
          '{"Fn::Replace": [ {"$var1": "foo", "%var2%": "bar"}, "$var1 is %var2%"]}')


# ------------------------------------------------------------------------------------------------
# Fn::Base64, Fn::GetAZs, Fn::ResourceFacade, Fn::MemberListToMap
# ------------------------------------------------------------------------------------------------

def test_base64_returns_the_string_unchanged() -> None:
    assert ev({"Fn::Base64": "#!/bin/sh\necho hi\n"}) == "#!/bin/sh\necho hi\n"
    assert ev({"Fn::Base64": {"Fn::Join": ["", ["a", {"Ref": "p"}]]}}, params={"p": "b"}) == "ab"
    assert ev({"Fn::Base64": {"Fn::GetAtt": ["web", "X"]}}, resources=["web"]) is None
    for bad in (["a"], 1, {"a": "b"}):
        fails({"Fn::Base64": bad}, FunctionError,
              'Outputs.o.Value.Fn::Base64: "Fn::Base64" argument must be a string')


def test_getazs() -> None:
    assert ev({"Fn::GetAZs": ""}) == ["nova"]
    assert ev({"Fn::GetAZs": {"Ref": "AWS::Region"}}, zones=["az1", "az2"]) == ["az1", "az2"]
    assert deps({"Fn::GetAZs": ""}) == []


@pytest.mark.parametrize(("arg", "key"), [
    ("Metadata", "metadata"), ("DeletionPolicy", "deletion_policy"),
    ("UpdatePolicy", "update_policy"),
])
def test_resource_facade(arg: str, key: str) -> None:
    # A stand-in stack: a whole parent template only passes its DeletionPolicy on (see below).
    assert unit_ev({"Fn::ResourceFacade": arg}, facade={key: {"value": arg}}) == {"value": arg}


@pytest.mark.parametrize("arg", ["metadata", "Properties", ["Metadata"], None])
def test_resource_facade_argument(arg: Any) -> None:
    fails({"Fn::ResourceFacade": arg}, FunctionError,
          'Outputs.o.Value.Fn::ResourceFacade: Incorrect arguments to "Fn::ResourceFacade" '
          "should be one of: Metadata, DeletionPolicy, UpdatePolicy")


def test_resource_facade_outside_a_provider_template() -> None:
    with pytest.raises(FunctionError) as info:
        ev({"Fn::ResourceFacade": "Metadata"})
    assert info.value.path == (*OUT, "Fn::ResourceFacade")


def test_member_list_to_map() -> None:
    members = [".member.0.Name=color", ".member.0.Value=blue",
               ".member.2.Name=size", ".member.2.Value=big=large",   # value keeps its '='
               ".member.10.Name=shape", ".member.10.Value=round",
               ".member.3.Name=orphan",                              # no value: skipped
               "Other=ignored"]
    assert ev({"Fn::MemberListToMap": ["Name", "Value", members]}) == {
        "color": "blue", "size": "big=large", "shape": "round"}
    assert ev({"Fn::MemberListToMap": ["Key", "Val", {"Ref": "l"}]},
              params={"l": [".member.1.Key=a", ".member.1.Val=b"]}) == {"a": "b"}
    assert ev({"Fn::MemberListToMap": ["Name", "Value", []]}) == {}


def test_member_list_to_map_later_members_win() -> None:
    members = [".member.1.Name=k", ".member.1.Value=first",
               ".member.2.Name=k", ".member.2.Value=second"]
    assert ev({"Fn::MemberListToMap": ["Name", "Value", members]}) == {"k": "second"}


@pytest.mark.parametrize(("args", "message"), [
    (["Name", "Value", "x"], "Member list must be a list"),
    (["Name", "Value", [1]], "Member list items must be strings"),
    (["Name", "Value", [".member.0.Name"]],
     'Member list item ".member.0.Name" must be of the form name=value'),
    ([1, "Value", []], "Fn::MemberListToMap Key Name must be a string"),
    (["Name", ["Value"], []], "Fn::MemberListToMap Value Name must be a string"),
    (["Name", "Value"], 'Arguments to "Fn::MemberListToMap" must be of the form [key_name, '
     "value_name, ['.member.0.key_name=key', '.member.0.value_name=value', ...]]"),
])
def test_member_list_to_map_errors(args: Any, message: str) -> None:
    fails({"Fn::MemberListToMap": args}, FunctionError,
          "Outputs.o.Value.Fn::MemberListToMap: " + message)


# ------------------------------------------------------------------------------------------------
# Fn::FindInMap
# ------------------------------------------------------------------------------------------------

MAPPINGS: dict[str, Any] = {
    "RegionMap": {"us-east-1": {"AMI": "ami-1", "Zones": ["a", "b"]},
                  "ap-southeast-1": {"AMI": "ami-9", "Zones": ["c"]}},
    "Flat": {"k": "not a map"},
}


def test_find_in_map() -> None:
    assert ev({"Fn::FindInMap": ["RegionMap", "us-east-1", "AMI"]}, mappings=MAPPINGS) == "ami-1"
    assert ev({"Fn::FindInMap": ["RegionMap", {"Ref": "AWS::Region"}, "Zones"]},
              mappings=MAPPINGS) == ["c"]


def test_find_in_map_returns_a_copy() -> None:
    value = ev({"Fn::FindInMap": ["RegionMap", "us-east-1", "Zones"]}, mappings=MAPPINGS)
    value.append("z")
    assert MAPPINGS["RegionMap"]["us-east-1"]["Zones"] == ["a", "b"]


@pytest.mark.parametrize(("args", "message"), [
    (["Nope", "us-east-1", "AMI"], '"Fn::FindInMap": mapping "Nope" is not in the Mappings '
     "section"),
    (["RegionMap", "eu-west-1", "AMI"], '"Fn::FindInMap": key "eu-west-1" is not in mapping '
     '"RegionMap"'),
    (["RegionMap", "us-east-1", "Kernel"], '"Fn::FindInMap": key "Kernel" is not in mapping '
     '"RegionMap" under "us-east-1"'),
    (["Flat", "k", "x"], '"Fn::FindInMap": key "k" is not in mapping "Flat"'),
    (["RegionMap", ["us-east-1"], "AMI"], 'The keys given to "Fn::FindInMap" must be strings, '
     "not list"),
    (["RegionMap", "us-east-1"], 'Arguments to "Fn::FindInMap" must be of the form '
     "[mapping_name, top_level_key, second_level_key]"),
])
def test_find_in_map_errors_at_parse_time(args: Any, message: str) -> None:
    with pytest.raises(FunctionError) as info:
        define({"Fn::FindInMap": args}, mappings=MAPPINGS)
    assert str(info.value) == "Outputs.o.Value.Fn::FindInMap: " + message


def test_find_in_map_errors_at_evaluation_when_keys_come_from_parameters() -> None:
    defn = define({"Fn::FindInMap": ["RegionMap", {"Ref": "r"}, "AMI"]},
                  mappings=MAPPINGS, params={"r": "mars-1"})
    with pytest.raises(FunctionError, match='key "mars-1" is not in mapping "RegionMap"'):
        defn.output_value("o")


def test_find_in_map_without_a_mappings_section() -> None:
    # ParseContext.mappings is the Mappings section; a template without one gives {}.
    stack = FakeStack()
    assert stack.mappings == {}
    with pytest.raises(FunctionError, match='mapping "M" is not in the Mappings section'):
        parse(stack, {"Fn::FindInMap": ["M", "a", "b"]}, OUT)
    fails({"Fn::FindInMap": ["M", "a", "b"]}, FunctionError,
          'Outputs.o.Value.Fn::FindInMap: "Fn::FindInMap": mapping "M" is not in the Mappings '
          "section")


# ------------------------------------------------------------------------------------------------
# Fn::If
# ------------------------------------------------------------------------------------------------

def test_if_picks_a_branch() -> None:
    conditions = {"prod": True, "dev": False}
    assert ev({"Fn::If": ["prod", "big", "small"]}, conditions=conditions) == "big"
    assert ev({"Fn::If": ["dev", "big", "small"]}, conditions=conditions) == "small"
    assert ev({"Fn::If": [True, 1, 2]}) == 1
    assert ev({"Fn::If": [{"Fn::Equals": [{"Ref": "env"}, "prod"]}, 1, 2]},
              params={"env": "dev"}) == 2


def test_if_parses_only_the_chosen_branch() -> None:
    # The other branch refers to a disabled resource and an unknown name: never looked at.
    snippet = {"Fn::If": ["has_db", {"Ref": "db"}, {"Ref": "nothing"}]}
    assert ev(snippet, resources=["db"], conditions={"has_db": True}) == "db"
    assert deps(snippet, resources=["db"], conditions={"has_db": True}) == [Dependency("db")]
    other = {"Fn::If": ["has_db", {"Ref": "db"}, "none"]}
    assert ev(other, inactive=["db"], conditions={"has_db": False}) == "none"
    assert deps(other, inactive=["db"], conditions={"has_db": False}) == []


def test_if_nested_and_inside_data() -> None:
    snippet = {"a": [{"Fn::If": ["x", {"Fn::If": ["y", "xy", "x"]}, "none"]}]}
    assert ev(snippet, conditions={"x": True, "y": False}) == {"a": ["x"]}


def test_if_result_is_a_plain_value_not_a_function() -> None:
    tree = define({"Fn::If": [True, {"k": "v"}, None]}).outputs["o"].value
    assert tree == {"k": "v"} and not isinstance(tree, Function)


def test_if_unknown_condition() -> None:
    with pytest.raises(ReferenceError_) as info:
        define({"Fn::If": ["nope", 1, 2]})
    assert str(info.value) == 'Outputs.o.Value.Fn::If[0]: Invalid condition "nope"'


@pytest.mark.parametrize("args", [["c", 1], ["c", 1, 2, 3], "c", {"c": 1}])
def test_if_shape(args: Any) -> None:
    with pytest.raises(FunctionError) as info:
        define({"Fn::If": args}, conditions={"c": True})
    assert str(info.value) == (
        'Outputs.o.Value.Fn::If: Arguments to "Fn::If" must be of the form: '
        "[condition_name, value_if_true, value_if_false]")


def test_if_is_not_a_function_of_heat_template_format_version() -> None:
    # Heat 27.0.1 outputs {'Fn::If': ['c', 1, 2]} as it is: plain data in 2012-12-12
    assert define({"Fn::If": ["c", 1, 2]}, spec=HEAT).output_value("o") == {"Fn::If": ["c", 1, 2]}


# ------------------------------------------------------------------------------------------------
# Condition functions
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("snippet", "result"), [
    ({"Fn::Equals": ["a", "a"]}, True),
    ({"Fn::Equals": ["a", "b"]}, False),
    ({"Fn::Equals": [{"Ref": "env"}, "prod"]}, True),
    ({"Fn::Equals": [{"Ref": "AWS::Region"}, "ap-southeast-1"]}, True),
    ({"Fn::Equals": [[1, {"a": None}], [1, {"a": None}]]}, True),
    ({"Fn::Equals": ["1", 1]}, False),
    ({"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}, True),
    ({"Fn::Not": [True]}, False),
    ({"Fn::Not": ["yes"]}, False),
    ({"Fn::And": [True, "yes", {"Fn::Equals": [1, 1]}]}, True),
    ({"Fn::And": [True, "no"]}, False),
    ({"Fn::Or": [False, "no"]}, False),
    ({"Fn::Or": ["no", {"Fn::Not": ["no"]}]}, True),
    ({"Fn::Equals": [{"Fn::FindInMap": ["RegionMap", {"Ref": "AWS::Region"}, "AMI"]}, "ami-9"]},
     True),
])
def test_condition_functions(snippet: Any, result: bool) -> None:
    kw: dict[str, Any] = {"params": {"env": "prod"}, "conditions": {"yes": True, "no": False},
                          "mappings": MAPPINGS}
    assert cond(snippet, **kw) is result


def test_or_looks_up_named_conditions_lazily() -> None:
    stack = FakeStack(conditions={"a": True, "b": False})
    tree = parse(stack, {"Fn::Or": ["a", "b"]}, ("Conditions", "c"), condition=True)
    assert resolve(tree, stack) is True
    assert stack.condition_calls == ["a"]


@pytest.mark.parametrize(("snippet", "kind", "message"), [
    ({"Fn::Equals": ["a"]}, FunctionError,
     'Conditions.c.Fn::Equals: Arguments to "Fn::Equals" must be of the form: [value_1, value_2]'),
    ({"Fn::Equals": "a"}, FunctionError,
     'Conditions.c.Fn::Equals: Arguments to "Fn::Equals" must be of the form: [value_1, value_2]'),
    ({"Fn::Not": True}, FunctionError,
     'Conditions.c.Fn::Not: Arguments to "Fn::Not" must be of the form: [condition]'),
    ({"Fn::Not": [True, False]}, FunctionError,
     'Conditions.c.Fn::Not: Arguments to "Fn::Not" must be of the form: [condition]'),
    ({"Fn::Not": []}, FunctionError,
     'Conditions.c.Fn::Not: Arguments to "Fn::Not" must be of the form: [condition]'),
    ({"Fn::And": [True]}, FunctionError,
     'Conditions.c.Fn::And: The minimum number of condition arguments to "Fn::And" is 2.'),
    ({"Fn::Or": "a"}, FunctionError,
     'Conditions.c.Fn::Or: Arguments to "Fn::Or" must be a list of conditions'),
    ({"Fn::And": [True, 1]}, FunctionError, 'Conditions.c.Fn::And[1]: Invalid condition "1"'),
    ({"Fn::Or": [True, {"Fn::Join": ["", ["y", "es"]]}]}, FunctionError,
     'Conditions.c.Fn::Or[1].Fn::Join: The function "Fn::Join" is invalid in this context'),
    ({"Fn::Not": [["yes"]]}, FunctionError,
     "Conditions.c.Fn::Not[0]: Invalid condition \"['yes']\""),
    ({"Fn::Or": [False, {"Fn::Equals": [{"Ref": "p"}, "y"]}, {"Fn::FindInMap": ["M", "a", "b"]}]},
     FunctionError, 'Conditions.c.Fn::Or[2]: Invalid condition "7"'),
    ({"Fn::Not": ["missing"]}, ReferenceError_,
     'Conditions.c.Fn::Not[0]: Invalid condition "missing"'),
    ({"Fn::Equals": [{"Ref": "web"}, "x"]}, ReferenceError_,
     'Conditions.c.Fn::Equals[0].Ref: The specified reference "web" (in c.Fn::Equals[0]) is '
     "incorrect."),
    ({"Fn::Equals": [{"Fn::GetAtt": ["web", "a"]}, "x"]}, FunctionError,
     'Conditions.c.Fn::Equals[0].Fn::GetAtt: The function "Fn::GetAtt" is invalid in this '
     "context"),
    ({"Fn::If": ["yes", True, False]}, FunctionError,
     'Conditions.c.Fn::If: The function "Fn::If" is invalid in this context'),
])
def test_condition_errors(snippet: Any, kind: type[TemplateError], message: str) -> None:
    fails(snippet, kind, message, condition=True, resources=["web"],
          conditions={"yes": True}, params={"p": "x"}, mappings={"M": {"a": {"b": 7}}})


def test_condition_ref_to_a_parameter() -> None:
    assert cond({"Fn::Equals": [{"Ref": "env"}, "prod"]}, params={"env": "prod"}) is True
    tree, _ = unit_parsed({"Ref": "env"}, params={"env": "prod"})
    assert isinstance(tree, cfn.Ref)
    stack = FakeStack(params={"env": "prod"})
    assert isinstance(parse(stack, {"Ref": "env"}, OUT, condition=True), cfn.CfnConditionRef)


# ------------------------------------------------------------------------------------------------
# Version tables
# ------------------------------------------------------------------------------------------------

CFN_FUNCTIONS = {"Fn::FindInMap", "Fn::GetAZs", "Ref", "Fn::GetAtt", "Fn::Select", "Fn::Join",
                 "Fn::Split", "Fn::Replace", "Fn::Base64", "Fn::MemberListToMap",
                 "Fn::ResourceFacade"}


def test_aws_version_tables() -> None:
    assert AWS.family == "cfn" and AWS.label == "AWSTemplateFormatVersion: 2010-09-09"
    assert AWS.allowed_sections == {"AWSTemplateFormatVersion", "Description", "Mappings",
                                    "Parameters", "Resources", "Outputs", "Conditions"}
    assert AWS.allowed_resource_keys == {"Type", "Properties", "Metadata", "DependsOn",
                                         "DeletionPolicy", "UpdatePolicy", "Description",
                                         "Condition"}
    assert AWS.output_keys == {"Value", "Description", "Condition"}
    assert set(AWS.functions) == CFN_FUNCTIONS | {"Fn::If"}
    assert set(AWS.condition_functions) == {"Fn::Equals", "Ref", "Fn::FindInMap", "Fn::Not",
                                            "Fn::And", "Fn::Or"}
    assert AWS.pseudo_parameters == ("AWS::StackId", "AWS::StackName", "AWS::Region")
    assert AWS.strict_resource_keys is False
    assert AWS.deletion_policies == {"Delete", "Retain", "Snapshot"}


def test_heat_version_tables() -> None:
    assert HEAT.label == "HeatTemplateFormatVersion: 2012-12-12"
    assert HEAT.allowed_sections == {"HeatTemplateFormatVersion", "Description", "Mappings",
                                     "Parameters", "Resources", "Outputs"}
    assert "Condition" not in HEAT.allowed_resource_keys
    assert HEAT.output_keys == {"Value", "Description"}
    assert set(HEAT.functions) == CFN_FUNCTIONS
    assert dict(HEAT.condition_functions) == {}
    assert HEAT.pseudo_parameters == AWS.pseudo_parameters
    assert HEAT.strict_resource_keys is False
    assert HEAT.knows_function("Fn::If") and not AWS.knows_function("Fn::If")


@pytest.mark.parametrize("spec", [AWS, HEAT], ids=lambda s: s.key)
def test_every_function_has_a_one_line_doc(spec: VersionSpec) -> None:
    for table in (spec.functions, spec.condition_functions):
        for name, cls in table.items():
            assert cls.doc and "\n" not in cls.doc, name


@pytest.mark.parametrize("snippet", [
    {"get_param": "x"}, {"Fn::Equals": ["a", "b"]}, {"Fn::Not": ["a"]},
    {"Fn::Sub": "${AWS::Region}"},
])
def test_names_that_are_not_cfn_functions_are_plain_data(snippet: Any) -> None:
    # Heat treats a one-key map whose key is not a function of the version as data.
    assert ev(snippet) == snippet
    assert ev(snippet, spec=HEAT) == snippet


def test_functions_in_heat_template_format_version() -> None:
    snippet = {"Fn::Join": [",", [{"Ref": "AWS::StackName"}, {"Fn::Select": [0, ["a"]]}]]}
    assert ev(snippet, spec=HEAT) == "s,a"


# ------------------------------------------------------------------------------------------------
# Whole templates
# ------------------------------------------------------------------------------------------------

WEB = """
AWSTemplateFormatVersion: '2010-09-09'
Description: A web server, and a database in production.
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  InstanceType: {Type: String, Default: m1.small}
Mappings:
  RegionMap:
    us-east-1: {AMI: ami-east}
    ap-southeast-1: {AMI: ami-south}
Conditions:
  IsProd: {'Fn::Equals': [{Ref: Env}, prod]}
  IsDev: {'Fn::Not': [IsProd]}
  Both: {'Fn::And': [IsProd, IsDev]}
Resources:
  Web:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: {'Fn::FindInMap': [RegionMap, {Ref: 'AWS::Region'}, AMI]}
      InstanceType: {'Fn::If': [IsProd, m1.large, {Ref: InstanceType}]}
      UserData:
        'Fn::Base64':
          'Fn::Join': ['', ["#!/bin/sh\\n", 'echo ', {Ref: 'AWS::StackName'}]]
      AvailabilityZone: {'Fn::Select': [0, {'Fn::GetAZs': ''}]}
    Labels: {kept: because CFN ignores unknown resource keys}
  Ip:
    Type: AWS::EC2::EIP
    Properties:
      InstanceId: {Ref: Web}
  Db:
    Type: AWS::RDS::DBInstance
    Condition: IsProd
    Properties:
      Endpoint: {'Fn::GetAtt': [Web, PrivateIp]}
Outputs:
  Url:
    Value: {'Fn::Join': ['', ['http://', {'Fn::GetAtt': [Web, PublicIp]}, /]]}
  DbId:
    Value: {Ref: Db}
    Condition: IsProd
  Size:
    Value: {'Fn::If': [IsProd, {Ref: Db}, none]}
"""


def test_whole_template_in_development() -> None:
    defn = Template.load(WEB).define({"Env": "dev"})
    assert defn.conditions == {"IsProd": False, "IsDev": True, "Both": False}
    assert sorted(defn.resources) == ["Ip", "Web"]
    web = defn.resources["Web"]
    assert defn.resolve(web.properties) == {
        "ImageId": "ami-south", "InstanceType": "m1.small",
        "UserData": "#!/bin/sh\necho stack", "AvailabilityZone": "nova"}
    assert defn.resources["Ip"].dependencies == {"Web"}
    assert defn.output_value("DbId") is None
    assert defn.output_value("Size") == "none"
    running = StaticResources(refs={"Web": "i-1"}, attrs={"Web": {"PublicIp": "203.0.113.9"}})
    assert defn.output_value("Url") == "http:///"
    assert defn.output_value("Url", running) == "http://203.0.113.9/"
    assert defn.resolve(defn.resources["Ip"].properties, running) == {"InstanceId": "i-1"}


def test_whole_template_in_production() -> None:
    identity = StackIdentity(name="shop", id="42", project_id="p1", region="us-east-1",
                             availability_zones=("az-a", "az-b"))
    defn = Template.load(WEB).define({"Env": "prod", "InstanceType": "m1.tiny"},
                                     identity=identity)
    assert defn.conditions == {"IsProd": True, "IsDev": False, "Both": False}
    assert sorted(defn.resources) == ["Db", "Ip", "Web"]
    assert defn.resolve(defn.resources["Web"].properties) == {
        "ImageId": "ami-east", "InstanceType": "m1.large",
        "UserData": "#!/bin/sh\necho shop", "AvailabilityZone": "az-a"}
    assert defn.resources["Db"].dependencies == {"Web"}
    assert [(r.resource, r.attribute) for r in defn.resources["Db"].references] == [
        ("Web", "PrivateIp")]
    running = StaticResources(refs={"Db": "db-7"})
    assert defn.output_value("DbId", running) == "db-7"
    assert defn.output_value("Size", running) == "db-7"


def test_pseudo_parameters_from_the_stack_identity() -> None:
    doc = {"AWSTemplateFormatVersion": "2010-09-09", "Outputs": {
        name: {"Value": {"Ref": f"AWS::{name}"}} for name in ("StackId", "StackName", "Region")}}
    identity = StackIdentity(name="shop", id="42", project_id="p1", region="eu-west-1")
    defn = Template.load(doc).define(identity=identity)
    assert defn.output_value("StackId") == "arn:openstack:heat::p1:stacks/shop/42"
    assert defn.output_value("StackName") == "shop"
    assert defn.output_value("Region") == "eu-west-1"


def test_heat_template_format_version() -> None:
    doc = """
HeatTemplateFormatVersion: '2012-12-12'
Parameters:
  Name: {Type: String, Default: n}
Resources:
  A:
    Type: OS::Heat::None
    Condition: NoSuchCondition      # not a key of this version: ignored like any unknown key
    Properties: {name: {'Fn::Join': ['-', [{Ref: Name}, {Ref: 'AWS::StackName'}]]}}
Outputs:
  O: {Value: {'Fn::GetAtt': [A, name]}}
"""
    defn = Template.load(doc).define()
    assert defn.resolve(defn.resources["A"].properties) == {"name": "n-stack"}
    assert defn.resources["A"].condition is None
    assert defn.output_value("O", StaticResources(attrs={"A": {"name": "x"}})) == "x"


@pytest.mark.parametrize(("source", "kind", "message"), [
    (HEAT_DOC + "Conditions: {}\n", TemplateSectionError,
     "Conditions: The template section is invalid: Conditions (allowed in "
     "HeatTemplateFormatVersion: 2012-12-12: Description, HeatTemplateFormatVersion, Mappings, "
     "Outputs, Parameters, Resources)"),
    (HEAT_DOC + "Outputs:\n  o: {Value: 1, Condition: c}\n", TemplateSectionError,
     "Outputs.o: Invalid keyword(s) inside an output definition: Condition"),
    (AWS_DOC + "Resources:\n  a: {Type: X, Properties: {p: {Ref: b}}}\n", ReferenceError_,
     'Resources.a.Properties.p.Ref: The specified reference "b" (in a.Properties.p) is '
     "incorrect."),
    (AWS_DOC + "Resources:\n  a: {Type: X, Properties: {p: {'Fn::GetAtt': [b, c]}}}\n",
     ReferenceError_, 'Resources.a.Properties.p.Fn::GetAtt: The specified reference "b" '
     "(in a.Properties.p) is incorrect."),
    (AWS_DOC + "Conditions:\n  no: false\nResources:\n  b: {Type: X, Condition: no}\n"
     "  a: {Type: X, Properties: {p: {Ref: b}}}\n", ReferenceError_,
     'Resources.a.Properties.p.Ref: The specified reference "b" (in a.Properties.p) is '
     "incorrect."),
    (AWS_DOC + "Resources:\n  a: {Type: X, Properties: {p: {'Fn::GetAtt': [a]}}}\n",
     FunctionError, 'Resources.a.Properties.p.Fn::GetAtt: Arguments to "Fn::GetAtt" must be '
     "of the form [resource_name, attribute]"),
    (AWS_DOC + "Parameters:\n  p: {Type: String, Default: x}\nResources:\n  a: {Type: X}\n"
     "Conditions:\n  c: {'Fn::Equals': [{Ref: a}, x]}\n", ReferenceError_,
     'Conditions.c.Fn::Equals[0].Ref: The specified reference "a" (in c.Fn::Equals[0]) is '
     "incorrect."),
    (AWS_DOC + "Conditions:\n  c: {'Fn::Not': c2}\n  c2: true\n", FunctionError,
     'Conditions.c.Fn::Not: Arguments to "Fn::Not" must be of the form: [condition]'),
    (AWS_DOC + "Mappings: {M: {a: {b: 1}}}\nOutputs:\n  o: {Value: {'Fn::FindInMap': [M, a, c]}}"
     "\n", FunctionError, 'Outputs.o.Value.Fn::FindInMap: "Fn::FindInMap": key "c" is not in '
     'mapping "M" under "a"'),
])
def test_template_errors(source: str, kind: type[TemplateError], message: str) -> None:
    with pytest.raises(TemplateError) as info:
        Template.load(source).define(strict=False)
    assert type(info.value) is kind, repr(info.value)
    assert str(info.value) == message


def test_resource_facade_in_a_provider_template() -> None:
    child = """
AWSTemplateFormatVersion: '2010-09-09'
Outputs:
  policy: {Value: {'Fn::ResourceFacade': DeletionPolicy}}
"""
    parent = """
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  inner: {Type: child.yaml, DeletionPolicy: Retain}
"""
    defn = Template.load(parent, files={"child.yaml": child}).define()
    assert defn.nested["inner"].output_value("policy") == "Retain"


def test_functions_listing() -> None:
    rows = function_rows(AWS, conditions=False)
    assert [r["functions"] for r in rows] == sorted(CFN_FUNCTIONS | {"Fn::If"})
    assert all(r["description"] for r in rows)
    assert [r["functions"] for r in function_rows(AWS, conditions=True)] == [
        "Fn::And", "Fn::Equals", "Fn::FindInMap", "Fn::Not", "Fn::Or", "Ref"]
    assert function_rows(HEAT, conditions=True) == []


def test_version_detection() -> None:
    assert formats.detect({"AWSTemplateFormatVersion": "2010-09-09"}) is AWS
    assert formats.detect({"HeatTemplateFormatVersion": "2012-12-12"}) is HEAT
    with pytest.raises(TemplateError) as info:
        formats.detect({"AWSTemplateFormatVersion": "2010-09-10"})
    assert str(info.value) == (
        'AWSTemplateFormatVersion: The template version is invalid: "AWSTemplateFormatVersion: '
        '2010-09-10". "AWSTemplateFormatVersion" should be one of: 2010-09-09')
