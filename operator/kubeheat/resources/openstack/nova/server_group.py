"""``OS::Nova::ServerGroup``: a server group, whose policy places the servers booted in it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeheat.resources.base import (
    LIST,
    MAP,
    NUMBER,
    STRING,
    Created,
    Observed,
    Property,
    ResourceContext,
    register,
)
from kubeheat.resources.openstack._common import (
    OpenStackResource,
    allowed,
    connection,
    pick_existing,
    sdk,
)
from kubeheat.template import LengthConstraint


@register
class ServerGroup(OpenStackResource):
    """Server groups carry no tags; the group is named after the stack and resource (unless
    the template names it), so after a crash it is found by that name."""

    type_name = "OS::Nova::ServerGroup"
    description = "A server group: placement policies applied to the servers booted in it."
    proxy = "compute"
    entity = "server_group"
    listing = "server_groups"
    properties = {
        "name": Property(STRING, "Server Group name."),
        "policies": Property(
            LIST, "A list of exactly one policy to apply.", default=["anti-affinity"],
            item=Property(STRING, constraints=(allowed(
                "anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"),)),
            constraints=(LengthConstraint(min=1, max=1),)),
        "rules": Property(MAP, "Rules of the policy.", schema={
            "max_server_per_host": Property(NUMBER, "Maximum servers in a group on a given "
                                            "host (rule of the anti-affinity policy)."),
        }),
    }
    attributes = {}

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        conn = connection(ctx)
        name = self._name(ctx, props)
        policy = (props.get("policies") or ["anti-affinity"])[0]
        attrs: dict[str, Any] = {"name": name, "policy": policy}
        rules = {k: v for k, v in (props.get("rules") or {}).items() if v is not None}
        if rules:
            attrs["rules"] = rules
        group = await sdk(ctx, conn.compute.create_server_group, **attrs)
        return Created(str(group.id), {"name": name})

    async def _observation(self, ctx: ResourceContext, props: Mapping[str, Any], group: Any,
                           *, batch: bool = False) -> Observed:
        policy = getattr(group, "policy", None) or (getattr(group, "policies", None) or [None])[0]
        return Observed(properties={"policies": [policy]} if policy else {},
                        attributes={"members": list(group.member_ids or [])})

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        name = self._name(ctx, props)
        groups = await self._list(ctx)
        found = pick_existing((g for g in groups if g.name == name), ctx)
        return None if found is None else Created(str(found.id), {"name": name})
