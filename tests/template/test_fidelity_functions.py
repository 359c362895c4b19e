"""Functions a version does not have are data, not errors: checked side by side against real Heat
27.0.1 (issue 12).

In Heat a one-key mapping is a function only when its key is a function of the template's own
version. A function that arrives in a later version, used in an earlier one, is a plain mapping,
passed through unevaluated; only the functions a version removed (the CloudFormation ones in HOT
after 2013-05-23, ``Fn::Select`` from 2015-10-15) are refused. Every expected value below is what
the peer answered for the same template: the output ``o`` and the attribute ``value`` of an
``OS::Heat::Value`` whose ``value`` property holds the same snippet (Heat gave both the snippet
back, unchanged)."""

from __future__ import annotations

from typing import Any

import pytest

from kubeheat.template import Template, TemplateError, hot
from kubeheat.template.functions.base import data_function_keys

#: function -> (the version just before it arrives, as the template spells it; its arguments)
LATER: dict[str, tuple[str, Any]] = {
    "repeat": ("2014-10-16", {"template": "x", "for_each": {"x": [1]}}),
    "digest": ("2014-10-16", ["sha256", "a"]),
    "str_split": ("2015-04-30", [",", "a,b"]),
    "map_merge": ("2015-10-15", [{"a": 1}, {"b": 2}]),
    "yaql": ("2016-04-08", {"expression": "1+1", "data": {}}),
    "map_replace": ("2016-04-08", [{"a": 1}, {"keys": {"a": "b"}}]),
    "if": ("2016-04-08", [True, "y", "n"]),
    "filter": ("2016-10-14", [[None], [1, None]]),
    "str_replace_strict": ("2016-10-14", {"template": "a", "params": {"a": "b"}}),
    "make_url": ("2017-02-24", {"scheme": "http", "host": "h"}),
    "list_concat": ("2017-02-24", [[1], [2]]),
    "list_concat_unique": ("ocata", [[1], [1]]),
    "str_replace_vstrict": ("2017-02-24", {"template": "a", "params": {"a": "b"}}),
    "contains": ("newton", ["a", ["a"]]),
}

#: what Heat 27.0.1 output for each (``o`` and ``get_attr: [v, value]`` alike)
HEAT_OUTPUT: dict[str, Any] = {
    "repeat": {"repeat": {"for_each": {"x": [1]}, "template": "x"}},
    "digest": {"digest": ["sha256", "a"]},
    "str_split": {"str_split": [",", "a,b"]},
    "map_merge": {"map_merge": [{"a": 1}, {"b": 2}]},
    "yaql": {"yaql": {"data": {}, "expression": "1+1"}},
    "map_replace": {"map_replace": [{"a": 1}, {"keys": {"a": "b"}}]},
    "if": {"if": [True, "y", "n"]},
    "filter": {"filter": [[None], [1, None]]},
    "str_replace_strict": {"str_replace_strict": {"params": {"a": "b"}, "template": "a"}},
    "make_url": {"make_url": {"host": "h", "scheme": "http"}},
    "list_concat": {"list_concat": [[1], [2]]},
    "list_concat_unique": {"list_concat_unique": [[1], [1]]},
    "str_replace_vstrict": {"str_replace_vstrict": {"params": {"a": "b"}, "template": "a"}},
    "contains": {"contains": ["a", ["a"]]},
}

#: (version, function, Heat 27.0.1's error for the output ``o`` / resource ``v``)
REMOVED = [
    ("2014-10-16", "Fn::GetAZs", ""),
    ("2015-10-15", "Fn::Select", [0, ["a"]]),
    ("2014-10-16", "Ref", "OS::stack_name"),
    ("wallaby", "Fn::Base64", "x"),
]


def doc(version: str, snippet: Any) -> dict[str, Any]:
    return {"heat_template_version": version,
            "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": snippet}}},
            "outputs": {"o": {"value": snippet}}}


@pytest.mark.parametrize("name", list(LATER))
def test_later_function_in_an_output_is_data(name: str) -> None:
    version, args = LATER[name]
    defn = Template.load(doc(version, {name: args})).define()
    assert defn.output_value("o") == HEAT_OUTPUT[name]


@pytest.mark.parametrize("name", list(LATER))
def test_later_function_in_resource_properties_is_data(name: str) -> None:
    version, args = LATER[name]
    defn = Template.load(doc(version, {name: args})).define()
    assert defn.resolve_properties("v") == {"value": HEAT_OUTPUT[name]}


@pytest.mark.parametrize("name", list(LATER))
def test_later_function_is_found_for_the_warning(name: str) -> None:
    version, args = LATER[name]
    template = Template.load(doc(version, {name: args}))
    snippet = {"x": [{name: args}]}
    assert list(data_function_keys(template.version, snippet, ("outputs", "o", "value"))) == [
        (("outputs", "o", "value", "x", 0), name)]


@pytest.mark.parametrize(("version", "name", "args"), REMOVED)
@pytest.mark.parametrize("where", ["outputs.o.value", "resources.v.properties.value"])
def test_removed_function_is_heats_error(version: str, name: str, args: Any, where: str) -> None:
    template = doc(version, {name: args})
    if where.startswith("outputs"):
        del template["resources"]
    else:
        del template["outputs"]
    with pytest.raises(TemplateError) as info:
        Template.load(template).define()
    assert str(info.value) == (f"{where}.{name}: The template version is invalid: The function "
                               f"{name} is not supported in this version of HOT.")


