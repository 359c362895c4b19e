"""Heat's own resource types, driven through their handlers with an in-memory native store:
schemas, create/read/update/delete, crash recovery (find_existing) and drift (read after the
record went away)."""

from __future__ import annotations

import asyncio
import email
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from kubeheat.engine import MemoryNativeStore
from kubeheat.resources import (
    REGISTRY,
    TAG_RESOURCE,
    TAG_STACK_ID,
    Created,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    load_builtin_plugins,
)

T = TypeVar("T")

load_builtin_plugins()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def plugin(type_name: str) -> ResourcePlugin:
    cls = REGISTRY.get(type_name)
    assert cls is not None, type_name
    return cls()


def context(type_name: str, name: str = "res", native: MemoryNativeStore | None = None,
            **kwargs: Any) -> ResourceContext:
    return ResourceContext(stack_id="s-1", stack_name="stk", name=name, type=type_name,
                           native=native if native is not None else MemoryNativeStore(),
                           **kwargs)


def defaults(p: ResourcePlugin, **given: Any) -> dict[str, Any]:
    """Properties as the engine hands them: schema defaults filled in."""
    out: dict[str, Any] = {}
    for key, prop in p.properties.items():
        if key in given:
            out[key] = given[key]
        elif "default" in prop.as_dict():
            out[key] = prop.default
        else:
            out[key] = None
    for key, value in given.items():
        out.setdefault(key, value)
    return out


async def make(p: ResourcePlugin, ctx: ResourceContext, props: dict[str, Any]) -> Created:
    created = await p.create(ctx, props)
    ctx.physical_id = created.physical_id
    ctx.data = dict(created.data)
    while not await p.check_create_complete(ctx, props):
        pass
    return created


def reference(p: ResourcePlugin, ctx: ResourceContext) -> str | None:
    ref = getattr(p, "reference", None)
    assert ref is not None
    out: str | None = ref(ctx)
    return out


# -- lifecycle common to every type -------------------------------------------------------------

SIMPLE: dict[str, dict[str, Any]] = {
    "OS::Heat::None": {"anything": [1, 2]},
    "OS::Heat::Value": {"value": "v"},
    "OS::Heat::TestResource": {},
    "OS::Heat::RandomString": {},
    "OS::Heat::Delay": {},
    "OS::Heat::SoftwareConfig": {"config": "#!/bin/sh\necho hi\n"},
    "OS::Heat::StructuredConfig": {"config": {"a": 1}},
    "OS::Heat::CloudConfig": {"cloud_config": {"packages": ["git"]}},
    "OS::Heat::MultipartMime": {"parts": [{"config": "echo hi"}]},
    "OS::Heat::WaitConditionHandle": {},
}

HEAT_TYPES = {"OS::Heat::None", "OS::Heat::Value", "OS::Heat::TestResource",
              "OS::Heat::RandomString", "OS::Heat::Delay", "OS::Heat::SoftwareConfig",
              "OS::Heat::StructuredConfig", "OS::Heat::CloudConfig", "OS::Heat::MultipartMime",
              "OS::Heat::WaitConditionHandle", "OS::Heat::WaitCondition"}


def test_all_types_registered() -> None:
    assert set(REGISTRY.names()) >= HEAT_TYPES


@pytest.mark.parametrize("type_name", sorted(SIMPLE))
def test_lifecycle_crash_recovery_and_drift(type_name: str) -> None:
    p = plugin(type_name)
    native = MemoryNativeStore()
    ctx = context(type_name, native=native)
    props = defaults(p, **SIMPLE[type_name])

    async def scenario() -> None:
        created = await make(p, ctx, props)
        assert native.count(type_name) == 1
        assert native.records[type_name][created.physical_id]["tags"] == {
            TAG_STACK_ID: "s-1", TAG_RESOURCE: "res"}
        # crash before the state recorded it: a fresh context finds it by tags
        fresh = context(type_name, native=native)
        found = await p.find_existing(fresh, props)
        assert found is not None and found.physical_id == created.physical_id
        assert found.data == created.data
        # the one being replaced (same tags) is never returned
        replacing = context(type_name, native=native,
                            exclude_ids=frozenset({created.physical_id}))
        assert await p.find_existing(replacing, props) is None
        # another resource of the same stack is not mistaken for it
        other = context(type_name, name="other", native=native)
        assert await p.find_existing(other, props) is None
        assert await p.read(ctx, props) is not None
        # drift: deleted out of band
        native.delete(type_name, created.physical_id)
        assert await p.read(ctx, props) is None
        # delete of something gone is success
        await p.delete(ctx, props)
        created2 = await make(p, ctx, props)
        await p.delete(ctx, props)
        assert native.count(type_name) == 0
        assert created2.physical_id != created.physical_id

    run(scenario())


