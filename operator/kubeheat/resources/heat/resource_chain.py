"""``OS::Heat::ResourceChain``: one resource per type listed, all with the same properties.

The members live in a generated nested stack, named ``"0"``, ``"1"`` ... in list order. Unless
``concurrent`` is true each member depends on the one before it, so they are created in order
(and deleted in reverse). Attributes as ResourceGroup's: ``refs``, ``attributes`` (with a path),
``resource.<n>[.<attr>]`` and any member attribute as a list.

Facts follow Heat's ``resource_chain.py``; the code is kubeheat's own.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kubeheat.resources.base import (
    BOOLEAN,
    LIST,
    MAP,
    Attribute,
    Created,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.heat._common import REFERENCE
from kubeheat.resources.heat._nested import (
    Members,
    NestedStackResource,
    check_members_size,
    invalid_attribute,
    member_attribute,
    member_template,
    reserve_child,
    run_child,
    select_path,
)


def chain_names(types: Sequence[Any]) -> list[str]:
    return [str(i) for i in range(len(types))]


def chain_template(types: Sequence[Any], properties: Mapping[str, Any] | None,
                   concurrent: bool) -> dict[str, Any]:
    """The nested template of a chain: member ``i`` of type ``types[i]``, depending on member
    ``i-1`` unless the chain is concurrent."""
    names = chain_names(types)
    members = []
    for name, type_name in zip(names, types, strict=True):
        if not isinstance(type_name, str) or not type_name:
            raise ResourceFailure(
                f"resources: each item must be a resource type name, not {type_name!r}")
        definition: dict[str, Any] = {"type": type_name}
        if properties:
            definition["properties"] = copy.deepcopy(dict(properties))
        members.append((name, definition))
    depends = {} if concurrent else {names[i]: [names[i - 1]] for i in range(1, len(names))}
    return member_template(members, depends_on=depends)


@register
class ResourceChain(NestedStackResource):
    type_name = "OS::Heat::ResourceChain"
    description = ("Creates one or more resources with the same configuration: one per type "
                   "listed in resources, each given resource_properties. Unless concurrent, "
                   "each depends on the one before it.")
    properties = {
        "resources": Property(LIST, "The list of resource types to create. This list may "
                              "contain type names or aliases defined in the resource "
                              "registry. Specific template names are not supported.",
                              required=True, update_allowed=True),
        "concurrent": Property(BOOLEAN, "If true, the resources in the chain will be created "
                               "concurrently. If false or omitted, each resource will be "
                               "treated as having a dependency on the previous resource in "
                               "the list.", default=False),
        "resource_properties": Property(MAP, "Properties to pass to each resource being "
                                        "created in the chain."),
    }
    attributes = {
        "refs": Attribute("A list of resource IDs for the resources in the chain.", LIST),
        "attributes": Attribute("A map of resource names to the specified attribute of each "
                                "individual resource.", MAP),
    }
    dynamic_attributes: ClassVar[bool] = True
    #: ``show`` is asked of every member, as any other member attribute (as in Heat)
    has_show: ClassVar[bool] = False

    async def _apply(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        reserve_child(ctx, self.type_name, props)
        check_members_size(ctx, props.get("resource_properties"),
                           len(props.get("resources") or []))
        types = list(props.get("resources") or [])
        template = chain_template(types, props.get("resource_properties"),
                                  bool(props.get("concurrent")))
        result = await run_child(ctx, template)
        return {REFERENCE: result.stack_id, "members": chain_names(types)}

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        data = await self._apply(ctx, props)
        return Created(physical_id=data[REFERENCE], data=data)

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        return await self._apply(ctx, new)

    def members(self, ctx: ResourceContext, props: Mapping[str, Any]) -> Members:
        names = ctx.data.get("members")
        if names is None:
            names = chain_names(list(props.get("resources") or []))
        return Members(ctx, names)

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        members = self.members(ctx, props)
        out = members.precomputed(self.attributes)
        out["refs"] = members.refs()
        for name in members.names:
            out[f"resource.{name}"] = members.ref(name)
        return out

    def get_attribute(self, ctx: ResourceContext, props: Mapping[str, Any], key: str,
                      path: Sequence[Any]) -> Any:
        """The value of ``get_attr: [chain, key, *path]`` (the whole path applied)."""
        members = self.members(ctx, props)
        if key == "attributes":
            if not path:
                raise invalid_attribute(ctx, key)
            return {n: members.attr(n, str(path[0]), path[1:]) for n in members.names}
        if key.startswith("resource."):
            return member_attribute(ctx, members, key, path)
        if key == "refs":
            return select_path(members.refs(), path)
        return [members.attr(n, key, path) for n in members.names]