def test_a_cfn_name_hot_never_had_is_data() -> None:
    # Heat 27.0.1: {'Fn::If': ['c', 1, 2]} in 2014-10-16 is output as it is
    defn = Template.load(doc("2014-10-16", {"Fn::If": ["c", 1, 2]})).define()
    assert defn.output_value("o") == {"Fn::If": ["c", 1, 2]}


def test_later_condition_function_is_data_so_not_a_condition() -> None:
    # Heat 27.0.1: 'Condition validation error: The definition of condition "c" is invalid:
    # {'contains': ['a', ['a']]}'
    template = {"heat_template_version": "2016-10-14",
                "conditions": {"c": {"contains": ["a", ["a"]]}},
                "resources": {"n": {"type": "OS::Heat::None", "condition": "c"}}}
    with pytest.raises(TemplateError) as info:
        Template.load(template).define()
    assert str(info.value) == ('conditions.c: Condition validation error: The definition of '
                               'condition "c" is invalid: '
                               "{'contains': ['a', ['a']]}")


def test_later_function_as_an_inline_if_condition_is_invalid() -> None:
    # Heat 27.0.1: outputs.o.value.if: Invalid condition "{'contains': ['a', ['a']]}"
    template = {"heat_template_version": "2016-10-14",
                "outputs": {"o": {"value": {"if": [{"contains": ["a", ["a"]]}, "y", "n"]}}}}
    with pytest.raises(TemplateError) as info:
        Template.load(template).define().output_value("o")
    # the same message; kubeheat's path goes one step further, to the condition argument
    assert str(info.value) == ('outputs.o.value.if[0]: Invalid condition '
                               '"{\'contains\': [\'a\', [\'a\']]}"')


# Heat 27.0.1's own tables (its HOTemplate classes, read from the installed engine): per version,
# the functions, the removed ones and the condition functions
HEAT_TABLES: dict[str, tuple[str, str, str]] = {
    "2013-05-23": (
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Select Fn::Split Ref get_attr get_file get_param "
        "get_resource list_join resource_facade str_replace ",
        "",
        "",
    ),
    "2014-10-16": (
        "Fn::Select get_attr get_file get_param get_resource list_join resource_facade "
        "str_replace ",
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Split Ref ",
        "",
    ),
    "2015-04-30": (
        "Fn::Select digest get_attr get_file get_param get_resource list_join repeat "
        "resource_facade str_replace ",
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Split Ref ",
        "",
    ),
    "2015-10-15": (
        "digest get_attr get_file get_param get_resource list_join repeat "
        "resource_facade str_replace str_split ",
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Select Fn::Split Ref ",
        "",
    ),
    "2016-04-08": (
        "digest get_attr get_file get_param get_resource list_join map_merge repeat "
        "resource_facade str_replace str_split ",
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Select Fn::Split Ref ",
        "",
    ),
    "2016-10-14": (
        "digest get_attr get_file get_param get_resource if list_join map_merge "
        "map_replace repeat resource_facade str_replace str_split yaql ",
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Select Fn::Split Ref ",
        "and equals get_param not or ",
    ),
    "2017-02-24": (
        "digest filter get_attr get_file get_param get_resource if list_join map_merge "
        "map_replace repeat resource_facade str_replace str_replace_strict str_split "
        "yaql ",
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Select Fn::Split Ref ",
        "and equals get_param not or ",
    ),
    "2017-09-01": (
        "contains digest filter get_attr get_file get_param get_resource if list_concat "
        "list_concat_unique list_join make_url map_merge map_replace repeat "
        "resource_facade str_replace str_replace_strict str_replace_vstrict str_split "
        "yaql ",
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Select Fn::Split Ref ",
        "and contains equals get_param not or yaql ",
    ),
    "2018-03-02": (
        "contains digest filter get_attr get_file get_param get_resource if list_concat "
        "list_concat_unique list_join make_url map_merge map_replace repeat "
        "resource_facade str_replace str_replace_strict str_replace_vstrict str_split "
        "yaql ",
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Select Fn::Split Ref ",
        "and contains equals get_param not or yaql ",
    ),
    "2018-08-31": (
        "contains digest filter get_attr get_file get_param get_resource if list_concat "
        "list_concat_unique list_join make_url map_merge map_replace repeat "
        "resource_facade str_replace str_replace_strict str_replace_vstrict str_split "
        "yaql ",
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Select Fn::Split Ref ",
        "and contains equals get_param not or yaql ",
    ),
    "2021-04-16": (
        "contains digest filter get_attr get_file get_param get_resource if list_concat "
        "list_concat_unique list_join make_url map_merge map_replace repeat "
        "resource_facade str_replace str_replace_strict str_replace_vstrict str_split "
        "yaql ",
        "Fn::Base64 Fn::GetAZs Fn::Join Fn::MemberListToMap Fn::Replace "
        "Fn::ResourceFacade Fn::Select Fn::Split Ref ",
        "and contains equals get_param not or yaql ",
    ),
}


@pytest.mark.parametrize("version", sorted(HEAT_TABLES))
def test_version_tables_are_heats(version: str) -> None:
    live, removed, conditions = (set(names.split()) for names in HEAT_TABLES[version])
    spec = hot.SPECS[version]
    assert set(spec.functions) == live
    assert spec.removed_functions == removed
    assert set(spec.condition_functions) == conditions


def test_release_names_are_heats() -> None:
    # Heat 27.0.1's heat.templates entry points
    assert {alias: spec.version for spec in hot.SPECS.values() for alias in spec.aliases} == {
        "newton": "2016-10-14", "ocata": "2017-02-24", "pike": "2017-09-01",
        "queens": "2018-03-02", "rocky": "2018-08-31", "wallaby": "2021-04-16"}
