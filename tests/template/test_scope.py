"""Resource resolvers and attribute paths (kubeheat.template.scope): ``walk_path`` selects from an
attribute value as Heat's ``select_from_attribute`` does."""

from __future__ import annotations

from typing import Any

import pytest

from kubeheat.template import PlaceholderResources, StaticResources, Template, walk_path

VALUE: dict[Any, Any] = {
    "nets": {"private": ["10.0.0.1", "10.0.0.2"], "public": []},
    "name": "web",
    "pair": ("a", "b"),
    7: "int key",
    "none": None,
}


@pytest.mark.parametrize(("path", "expected"), [
    ([], VALUE),
    (["nets", "private", 0], "10.0.0.1"),
    (["nets", "private", 1], "10.0.0.2"),
    (["nets", "private", -1], "10.0.0.2"),       # Python indexing, negative included
    (["pair", 1], "b"),
    (["name", 0], "w"),                          # a string is a sequence too
    ([7], "int key"),                            # an integer key of a mapping
    (["none"], None),
    (["nets", "private", True], "10.0.0.2"),     # a boolean is an integer
])
def test_walk_path_selects(path: list[Any], expected: Any) -> None:
    assert walk_path(VALUE, path) == expected


@pytest.mark.parametrize("path", [
    ["nets", "private", "0"],     # no conversion: a string does not index a list
    ["nets", "private", 2],       # out of range
    ["nets", "public", 0],
    ["missing"],
    ["7"],                        # the string "7" is not the key 7
    ["nets", "private", 0.0],     # only strings and integers are path components
    ["nets", ["private"]],
    [None],
    ["name", "x"],
    ["none", "x"],                # through None
    [{"a": 1}],
])
def test_walk_path_misses_are_none(path: list[Any]) -> None:
    assert walk_path(VALUE, path) is None


def test_walk_path_keeps_indexing_strings() -> None:
    # "10.0.0.1"[0] is "1", and "1"[0] is "1" again: as in Heat, strings are sequences.
    assert walk_path(VALUE, ["nets", "private", 0, 0, 0]) == "1"
    assert walk_path(VALUE, ["nets", "private", 0, 0, 1]) is None


@pytest.mark.parametrize("value", [3, 2.5, True, None, {1, 2}])
def test_walk_path_into_a_scalar(value: Any) -> None:
    assert walk_path(value, [0]) is None
    assert walk_path(value, []) == value


def test_static_resources() -> None:
    res = StaticResources(refs={"a": "id-a"}, attrs={"a": {"x": {"k": [1, 2]}, "show": {}}})
    assert res.reference("a") == "id-a"
    assert res.reference("b") == "b"
    assert res.attribute("a", "x", ["k", 1]) == 2
    assert res.attribute("a", "x", ["k", "1"]) is None
    assert res.attribute("a", "y", []) is None
    assert res.attribute("a", None, []) == {"x": {"k": [1, 2]}}
    assert PlaceholderResources().reference("a") == "a"
    assert PlaceholderResources().attribute("a", "x", ["k"]) is None


ATTRS = {"web": {"nets": {"private": ["10.0.0.1", "10.0.0.2"]}}}


@pytest.mark.parametrize("version", ["2013-05-23", "2014-10-16", "2018-08-31"])
@pytest.mark.parametrize(("path", "expected"), [
    ([], {"private": ["10.0.0.1", "10.0.0.2"]}),
    (["private", 1], "10.0.0.2"),
    (["private", "1"], None),
    (["public", 0], None),
    (["private", 5], None),
])
def test_get_attr_paths_in_every_version(version: str, path: list[Any], expected: Any) -> None:
    doc = {"heat_template_version": version,
           "resources": {"web": {"type": "OS::Heat::None"}},
           "outputs": {"o": {"value": {"get_attr": ["web", "nets", *path]}}}}
    defn = Template.load(doc).define()
    assert defn.output_value("o", StaticResources(attrs=ATTRS)) == expected
