"""``OS::Nova::Flavor``: a Nova flavor, with its extra specs and the projects allowed to use a
private one (both updated in place)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubeheat.resources.base import (
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
    NUMBER,
    STRING,
    Attribute,
    Created,
    Observed,
    Property,
    ResourceContext,
    register,
)
from kubeheat.resources.openstack._common import OpenStackResource, connection, pick_existing, sdk
from kubeheat.template import RangeConstraint

if TYPE_CHECKING:
    from openstack.connection import Connection


@register
class Flavor(OpenStackResource):
    """Flavors carry no tags; the flavor is named after the stack and resource (unless the
    template names it), so after a crash it is found by that name."""

    type_name = "OS::Nova::Flavor"
    description = "A Nova flavor (admin only in most clouds)."
    proxy = "compute"
    entity = "flavor"
    listing = "flavors"
    properties = {
        "name": Property(STRING, "Name of the flavor."),
        "flavorid": Property(STRING, "Unique ID of the flavor. If not specified, a UUID will be "
                             "auto generated and used."),
        "ram": Property(INTEGER, "Memory in MB for the flavor.", required=True,
                        constraints=(RangeConstraint(min=1),)),
        "vcpus": Property(INTEGER, "Number of VCPUs for the flavor.", required=True,
                          constraints=(RangeConstraint(min=1),)),
        "disk": Property(INTEGER, "Size of local disk in GB. The \"0\" size is a special case "
                         "that uses the native base image size as the size of the ephemeral "
                         "root volume.", default=0, constraints=(RangeConstraint(min=0),)),
        "swap": Property(INTEGER, "Swap space in MB.", default=0,
                         constraints=(RangeConstraint(min=0),)),
        "ephemeral": Property(INTEGER, "Size of a secondary ephemeral data disk in GB.",
                              default=0, constraints=(RangeConstraint(min=0),)),
        "rxtx_factor": Property(NUMBER, "RX/TX factor.", default=1.0),
        "is_public": Property(BOOLEAN, "Scope of flavor accessibility. Public or private.",
                              default=True),
        "extra_specs": Property(MAP, "Key/Value pairs to extend the capabilities of the "
                                "flavor.", update_allowed=True),
        "tenants": Property(LIST, "List of tenants (projects) allowed to use a private flavor.",
                            default=[], update_allowed=True, item=Property(STRING)),
        "description": Property(STRING, "A description of the flavor.", update_allowed=True),
    }
    attributes = {
        "is_public": Attribute("Whether the flavor is shared across all projects.", BOOLEAN),
        "extra_specs": Attribute("Extra specs of the flavor in key-value pairs.", MAP),
    }

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        conn = connection(ctx)
        name = self._name(ctx, props)
        attrs: dict[str, Any] = {
            "name": name, "ram": props["ram"], "vcpus": props["vcpus"], "disk": props["disk"],
            "swap": props["swap"], "ephemeral": props["ephemeral"],
            "rxtx_factor": props["rxtx_factor"], "is_public": props["is_public"]}
        if props.get("flavorid"):
            attrs["id"] = props["flavorid"]
        if props.get("description"):
            attrs["description"] = props["description"]
        flavor = await sdk(ctx, conn.compute.create_flavor, **attrs)
        created = Created(str(flavor.id), {"name": name})
        ctx.physical_id = created.physical_id
        await self._apply(ctx, conn, str(flavor.id), {}, props)
        return created

    async def _apply(self, ctx: ResourceContext, conn: Connection, fid: str,
                     old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        specs = {k: str(v) for k, v in (new.get("extra_specs") or {}).items()}
        before = {k: str(v) for k, v in (old.get("extra_specs") or {}).items()}
        for key in before:
            if key not in specs:
                await sdk(ctx, conn.compute.delete_flavor_extra_specs_property, fid, key)
        if specs and specs != before:
            await sdk(ctx, conn.compute.create_flavor_extra_specs, fid, specs)
        if not new.get("is_public", True):
            old_tenants = set(old.get("tenants") or ())
            new_tenants = set(new.get("tenants") or ())
            for tenant in sorted(new_tenants - old_tenants):
                await sdk(ctx, conn.compute.flavor_add_tenant_access, fid, tenant)
            for tenant in sorted(old_tenants - new_tenants):
                await sdk(ctx, conn.compute.flavor_remove_tenant_access, fid, tenant)

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        conn = connection(ctx)
        fid = ctx.physical_id
        assert fid is not None
        if "description" in changed:
            await sdk(ctx, conn.compute.update_flavor, fid, description=new.get("description"))
        if changed & {"extra_specs", "tenants"}:
            await self._apply(ctx, conn, fid, old, new)
        return None

    async def _observation(self, ctx: ResourceContext, props: Mapping[str, Any], flavor: Any,
                           *, batch: bool = False) -> Observed:
        specs = dict(getattr(flavor, "extra_specs", None) or {})
        applied = {k: str(v) for k, v in (props.get("extra_specs") or {}).items()}
        observed = {
            "ram": flavor.ram, "vcpus": flavor.vcpus,
            "extra_specs": props.get("extra_specs") if specs == applied else specs,
        }
        return Observed(properties=observed,
                        attributes={"is_public": flavor.is_public, "extra_specs": specs})

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        conn = connection(ctx)
        flavor = await sdk(ctx, conn.compute.get_flavor, ctx.physical_id)
        return {"is_public": flavor.is_public,
                "extra_specs": dict(getattr(flavor, "extra_specs", None) or {})}

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        name = self._name(ctx, props)
        flavors = await self._list(ctx, is_public=None)
        # no tags on flavors: the name and the sizes must all be the ones asked for
        found = pick_existing((f for f in flavors if f.name == name and f.ram == props["ram"]
                               and f.vcpus == props["vcpus"] and f.disk == props["disk"]), ctx)
        return None if found is None else Created(str(found.id), {"name": name})
