"""Heat's nested-stack types (ResourceGroup, ResourceChain, OS::Heat::Stack, AutoScalingGroup
and ScalingPolicy) driven through their handlers, with a fake of the engine's nested stacks that
records every child template it is given and what happened to each member."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import pytest

from kubeheat.engine import MemoryNativeStore
from kubeheat.resources import (
    REGISTRY,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    load_builtin_plugins,
)
from kubeheat.resources import properties as props_mod
from kubeheat.resources.heat import autoscaling
from kubeheat.resources.heat._nested import CHILD, group_batches, member_definitions
from kubeheat.resources.heat.autoscaling import new_capacity
from kubeheat.resources.heat.resource_group import index_substituted

T = TypeVar("T")
load_builtin_plugins()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


# -- a fake of the engine's nested stacks ---------------------------------------------------------
_IDS = itertools.count(1)


class FakeChild:
    def __init__(self, stack_id: str, stack_name: str) -> None:
        self.stack_id = stack_id
        self.stack_name = stack_name
        self.status = "CREATE_COMPLETE"
        self.status_reason = ""
        self.outputs: dict[str, Any] = {}
        self.members: dict[str, dict[str, Any]] = {}   # name -> {"id", "definition"}
        self.template: dict[str, Any] = {}
        self.parameters: dict[str, Any] = {}

    def resource_ids(self) -> dict[str, str | None]:
        return {n: m["id"] for n, m in self.members.items()}

    def resource_attribute(self, name: str, attribute: str | None, path: Sequence[Any]) -> Any:
        member = self.members[name]
        props = dict(member["definition"].get("properties") or {})
        if member["definition"]["type"] == "OS::Heat::TestResource":
            props["output"] = props.get("value", "test_string")
        if attribute is None:      # every attribute, as the engine answers
            return props
        value = props.get(attribute)
        for key in path:
            value = value[key]
        return value


def _resolve(value: Any, child: FakeChild) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "get_resource":
            return child.members[arg]["id"]
        if fn == "get_param":
            return child.parameters[arg]
    if isinstance(value, dict):
        return {k: _resolve(v, child) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, child) for v in value]
    return value


def _order(resources: Mapping[str, Any]) -> list[str]:
    """Creation order: dependencies first (like the engine's graph walk, serialised)."""
    done: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        for dep in resources[name].get("depends_on") or []:
            visit(dep)
        done.append(name)

    for name in resources:
        visit(name)
    return done


class FakeNested:
    """NestedStacks as the engine implements it, minus the engine: members are created,
    updated in place (same type), replaced (type changed) or deleted, and logged. Child stacks
    are named ``<owner>-<n>`` (the engine: ``<stack>-<resource>-<short id>``)."""

    def __init__(self, owner: str = "stk-grp") -> None:
        self.owner = owner
        self.children: dict[str, FakeChild] = {}
        self.log: list[tuple[str, str]] = []
        self.templates: list[dict[str, Any]] = []
        self.timeouts: list[float | None] = []
        self.signals: list[tuple[str, str, Any]] = []
        self.reserved: list[tuple[str, int]] = []

    def reserve(self, child_id: str, resources: int) -> None:
        self.reserved.append((child_id, resources))

    async def create_or_update(self, child_id: str, template: Mapping[str, Any],
                               parameters: Mapping[str, Any], *,
                               files: Mapping[str, str] | None = None,
                               timeout: float | None = None) -> FakeChild:
        await asyncio.sleep(0)
        self.templates.append(dict(template))
        self.timeouts.append(timeout)
        child = self.children.get(child_id)
        if child is None:
            n = next(_IDS)
            child = self.children[child_id] = FakeChild(f"child-{n}", f"{self.owner}-{n}")
        else:
            child.status = "UPDATE_COMPLETE"
        child.template = dict(template)
        child.parameters = dict(parameters)
        resources = template.get("resources") or {}
        for name in list(child.members):
            if name not in resources:
                del child.members[name]
                self.log.append(("delete", name))
        for name in _order(resources):
            definition = {k: v for k, v in resources[name].items() if k != "depends_on"}
            old = child.members.get(name)
            if old is None:
                child.members[name] = {"id": f"id-{next(_IDS)}", "definition": definition}
                self.log.append(("create", name))
            elif old["definition"] != definition:
                if old["definition"]["type"] != definition["type"]:
                    old["id"] = f"id-{next(_IDS)}"
                    self.log.append(("replace", name))
                else:
                    self.log.append(("update", name))
                old["definition"] = definition
        child.outputs = {k: _resolve(v.get("value"), child)
                         for k, v in (template.get("outputs") or {}).items()}
        return child

    async def delete(self, child_id: str) -> None:
        if self.children.pop(child_id, None) is not None:
            self.log.append(("delete-stack", child_id))

    def get(self, child_id: str) -> FakeChild | None:
        return self.children.get(child_id)

    async def signal(self, child_id: str, resource: str, details: Any) -> None:
        self.signals.append((child_id, resource, details))

    def members(self) -> dict[str, dict[str, Any]]:
        return self.children[CHILD].members

    def clear(self) -> None:
        self.log.clear()
        self.templates.clear()


# -- helpers ------------------------------------------------------------------------------------
def plugin(type_name: str) -> ResourcePlugin:
    cls = REGISTRY.get(type_name)
    assert cls is not None, type_name
    return cls()


def checked(p: ResourcePlugin, **values: Any) -> dict[str, Any]:
    """Property values as the engine hands them (defaults, types, constraints)."""
    return props_mod.check_properties(type(p), values, ("resources", "r", "properties"))


def context(type_name: str, name: str = "grp", nested: FakeNested | None = None,
            **kwargs: Any) -> ResourceContext:
    return ResourceContext(stack_id="s-1", stack_name="stk", name=name, type=type_name,
                           nested=nested if nested is not None else FakeNested(),
                           native=MemoryNativeStore(), **kwargs)


async def create(p: ResourcePlugin, ctx: ResourceContext, props: dict[str, Any]) -> None:
    created = await p.create(ctx, props)
    ctx.physical_id = created.physical_id
    ctx.data = dict(created.data)


async def update(p: ResourcePlugin, ctx: ResourceContext, old: dict[str, Any],
                 new: dict[str, Any]) -> None:
    changed = frozenset(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    assert not p.needs_replacement(old, new, changed), changed
    data = await p.update(ctx, old, new, changed)
    if data is not None:
        ctx.data = data


def get_attr(p: ResourcePlugin, ctx: ResourceContext, props: dict[str, Any], key: str,
             *path: Any) -> Any:
    return getattr(p, "get_attribute")(ctx, props, key, list(path))  # noqa: B009


# -- schemas --------------------------------------------------------------------------------------
SCHEMAS = {
    "OS::Heat::ResourceGroup": (
        {"count": (False, True, 1), "index_var": (False, False, "%index%"),
         "resource_def": (True, True, None), "removal_policies": (False, True, []),
         "removal_policies_mode": (False, True, "append")},
        {"refs", "refs_map", "attributes", "removed_rsrc_list"}),
    "OS::Heat::ResourceChain": (
        {"resources": (True, True, None), "concurrent": (False, False, False),
         "resource_properties": (False, False, None)},
        {"refs", "attributes"}),
    "OS::Heat::Stack": (
        {"context": (False, True, None), "template": (True, True, None),
         "timeout": (False, True, None), "parameters": (False, True, {})},
        {"stack_name", "outputs"}),
    "OS::Heat::AutoScalingGroup": (
        {"resource": (True, True, None), "max_size": (True, True, None),
         "min_size": (True, True, None), "cooldown": (False, True, None),
         "desired_capacity": (False, True, None),
         "rolling_updates": (False, True, {"min_in_service": 0, "max_batch_size": 1,
                                           "pause_time": 0})},
        {"outputs", "outputs_list", "current_size", "refs", "refs_map"}),
    "OS::Heat::ScalingPolicy": (
        {"auto_scaling_group_id": (True, False, None), "scaling_adjustment": (True, True, None),
         "adjustment_type": (True, True, None), "cooldown": (False, True, None),
         "min_adjustment_step": (False, True, None)},
        {"alarm_url", "signal_url"}),
}


@pytest.mark.parametrize("type_name", sorted(SCHEMAS))
def test_schema_matches_heat(type_name: str) -> None:
    props, attrs = SCHEMAS[type_name]
    schema = plugin(type_name).schema()
    assert set(schema["properties"]) == set(props)
    for name, (required, update_allowed, default) in props.items():
        shown = schema["properties"][name]
        assert shown["required"] is required, name
        assert shown["update_allowed"] is update_allowed, name
        assert shown.get("default") == default, name
    assert set(schema["attributes"]) == attrs


def test_policy_adjustment_types_and_group_constraints() -> None:
    p = plugin("OS::Heat::ScalingPolicy")
    with pytest.raises(props_mod.PropertyError, match="exact"):
        checked(p, auto_scaling_group_id="g", scaling_adjustment=1, adjustment_type="bogus")
    g = plugin("OS::Heat::ResourceGroup")
    with pytest.raises(props_mod.PropertyError):
        checked(g, count=-1, resource_def={"type": "OS::Heat::None"})
    with pytest.raises(props_mod.PropertyError):
        checked(g, index_var="%i", resource_def={"type": "OS::Heat::None"})


# -- ResourceGroup ------------------------------------------------------------------------------
RG = "OS::Heat::ResourceGroup"


def group_props(count: int, **extra: Any) -> dict[str, Any]:
    p = plugin(RG)
    values: dict[str, Any] = {
        "count": count,
        "resource_def": {"type": "OS::Heat::TestResource",
                         "properties": {"value": "srv_%index%",
                                        "nested": {"k": ["a-%index%", 3]}}},
    }
    values.update(extra)
    return checked(p, **values)


def test_index_substitution_reaches_nested_strings_only() -> None:
    value = {"a": "x%index%", "%index%": ["%index%", {"b": "%index%-y"}, 7, None]}
    assert index_substituted(value, "%index%", "4") == {
        "a": "x4", "%index%": ["4", {"b": "4-y"}, 7, None]}


def test_group_create_generates_indexed_members() -> None:
    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested)
    props = group_props(3)
    run(create(p, ctx, props))
    template = nested.templates[-1]
    assert template["heat_template_version"] == "2015-04-30"
    assert list(template["resources"]) == ["0", "1", "2"]
    assert template["resources"]["2"] == {
        "type": "OS::Heat::TestResource",
        "properties": {"value": "srv_2", "nested": {"k": ["a-2", 3]}}}
    assert ctx.physical_id == nested.children[CHILD].stack_id
    assert ctx.data["reference"] == ctx.physical_id


def test_group_custom_index_var_and_metadata() -> None:
    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested)
    props = checked(p, count=2, index_var="__n__",
                    resource_def={"type": "OS::Heat::None",
                                  "properties": {"name": "n-__n__-%index%", "gone": None},
                                  "metadata": {"role": "__n__"}})
    run(create(p, ctx, props))
    assert nested.templates[-1]["resources"]["1"] == {
        "type": "OS::Heat::None", "properties": {"name": "n-1-%index%"},
        "metadata": {"role": "__n__"}}


