"""The nested-stack family: what the types that run a child stack share.

ResourceGroup, ResourceChain, AutoScalingGroup, OS::Heat::Stack and provider templates each keep
their members in one child stack, run on the parent's engine through
:attr:`ResourceContext.nested`. :class:`NestedStackResource` is their base: it declares
``runs_nested_stacks`` (the engine then never holds a concurrency slot the children wait for)
and the handlers that only delegate to the child (delete it, read it, adopt it after a crash).
The rest of this module is the shared machinery: generated member templates, member attribute
lookups and Heat's rolling-update arithmetic.

Facts follow Heat's ``resource_group.py``, ``stack_resource.py``, ``heat/scaling/rolling_update.py``
and ``heat/scaling/template.py``; the code is kubeheat's own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from kubeheat.resources.base import (
    INTEGER,
    NUMBER,
    Created,
    NestedStackResult,
    NestedStacks,
    Observed,
    Property,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
)
from kubeheat.resources.heat._common import REFERENCE
from kubeheat.template import (
    DEFAULT_LIMITS,
    RangeConstraint,
    TemplateLimitError,
    child_resources,
    json_size,
)

#: the id of the one child stack a nested-stack type runs (the engine scopes child ids by the
#: resource incarnation, so a replacement gets its own)
CHILD = "nested"
#: child stack statuses a rerun after a crash may adopt as they are
FINISHED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
#: HOT version of the templates generated for members (Heat's choice)
MEMBER_TEMPLATE_VERSION = "2015-04-30"
#: output of generated templates mapping member names to their ``get_resource`` value
REFS_MAP_OUTPUT = "refs_map"
#: keys of a member resource definition that are carried into the nested template
MEMBER_KEYS = ("type", "properties", "metadata", "deletion_policy", "update_policy",
               "description")


# -- nested stack plumbing ---------------------------------------------------------------------
def nested_stacks(ctx: ResourceContext) -> NestedStacks:
    """The engine's nested stack runner, or a failure naming what is missing."""
    if ctx.nested is None:
        raise ResourceFailure(f"{ctx.type} needs nested stacks and the engine gave none")
    return ctx.nested


def child_result(ctx: ResourceContext, child_id: str = CHILD) -> NestedStackResult | None:
    """The child stack as last recorded (None: there is none)."""
    return None if ctx.nested is None else ctx.nested.get(child_id)


def member_template(members: Iterable[tuple[str, Mapping[str, Any]]], *,
                    depends_on: Mapping[str, Sequence[str]] | None = None
                    ) -> dict[str, Any]:
    """A HOT template holding ``members`` (name, definition) and an output mapping each member
    name to its reference id."""
    resources: dict[str, Any] = {}
    for name, definition in members:
        body = copy.deepcopy(dict(definition))
        if depends_on and depends_on.get(name):
            body["depends_on"] = list(depends_on[name])
        resources[name] = body
    return {
        "heat_template_version": MEMBER_TEMPLATE_VERSION,
        "resources": resources,
        "outputs": {REFS_MAP_OUTPUT: {
            "value": {name: {"get_resource": name} for name in resources}}},
    }


