"""``OS::Heat::Delay``: waits during the chosen actions.

The wait is ``min_wait`` plus a uniformly random jitter of up to
``max_jitter * jitter_multiplier`` seconds, during each action listed in ``actions`` (CREATE
and/or DELETE; SUSPEND and RESUME are accepted, as in Heat, though kubeheat has no such
actions). Placed in the dependency graph it delays what depends on it on create, and what it
depends on on delete. Every property updates in place, without waiting.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from kubeheat.resources.base import (
    LIST,
    NUMBER,
    Property,
    ResourceContext,
    register,
)
from kubeheat.resources.heat._common import NativeResource, bounded_sleep
from kubeheat.template import AllowedValuesConstraint, RangeConstraint

ACTIONS = ("CREATE", "DELETE", "SUSPEND", "RESUME")


def delay_secs(props: Mapping[str, Any], action: str) -> float:
    """The (randomised) wait for ``action``; 0 when the action is not listed."""
    actions = props.get("actions")
    if actions is None:
        actions = ["CREATE"]
    if action not in actions:
        return 0.0
    min_wait = float(props.get("min_wait") or 0)
    jitter = float(props.get("max_jitter") or 0) * float(
        1.0 if props.get("jitter_multiplier") is None else props["jitter_multiplier"])
    return min_wait + jitter * random.random()


@register
class Delay(NativeResource):
    type_name = "OS::Heat::Delay"
    show_is_none = True  # Heat: no API object to show
    description = ("Waits a configurable time during the chosen actions, to space out the "
                   "resources that depend on it (or that it depends on, when deleting).")
    properties = {
        "min_wait": Property(NUMBER, "The least number of seconds to wait during the listed "
                                     "actions.",
                             default=0, update_allowed=True,
                             constraints=(RangeConstraint(min=0),)),
        "max_jitter": Property(NUMBER, "The largest random addition to min_wait, in units of "
                                       "jitter_multiplier.",
                               default=0, update_allowed=True,
                               constraints=(RangeConstraint(min=0),)),
        "jitter_multiplier": Property(NUMBER, "Seconds per unit of max_jitter.",
                                      default=1.0, update_allowed=True,
                                      constraints=(RangeConstraint(min=0),)),
        "actions": Property(LIST, "The actions during which to wait.", default=["CREATE"],
                            update_allowed=True,
                            constraints=(AllowedValuesConstraint(allowed=ACTIONS),)),
    }
    attributes = {}

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": ctx.name}

    def reference_from(self, record_id: str, record: Mapping[str, Any]) -> str:
        """Heat sets no physical id on a Delay, so ``get_resource`` gives its name (a record
        of an older release, without the name, keeps its id)."""
        name = record.get("name")
        return name if isinstance(name, str) else record_id

    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        await bounded_sleep(ctx, delay_secs(props, "CREATE"))
        return True

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        return None

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        await bounded_sleep(ctx, delay_secs(props, "DELETE"))
        await super().delete(ctx, props)