def test_group_scales_up_and_down_keeping_members() -> None:
    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested)
    three = group_props(3)
    run(create(p, ctx, three))
    ids = nested.children[CHILD].resource_ids()
    nested.clear()
    five = group_props(5)
    run(update(p, ctx, three, five))
    assert nested.log == [("create", "3"), ("create", "4")]
    assert {k: v for k, v in nested.children[CHILD].resource_ids().items() if k in ids} == ids
    nested.clear()
    two = group_props(2)
    run(update(p, ctx, five, two))
    assert sorted(nested.log) == [("delete", "2"), ("delete", "3"), ("delete", "4")]
    assert ctx.data["members"] == ["0", "1"]
    nested.clear()
    zero = group_props(0)
    run(update(p, ctx, two, zero))
    assert nested.members() == {}
    assert run(p.attribute_values(ctx, zero))["refs"] == []


def test_group_resource_def_change_updates_members_in_place() -> None:
    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested)
    old = group_props(2)
    run(create(p, ctx, old))
    nested.clear()
    new = checked(p, count=2, resource_def={"type": "OS::Heat::TestResource",
                                            "properties": {"value": "v2-%index%"}})
    run(update(p, ctx, old, new))
    assert sorted(nested.log) == [("update", "0"), ("update", "1")]
    assert len(nested.templates) == 1
    # index_var cannot change in place
    assert p.needs_replacement(old, {**old, "index_var": "$i$"},
                               frozenset({"index_var"})) == {"index_var"}