def test_schema_shapes() -> None:
    for name in HEAT_TYPES:
        cls = REGISTRY.get(name)
        assert cls is not None
        schema = cls.schema()
        assert schema["resource_type"] == name
        assert schema["description"]


# -- OS::Heat::None -------------------------------------------------------------------------------

def test_none_never_replaced_and_accepts_anything() -> None:
    p = plugin("OS::Heat::None")
    assert p.schema()["properties"] == {} and p.schema()["attributes"] == {}
    assert getattr(p, "accepts_any_properties", False)
    assert getattr(p, "any_attribute", False)
    assert p.needs_replacement({"a": 1}, {"a": 2}, frozenset({"a"})) == frozenset()
    ctx = context("OS::Heat::None")

    async def scenario() -> None:
        created = await make(p, ctx, {"x": 1})
        assert reference(p, ctx) == created.physical_id
        assert await p.attribute_values(ctx, {}) == {}
        assert await p.update(ctx, {"x": 1}, {"x": 2}, frozenset({"x"})) is None

    run(scenario())


# -- OS::Heat::Value ------------------------------------------------------------------------------

def test_value_schema_matches_heat() -> None:
    schema = plugin("OS::Heat::Value").schema()
    props = schema["properties"]
    assert props["value"]["type"] == "any" and props["value"]["required"]
    assert props["value"]["update_allowed"]
    assert props["type"]["update_allowed"] and not props["type"]["required"]
    assert props["type"]["constraints"] == [{"allowed_values": [
        "string", "number", "comma_delimited_list", "json", "boolean"]}]
    assert list(schema["attributes"]) == ["value"]


@pytest.mark.parametrize(("value", "type_", "expected"), [
    ({"a": [1]}, None, {"a": [1]}),
    # Heat 27.0.1 checks the value against the type but returns it as given
    ("42", "number", "42"),
    ("4.5", "number", "4.5"),
    (7, "string", 7),
    (True, "string", True),
    ("True", "boolean", "True"),
    (False, "boolean", False),
    (["a", "b"], "comma_delimited_list", ["a", "b"]),
    ({"k": 1}, "json", {"k": 1}),
])
def test_value_types(value: Any, type_: str | None, expected: Any) -> None:
    p = plugin("OS::Heat::Value")
    ctx = context("OS::Heat::Value")

    async def scenario() -> dict[str, Any]:
        props = {"value": value, "type": type_}
        await make(p, ctx, props)
        return await p.attribute_values(ctx, props)

    assert run(scenario()) == {"value": expected}


@pytest.mark.parametrize(("value", "type_"), [
    ("abc", "number"), ("a,b", "comma_delimited_list"), ("x", "json"), ("maybe", "boolean"),
    ("yes", "boolean"), (1.5, "string"),
])
def test_value_type_mismatch_fails(value: Any, type_: str) -> None:
    p = plugin("OS::Heat::Value")
    ctx = context("OS::Heat::Value", name="v")
    with pytest.raises(ResourceFailure, match=r"^Property error: resources\.v\.properties\."
                                                r"value: "):
        run(p.create(ctx, {"value": value, "type": type_}))


def test_value_updates_in_place() -> None:
    p = plugin("OS::Heat::Value")
    ctx = context("OS::Heat::Value")
    assert p.needs_replacement({"value": 1}, {"value": 2, "type": "number"},
                               frozenset({"value", "type"})) == frozenset()

    async def scenario() -> None:
        old = {"value": 1, "type": None}
        created = await make(p, ctx, old)
        new = {"value": "2", "type": "number"}
        await p.update(ctx, old, new, frozenset({"value", "type"}))
        assert await p.attribute_values(ctx, new) == {"value": "2"}
        observed = await p.read(ctx, new)
        assert observed is not None and observed.attributes == {"value": "2"}
        assert reference(p, ctx) == created.physical_id

    run(scenario())


# -- OS::Heat::TestResource -----------------------------------------------------------------------

