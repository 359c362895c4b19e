"""A provider template resource whose ``type`` names another template is updated in place:
its nested stack is updated to the new template (Heat 27.0.1 on the peer kept the same nested
stack, and a RandomString in it kept its value). This is what keeps CLI state files recorded
with relative names (``type: child.yaml``) working now that the CLI, as heatclient, names
templates by their ``file://`` URL."""

from __future__ import annotations

import asyncio

from engine_plugins import builtin_engine, hot

from kubeheat.engine import StackRequest

CHILD = """heat_template_version: 2018-08-31
resources:
  r: {type: OS::Heat::RandomString}
outputs:
  s: {value: {get_attr: [r, value]}}
  which: {value: %s}
"""


def test_a_provider_type_naming_another_template_updates_in_place() -> None:
    engine, _store, _native = builtin_engine()
    files = {"child.yaml": CHILD % "old", "file:///tree/child.yaml": CHILD % "new"}

    def parent(type_name: str) -> dict[str, object]:
        return hot({"p": {"type": type_name}}, {"s": {"get_attr": ["p", "s"]},
                                                "which": {"get_attr": ["p", "which"]}})

    async def go() -> None:
        made = await engine.create(StackRequest("ptc", parent("child.yaml"), files=files))
        assert made.state == "CREATE_COMPLETE", made.status_reason
        before = made.resources["p"].physical_id, made.outputs["s"]
        assert made.outputs["which"] == "old"
        done = await engine.update(made.id, StackRequest(
            "ptc", parent("file:///tree/child.yaml"), files=files))
        assert done.state == "UPDATE_COMPLETE", done.status_reason
        rec = done.resources["p"]
        assert (rec.physical_id, done.outputs["s"]) == before
        assert done.outputs["which"] == "new"
        assert rec.type == "file:///tree/child.yaml"
        assert rec.state == "UPDATE_COMPLETE"
        assert "p~1" not in done.resources

    asyncio.run(go())


def test_a_provider_template_becoming_a_native_type_is_replaced() -> None:
    engine, _store, _native = builtin_engine()
    files = {"child.yaml": CHILD % "old"}

    async def go() -> None:
        made = await engine.create(StackRequest("ptc2", hot({"p": {"type": "child.yaml"}}),
                                                files=files))
        old_id = made.resources["p"].physical_id
        done = await engine.update(made.id, StackRequest(
            "ptc2", hot({"p": {"type": "OS::Heat::None"}}), files=files))
        assert done.state == "UPDATE_COMPLETE", done.status_reason
        assert done.resources["p"].physical_id != old_id
        assert done.resources["p"].type == "OS::Heat::None"

    asyncio.run(go())