def test_group_removal_policy_by_name_is_never_reused() -> None:
    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested)
    base = group_props(3)
    run(create(p, ctx, base))
    nested.clear()
    # the same count, but member 1 must go: 3 takes its place
    remove = group_props(3, removal_policies=[{"resource_list": ["1"]}])
    run(update(p, ctx, base, remove))
    assert sorted(nested.log) == [("create", "3"), ("delete", "1")]
    assert ctx.data["members"] == ["0", "2", "3"]
    assert run(p.attribute_values(ctx, remove))["removed_rsrc_list"] == ["1"]
    # append mode: dropping the policy later keeps "1" retired
    nested.clear()
    grow = group_props(4)
    run(update(p, ctx, remove, grow))
    assert nested.log == [("create", "4")]
    assert ctx.data["members"] == ["0", "2", "3", "4"]
    assert get_attr(p, ctx, grow, "removed_rsrc_list") == ["1"]
    # scale down removes the highest indexes
    nested.clear()
    shrink = group_props(2)
    run(update(p, ctx, grow, shrink))
    assert sorted(nested.log) == [("delete", "3"), ("delete", "4")]
    assert ctx.data["members"] == ["0", "2"]


def test_group_removal_policy_by_reference_and_integer() -> None:
    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested)
    base = group_props(4)
    run(create(p, ctx, base))
    ref_of_2 = get_attr(p, ctx, base, "resource.2")
    assert ref_of_2 == nested.members()["2"]["id"]
    remove = group_props(2, removal_policies=[{"resource_list": [ref_of_2, 0]}])
    run(update(p, ctx, base, remove))
    assert ctx.data["name_blacklist"] == ["0", "2"]
    assert ctx.data["members"] == ["1", "3"]
    # an unknown reference is not blacklisted
    again = group_props(2, removal_policies=[{"resource_list": [ref_of_2, 0, "nope"]}])
    run(update(p, ctx, remove, again))
    assert ctx.data["name_blacklist"] == ["0", "2"]


