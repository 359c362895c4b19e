"""``OS::Heat::AutoScalingGroup`` and ``OS::Heat::ScalingPolicy``: a group that scales on signal.

The group keeps its members (any resource type, defined in HOT form by ``resource``) in a
generated nested stack. It starts with ``desired_capacity`` members (else ``min_size``); an
update resizes it to ``desired_capacity`` (else keeps the current size), always within
``min_size``/``max_size``; a changed ``resource`` is rolled out in batches following
``rolling_updates``. Scaling down removes the oldest members; new members get fresh random
names. Attributes: ``current_size``, ``refs``, ``refs_map``, ``outputs`` and ``outputs_list``
(with the member attribute as path: ``get_attr: [asg, outputs_list, first_address]``), and
``resource.<position>[.<attr>]``.

Scaling: signalling a ScalingPolicy adjusts its group (``change_in_capacity``,
``exact_capacity`` or ``percent_change_in_capacity`` with ``min_adjustment_step``), bounded by
the group's ``min_size``/``max_size``. After a change the policy is in cooldown for its own
``cooldown`` seconds, and the group for the policy's ``cooldown`` (else the group's own); the
group is also in cooldown for its ``cooldown`` after being created. A signal arriving during a
cooldown, while the group is already scaling or when the capacity would not change is ignored
(not an error), as in Heat; the reason is logged and kept in the resource's data under
``last_signal``.

How the policy reaches the group: the policy's signal handler calls
:attr:`ResourceContext.signal_resource` (``await ctx.signal_resource(group_ref, request)``),
which the engine sets: it delivers ``request`` as a signal to the resource of the same stack
whose reference id (``get_resource``), physical id or logical name is ``group_ref``, records the
data that resource's signal handler returns on the live stack state and returns it. The
group's :meth:`AutoScalingGroup.signal` accepts such a request (:data:`ADJUST` keys) and resizes
its nested stack through ``ctx.nested``. See :func:`adjustment_request`.

Facts follow Heat's ``autoscaling_group.py``, ``scaling_policy.py``, ``instance_group.py``,
``aws/autoscaling/autoscaling_group.py`` and ``heat/scaling/*``; the code is kubeheat's own.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from kubeheat.resources.base import (
    INTEGER,
    LIST,
    MAP,
    NUMBER,
    STRING,
    Attribute,
    Created,
    NestedStackResult,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.heat._common import REFERENCE, NativeResource
from kubeheat.resources.heat._nested import (
    ROLLING_UPDATE_SCHEMA,
    Members,
    NestedStackResource,
    check_members_size,
    child_result,
    clean_definition,
    invalid_attribute,
    member_attribute,
    member_definitions,
    member_template,
    needs_update,
    next_batch,
    pause_check,
    policy_values,
    reserve_child,
    run_child,
    select_path,
)
from kubeheat.template import AllowedValuesConstraint, RangeConstraint

LOG = logging.getLogger(__name__)

#: wall clock used for cooldowns (persisted across processes, so not monotonic); tests patch it
clock: Callable[[], float] = time.time

ADJUSTMENT_TYPES = (EXACT_CAPACITY, CHANGE_IN_CAPACITY, PERCENT_CHANGE_IN_CAPACITY) = (
    "exact_capacity", "change_in_capacity", "percent_change_in_capacity")
CFN_EXACT_CAPACITY = "ExactCapacity"

#: keys of the adjustment request a policy sends its group
ADJUST = ("adjustment", "adjustment_type", "min_adjustment_step", "cooldown")
#: ``ctx.data`` key with the outcome of the last signal
LAST_SIGNAL = "last_signal"
SCALED, IGNORED = "scaled", "ignored"

#: one scaling at a time per group / policy (Heat's ``scaling_in_progress``)
_SCALING: dict[str, asyncio.Lock] = {}


def new_capacity(current: int, adjustment: float, adjustment_type: str,
                 min_adjustment_step: int | None, minimum: int, maximum: int) -> int:
    """The group size after an adjustment, kept within ``minimum``..``maximum``."""
    if adjustment_type in (CHANGE_IN_CAPACITY, "ChangeInCapacity"):
        wanted = current + adjustment
    elif adjustment_type in (EXACT_CAPACITY, CFN_EXACT_CAPACITY):
        wanted = adjustment
    else:
        delta = current * adjustment / 100.0
        if abs(delta) < 1.0:
            step = math.ceil(delta) if delta > 0.0 else math.floor(delta)
        else:
            step = math.floor(delta) if delta > 0.0 else math.ceil(delta)
        if min_adjustment_step and min_adjustment_step > abs(step):
            step = min_adjustment_step if step > 0 else -min_adjustment_step
        wanted = current + step
    return int(max(min(wanted, maximum), minimum))


def sanitize_cooldown(cooldown: Any) -> float:
    return 0.0 if cooldown is None else max(0.0, float(cooldown))


def show_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def no_action(name: str, reason: str) -> str:
    """Heat's NoActionRequired message."""
    return f"The resource {name} could not perform scaling action: {reason}"