def clean_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A member definition with only the keys Heat carries over, unset ones and properties
    whose value is None left out (Heat drops them too)."""
    out: dict[str, Any] = {}
    for key in MEMBER_KEYS:
        value = definition.get(key)
        if value is None:
            continue
        if key == "properties" and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if v is not None}
            if not value:
                continue
        out[key] = copy.deepcopy(value)
    return out


async def run_child(ctx: ResourceContext, template: Mapping[str, Any],
                    parameters: Mapping[str, Any] | None = None, *,
                    timeout: float | None = None,
                    region: str | None = None) -> NestedStackResult:
    """Create or update the child stack (in ``region``: a remote stack's); the stack
    deadline bounds the timeout."""
    remaining = ctx.remaining()
    if remaining is not None:
        timeout = remaining if timeout is None else min(timeout, remaining)
    nested = nested_stacks(ctx)
    if region is None:
        return await nested.create_or_update(CHILD, template, parameters or {},
                                             timeout=timeout)
    return await nested.create_or_update(CHILD, template, parameters or {}, timeout=timeout,
                                         region=region)


def reserve_child(ctx: ResourceContext, type_name: str, props: Mapping[str, Any],
                  resources: int | None = None, child_id: str = CHILD) -> None:
    """Before a group builds its child's template: the child may hold ``resources`` (by
    default what the group's properties ask for) within Heat's ``max_resources_per_stack``
    over the tree (review H7: a huge ``count`` fails before anything is built)."""
    if resources is None:
        resources = child_resources(type_name, props)
    if resources is not None:
        nested_stacks(ctx).reserve(child_id, resources)


def check_members_size(ctx: ResourceContext, definition: Any, count: int) -> None:
    """Before a group builds ``count`` members from one ``definition``: the child's template
    may not take more than ``max_evaluated_bytes`` (what a nested stack's template may hold),
    found without building it (review H6: 1000 copies of a 16 MB definition)."""
    limit = DEFAULT_LIMITS.max_evaluated_bytes
    if count <= 0 or limit < 0:
        return
    size = json_size(definition, limit // count + 1)
    if size * count > limit:
        raise TemplateLimitError(
            f"The nested stack's template ({count} members) would take more than {limit} "
            "bytes (limit max_evaluated_bytes)", ("resources", ctx.name))


async def delete_child(ctx: ResourceContext, child_id: str = CHILD) -> None:
    if ctx.nested is not None:
        await ctx.nested.delete(child_id)


def observed_child(ctx: ResourceContext, child_id: str = CHILD) -> Observed | None:
    """``read``: the child stack as last recorded (None when it is gone)."""
    found = child_result(ctx, child_id)
    if found is None:
        return None
    failed = found.status_reason or found.status if found.status.endswith("_FAILED") else None
    return Observed(properties={}, attributes={}, status=found.status, failed=failed)


def existing_child(ctx: ResourceContext, child_id: str = CHILD) -> Created | None:
    """``find_existing``: the child stack an interrupted create already made, when it was
    finished. An unfinished child (interrupted, failed) is not adopted as it is: the create
    runs it again, which resumes it (adopting it would record the group complete over a
    child whose members were never made)."""
    found = child_result(ctx, child_id)
    if found is None or found.stack_id in ctx.exclude_ids or found.status not in FINISHED:
        return None
    return Created(physical_id=found.stack_id, data={REFERENCE: found.stack_id})


# -- attributes -----------------------------------------------------------------------------
def invalid_attribute(ctx: ResourceContext, key: str, path: Sequence[Any] = ()
                      ) -> ResourceFailure:
    """Heat's InvalidTemplateAttribute. With a path Heat names the attribute and the path
    as the Python tuple it looked up (``(asg ('outputs_list', 'nosuch'))``)."""
    text = repr((key, *path)) if path else key
    return ResourceFailure(f"The Referenced Attribute ({ctx.name} {text}) is incorrect.")


def member_not_found(ctx: ResourceContext, member: str) -> ResourceFailure:
    return ResourceFailure(f"Member '{member}' not found in group resource '{ctx.name}'.")


def select_path(value: Any, path: Sequence[Any]) -> Any:
    """Walk ``path`` into a group attribute value; None when it leads nowhere.

    Heat's ``select_from_attribute`` is :func:`kubeheat.template.scope.walk_path`; this one
    differs in one way, kept from kubeheat's first release: a numeric string (``"0"``) also
    indexes a list."""
    for key in path:
        if isinstance(value, Mapping):
            if key not in value:
                return None
            value = value[key]
        elif isinstance(value, Sequence) and not isinstance(value, str):
            if isinstance(key, str):
                try:
                    key = int(key)
                except ValueError:
                    return None
            if not isinstance(key, int) or not -len(value) <= key < len(value):
                return None
            value = value[key]
        else:
            return None
    return value


class Members:
    """The members of a group's child stack, in the group's order."""

    def __init__(self, ctx: ResourceContext, names: Sequence[str]) -> None:
        self.ctx = ctx
        self.names = list(names)
        self.result = child_result(ctx)

    def ref(self, name: str) -> Any:
        """What ``get_resource`` gives for member ``name`` (None before it exists)."""
        if self.result is None:
            return None
        refs = self.result.outputs.get(REFS_MAP_OUTPUT)
        if isinstance(refs, Mapping) and name in refs:
            return refs[name]
        return self.result.resource_ids().get(name)

    def refs_map(self) -> dict[str, Any]:
        return {n: self.ref(n) for n in self.names}

    def refs(self) -> list[Any]:
        return [self.ref(n) for n in self.names]

    def attr(self, name: str, attribute: str, path: Sequence[Any]) -> Any:
        if self.result is None:
            return None
        return self.result.resource_attribute(name, attribute, list(path))

    def all_attrs(self, name: str) -> dict[str, Any]:
        """Every attribute value the engine holds for member ``name``."""
        if self.result is None:
            return {}
        found = self.result.resource_attribute(name, None, [])
        return dict(found) if isinstance(found, Mapping) else {}

    def precomputed(self, declared: Iterable[str], *, labels: Sequence[str] | None = None,
                    by_attribute: str | None = "attributes", as_list: bool = True
                    ) -> dict[str, Any]:
        """Attribute values derived from the members' attributes, for engines that only look
        up cached values (``get_attribute`` answers every path exactly):

        - ``resource.<label>.<attr>``: one member's attribute (``labels`` default to names);
        - ``<attr>``: that attribute of every member, as a list (``as_list``);
        - ``<by_attribute>``: ``{attr: {member: value}}``, so that ``[group, attributes,
          attr]`` gives the per-member map.
        """
        skip = set(declared)
        labels = list(labels) if labels is not None else self.names
        per_member = {n: self.all_attrs(n) for n in self.names}
        attr_names: list[str] = []
        for values in per_member.values():
            attr_names.extend(a for a in values if a not in attr_names and a != "show")
        out: dict[str, Any] = {}
        for label, name in zip(labels, self.names, strict=True):
            for attr, value in per_member[name].items():
                if attr != "show":
                    out[f"resource.{label}.{attr}"] = value
        if as_list:
            for attr in attr_names:
                if attr not in skip and not attr.startswith("resource."):
                    out[attr] = [per_member[n].get(attr) for n in self.names]
        if by_attribute is not None:
            out[by_attribute] = {attr: {n: per_member[n].get(attr) for n in self.names}
                                 for attr in attr_names}
        return out


def member_attribute(ctx: ResourceContext, members: Members, key: str, path: Sequence[Any], *,
                     by_position: bool = False) -> Any:
    """``resource.<n>`` / ``resource.<n>.<attr>`` of a group. ``<n>`` is a member name, or
    (AutoScalingGroup) a position in the member list."""
    parts = key.split(".", 2)
    target = parts[1] if len(parts) > 1 else ""
    if by_position:
        try:
            name = members.names[int(target)]
        except (ValueError, IndexError):
            raise member_not_found(ctx, target) from None
    else:
        if target not in members.names:
            raise member_not_found(ctx, target)
        name = target
    if len(parts) == 3:
        return members.attr(name, parts[2], path)
    if path:
        # ``[group, resource.0, attr, ...]``: the first path item names the attribute
        return members.attr(name, str(path[0]), path[1:])
    return members.ref(name)


# -- Heat's rolling update arithmetic (heat/scaling) -----------------------------------------
def needs_update(target: int, current: int, up_to_date: int) -> bool:
    """Whether another batch is due: not all members updated or the size is not right yet."""
    return not (up_to_date >= current == target)


def next_batch(target: int, current: int, up_to_date: int, batch_size: int,
               min_in_service: int) -> tuple[int, int]:
    """(group size after the batch, members given the new definition in it)."""
    assert up_to_date <= current
    min_size = min(min_in_service, target, current)
    batch = min(batch_size, max(target - up_to_date, 0))
    size = batch + max(min(current, target - batch), min_size)
    return size, batch


def group_batches(target: int, current: int, batch_size: int, min_in_service: int
                  ) -> Iterator[tuple[int, int]]:
    """The batches of a ResourceGroup rolling update or batched create."""
    updated = 0
    while needs_update(target, current, updated):
        size, batch = next_batch(target, current, updated, batch_size, min_in_service)
        yield size, batch
        updated += batch - max(size - max(current, target), 0)
        current = size


def member_definitions(old: Sequence[tuple[str, dict[str, Any]]], size: int, num_new: int,
                       new_name: Callable[[], str],
                       definition_for: Callable[[str], dict[str, Any]]
                       ) -> list[tuple[str, dict[str, Any]]]:
    """The members of the next template of a scaling group.

    ``old`` lists the existing members, the first to go first; the last ``size`` of them are
    kept, new ones are added up to ``size``. ``num_new`` members get the new definition, new
    ones first, then the kept members whose definition differs, in order.
    """
    kept = list(old[max(len(old) - size, 0):]) if size else []
    replace = num_new - (size - len(kept))
    out: list[tuple[str, dict[str, Any]]] = []
    for name, definition in kept:
        wanted = definition_for(name)
        if definition != wanted and replace > 0:
            replace -= 1
            out.append((name, wanted))
        else:
            out.append((name, definition))
    while len(out) < size:
        name = new_name()
        out.append((name, definition_for(name)))
    return out


def pause_check(ctx: ResourceContext, batches: int, pause: float) -> None:
    """Heat refuses an update policy whose pauses alone outlast the stack timeout."""
    remaining = ctx.remaining()
    if remaining is not None and pause * max(batches - 1, 0) >= remaining:
        raise ResourceFailure(
            "The current update policy will result in stack update timeout.")


def policy_values(raw: Any, schema: Mapping[str, Property]) -> dict[str, Any] | None:
    """An ``update_policy`` entry with defaults applied (None when absent)."""
    if not isinstance(raw, Mapping):
        return None
    out: dict[str, Any] = {}
    for key, prop in schema.items():
        value = raw.get(key)
        out[key] = prop.default if value is None else value
    return out


# -- update policies --------------------------------------------------------------------------
ROLLING_UPDATE_SCHEMA: Mapping[str, Property] = {
    "min_in_service": Property(INTEGER, "The minimum number of resources in service while "
                               "rolling updates are being executed.", default=0,
                               constraints=(RangeConstraint(min=0),)),
    "max_batch_size": Property(INTEGER, "The maximum number of resources to replace at once.",
                               default=1, constraints=(RangeConstraint(min=1),)),
    "pause_time": Property(NUMBER, "The number of seconds to wait between batches of updates.",
                           default=0, constraints=(RangeConstraint(min=0),)),
}


class NestedStackResource(ResourcePlugin):
    """Base of the types whose physical resource is a child stack (see the module)."""

    runs_nested_stacks: ClassVar[bool] = True
    #: the id of the child stack within the resource
    child_id: ClassVar[str] = CHILD

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        await delete_child(ctx, self.child_id)

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        return observed_child(ctx, self.child_id)

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        return existing_child(ctx, self.child_id)