def test_group_removal_policies_mode_update_replaces_the_list() -> None:
    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested)
    first = group_props(2, removal_policies=[{"resource_list": ["0"]}])
    run(create(p, ctx, first))
    # at create the listed names are simply skipped
    assert ctx.data["members"] == ["1", "2"]
    assert ctx.data["name_blacklist"] == ["0"]
    second = group_props(2, removal_policies=[{"resource_list": ["1"]}],
                         removal_policies_mode="update")
    run(update(p, ctx, first, second))
    # "0" is forgotten (may be reused), "1" is removed
    assert ctx.data["name_blacklist"] == ["1"]
    assert ctx.data["members"] == ["0", "2"]


def test_group_attributes() -> None:
    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested)
    props = group_props(3)
    run(create(p, ctx, props))
    ids = {n: m["id"] for n, m in nested.members().items()}
    values = run(p.attribute_values(ctx, props))
    assert values["refs"] == [ids["0"], ids["1"], ids["2"]]
    assert values["refs_map"] == ids
    assert values["resource.1"] == ids["1"]
    assert values["removed_rsrc_list"] == []
    assert get_attr(p, ctx, props, "refs", 1) == ids["1"]
    assert get_attr(p, ctx, props, "output") == ["srv_0", "srv_1", "srv_2"]
    assert get_attr(p, ctx, props, "nested", "k", 0) == ["a-0", "a-1", "a-2"]
    assert get_attr(p, ctx, props, "attributes", "output") == {
        "0": "srv_0", "1": "srv_1", "2": "srv_2"}
    assert get_attr(p, ctx, props, "resource.2") == ids["2"]
    assert get_attr(p, ctx, props, "resource.2.output") == "srv_2"
    assert get_attr(p, ctx, props, "resource.0.nested", "k") == ["a-0", 3]
    with pytest.raises(ResourceFailure, match="Member '7' not found in group resource 'grp'"):
        get_attr(p, ctx, props, "resource.7")
    with pytest.raises(ResourceFailure, match=r"Referenced Attribute \(grp attributes\)"):
        get_attr(p, ctx, props, "attributes")


def test_group_batches_follow_heats_arithmetic() -> None:
    # target, current, batch size, min in service -> (size after batch, new members in it)
    assert list(group_batches(3, 3, 1, 0)) == [(3, 1), (3, 1), (3, 1)]
    assert list(group_batches(3, 3, 2, 0)) == [(3, 2), (3, 1)]
    assert list(group_batches(3, 0, 2, 0)) == [(2, 2), (3, 1)]
    # the temporary extra member counts as new only once the group is back to size
    assert list(group_batches(2, 2, 1, 2)) == [(3, 1), (3, 1), (3, 1), (2, 0)]
    assert list(group_batches(4, 2, 1, 0)) == [(3, 1), (4, 1), (4, 1), (4, 1)]


def test_member_definitions_keep_the_last_and_replace_in_order() -> None:
    old = [("a", {"v": 1}), ("b", {"v": 1}), ("c", {"v": 1})]
    names = iter(["x", "y"])
    out = member_definitions(old, 4, 2, lambda: next(names), lambda n: {"v": 2})
    assert out == [("a", {"v": 2}), ("b", {"v": 1}), ("c", {"v": 1}), ("x", {"v": 2})]
    assert member_definitions(old, 2, 0, lambda: "z", lambda n: {"v": 2}) == [
        ("b", {"v": 1}), ("c", {"v": 1})]
    assert member_definitions(old, 0, 0, lambda: "z", lambda n: {"v": 2}) == []


def test_group_rolling_update_replaces_highest_index_first() -> None:
    p, nested = plugin(RG), FakeNested()
    policy = {"rolling_update": {"max_batch_size": 1, "min_in_service": 0, "pause_time": 0}}
    ctx = context(RG, nested=nested, update_policy=policy)
    old = group_props(3)
    run(create(p, ctx, old))
    nested.clear()
    new = checked(p, count=3, resource_def={"type": "OS::Heat::TestResource",
                                            "properties": {"value": "new-%index%"}})
    run(update(p, ctx, old, new))
    assert nested.log == [("update", "2"), ("update", "1"), ("update", "0")]
    assert len(nested.templates) == 3
    # each batch changes exactly one member
    values = [[t["resources"][n]["properties"]["value"] for n in ("0", "1", "2")]
              for t in nested.templates]
    assert values == [["srv_0", "srv_1", "new-2"], ["srv_0", "new-1", "new-2"],
                      ["new-0", "new-1", "new-2"]]


