"""``OS::Heat::TestResource``: stores a string, with knobs to script the engine.

- ``wait_secs`` (or per action ``action_wait_secs.create|update|delete``) makes the action take
  that long (-1: until the stack times out or the operation is cancelled);
- ``fail: true`` fails create and update (after the wait) with ``ValueError: Test Resource
  failed <name>``; delete never fails. Any update while ``fail`` is true fails;
- ``update_replace: true`` makes a change of ``value`` replace the resource instead of updating
  it in place; ``update_replace_value`` can never change in place;
- ``attr_wait_secs`` delays resolving the ``output`` attribute;
- ``client_name``/``entity_name`` exist for template compatibility: kubeheat has no client to
  poll, so they only wait like ``wait_secs`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeheat.resources.base import (
    BOOLEAN,
    MAP,
    NUMBER,
    STRING,
    Attribute,
    Created,
    Property,
    ResourceContext,
    register,
)
from kubeheat.resources.heat._common import NativeResource, bounded_sleep, store
from kubeheat.template import CustomConstraintRef

CREATE, UPDATE, DELETE = "create", "update", "delete"


def wait_secs(props: Mapping[str, Any], action: str) -> float:
    """Seconds an action waits: its ``action_wait_secs`` entry, else ``wait_secs``."""
    per_action = props.get("action_wait_secs") or {}
    secs = per_action.get(action) if isinstance(per_action, Mapping) else None
    if secs is None:
        secs = props.get("wait_secs") or 0
    return float(secs)


def failure(ctx: ResourceContext) -> ValueError:
    """Heat's failure for ``fail: true``."""
    return ValueError(f"Test Resource failed {ctx.name}")


@register
class TestResource(NativeResource):
    __test__ = False  # not a pytest test class

    type_name = "OS::Heat::TestResource"
    show_is_none = True  # Heat: no API object to show
    id_form = "name"  # Heat: physical id <stack>-<resource>-<short id>
    description = ("Keeps the string it is given; for testing only. Its properties make "
                   "actions slow, fail, or replace instead of updating.")
    properties = {
        "value": Property(STRING, "The string to keep (also the output attribute).",
                          default="test_string", update_allowed=True),
        "update_replace_value": Property(
            STRING, "A string that is kept but cannot change without replacing the "
                    "resource."),
        "fail": Property(BOOLEAN, "Make create and update fail, to exercise failure "
                                  "handling.",
                         default=False, update_allowed=True),
        "update_replace": Property(BOOLEAN, "Replace the resource instead of updating it in "
                                            "place when value changes.",
                                   default=False, update_allowed=True),
        "wait_secs": Property(NUMBER, "How long each action takes, in seconds (-1: "
                                      "forever).",
                              default=0, update_allowed=True),
        "action_wait_secs": Property(
            MAP, "Per-action durations overriding wait_secs.", update_allowed=True,
            schema={
                CREATE: Property(NUMBER, "Seconds a create takes (default: wait_secs).",
                                 update_allowed=True),
                UPDATE: Property(NUMBER, "Seconds an update takes (default: wait_secs).",
                                 update_allowed=True),
                DELETE: Property(NUMBER, "Seconds a delete takes (default: wait_secs).",
                                 update_allowed=True),
            }),
        "attr_wait_secs": Property(NUMBER, "How long resolving the output attribute takes, "
                                           "in seconds.",
                                   default=0, update_allowed=True),
        "constraint_prop_secs": Property(
            NUMBER, "A number checked by the test_constr custom constraint.",
            default=0, update_allowed=True,
            constraints=(CustomConstraintRef(constraint="test_constr"),)),
        "client_name": Property(STRING, "Name of a client to poll while waiting (not used "
                                        "by kubeheat).",
                                default="", update_allowed=True),
        "entity_name": Property(STRING, "Name of the client's entity to poll while waiting "
                                        "(not used by kubeheat).",
                                default="", update_allowed=True),
    }
    attributes = {
        "output": Attribute("The kept string; get_resource does not return it (it returns "
                            "the physical id)."),
    }

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"value": props.get("value", "test_string"),
                "update_replace_value": props.get("update_replace_value")}

    def attrs_from(self, ctx: ResourceContext, record: Mapping[str, Any],
                   props: Mapping[str, Any]) -> dict[str, Any]:
        return {"output": record.get("value")}

    def needs_replacement(self, old: Mapping[str, Any], new: Mapping[str, Any],
                          changed: frozenset[str]) -> frozenset[str]:
        replace = set(super().needs_replacement(old, new, changed))
        if "value" in changed and new.get("update_replace"):
            replace.add("value")
        return frozenset(replace)

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        if props.get("fail"):
            # like Heat: nothing is made, the action takes its time, then fails
            await bounded_sleep(ctx, wait_secs(props, CREATE))
            raise failure(ctx)
        return await super().create(ctx, props)

    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        await bounded_sleep(ctx, wait_secs(props, CREATE))
        return True

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        value = new.get("value") if "value" in changed else None
        fail = bool(new.get("fail"))
        if value:
            if not fail:
                found = self.require_record(ctx)
                found["value"] = value
                assert ctx.physical_id is not None
                store(ctx).update(self.kind, ctx.physical_id, found)
            await bounded_sleep(ctx, wait_secs(new, UPDATE))
        else:
            await bounded_sleep(ctx, 0)
        if fail:
            raise failure(ctx)
        return None

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        await bounded_sleep(ctx, wait_secs(props, DELETE))
        await super().delete(ctx, props)

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        await bounded_sleep(ctx, float(props.get("attr_wait_secs") or 0))
        return await super().attribute_values(ctx, props)
