"""``OS::Heat::ResourceGroup``: ``count`` identically defined resources in a nested stack.

The group generates the nested stack's template itself: members named ``"0"``, ``"1"`` ...,
each with the group's ``resource_def`` and ``index_var`` (``%index%``) replaced by the member's
name in every string of the properties. ``removal_policies`` names members (by name or by the
reference id ``get_resource`` gave them) that are removed on the next update whether or not the
count shrinks; removed names are never reused (``removal_policies_mode: update`` replaces the
list instead of adding to it). Scaling down removes the highest indexes. ``update_policy``
``rolling_update`` replaces members in batches when ``resource_def`` changes; ``batch_create``
creates the first members in batches.

Attributes: ``refs`` (member reference ids in index order), ``refs_map``, ``attributes`` (with a
path: ``{member: value}``), ``removed_rsrc_list``, ``resource.<n>`` (a member's reference id),
``resource.<n>.<attr>`` and any other name, which gives that attribute of every member as a
list. Those last ones depend on the path given to ``get_attr``, so the engine asks
:meth:`ResourceGroup.get_attribute` for them (``dynamic_attributes``).

This module also holds what the other group-like types (ResourceChain, AutoScalingGroup,
OS::Heat::Stack) share: the nested stack handle, template building, member attribute lookups
and Heat's rolling-update arithmetic. Facts follow Heat's ``resource_group.py``,
``heat/scaling/rolling_update.py`` and ``heat/scaling/template.py``; the code is kubeheat's own.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    NestedStacks,
    Observed,
    Property,
    ResourceContext,
    ResourceFailure,
    ResourcePlugin,
    register,
)
from kubeheat.template.constraints import (
    AllowedValuesConstraint,
    LengthConstraint,
    RangeConstraint,
)

LOG = logging.getLogger(__name__)

#: the id of the one child stack every nested-stack type here runs (the engine scopes child
#: ids by the resource incarnation, so a replacement gets its own)
CHILD = "nested"
#: HOT version of the templates generated for members (Heat's choice)
MEMBER_TEMPLATE_VERSION = "2015-04-30"
#: output of generated templates mapping member names to their ``get_resource`` value
REFS_MAP_OUTPUT = "refs_map"
#: ``ctx.data`` key holding what ``get_resource`` returns (shared with ``_common.REFERENCE``)
REFERENCE = "reference"
#: keys of a member resource definition that are carried into the nested template
MEMBER_KEYS = ("type", "properties", "metadata", "deletion_policy", "update_policy",
               "description")


# -- nested stack plumbing ---------------------------------------------------------------------
def nested_stacks(ctx: ResourceContext) -> NestedStacks:
    """The engine's nested stack runner, or a failure naming what is missing."""
    if ctx.nested is None:
        raise ResourceFailure(f"{ctx.type} needs nested stacks and the engine gave none")
    return ctx.nested


def child_result(ctx: ResourceContext) -> NestedStackResult | None:
    return None if ctx.nested is None else ctx.nested.get(CHILD)


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
                    timeout: float | None = None) -> NestedStackResult:
    """Create or update the child stack; the stack deadline bounds the timeout."""
    remaining = ctx.remaining()
    if remaining is not None:
        timeout = remaining if timeout is None else min(timeout, remaining)
    return await nested_stacks(ctx).create_or_update(CHILD, template, parameters or {},
                                                     timeout=timeout)


async def delete_child(ctx: ResourceContext) -> None:
    if ctx.nested is not None:
        await ctx.nested.delete(CHILD)


def observed_child(ctx: ResourceContext) -> Observed | None:
    """``read``: the child stack as last recorded (None when it is gone)."""
    found = child_result(ctx)
    if found is None:
        return None
    failed = found.status_reason or found.status if found.status.endswith("_FAILED") else None
    return Observed(properties={}, attributes={}, status=found.status, failed=failed)


def existing_child(ctx: ResourceContext) -> Created | None:
    """``find_existing``: the child stack an interrupted create already made, when it was
    finished. An unfinished child (interrupted, failed) is not adopted as it is: the create
    runs it again, which resumes it (adopting it would record the group complete over a
    child whose members were never made)."""
    found = child_result(ctx)
    if found is None or found.stack_id in ctx.exclude_ids \
            or found.status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        return None
    return Created(physical_id=found.stack_id, data={REFERENCE: found.stack_id})


# -- attributes -----------------------------------------------------------------------------
def invalid_attribute(ctx: ResourceContext, key: str) -> ResourceFailure:
    """Heat's InvalidTemplateAttribute."""
    return ResourceFailure(f"The Referenced Attribute ({ctx.name} {key}) is incorrect.")