def test_group_rolling_update_with_min_in_service_adds_a_temporary_member() -> None:
    p, nested = plugin(RG), FakeNested()
    policy = {"rolling_update": {"max_batch_size": 1, "min_in_service": 2}}
    ctx = context(RG, nested=nested, update_policy=policy)
    old = group_props(2)
    run(create(p, ctx, old))
    nested.clear()
    new = checked(p, count=2, resource_def={"type": "OS::Heat::None"})
    run(update(p, ctx, old, new))
    sizes = [len(t["resources"]) for t in nested.templates]
    assert sizes == [3, 3, 3, 2]
    assert ("create", "2") in nested.log and ("delete", "2") in nested.log
    assert ctx.data["members"] == ["0", "1"]
    assert all(d == {"type": "OS::Heat::None"} for d in ctx.data["definitions"].values())


def test_group_batch_create() -> None:
    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested,
                  update_policy={"batch_create": {"max_batch_size": 2}})
    props = group_props(5)
    run(create(p, ctx, props))
    assert [len(t["resources"]) for t in nested.templates] == [2, 4, 5]
    assert ctx.data["members"] == ["0", "1", "2", "3", "4"]


def test_group_pauses_that_outlast_the_timeout_are_refused() -> None:
    import time

    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested, deadline=time.monotonic() + 5,
                  update_policy={"batch_create": {"max_batch_size": 1, "pause_time": 10}})
    with pytest.raises(ResourceFailure, match="will result in stack update timeout"):
        run(create(p, ctx, group_props(3)))


def test_group_lifecycle_read_adopt_delete() -> None:
    p, nested = plugin(RG), FakeNested()
    ctx = context(RG, nested=nested)
    props = group_props(2)
    run(create(p, ctx, props))
    observed = run(p.read(ctx, props))
    assert observed is not None and observed.failed is None
    # crash before the state recorded the group: a fresh context adopts the child
    fresh = context(RG, nested=nested)
    found = run(p.find_existing(fresh, props))
    assert found is not None and found.physical_id == ctx.physical_id
    # adopted without data: the members are read back from the child stack
    fresh.physical_id, fresh.data = found.physical_id, dict(found.data)
    nested.clear()
    run(update(p, fresh, props, group_props(3)))
    assert nested.log == [("create", "2")]
    # but not the child of the resource it replaces
    excluded = context(RG, nested=nested, exclude_ids=frozenset({ctx.physical_id or ""}))
    assert run(p.find_existing(excluded, props)) is None
    run(p.delete(ctx, props))
    assert run(p.read(ctx, props)) is None
    run(p.delete(ctx, props))   # gone already: fine


# -- ResourceChain ------------------------------------------------------------------------------
RC = "OS::Heat::ResourceChain"


def test_chain_creates_in_order_with_shared_properties() -> None:
    p, nested = plugin(RC), FakeNested()
    ctx = context(RC, nested=nested)
    props = checked(p, resources=["OS::Heat::TestResource", "OS::Heat::None",
                                  "OS::Heat::TestResource"],
                    resource_properties={"value": "same"})
    run(create(p, ctx, props))
    resources = nested.templates[-1]["resources"]
    assert resources["0"] == {"type": "OS::Heat::TestResource", "properties": {"value": "same"}}
    assert "depends_on" not in resources["0"]
    assert resources["1"]["depends_on"] == ["0"]
    assert resources["2"]["depends_on"] == ["1"]
    assert nested.log == [("create", "0"), ("create", "1"), ("create", "2")]
    ids = nested.members()
    assert run(p.attribute_values(ctx, props))["refs"] == [ids[n]["id"] for n in "012"]
    assert get_attr(p, ctx, props, "output") == ["same", None, "same"]
    assert get_attr(p, ctx, props, "attributes", "output") == {
        "0": "same", "1": None, "2": "same"}
    assert get_attr(p, ctx, props, "resource.1") == ids["1"]["id"]
    assert get_attr(p, ctx, props, "resource.2.output") == "same"
    with pytest.raises(ResourceFailure, match="Member '5' not found"):
        get_attr(p, ctx, props, "resource.5")