def test_test_resource_schema_matches_heat() -> None:
    schema = plugin("OS::Heat::TestResource").schema()
    props = schema["properties"]
    assert set(props) == {"value", "update_replace_value", "fail", "update_replace",
                          "wait_secs", "action_wait_secs", "attr_wait_secs",
                          "constraint_prop_secs", "client_name", "entity_name"}
    assert props["value"]["default"] == "test_string"
    assert props["fail"]["default"] is False and props["update_replace"]["default"] is False
    assert props["wait_secs"]["default"] == 0 and props["attr_wait_secs"]["default"] == 0
    assert props["client_name"]["default"] == "" and props["entity_name"]["default"] == ""
    assert props["constraint_prop_secs"]["constraints"] == [{"custom_constraint": "test_constr"}]
    assert not props["update_replace_value"]["update_allowed"]
    assert all(v["update_allowed"] for k, v in props.items() if k != "update_replace_value")
    assert set(props["action_wait_secs"]["schema"]) == {"create", "update", "delete"}
    assert list(schema["attributes"]) == ["output"]


def test_test_resource_create_and_output() -> None:
    p = plugin("OS::Heat::TestResource")
    ctx = context("OS::Heat::TestResource")

    async def scenario() -> None:
        props = defaults(p, value="hello")
        await make(p, ctx, props)
        assert await p.attribute_values(ctx, props) == {"output": "hello"}

    run(scenario())


def test_test_resource_fail_on_create_makes_nothing() -> None:
    p = plugin("OS::Heat::TestResource")
    native = MemoryNativeStore()
    ctx = context("OS::Heat::TestResource", name="bad", native=native)
    with pytest.raises(ValueError, match=r"^Test Resource failed bad$"):
        run(p.create(ctx, defaults(p, fail=True)))
    assert native.count() == 0


def test_test_resource_update_behaviour() -> None:
    p = plugin("OS::Heat::TestResource")
    ctx = context("OS::Heat::TestResource", name="t")
    old = defaults(p, value="a")

    # replace decisions
    assert p.needs_replacement(old, {**old, "value": "b"}, frozenset({"value"})) == frozenset()
    assert p.needs_replacement(old, {**old, "value": "b", "update_replace": True},
                               frozenset({"value", "update_replace"})) == {"value"}
    assert p.needs_replacement(old, {**old, "update_replace": True},
                               frozenset({"update_replace"})) == frozenset()
    assert p.needs_replacement(old, {**old, "update_replace_value": "x"},
                               frozenset({"update_replace_value"})) == {"update_replace_value"}

    async def scenario() -> None:
        await make(p, ctx, old)
        new = {**old, "value": "b"}
        await p.update(ctx, old, new, frozenset({"value"}))
        assert await p.attribute_values(ctx, new) == {"output": "b"}
        # fail: the value is not stored and the update fails
        failing = {**new, "value": "c", "fail": True}
        with pytest.raises(ValueError, match=r"^Test Resource failed t$"):
            await p.update(ctx, new, failing, frozenset({"value", "fail"}))
        assert await p.attribute_values(ctx, failing) == {"output": "b"}
        # any update while fail is set fails, even without a value change
        with pytest.raises(ValueError):
            await p.update(ctx, failing, {**failing, "wait_secs": 0}, frozenset({"wait_secs"}))
        # delete never fails
        await p.delete(ctx, failing)
        assert await p.read(ctx, failing) is None

    run(scenario())


def test_test_resource_waits_per_action() -> None:
    p = plugin("OS::Heat::TestResource")
    ctx = context("OS::Heat::TestResource")
    props = defaults(p, wait_secs=0.2, action_wait_secs={"create": 0.05, "update": None,
                                                          "delete": 0})

    async def timed(coro: Coroutine[Any, Any, Any]) -> float:
        start = time.monotonic()
        await coro
        return time.monotonic() - start

    async def scenario() -> None:
        assert await timed(make(p, ctx, props)) < 0.18
        new = {**props, "value": "other"}
        assert await timed(p.update(ctx, props, new, frozenset({"value"}))) >= 0.19
        assert await timed(p.delete(ctx, new)) < 0.18

    run(scenario())