def member_not_found(ctx: ResourceContext, member: str) -> ResourceFailure:
    return ResourceFailure(f"Member '{member}' not found in group resource '{ctx.name}'.")


def select_path(value: Any, path: Sequence[Any]) -> Any:
    """Walk ``path`` into an attribute value; None when it leads nowhere (Heat's
    ``select_from_attribute``)."""
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
    if len(parts) == 2:
        return select_path(members.ref(name), path)
    return members.attr(name, parts[2], path)


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


# -- the plugin ---------------------------------------------------------------------------------
ROLLING_UPDATE_SCHEMA: Mapping[str, Property] = {
    "min_in_service": Property(INTEGER, "The minimum number of resources in service while "
                               "rolling updates are being executed.", default=0,
                               constraints=(RangeConstraint(min=0),)),
    "max_batch_size": Property(INTEGER, "The maximum number of resources to replace at once.",
                               default=1, constraints=(RangeConstraint(min=1),)),
    "pause_time": Property(NUMBER, "The number of seconds to wait between batches of updates.",
                           default=0, constraints=(RangeConstraint(min=0),)),
}
BATCH_CREATE_SCHEMA: Mapping[str, Property] = {
    "max_batch_size": Property(INTEGER, "The maximum number of resources to create at once.",
                               default=1, constraints=(RangeConstraint(min=1),)),
    "pause_time": Property(NUMBER, "The number of seconds to wait between batches.",
                           default=0, constraints=(RangeConstraint(min=0),)),
}

REMOVAL_APPEND, REMOVAL_UPDATE = "append", "update"


