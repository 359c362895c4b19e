"""Property-based: whatever text or structure comes in, the template layer either accepts it or
raises a kubeheat error; no other exception ever escapes."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeheat.template import KubeheatError, StaticResources, Template

FUNCTION_NAMES = [
    "get_param", "get_resource", "get_attr", "get_file", "list_join", "str_replace",
    "str_replace_strict", "str_replace_vstrict", "resource_facade", "repeat", "digest",
    "str_split", "map_merge", "map_replace", "yaql", "if", "equals", "not", "and", "or",
    "filter", "make_url", "list_concat", "list_concat_unique", "contains", "Ref",
    "Fn::GetAtt", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Replace", "Fn::Base64",
    "Fn::FindInMap", "Fn::GetAZs", "Fn::MemberListToMap", "Fn::If", "Fn::Equals",
    "template", "params", "for_each", "permutations", "expression", "data", "keys", "values",
]
NAMES = ["a", "b", "web", "p", "c", "value", "type", "x"]
VERSIONS = ["2013-05-23", "2014-10-16", "2015-04-30", "2015-10-15", "2016-04-08",
            "2016-10-14", "2017-02-24", "2017-09-01", "2018-03-02", "2018-08-31",
            "2021-04-16"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
                    st.sampled_from(NAMES), st.text(max_size=6))
keys = st.one_of(st.sampled_from(FUNCTION_NAMES), st.sampled_from(NAMES))
snippets = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=3),
    ),
    max_leaves=20,
)


def _hot(version: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"heat_template_version": version, **body}


templates = st.builds(
    _hot,
    st.sampled_from(VERSIONS),
    st.fixed_dictionaries({}, optional={
        "parameters": st.dictionaries(
            st.sampled_from(["p", "q"]),
            st.fixed_dictionaries({"type": st.sampled_from(
                ["string", "number", "json", "boolean", "comma_delimited_list", "bogus"])},
                optional={"default": scalars, "constraints": snippets, "hidden": st.booleans()}),
            max_size=2),
        "conditions": st.dictionaries(st.sampled_from(["c", "d"]), snippets, max_size=2),
        "resources": st.dictionaries(
            st.sampled_from(["a", "b", "web"]),
            st.fixed_dictionaries({"type": st.just("OS::Heat::None")},
                                  optional={"properties": snippets, "depends_on": snippets,
                                            "condition": snippets, "metadata": snippets}),
            max_size=3),
        "outputs": st.dictionaries(st.sampled_from(["o1", "o2"]),
                                   st.fixed_dictionaries({"value": snippets}), max_size=2),
    }),
)


def _exercise(source: Any) -> None:
    try:
        defn = Template.load(source).define(strict=False)
        resources = StaticResources(attrs={"a": {"x": [1, {"k": "v"}]}})
        for name in defn.resources:
            defn.resolve_properties(name, resources)
        for name in defn.outputs:
            defn.output_value(name, resources)
    except KubeheatError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"# \n\t,?0123456789")),
               max_size=120))
def test_random_yaml_text(text: str) -> None:
    _exercise("heat_template_version: 2016-10-14\n" + text)
    _exercise(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates)
def test_random_template_structures(doc: dict[str, Any]) -> None:
    _exercise(doc)
