"""``OS::Heat::ResourceGroup``: ``count`` identically defined resources in a nested stack.

The group generates the nested stack's template itself: members named ``"0"``, ``"1"`` ...,
each with the group's ``resource_def`` and ``index_var`` (``%index%``) replaced by the member's
name in every string of the properties. ``removal_policies`` names members (by name or by the
reference id ``get_resource`` gave them) that are removed on the next update whether or not the
count shrinks; removed names are never reused (``removal_policies_mode: update`` replaces the
list instead of adding to it). Scaling down removes the highest indexes. ``update_policy``
``rolling_update`` replaces members in batches when ``resource_def`` changes; ``batch_create``
creates the first members in batches.

Attributes: ``refs`` (member reference ids in index order), ``refs_map`` (whole, whatever the
path, as in Heat), ``attributes`` (with a path: ``{member: value}``), ``removed_rsrc_list``,
``resource.<n>`` (a member's reference id), ``resource.<n>.<attr>`` and any other name
(``show`` included), which gives that attribute of every member as a list. Those last ones
depend on the path given to ``get_attr``, so the engine asks
:meth:`ResourceGroup.get_attribute` for them (``dynamic_attributes``).

What the nested-stack types share lives in :mod:`kubeheat.resources.heat._nested`. Facts
follow Heat's ``resource_group.py`` and ``heat/scaling/rolling_update.py``; the code is
kubeheat's own.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
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
    Property,
    ResourceContext,
    register,
)
from kubeheat.resources.heat._common import REFERENCE
from kubeheat.resources.heat._nested import (
    ROLLING_UPDATE_SCHEMA,
    Members,
    NestedStackResource,
    check_members_size,
    child_result,
    group_batches,
    invalid_attribute,
    member_attribute,
    member_definitions,
    member_template,
    pause_check,
    policy_values,
    reserve_child,
    run_child,
    select_path,
)
from kubeheat.template import AllowedValuesConstraint, LengthConstraint, RangeConstraint

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
class ResourceGroup(NestedStackResource):
    type_name = "OS::Heat::ResourceGroup"
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
    #: ``show`` is asked of every member, as any other member attribute (as in Heat)
    has_show: ClassVar[bool] = False

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
        reserve_child(ctx, self.type_name, props)
        check_members_size(ctx, props.get("resource_def"), int(props.get("count") or 0))
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
        reserve_child(ctx, self.type_name, new)
        check_members_size(ctx, new.get("resource_def"), int(new.get("count") or 0))
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
            # Heat 27.0.1 gives the whole map whatever the path
            return members.refs_map()
        return [members.attr(n, key, path) for n in members.names]