def test_test_resource_wait_is_bounded_by_the_deadline() -> None:
    p = plugin("OS::Heat::TestResource")
    ctx = context("OS::Heat::TestResource", deadline=time.monotonic() + 0.05)
    props = defaults(p, wait_secs=-1)

    async def scenario() -> None:
        await p.create(ctx, props)
        await p.check_create_complete(ctx, props)

    with pytest.raises(ResourceFailure, match=r"^Timed out$"):
        run(scenario())


def test_test_resource_infinite_wait_is_cancellable() -> None:
    p = plugin("OS::Heat::TestResource")
    native = MemoryNativeStore()
    ctx = context("OS::Heat::TestResource", native=native)
    props = defaults(p, wait_secs=-1)

    async def scenario() -> None:
        task = asyncio.create_task(make(p, ctx, props))
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the record was made before the wait: a rerun adopts it
        found = await p.find_existing(context("OS::Heat::TestResource", native=native), props)
        assert found is not None

    run(scenario())


def test_test_resource_attr_wait() -> None:
    p = plugin("OS::Heat::TestResource")
    ctx = context("OS::Heat::TestResource")
    props = defaults(p, attr_wait_secs=0.1)

    async def scenario() -> float:
        await make(p, ctx, props)
        start = time.monotonic()
        assert await p.attribute_values(ctx, props) == {"output": "test_string"}
        return time.monotonic() - start

    assert run(scenario()) >= 0.09


# -- OS::Heat::RandomString -----------------------------------------------------------------------

def test_random_string_schema_matches_heat() -> None:
    schema = plugin("OS::Heat::RandomString").schema()
    props = schema["properties"]
    assert set(props) == {"length", "sequence", "character_classes", "character_sequences",
                          "salt"}
    assert not any(p["update_allowed"] for p in props.values())
    assert props["length"]["default"] == 32
    assert props["length"]["constraints"] == [{"range": {"min": 1, "max": 512}}]
    assert props["character_classes"]["default"] == [{"class": "lettersdigits", "min": 1}]
    item = props["character_classes"]["schema"]["*"]["schema"]
    assert item["class"]["constraints"] == [{"allowed_values": [
        "lettersdigits", "letters", "lowercase", "uppercase", "digits", "hexdigits",
        "octdigits"]}]
    assert item["min"]["default"] == 1
    seq = props["character_sequences"]["schema"]["*"]["schema"]
    assert seq["sequence"]["required"] and seq["min"]["default"] == 1
    assert schema["attributes"]["value"]["type"] == "string"


def test_random_string_value_is_reference_and_respects_minimums() -> None:
    p = plugin("OS::Heat::RandomString")
    native = MemoryNativeStore()
    ctx = context("OS::Heat::RandomString", native=native)
    props = defaults(p, length=40,
                     character_classes=[{"class": "digits", "min": 5},
                                        {"class": "uppercase", "min": 3}],
                     character_sequences=[{"sequence": "!@", "min": 4}])

    async def scenario() -> str:
        created = await make(p, ctx, props)
        value = (await p.attribute_values(ctx, props))["value"]
        assert reference(p, ctx) == value == created.data["reference"]
        # without ctx.data (as after adoption from an older state) it comes from the record
        bare = context("OS::Heat::RandomString", native=native,
                       physical_id=created.physical_id)
        assert reference(p, bare) == value
        observed = await p.read(ctx, props)
        assert observed is not None and observed.attributes == {"value": value}
        return str(value)

    value = run(scenario())
    assert len(value) == 40
    assert set(value) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!@")
    assert sum(c.isdigit() for c in value) >= 5
    assert sum(c.isupper() for c in value) >= 3
    assert sum(c in "!@" for c in value) >= 4


def test_random_string_defaults_and_deprecated_sequence() -> None:
    p = plugin("OS::Heat::RandomString")

    async def value_of(props: dict[str, Any]) -> str:
        ctx = context("OS::Heat::RandomString")
        await make(p, ctx, props)
        return str((await p.attribute_values(ctx, props))["value"])

    plain = run(value_of(defaults(p)))
    assert len(plain) == 32 and plain.isalnum()
    octal = run(value_of(defaults(p, sequence="octdigits", length=64)))
    assert set(octal) <= set("01234567")
    # two creations give different strings
    assert run(value_of(defaults(p))) != plain


def test_random_string_length_below_minimums_fails() -> None:
    p = plugin("OS::Heat::RandomString")
    ctx = context("OS::Heat::RandomString")
    props = defaults(p, length=3, character_classes=[{"class": "digits", "min": 2}],
                     character_sequences=[{"sequence": "xy", "min": 2}])
    with pytest.raises(ResourceFailure, match="Length property cannot be smaller than "
                                              "combined character class and character "
                                              "sequence minimums"):
        run(p.create(ctx, props))