def index_substituted(value: Any, index_var: str, name: str) -> Any:
    """``value`` with ``index_var`` replaced by ``name`` in every string (not in map keys)."""
    if isinstance(value, str):
        return value.replace(index_var, name)
    if isinstance(value, Mapping):
        return {k: index_substituted(v, index_var, name) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [index_substituted(v, index_var, name) for v in value]
    return value


def group_member_definition(resource_def: Mapping[str, Any], index_var: str,
                            name: str) -> dict[str, Any]:
    """The definition of member ``name``: ``resource_def`` with the index substituted in its
    properties."""
    out: dict[str, Any] = {"type": resource_def.get("type")}
    props = resource_def.get("properties")
    if props:
        out["properties"] = {k: index_substituted(v, index_var, name)
                             for k, v in props.items() if v is not None}
        if not out["properties"]:
            del out["properties"]
    if resource_def.get("metadata") is not None:
        out["metadata"] = copy.deepcopy(resource_def["metadata"])
    return out


def group_names(blacklist: Iterable[str], count: int) -> list[str]:
    """The first ``count`` names ``"0"``, ``"1"`` ... that are not blacklisted."""
    banned = set(blacklist)
    candidates = (str(i) for i in itertools.count())
    return list(itertools.islice((n for n in candidates if n not in banned), count))


def by_index(names: Iterable[str]) -> list[str]:
    return sorted(names, key=lambda n: (0, int(n), n) if n.isdigit() else (1, 0, n))


@register
class ResourceGroup(ResourcePlugin):
    type_name = "OS::Heat::ResourceGroup"
    runs_nested_stacks: ClassVar[bool] = True
    description = ("Creates one or more identically configured nested resources. "
                   "index_var in the properties of resource_def is replaced by each member's "
                   "index.")
    properties = {
        "count": Property(INTEGER, "The number of resources to create.", default=1,
                          update_allowed=True, constraints=(RangeConstraint(min=0),)),
        "index_var": Property(STRING, "A variable that this resource will use to replace with "
                              "the current index of a given resource in the group.",
                              default="%index%", constraints=(LengthConstraint(min=3),)),
        "resource_def": Property(MAP, "Resource definition for the resources in the group. The "
                                 "value of this property is the definition of a resource just "
                                 "as if it had been declared in the template itself.",
                                 required=True, update_allowed=True, schema={
                                     "type": Property(STRING, "The type of the resources in the "
                                                      "group.", required=True),
                                     "properties": Property(MAP, "Property values for the "
                                                            "resources in the group."),
                                     "metadata": Property(MAP, "Supplied metadata for the "
                                                          "resources in the group."),
                                 }),
        "removal_policies": Property(
            LIST, "Policies for removal of resources on update.", default=[],
            update_allowed=True,
            item=Property(MAP, "Policy to be processed when doing an update which requires "
                          "removal of specific resources.", schema={
                              "resource_list": Property(
                                  LIST, "List of resources to be removed when doing an update "
                                  "which requires removal of specific resources: by name in "
                                  "the nested stack or by reference id (the refs attribute). "
                                  "Destructive on update even if the count does not shrink; "
                                  "a removed name is never reused.", default=[]),
                          })),
        "removal_policies_mode": Property(
            STRING, 'How to handle changes to removal_policies on update. The default "append" '
            'mode appends to the internal list, "update" replaces it on update.',
            default=REMOVAL_APPEND, update_allowed=True,
            constraints=(AllowedValuesConstraint(allowed=(REMOVAL_APPEND, REMOVAL_UPDATE)),)),
    }
    attributes = {
        "refs": Attribute("A list of resource IDs for the resources in the group.", LIST),
        "refs_map": Attribute("A map of resource names to IDs for the resources in the group.",
                              MAP),
        "attributes": Attribute("A map of resource names to the specified attribute of each "
                                "individual resource. Requires heat_template_version: "
                                "2014-10-16.", MAP),
        "removed_rsrc_list": Attribute("A list of removed resource names.", LIST),
    }
    update_policy_schema: ClassVar[Mapping[str, Mapping[str, Property]]] = {
        "rolling_update": ROLLING_UPDATE_SCHEMA, "batch_create": BATCH_CREATE_SCHEMA}
    #: get_attr of names outside ``attributes`` and of ``attributes`` with a path goes to
    #: :meth:`get_attribute`
    dynamic_attributes: ClassVar[bool] = True

    # -- the blacklist of removed names ---------------------------------------------------------
    @staticmethod
    def known_members(ctx: ResourceContext) -> list[str]:
        """Member names in index order: as recorded, else (after an adoption) as the child
        stack holds them."""
        names = ctx.data.get("members")
        if names is None:
            found = child_result(ctx)
            names = list(found.resource_ids()) if found is not None else []
        return by_index(names)

    def _new_blacklist_entries(self, ctx: ResourceContext, props: Mapping[str, Any],
                               current: set[str], created: bool) -> Iterator[str]:
        members = set(self.known_members(ctx))
        refs: dict[str, Any] | None = None
        for policy in props.get("removal_policies") or []:
            if not isinstance(policy, Mapping):
                continue
            for entry in policy.get("resource_list") or []:
                text = str(entry)
                if text in current or not created or text in members:
                    yield text
                elif isinstance(entry, str):
                    if refs is None:
                        refs = Members(ctx, by_index(members)).refs_map()
                    for name, ref in refs.items():
                        if ref == entry:
                            yield name
                            break

    def updated_blacklist(self, ctx: ResourceContext, props: Mapping[str, Any], *,
                          created: bool) -> list[str]:
        """The names never to use again after applying ``props``' removal policies."""
        current = set(ctx.data.get("name_blacklist") or [])
        mode = props.get("removal_policies_mode") or REMOVAL_APPEND
        start = set() if mode == REMOVAL_UPDATE else set(current)
        start |= set(self._new_blacklist_entries(ctx, props, current, created))
        return sorted(start)

    # -- templates ------------------------------------------------------------------------------
    @staticmethod
    def _definition_for(props: Mapping[str, Any]) -> Callable[[str], dict[str, Any]]:
        resource_def = props.get("resource_def") or {}
        index_var = props.get("index_var") or "%index%"
        return lambda name: group_member_definition(resource_def, index_var, name)

    def assemble(self, props: Mapping[str, Any], names: Sequence[str]
                 ) -> list[tuple[str, dict[str, Any]]]:
        """Every member in ``names`` with the current definition."""
        definition = self._definition_for(props)
        return [(n, definition(n)) for n in names]

    def assemble_rolling(self, data: Mapping[str, Any], props: Mapping[str, Any], size: int,
                         num_new: int) -> list[tuple[str, dict[str, Any]]]:
        """One batch of a rolling update: ``size`` members, of which ``num_new`` (new ones
        first, then existing ones from the highest index down) get the new definition."""
        blacklist = set(data.get("name_blacklist") or [])
        names = group_names(blacklist, size)
        definitions: Mapping[str, Any] = data.get("definitions") or {}
        existing = [(n, dict(definitions.get(n) or {}))
                    for n in by_index(data.get("members") or []) if n not in blacklist]
        target = int(props.get("count") or 0)
        position = {n: i for i, n in enumerate(names)}

        def priority(item: tuple[str, dict[str, Any]]) -> int:
            index = position.get(item[0])
            if index is None:
                return 0          # not wanted any more: goes first
            if index < target:
                return target - index   # update the highest indexes first
            return size           # beyond the target: touched last

        ordered = sorted(existing, key=priority)
        have = {n for n, _ in existing}
        fresh = iter([n for n in names if n not in have])
        return member_definitions(ordered, size, num_new, lambda: next(fresh),
                                  self._definition_for(props))

    async def _apply(self, ctx: ResourceContext, data: dict[str, Any],
                     members: list[tuple[str, dict[str, Any]]], *,
                     timeout: float | None = None) -> NestedStackResult:
        result = await run_child(ctx, member_template(members), timeout=timeout)
        data["members"] = by_index(n for n, _ in members)
        data["definitions"] = {n: d for n, d in members}
        data[REFERENCE] = result.stack_id
        return result

    async def _batched(self, ctx: ResourceContext, data: dict[str, Any],
                       props: Mapping[str, Any], min_in_service: int, batch_size: int,
                       pause: float) -> NestedStackResult | None:
        blacklist = set(data.get("name_blacklist") or [])
        members = data.get("members") or []
        current = len(members) - len(blacklist & set(members))
        batches = list(group_batches(int(props.get("count") or 0), current, batch_size,
                                     min_in_service))
        pause_check(ctx, len(batches), pause)
        result = None
        for number, (size, num_new) in enumerate(batches):
            result = await self._apply(ctx, data,
                                       self.assemble_rolling(data, props, size, num_new))
            if number < len(batches) - 1 and pause > 0:
                await asyncio.sleep(pause)
        return result

    def _policy(self, ctx: ResourceContext, name: str) -> dict[str, Any] | None:
        return policy_values((ctx.update_policy or {}).get(name),
                             self.update_policy_schema[name])

    # -- handlers -------------------------------------------------------------------------------
    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        data: dict[str, Any] = {
            "name_blacklist": self.updated_blacklist(ctx, props, created=False),
            "members": [], "definitions": {}}
        count = int(props.get("count") or 0)
        batch = self._policy(ctx, "batch_create")
        result = None
        if batch is not None and count:
            result = await self._batched(ctx, data, props, 0, int(batch["max_batch_size"]),
                                         float(batch["pause_time"]))
        if result is None:
            names = group_names(data["name_blacklist"], count)
            result = await self._apply(ctx, data, self.assemble(props, names))
        return Created(physical_id=result.stack_id, data=data)

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        data = copy.deepcopy(ctx.data)
        data["name_blacklist"] = self.updated_blacklist(ctx, new, created=True)
        data["members"] = self.known_members(ctx)
        rolling = self._policy(ctx, "rolling_update")
        result = None
        if "resource_def" in changed and rolling is not None:
            result = await self._batched(ctx, data, new, int(rolling["min_in_service"]),
                                         int(rolling["max_batch_size"]),
                                         float(rolling["pause_time"]))
        if result is None:
            names = group_names(data["name_blacklist"], int(new.get("count") or 0))
            await self._apply(ctx, data, self.assemble(new, names))
        return data

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        await delete_child(ctx)

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        return observed_child(ctx)

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        return existing_child(ctx)

    # -- attributes -----------------------------------------------------------------------------
    def members(self, ctx: ResourceContext) -> Members:
        return Members(ctx, self.known_members(ctx))

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        members = self.members(ctx)
        out = members.precomputed(self.attributes)
        out.update({
            "refs": members.refs(),
            "refs_map": members.refs_map(),
            "removed_rsrc_list": list(ctx.data.get("name_blacklist") or []),
        })
        for name in members.names:
            out[f"resource.{name}"] = members.ref(name)
        return out

    def get_attribute(self, ctx: ResourceContext, props: Mapping[str, Any], key: str,
                      path: Sequence[Any]) -> Any:
        """The value of ``get_attr: [group, key, *path]`` (the whole path applied)."""
        members = self.members(ctx)
        if key == "removed_rsrc_list":
            return select_path(list(ctx.data.get("name_blacklist") or []), path)
        if key == "attributes":
            if not path:
                raise invalid_attribute(ctx, key)
            return {n: members.attr(n, str(path[0]), path[1:]) for n in members.names}
        if key.startswith("resource."):
            return member_attribute(ctx, members, key, path)
        if key == "refs":
            return select_path(members.refs(), path)
        if key == "refs_map":
            return select_path(members.refs_map(), path)
        return [members.attr(n, key, path) for n in members.names]

