"""check_properties (Heat's conversions and messages) and the planner."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from engine_plugins import Thing, hot, make_engine

from kubeheat.engine import StackRequest
from kubeheat.engine.plan import plan
from kubeheat.resources import (
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
    NUMBER,
    STRING,
    Property,
    PropertyError,
    ResourcePlugin,
    check_properties,
)
from kubeheat.template import (
    AllowedValuesConstraint,
    CustomConstraintRef,
    RangeConstraint,
    Template,
)

PATH = ("resources", "web", "properties")


class Typed(ResourcePlugin):
    type_name = "Test::Typed"
    properties: ClassVar[dict[str, Property]] = {
        "s": Property(STRING),
        "i": Property(INTEGER, default=3),
        "n": Property(NUMBER),
        "b": Property(BOOLEAN),
        "l": Property(LIST, item=Property(INTEGER)),
        "m": Property(MAP, schema={"k": Property(STRING, required=True),
                                   "z": Property(INTEGER, constraints=(
                                       RangeConstraint(1, 5),))}),
        "flavor": Property(STRING, constraints=(AllowedValuesConstraint(["a", "b"]),)),
        "ip": Property(STRING, constraints=(CustomConstraintRef(constraint="ip_addr"),
                                            CustomConstraintRef(constraint="nova.flavor"))),
        "req": Property(STRING, required=True),
    }


def check(values: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return check_properties(Typed, {"req": "r", **values}, PATH, **kw)


def test_defaults_and_conversions() -> None:
    out = check({"s": 5, "n": "2.5", "b": "True", "l": ["1", 2], "m": {"k": 7, "z": "2"}})
    assert out == {"s": "5", "i": 3, "n": 2.5, "b": True, "l": [1, 2], "m": {"k": "7", "z": 2},
                   "flavor": None, "ip": None, "req": "r"}
    assert check({"s": True})["s"] == "True"
    assert check({"i": "12"})["i"] == 12
    assert check({"s": None})["s"] is None


@pytest.mark.parametrize(("values", "message"), [
    ({"s": 1.5}, "resources.web.properties.s: Value must be a string; got 1.5"),
    ({"i": "x"}, "resources.web.properties.i: Value 'x' is not an integer"),
    ({"b": "yes"}, 'resources.web.properties.b: "yes" is not a valid boolean'),
    ({"b": 1}, 'resources.web.properties.b: "1" is not a valid boolean'),
    ({"l": "a,b"}, "resources.web.properties.l: \"'a,b'\" is not a list"),
    ({"l": [1, "q"]}, "resources.web.properties.l[1]: Value 'q' is not an integer"),
    ({"m": []}, 'resources.web.properties.m: "[]" is not a map'),
    ({"m": {}}, "resources.web.properties.m: Property k not assigned"),
    ({"m": {"k": "x", "y": 1}}, "resources.web.properties.m: Unknown Property y"),
    ({"m": {"k": "x", "z": 9}}, "resources.web.properties.m.z: 9 is out of range "
                                "(min: 1, max: 5)"),
    # Heat's AllowedValues message (shared by parameters and properties): JSON values
    ({"flavor": "c"}, 'resources.web.properties.flavor: "c" is not an allowed value '
                      '["a", "b"]'),
    ({"ip": "nope"}, "resources.web.properties.ip: Error validating value 'nope': "
                     "Invalid IP address"),
    ({"what": 1}, "resources.web.properties: Unknown Property what"),
])
def test_errors(values: dict[str, Any], message: str) -> None:
    with pytest.raises(PropertyError) as err:
        check(values)
    assert str(err.value) == message


def test_required_and_placeholders() -> None:
    with pytest.raises(PropertyError, match=r"resources\.web\.properties: Property req "
                                            r"not assigned"):
        check_properties(Typed, {}, PATH)
    # validation with placeholders: None stands for a get_attr value
    out = check_properties(Typed, {"req": None, "i": None}, PATH, strict=False)
    assert out["req"] is None and out["i"] is None
    # deferred properties are converted but not constraint-checked
    assert check({"flavor": "zzz"}, deferred=["flavor"])["flavor"] == "zzz"


def test_plan_decisions_and_rendering() -> None:
    engine, store, _events, _native = make_engine()
    v1 = hot({"a": {"type": "Test::Thing", "properties": {"label": "x", "size": 1}},
              "b": {"type": "Test::Thing", "properties": {"label": "y"}},
              "c": {"type": "Test::Thing", "properties": {"ref": {"get_resource": "a"}}},
              "gone": {"type": "Test::Thing", "properties": {"ref": {"get_resource": "b"}}}})
    v2 = hot({"a": {"type": "Test::Thing", "properties": {"label": "x", "size": 2}},
              "b": {"type": "Test::Thing", "properties": {"label": "z"}},
              "c": {"type": "Test::Thing", "properties": {"ref": {"get_resource": "a"}}},
              "d": {"type": "OS::Heat::None"}})
    s = asyncio.run(engine.create(StackRequest("s", v1)))
    p = asyncio.run(engine.plan(StackRequest("s", v2), s.id))
    acts = {n: (r.action, r.reason) for n, r in p.resources.items()}
    assert acts["a"] == ("replace", "properties changed that cannot be updated in place: size")
    assert acts["b"] == ("update", "properties changed: label")
    assert acts["c"][0] == "update" and p.resources["c"].may_change == ("ref",)
    assert acts["d"] == ("create", "new resource")
    assert acts["gone"] == ("delete", "removed from the template")
    assert list(p.resources)[-1] == "gone"
    assert p.preview()["replaced"] == ["a"]
    d = p.to_dict()
    assert d["summary"]["replace"] == 1 and d["resources"][0]["name"] in p.resources
    table = p.table()
    assert "c" in table and "update?" in table
    assert table.splitlines()[-1] == "1 to create, 2 to update, 1 to replace, 1 to delete"
    # planning touched nothing
    assert store.load(s.id).state == "CREATE_COMPLETE"
    # the same definition: every resource is a no-op
    p0 = asyncio.run(engine.plan(StackRequest("s", v1), s.id))
    assert {r.action for r in p0.resources.values()} == {"noop"}


def test_plan_without_recorded_state_and_type_change() -> None:
    reg = make_engine()[0].registry
    defn = Template.load(hot({"a": {"type": "Test::Thing"}})).define()
    p = plan(defn, None, None, reg)
    assert [(r.name, r.action) for r in p.resources.values()] == [("a", "create")]
    engine, *_ = make_engine()
    s = asyncio.run(engine.create(StackRequest("s", hot({"a": {"type": "Test::Thing"}}))))
    p2 = asyncio.run(engine.plan(StackRequest("s", hot({"a": {"type": "OS::Heat::None"}})),
                                 s.id))
    assert (p2.resources["a"].action, p2.resources["a"].reason) == (
        "replace", "type changed from Test::Thing to OS::Heat::None")
    assert Thing.type_name == "Test::Thing"