def test_random_string_any_change_replaces() -> None:
    p = plugin("OS::Heat::RandomString")
    assert p.needs_replacement({}, {}, frozenset({"salt"})) == {"salt"}
    assert p.needs_replacement({}, {}, frozenset({"length"})) == {"length"}


# -- OS::Heat::Delay ------------------------------------------------------------------------------

def test_delay_schema_matches_heat() -> None:
    props = plugin("OS::Heat::Delay").schema()["properties"]
    assert {k: v.get("default") for k, v in props.items()} == {
        "min_wait": 0, "max_jitter": 0, "jitter_multiplier": 1.0, "actions": ["CREATE"]}
    assert all(v["update_allowed"] for v in props.values())
    assert props["actions"]["constraints"] == [{"allowed_values": [
        "CREATE", "DELETE", "SUSPEND", "RESUME"]}]
    assert props["min_wait"]["constraints"] == [{"range": {"min": 0}}]


def test_delay_waits_on_listed_actions_only() -> None:
    p = plugin("OS::Heat::Delay")
    ctx = context("OS::Heat::Delay")

    async def timed(coro: Coroutine[Any, Any, Any]) -> float:
        start = time.monotonic()
        await coro
        return time.monotonic() - start

    async def scenario() -> None:
        props = defaults(p, min_wait=0.1, max_jitter=0.05, jitter_multiplier=1.0,
                         actions=["DELETE"])
        assert await timed(make(p, ctx, props)) < 0.09
        assert await timed(p.update(ctx, props, props, frozenset())) < 0.09
        elapsed = await timed(p.delete(ctx, props))
        assert 0.09 <= elapsed < 1.0
        ctx2 = context("OS::Heat::Delay")
        props2 = defaults(p, min_wait=0.1)
        assert await timed(make(p, ctx2, props2)) >= 0.09
        assert await timed(p.delete(ctx2, props2)) < 0.09

    run(scenario())


def mime_parts(message: str) -> list[Any]:
    parts = email.message_from_string(message).get_payload()
    assert isinstance(parts, list)
    return list(parts)


# -- software configs -----------------------------------------------------------------------------

def test_software_config_schema_matches_heat() -> None:
    schema = plugin("OS::Heat::SoftwareConfig").schema()
    props = schema["properties"]
    assert set(props) == {"group", "config", "options", "inputs", "outputs"}
    assert props["group"]["default"] == "Heat::Ungrouped"
    assert not any(v["update_allowed"] for v in props.values())
    inputs = props["inputs"]["schema"]["*"]["schema"]
    assert set(inputs) == {"name", "description", "type", "default", "replace_on_change"}
    assert inputs["type"]["default"] == "String" and inputs["name"]["required"]
    assert inputs["replace_on_change"]["default"] is False
    outputs = props["outputs"]["schema"]["*"]["schema"]
    assert set(outputs) == {"name", "description", "type", "error_output"}
    assert list(schema["attributes"]) == ["config"]
    assert set(plugin("OS::Heat::CloudConfig").schema()["properties"]) == {"cloud_config"}
    # Heat 27.0.1: MultipartMime has a group (since 14.0.0), default Heat::Ungrouped
    mime = plugin("OS::Heat::MultipartMime").schema()["properties"]
    assert set(mime) == {"group", "parts"} and mime["group"]["default"] == "Heat::Ungrouped"
    structured = plugin("OS::Heat::StructuredConfig").schema()["properties"]
    assert structured["config"]["type"] == "map"
    assert set(structured) == {"group", "config", "options", "inputs", "outputs"}


def test_software_config_config_attribute_and_reference() -> None:
    p = plugin("OS::Heat::SoftwareConfig")
    native = MemoryNativeStore()
    ctx = context("OS::Heat::SoftwareConfig", native=native)
    props = defaults(p, config="#!/bin/sh\necho hi\n", inputs=[{"name": "foo"}])

    async def scenario() -> None:
        created = await make(p, ctx, props)
        assert reference(p, ctx) == created.physical_id
        attrs = await p.attribute_values(ctx, props)
        assert attrs["config"] == "#!/bin/sh\necho hi\n"
        # show: the config as Heat's API gives it (Heat 27.0.1)
        assert attrs["show"]["id"] == created.physical_id
        assert attrs["show"]["inputs"] == [
            {"name": "foo", "type": "String", "description": "", "default": ""}]
        record = native.get("OS::Heat::SoftwareConfig", created.physical_id)
        assert record is not None and record["group"] == "Heat::Ungrouped"
        assert record["inputs"] == [{"name": "foo"}]

    run(scenario())