def cooldown_reason(cooldown: Any) -> str:
    return f"due to cooldown, cooldown {show_number(sanitize_cooldown(cooldown))}"


def short_id() -> str:
    """A 12-character lower-case id like Heat's member names."""
    return base64.b32encode(uuid.uuid4().bytes).decode("ascii")[:12].lower()


def adjustment_request(props: Mapping[str, Any], policy: str) -> dict[str, Any]:
    """The signal a ScalingPolicy sends its group."""
    return {"adjustment": props.get("scaling_adjustment"),
            "adjustment_type": props.get("adjustment_type"),
            "min_adjustment_step": props.get("min_adjustment_step"),
            "cooldown": props.get("cooldown"),
            "policy": policy}


def _ignored(ctx: ResourceContext, data: dict[str, Any], reason: str) -> dict[str, Any]:
    LOG.info("%s: signal ignored: %s", ctx.name, reason)
    data[LAST_SIGNAL] = {"result": IGNORED, "reason": reason, "time": clock()}
    return data


def asg_batches(capacity: int, batch_size: int, min_in_service: int
                ) -> Iterator[tuple[int, int]]:
    """The batches of an AutoScalingGroup rolling update (Heat's InstanceGroup)."""
    size, updated = capacity, 0
    while needs_update(capacity, size, updated):
        size, num_new = next_batch(capacity, size, updated, batch_size, min_in_service)
        yield size, num_new
        updated += num_new


def check_sizes(props: Mapping[str, Any]) -> tuple[int, int]:
    """(min_size, max_size), failing as Heat's validation does."""
    low = int(props.get("min_size") or 0)
    high = int(props.get("max_size") or 0)
    if high < low:
        raise ResourceFailure("MinSize can not be greater than MaxSize")
    if low < 0:
        raise ResourceFailure("The size of AutoScalingGroup can not be less than zero")
    desired = props.get("desired_capacity")
    if desired is not None and not low <= int(desired) <= high:
        raise ResourceFailure("DesiredCapacity must be between MinSize and MaxSize")
    return low, high