def test_chain_concurrent_has_no_dependencies_and_update_in_place() -> None:
    p, nested = plugin(RC), FakeNested()
    ctx = context(RC, nested=nested)
    old = checked(p, resources=["OS::Heat::None", "OS::Heat::None"], concurrent=True)
    run(create(p, ctx, old))
    assert all("depends_on" not in r for r in nested.templates[-1]["resources"].values())
    nested.clear()
    new = checked(p, resources=["OS::Heat::TestResource"], concurrent=True)
    run(update(p, ctx, old, new))
    assert sorted(nested.log) == [("delete", "1"), ("replace", "0")]
    assert ctx.data["members"] == ["0"]
    # concurrent and resource_properties are not updatable in Heat
    assert p.needs_replacement(old, {**old, "concurrent": False},
                               frozenset({"concurrent"})) == {"concurrent"}


# -- OS::Heat::Stack ----------------------------------------------------------------------------
ST = "OS::Heat::Stack"
CHILD_TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  greeting: {type: string}
resources:
  r: {type: OS::Heat::None}
outputs:
  hello: {value: {get_param: greeting}}
  outputs: {value: shadowed}
"""


def test_stack_outputs_via_get_attr() -> None:
    p, nested = plugin(ST), FakeNested("stk-inner")
    ctx = context(ST, name="inner", nested=nested)
    props = checked(p, template=CHILD_TEMPLATE, parameters={"greeting": "hi"}, timeout=2)
    run(create(p, ctx, props))
    assert nested.templates[-1]["resources"] == {"r": {"type": "OS::Heat::None"}}
    assert nested.children[CHILD].parameters == {"greeting": "hi"}
    assert nested.timeouts[-1] == 120.0
    assert ctx.physical_id == nested.children[CHILD].stack_id
    values = run(p.attribute_values(ctx, props))
    assert values["outputs"] == {"hello": "hi", "outputs": "shadowed"}
    assert values["hello"] == "hi"
    assert values["stack_name"].startswith("stk-inner-")
    assert get_attr(p, ctx, props, "outputs", "hello") == "hi"
    assert get_attr(p, ctx, props, "hello") == "hi"
    assert get_attr(p, ctx, props, "outputs") == {"hello": "hi", "outputs": "shadowed"}
    with pytest.raises(ResourceFailure, match=r"Referenced Attribute \(inner missing\)"):
        get_attr(p, ctx, props, "missing")


def test_stack_updates_in_place_and_accepts_a_map_template() -> None:
    p, nested = plugin(ST), FakeNested()
    ctx = context(ST, nested=nested)
    old = checked(p, template=CHILD_TEMPLATE, parameters={"greeting": "hi"})
    run(create(p, ctx, old))
    first_id = ctx.physical_id
    new = checked(p, template={"heat_template_version": "2018-08-31",
                               "parameters": {"greeting": {"type": "string"}},
                               "resources": {"r": {"type": "OS::Heat::None"},
                                             "s": {"type": "OS::Heat::None"}},
                               "outputs": {"hello": {"value": {"get_param": "greeting"}}}},
                  parameters={"greeting": "bye"})
    run(update(p, ctx, old, new))
    assert ("create", "s") in nested.log
    assert nested.children[CHILD].stack_id == first_id
    assert get_attr(p, ctx, new, "hello") == "bye"


def test_stack_refuses_other_clouds() -> None:
    p = plugin(ST)
    ctx = context(ST)
    with pytest.raises(ResourceFailure, match=r"credential_secret_id: .*Barbican"):
        run(create(p, ctx, checked(p, template=CHILD_TEMPLATE,
                                   context={"credential_secret_id": "x"})))
    with pytest.raises(ResourceFailure, match="template:"):
        run(create(p, ctx, checked(p, template="{not: [valid")))
    old = checked(p, template="x", context={"insecure": False})
    assert p.needs_replacement(old, {**old, "context": {"insecure": True}},
                               frozenset({"context"})) == frozenset()
    assert p.needs_replacement(old, {**old, "context": {"region_name": "R"}},
                               frozenset({"context"})) == {"context"}


# -- capacity arithmetic --------------------------------------------------------------------
@pytest.mark.parametrize(("current", "adjustment", "kind", "step", "expected"), [
    (2, 1, "change_in_capacity", None, 3),
    (2, -5, "change_in_capacity", None, 0),      # min bound
    (2, 10, "change_in_capacity", None, 5),      # max bound
    (2, 4, "exact_capacity", None, 4),
    (2, 9, "exact_capacity", None, 5),
    (4, 50, "percent_change_in_capacity", None, 5),      # +2 -> max
    (3, 33, "percent_change_in_capacity", None, 4),      # 0.99 rounds away from zero
    (3, -33, "percent_change_in_capacity", None, 2),
    (4, 40, "percent_change_in_capacity", None, 5),      # 1.6 truncates to 1
    (4, -40, "percent_change_in_capacity", None, 3),
    (2, 10, "percent_change_in_capacity", 2, 4),         # 0.2 -> 1 -> min step 2
    (4, -10, "percent_change_in_capacity", 3, 1),
])
def test_new_capacity(current: int, adjustment: float, kind: str, step: int | None,
                      expected: int) -> None:
    assert new_capacity(current, adjustment, kind, step, 0, 5) == expected


# -- AutoScalingGroup + ScalingPolicy -------------------------------------------------------------
ASG, POL = "OS::Heat::AutoScalingGroup", "OS::Heat::ScalingPolicy"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(autoscaling, "clock", fake)
    return fake


def asg_props(**extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"min_size": 1, "max_size": 4,
                              "resource": {"type": "OS::Heat::TestResource",
                                           "properties": {"value": "m"}}}
    values.update(extra)
    return checked(plugin(ASG), **values)


class MiniEngine:
    """What the engine does for the policy's ``ctx.signal_resource``: find the group by its
    reference id, deliver the request to its signal handler, keep the data it returns."""

    def __init__(self, group: ResourcePlugin, ctx: ResourceContext,
                 props: dict[str, Any]) -> None:
        self.group, self.ctx, self.props = group, ctx, props

    async def signal_resource(self, ref: str, details: Any) -> dict[str, Any] | None:
        if ref not in (self.ctx.data.get("reference"), self.ctx.name):
            raise KeyError(ref)
        data = await self.group.signal(self.ctx, self.props, details)
        if data is not None:
            self.ctx.data = data
        return data


def scaling_setup(group_extra: dict[str, Any] | None = None, **policy: Any
                  ) -> tuple[FakeNested, ResourceContext, ResourcePlugin, ResourceContext,
                             dict[str, Any]]:
    g, nested = plugin(ASG), FakeNested()
    gctx = context(ASG, name="asg", nested=nested)
    gprops = asg_props(**(group_extra or {}))
    run(create(g, gctx, gprops))
    engine = MiniEngine(g, gctx, gprops)
    p = plugin(POL)
    pctx = context(POL, name="scale_up")
    pctx.signal_resource = engine.signal_resource
    values = {"auto_scaling_group_id": gctx.data["reference"], "scaling_adjustment": 1,
              "adjustment_type": "change_in_capacity"}
    values.update(policy)
    pprops = checked(p, **values)
    run(create(p, pctx, pprops))
    return nested, gctx, p, pctx, pprops


def size(nested: FakeNested) -> int:
    return len(nested.members())


def test_asg_initial_size_and_attributes(clock: Clock) -> None:
    g, nested = plugin(ASG), FakeNested()
    ctx = context(ASG, name="asg", nested=nested)
    props = asg_props(desired_capacity=3)
    run(create(g, ctx, props))
    assert size(nested) == 3
    names = ctx.data["members"]
    assert len(set(names)) == 3 and all(len(n) == 12 for n in names)
    values = run(g.attribute_values(ctx, props))
    assert values["current_size"] == 3
    ids = nested.children[CHILD].resource_ids()
    assert values["refs"] == [ids[n] for n in names]
    assert values["refs_map"] == ids
    assert values["resource.0"] == ids[names[0]]
    assert get_attr(g, ctx, props, "outputs_list", "value") == ["m", "m", "m"]
    assert get_attr(g, ctx, props, "outputs", "value") == {n: "m" for n in names}
    assert get_attr(g, ctx, props, "resource.1.value") == "m"
    with pytest.raises(ResourceFailure, match="Referenced Attribute"):
        get_attr(g, ctx, props, "outputs")
    with pytest.raises(ResourceFailure, match="Member '9' not found"):
        get_attr(g, ctx, props, "resource.9")
    # no desired_capacity: min_size
    ctx2 = context(ASG, name="asg2", nested=FakeNested())
    run(create(g, ctx2, asg_props()))
    assert len(ctx2.data["members"]) == 1


def test_asg_size_validation() -> None:
    g = plugin(ASG)
    for extra, message in [({"min_size": 3, "max_size": 2}, "MinSize can not be greater"),
                           ({"desired_capacity": 9}, "DesiredCapacity must be between")]:
        with pytest.raises(ResourceFailure, match=message):
            run(create(g, context(ASG), asg_props(**extra)))


def test_asg_update_resizes_and_scale_down_removes_the_oldest(clock: Clock) -> None:
    g, nested = plugin(ASG), FakeNested()
    ctx = context(ASG, name="asg", nested=nested)
    old = asg_props(desired_capacity=3)
    run(create(g, ctx, old))
    first = list(ctx.data["members"])
    new = asg_props(desired_capacity=1)
    run(update(g, ctx, old, new))
    assert ctx.data["members"] == first[2:]
    # no desired_capacity: the current size stays, clamped into the new bounds
    bounded = asg_props(min_size=2, max_size=4)
    run(update(g, ctx, new, bounded))
    assert len(ctx.data["members"]) == 2 and ctx.data["members"][0] == first[2]


def test_asg_rolling_update_of_the_resource(clock: Clock) -> None:
    g, nested = plugin(ASG), FakeNested()
    ctx = context(ASG, name="asg", nested=nested)
    old = asg_props(desired_capacity=3)
    run(create(g, ctx, old))
    nested.clear()
    new = asg_props(desired_capacity=3,
                    resource={"type": "OS::Heat::TestResource", "properties": {"value": "n"}},
                    rolling_updates={"max_batch_size": 2})
    run(update(g, ctx, old, new))
    assert [sum(r["properties"]["value"] == "n" for r in t["resources"].values())
            for t in nested.templates] == [2, 3]
    assert all(op == "update" for op, _ in nested.log)


def test_policy_scales_group_within_bounds_and_cooldowns(clock: Clock) -> None:
    nested, _gctx, p, pctx, pprops = scaling_setup({"cooldown": 60}, cooldown=30)
    assert size(nested) == 1
    # the group is in its own cooldown right after create
    run(signal(p, pctx, pprops))
    assert size(nested) == 1
    assert pctx.data["last_signal"]["reason"] == (
        "The resource asg could not perform scaling action: due to cooldown, cooldown 30")
    clock.now += 61
    run(signal(p, pctx, pprops))
    assert size(nested) == 2
    assert pctx.data["last_signal"]["result"] == "scaled"
    # inside the policy's cooldown: ignored with Heat's message
    clock.now += 10
    run(signal(p, pctx, pprops))
    assert size(nested) == 2
    assert pctx.data["last_signal"] == {
        "result": "ignored", "time": clock.now,
        "reason": "The resource scale_up could not perform scaling action: "
                  "due to cooldown, cooldown 30"}
    # after it, scaling resumes up to max_size and no further
    for _ in range(4):
        clock.now += 31
        run(signal(p, pctx, pprops))
    assert size(nested) == 4
    assert "no change in capacity" in pctx.data["last_signal"]["reason"]


def test_scale_down_policy_stops_at_min_size(clock: Clock) -> None:
    nested, _gctx, p, pctx, pprops = scaling_setup(
        {"desired_capacity": 3}, scaling_adjustment=-50,
        adjustment_type="percent_change_in_capacity", min_adjustment_step=2)
    clock.now += 1
    run(signal(p, pctx, pprops))
    assert size(nested) == 1
    clock.now += 1
    run(signal(p, pctx, pprops))
    assert size(nested) == 1
    assert pctx.data["last_signal"]["result"] == "ignored"


def test_exact_capacity_policy_and_group_cooldown_from_policy(clock: Clock) -> None:
    nested, gctx, p, pctx, pprops = scaling_setup(
        {"cooldown": 5}, scaling_adjustment=3, adjustment_type="exact_capacity", cooldown=100)
    clock.now += 6
    run(signal(p, pctx, pprops))
    assert size(nested) == 3
    # the group took the policy's cooldown
    assert gctx.data["cooldown_end"] == clock.now + 100


def test_policy_errors(clock: Clock) -> None:
    p = plugin(POL)
    with pytest.raises(ResourceFailure, match="min_adjustment_step property should only be"):
        run(create(p, context(POL), checked(p, auto_scaling_group_id="g", scaling_adjustment=1,
                                            adjustment_type="change_in_capacity",
                                            min_adjustment_step=1)))
    _nested, _gctx, p, pctx, pprops = scaling_setup()
    missing = {**pprops, "auto_scaling_group_id": "nope"}
    with pytest.raises(ResourceFailure, match='could not find scaling group named "nope"'):
        run(signal(p, pctx, missing))
    pctx.signal_resource = None
    with pytest.raises(ResourceFailure, match="cannot deliver signals"):
        run(signal(p, pctx, pprops))
    values = run(p.attribute_values(pctx, pprops))
    assert values["signal_url"].endswith("/resources/scale_up/signal")


def test_group_rejects_signals_that_are_not_adjustments(clock: Clock) -> None:
    g = plugin(ASG)
    ctx = context(ASG, nested=FakeNested())
    props = asg_props()
    run(create(g, ctx, props))
    with pytest.raises(ResourceFailure, match="signal is not supported"):
        run(g.signal(ctx, props, {"status": "SUCCESS"}))


async def signal(p: ResourcePlugin, ctx: ResourceContext, props: dict[str, Any]) -> None:
    data = await p.signal(ctx, props, {"current": "alarm"})
    if data is not None:
        ctx.data = data