def test_cloud_config_yaml() -> None:
    p = plugin("OS::Heat::CloudConfig")
    ctx = context("OS::Heat::CloudConfig")
    props = {"cloud_config": {"write_files": [{"path": "/tmp/x", "content": "hi"}],
                              "packages": ["git", "vim"]}}

    async def scenario() -> Any:
        await make(p, ctx, props)
        return (await p.attribute_values(ctx, props))["config"]

    assert run(scenario()) == ("#cloud-config\npackages:\n- git\n- vim\nwrite_files:\n"
                               "- content: hi\n  path: /tmp/x\n")


def test_multipart_mime_resolves_config_ids() -> None:
    native = MemoryNativeStore()
    sc = plugin("OS::Heat::SoftwareConfig")
    cc = plugin("OS::Heat::CloudConfig")
    mm = plugin("OS::Heat::MultipartMime")

    async def scenario() -> str:
        script = await make(sc, context("OS::Heat::SoftwareConfig", name="script",
                                        native=native), {"config": "#!/bin/sh\necho hi\n"})
        cloud = await make(cc, context("OS::Heat::CloudConfig", name="cc", native=native),
                           {"cloud_config": {"packages": ["git"]}})
        inner_ctx = context("OS::Heat::MultipartMime", name="inner", native=native)
        inner = await make(mm, inner_ctx, {"parts": [
            {"config": "inner text", "filename": "note.txt", "subtype": "plain"}]})
        ctx = context("OS::Heat::MultipartMime", name="mime", native=native)
        props = {"parts": [
            {"config": script.physical_id, "type": "text", "filename": "run.sh",
             "subtype": "x-shellscript"},
            {"config": cloud.physical_id, "type": "text"},
            {"config": "plain inline", "type": "text"},
            {"config": "00000000-0000-0000-0000-000000000000", "type": "text"},
            {"config": inner.physical_id, "type": "multipart"},
            {"config": "héllo", "type": "text"},
        ]}
        await make(mm, ctx, props)
        return str((await mm.attribute_values(ctx, props))["config"])

    message = run(scenario())
    assert email.message_from_string(message).get_content_type() == "multipart/mixed"
    parts = mime_parts(message)
    assert [p.get_content_type() for p in parts] == [
        "text/x-shellscript", "text/plain", "text/plain", "text/plain", "text/plain",
        "text/plain"]
    assert parts[0].get_filename() == "run.sh"
    assert parts[0].get_payload() == "#!/bin/sh\necho hi\n"
    assert parts[1].get_payload().startswith("#cloud-config\n")
    assert parts[2].get_payload() == "plain inline"
    # an id of nothing stored is used as the text itself
    assert parts[3].get_payload() == "00000000-0000-0000-0000-000000000000"
    assert parts[4].get_payload() == "inner text" and parts[4].get_filename() == "note.txt"
    assert parts[5].get_content_charset() == "utf-8"
    assert parts[5].get_payload(decode=True).decode("utf-8") == "héllo"


def test_multipart_subtype_from_filename_like_heat() -> None:
    mm = plugin("OS::Heat::MultipartMime")
    ctx = context("OS::Heat::MultipartMime")
    props = {"parts": [{"config": "x", "filename": "boot.sh"}]}

    async def scenario() -> str:
        await make(mm, ctx, props)
        return str((await mm.attribute_values(ctx, props))["config"])

    parts = mime_parts(run(scenario()))
    assert parts[0].get_content_type() == "text/boot"


def test_structured_config_keeps_a_map() -> None:
    p = plugin("OS::Heat::StructuredConfig")
    ctx = context("OS::Heat::StructuredConfig")
    props = defaults(p, config={"a": {"get_input": "x"}})

    async def scenario() -> Any:
        await make(p, ctx, props)
        return await p.attribute_values(ctx, props)

    attrs = run(scenario())
    assert attrs["config"] == {"a": {"get_input": "x"}} == attrs["show"]["config"]