@register
class AutoScalingGroup(NestedStackResource):
    type_name = "OS::Heat::AutoScalingGroup"
    description = ("An autoscaling group that can scale arbitrary resources: a desired count "
                   "of similar resources, defined in HOT form by the resource property, scaled "
                   "by OS::Heat::ScalingPolicy signals.")
    properties = {
        "resource": Property(MAP, "Resource definition for the resources in the group, in HOT "
                             "format. The value of this property is the definition of a "
                             "resource just as if it had been declared in the template "
                             "itself.", required=True, update_allowed=True),
        "max_size": Property(INTEGER, "Maximum number of resources in the group.",
                             required=True, update_allowed=True,
                             constraints=(RangeConstraint(min=0),)),
        "min_size": Property(INTEGER, "Minimum number of resources in the group.",
                             required=True, update_allowed=True,
                             constraints=(RangeConstraint(min=0),)),
        "cooldown": Property(INTEGER, "Cooldown period, in seconds.", update_allowed=True),
        "desired_capacity": Property(INTEGER, "Desired initial number of resources.",
                                     update_allowed=True),
        "rolling_updates": Property(MAP, "Policy for rolling updates for this scaling group.",
                                    update_allowed=True, schema=ROLLING_UPDATE_SCHEMA,
                                    default={"min_in_service": 0, "max_batch_size": 1,
                                             "pause_time": 0}),
    }
    attributes = {
        "outputs": Attribute("A map of resource names to the specified attribute of each "
                             "individual resource that is part of the AutoScalingGroup.", MAP),
        "outputs_list": Attribute("A list of the specified attribute of each individual "
                                  "resource that is part of the AutoScalingGroup.", LIST),
        "current_size": Attribute("The current size of AutoscalingResourceGroup.", INTEGER),
        "refs": Attribute("A list of resource IDs for the resources in the group.", LIST),
        "refs_map": Attribute("A map of resource names to IDs for the resources in the group.",
                              MAP),
    }
    #: takes adjustment requests from ScalingPolicy (through ctx.signal_resource)
    signalable: ClassVar[bool] = True
    dynamic_attributes: ClassVar[bool] = True

    # -- members ------------------------------------------------------------------------------
    @staticmethod
    def known_members(ctx: ResourceContext) -> list[str]:
        """Member names, oldest first (after an adoption: as the child stack lists them)."""
        names = ctx.data.get("members")
        if names is None:
            found = child_result(ctx)
            names = list(found.resource_ids()) if found is not None else []
        return list(names)

    @staticmethod
    def _old(data: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        definitions: Mapping[str, Any] = data.get("definitions") or {}
        return [(n, dict(definitions.get(n) or {})) for n in data.get("members") or []]

    async def _apply(self, ctx: ResourceContext, data: dict[str, Any],
                     members: list[tuple[str, dict[str, Any]]]) -> NestedStackResult:
        result = await run_child(ctx, member_template(members))
        data["members"] = [n for n, _ in members]
        data["definitions"] = {n: d for n, d in members}
        data[REFERENCE] = result.stack_id
        return result

    async def resize(self, ctx: ResourceContext, data: dict[str, Any],
                     props: Mapping[str, Any], capacity: int) -> NestedStackResult:
        """Grow or shrink to ``capacity``: the oldest members go first, existing members keep
        their definitions, new ones get the current one."""
        reserve_child(ctx, self.type_name, props, capacity)
        check_members_size(ctx, props.get("resource"), capacity)
        definition = clean_definition(props.get("resource") or {})
        members = member_definitions(self._old(data), capacity, 0, short_id,
                                     lambda _name: definition)
        return await self._apply(ctx, data, members)

    async def _rolling(self, ctx: ResourceContext, data: dict[str, Any],
                       props: Mapping[str, Any]) -> None:
        policy = policy_values(props.get("rolling_updates") or {}, ROLLING_UPDATE_SCHEMA) or {}
        capacity = len(data.get("members") or [])
        pause = float(policy["pause_time"])
        batches = list(asg_batches(capacity, int(policy["max_batch_size"]),
                                   int(policy["min_in_service"])))
        pause_check(ctx, len(batches), pause)
        definition = clean_definition(props.get("resource") or {})
        for number, (size, num_new) in enumerate(batches):
            members = member_definitions(self._old(data), size, num_new, short_id,
                                         lambda _name: definition)
            await self._apply(ctx, data, members)
            if number < len(batches) - 1 and pause > 0:
                await asyncio.sleep(pause)

    # -- handlers -------------------------------------------------------------------------------
    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        low, _high = check_sizes(props)
        size = int(props.get("desired_capacity") or low)
        data: dict[str, Any] = {"members": [], "definitions": {}}
        result = await self.resize(ctx, data, props, size)
        data["cooldown_end"] = clock() + sanitize_cooldown(props.get("cooldown"))
        data["cooldown_reason"] = f"{CFN_EXACT_CAPACITY} : {size}"
        return Created(physical_id=result.stack_id, data=data)

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        low, high = check_sizes(new)
        data = copy.deepcopy(ctx.data)
        data["members"] = self.known_members(ctx)
        if "resource" in changed:
            await self._rolling(ctx, data, new)
        capacity = len(data["members"])
        desired = new.get("desired_capacity") or capacity
        target = new_capacity(capacity, desired, EXACT_CAPACITY, None, low, high)
        if target != capacity or "resource" not in changed:
            await self.resize(ctx, data, new, target)
        return data

    async def signal(self, ctx: ResourceContext, props: dict[str, Any], details: Any
                     ) -> dict[str, Any] | None:
        """An adjustment request (see :func:`adjustment_request`): Heat's ``adjust``."""
        if not isinstance(details, Mapping) or details.get("adjustment") is None:
            raise ResourceFailure("signal is not supported for resource.")
        data = copy.deepcopy(ctx.data)
        lock = _SCALING.setdefault(f"group:{ctx.physical_id or ctx.name}", asyncio.Lock())
        if lock.locked():
            return _ignored(ctx, data, no_action(ctx.name, "due to scaling activity"))
        async with lock:
            low, high = check_sizes(props)
            capacity = len(self.known_members(ctx))
            try:
                adjustment = float(details["adjustment"])
            except (TypeError, ValueError):
                raise ResourceFailure(
                    f"adjustment: {details['adjustment']!r} is not a number") from None
            kind = details.get("adjustment_type") or CHANGE_IN_CAPACITY
            step = details.get("min_adjustment_step")
            target = new_capacity(capacity, adjustment, kind,
                                  None if step is None else int(step), low, high)
            if target == capacity:
                return _ignored(ctx, data, f"{ctx.name} NOT performing scaling adjustment, as "
                                "there is no change in capacity.")
            cooldown = details.get("cooldown")
            if cooldown is None:
                cooldown = props.get("cooldown")
            now = clock()
            if now < float(data.get("cooldown_end") or 0.0):
                return _ignored(ctx, data, no_action(ctx.name, cooldown_reason(cooldown)))
            data["members"] = self.known_members(ctx)
            await self.resize(ctx, data, props, target)
            end = clock() + sanitize_cooldown(cooldown)
            data["cooldown_end"] = max(end, float(data.get("cooldown_end") or 0.0))
            data["cooldown_reason"] = f"{kind} : {show_number(adjustment)}"
            data[LAST_SIGNAL] = {"result": SCALED, "previous": capacity, "capacity": target,
                                 "time": now}
            return data

    # -- attributes -----------------------------------------------------------------------------
    def members(self, ctx: ResourceContext) -> Members:
        return Members(ctx, self.known_members(ctx))

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        members = self.members(ctx)
        positions = [str(i) for i in range(len(members.names))]
        # outputs: {attr: {member: value}}, outputs_list: {attr: [values]} - so that
        # [asg, outputs, attr] and [asg, outputs_list, attr] resolve from cached values
        out = members.precomputed(self.attributes, labels=positions, by_attribute="outputs",
                                  as_list=False)
        out["outputs_list"] = {attr: list(values.values())
                               for attr, values in out["outputs"].items()}
        out.update({"current_size": len(members.names), "refs": members.refs(),
                    "refs_map": members.refs_map()})
        for position, name in enumerate(members.names):
            out[f"resource.{position}"] = members.ref(name)
        return out

    def get_attribute(self, ctx: ResourceContext, props: Mapping[str, Any], key: str,
                      path: Sequence[Any]) -> Any:
        """The value of ``get_attr: [asg, key, *path]`` (the whole path applied)."""
        members = self.members(ctx)
        if key == "current_size":
            return len(members.names)
        if key == "refs":
            return select_path(members.refs(), path)
        if key == "refs_map":
            return select_path(members.refs_map(), path)
        if key in ("outputs", "outputs_list") and path:
            values = {n: members.attr(n, str(path[0]), path[1:]) for n in members.names}
            return values if key == "outputs" else list(values.values())
        if key.startswith("resource."):
            return member_attribute(ctx, members, key, path, by_position=True)
        raise invalid_attribute(ctx, key)


@register
class ScalingPolicy(NativeResource):
    type_name = "OS::Heat::ScalingPolicy"
    id_form = "user"  # Heat: the id of the Keystone user it makes
    description = ("A resource to manage scaling of OS::Heat::AutoScalingGroup: signalling it "
                   "adjusts the group by scaling_adjustment, honouring cooldown.")
    properties = {
        "auto_scaling_group_id": Property(STRING, "AutoScaling group ID to apply policy to.",
                                          required=True),
        "scaling_adjustment": Property(NUMBER, "Size of adjustment.", required=True,
                                       update_allowed=True),
        "adjustment_type": Property(STRING, "Type of adjustment (absolute or percentage).",
                                    required=True, update_allowed=True,
                                    constraints=(AllowedValuesConstraint(allowed=(
                                        CHANGE_IN_CAPACITY, EXACT_CAPACITY,
                                        PERCENT_CHANGE_IN_CAPACITY)),)),
        "cooldown": Property(NUMBER, "Cooldown period, in seconds.", update_allowed=True),
        "min_adjustment_step": Property(INTEGER, "Minimum number of resources that are added "
                                        "or removed when the AutoScaling group scales up or "
                                        "down. This can be used only when specifying "
                                        "percent_change_in_capacity for the adjustment_type "
                                        "property.", update_allowed=True,
                                        constraints=(RangeConstraint(min=0),)),
    }
    attributes = {
        "alarm_url": Attribute("A signed url to handle the alarm.", STRING),
        "signal_url": Attribute("A url to handle the alarm using native API.", STRING),
    }
    signalable: ClassVar[bool] = True

    @staticmethod
    def check(props: Mapping[str, Any]) -> None:
        if (props.get("adjustment_type") != PERCENT_CHANGE_IN_CAPACITY
                and props.get("min_adjustment_step") is not None):
            raise ResourceFailure(
                "min_adjustment_step property should only be specified for adjustment_type "
                f"with value {PERCENT_CHANGE_IN_CAPACITY}.")

    def build(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        self.check(props)
        return {"auto_scaling_group_id": props.get("auto_scaling_group_id")}

    def attrs_from(self, ctx: ResourceContext, record: Mapping[str, Any],
                   props: Mapping[str, Any]) -> dict[str, Any]:
        url = (f"kubeheat://stacks/{ctx.stack_name}/{ctx.stack_id}/resources/{ctx.name}"
               "/signal")
        return {"alarm_url": url, "signal_url": url}

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        self.check(new)
        await super().update(ctx, old, new, changed)
        return None

    async def signal(self, ctx: ResourceContext, props: dict[str, Any], details: Any
                     ) -> dict[str, Any] | None:
        self.check(props)
        state = "alarm"
        if isinstance(details, Mapping):
            state = str(details.get("current", details.get("state", "alarm"))).lower()
        LOG.info("Alarm %s, new state %s", ctx.name, state)
        data = copy.deepcopy(ctx.data)
        group_ref = str(props.get("auto_scaling_group_id"))
        cooldown = props.get("cooldown")
        lock = _SCALING.setdefault(f"policy:{ctx.physical_id or ctx.name}", asyncio.Lock())
        if lock.locked():
            return _ignored(ctx, data, no_action(ctx.name, "due to scaling activity"))
        async with lock:
            now = clock()
            if now < float(data.get("cooldown_end") or 0.0):
                return _ignored(ctx, data, no_action(ctx.name, cooldown_reason(cooldown)))
            sender = ctx.signal_resource
            if sender is None:
                raise ResourceFailure(
                    f"{ctx.name}: the engine cannot deliver signals to other resources, so "
                    f"the scaling group {group_ref!r} cannot be adjusted")
            LOG.info("%s alarm, adjusting group %s by %s", ctx.name, group_ref,
                     props.get("scaling_adjustment"))
            try:
                outcome = await sender(group_ref, adjustment_request(props, ctx.name))
            except LookupError:
                raise ResourceFailure(f'Alarm {ctx.name} could not find scaling group named '
                                      f'"{group_ref}"') from None
            result = (outcome or {}).get(LAST_SIGNAL) or {}
            if result.get("result") != SCALED:
                return _ignored(ctx, data, str(result.get("reason") or "no action required"))
            end = clock() + sanitize_cooldown(cooldown)
            data["cooldown_end"] = max(end, float(data.get("cooldown_end") or 0.0))
            data[LAST_SIGNAL] = {"result": SCALED, "group": group_ref,
                                 "previous": result.get("previous"),
                                 "capacity": result.get("capacity"), "time": now}
            return data


__all__ = ["AutoScalingGroup", "ScalingPolicy", "new_capacity"]
