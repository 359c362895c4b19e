"""``OS::Neutron::FloatingIP`` and ``OS::Neutron::FloatingIPAssociation``: an address of an
external network, and its association with a port."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeheat.resources.base import (
    MAP,
    STRING,
    Attribute,
    Created,
    DependencyView,
    Observed,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.openstack._common import custom, delete_quietly, get_or_none, sdk
from kubeheat.resources.openstack.neutron.base import (
    TAGS,
    NeutronResource,
    api_dict,
    marker,
    network_proxy,
    observe,
    resolve,
    value_specs,
)
from kubeheat.resources.openstack.neutron.dependencies import (
    ROUTER,
    gateway_network,
    interfaces_for_ports,
)
from kubeheat.resources.translation import renamed


@register
class FloatingIP(NeutronResource):
    adds_dependencies: ClassVar[bool] = True
    type_name = "OS::Neutron::FloatingIP"
    description = ("A Neutron floating IP: an address of an external network, optionally "
                   "associated with a port (NAT through the port's router).")
    entity = "ip"
    listing = "ips"
    properties = {
        "floating_network": Property(STRING, "The network to allocate the floating IP from.",
                                     required=True, constraints=(custom("neutron.network"),)),
        "floating_network_id": renamed("floating_network",
                                       constraints=(custom("neutron.network"),)),
        "floating_subnet": Property(STRING, "The subnet to allocate the floating IP from.",
                                    constraints=(custom("neutron.subnet"),)),
        "value_specs": Property(MAP, "Extra parameters to include in the creation request.",
                                default={}),
        "port_id": Property(STRING, "An existing port, with at least one IP address, to "
                            "associate with this floating IP.", update_allowed=True,
                            constraints=(custom("neutron.port"),)),
        "fixed_ip_address": Property(STRING, "The IP address to use when the port has "
                                     "several.", update_allowed=True,
                                     constraints=(custom("ip_addr"),)),
        "floating_ip_address": Property(STRING, "The address of the floating IP "
                                        "(administrators only, by Neutron's default policy).",
                                        constraints=(custom("ip_addr"),)),
        "dns_name": Property(STRING, "The DNS name of the floating IP.", update_allowed=True,
                             constraints=(custom("rel_dns_name"),)),
        "dns_domain": Property(STRING, "The DNS domain of the floating IP.",
                               update_allowed=True, constraints=(custom("dns_domain"),)),
        "tags": TAGS,
    }
    attributes = {
        "router_id": Attribute("The router used as gateway, set when associated with a "
                               "port.", STRING),
        "tenant_id": Attribute("The project owning this floating IP.", STRING),
        "floating_network_id": Attribute("The network the address is allocated in.", STRING),
        "fixed_ip_address": Attribute("The address of the associated port, if any.", STRING),
        "floating_ip_address": Attribute("The allocated address.", STRING),
        "port_id": Attribute("The port associated with this floating IP.", STRING),
    }

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Mapping[str, Any],
                              stack: DependencyView) -> set[str]:
        """Heat: the routers whose gateway is on the floating network, and the router
        interfaces on a subnet of the port it refers to (the floating IP is reachable from
        the port only through them); deleted before them, in reverse."""
        out = interfaces_for_ports(stack, name)
        floating = properties.get("floating_network")
        out.update(r.name for r in stack.of_type(ROUTER)
                   if stack.same(gateway_network(r), floating))
        return out

    async def _data(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        port = await resolve(ctx, "port", props.get("port_id"))
        return {"port_id": port} if port else {}

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        if props.get("fixed_ip_address") and not props.get("port_id"):
            raise ResourceFailure("The property fixed_ip_address requires the property "
                                  "port_id.")
        data = await self._data(ctx, props)
        body: dict[str, Any] = {
            "floating_network_id": await resolve(ctx, "network", props["floating_network"])}
        if props.get("floating_subnet"):
            body["subnet_id"] = await resolve(ctx, "subnet", props["floating_subnet"])
        if data.get("port_id"):
            body["port_id"] = data["port_id"]
        for key in ("fixed_ip_address", "floating_ip_address", "dns_name", "dns_domain"):
            if props.get(key):
                body[key] = props[key]
        body["description"] = marker(ctx)
        body.update(value_specs(props))
        obj = await sdk(ctx, network_proxy(ctx).create_ip, **body)
        await self._tag(ctx, obj, props.get("tags"))
        return Created(str(obj.id), data)

    def _fallback_query(self, ctx: ResourceContext, props: Mapping[str, Any]
                        ) -> dict[str, str] | None:
        return {"description": marker(ctx)}

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        body = await super()._update_body(
            ctx, old, new, changed - {"port_id", "fixed_ip_address"})
        if changed & {"port_id", "fixed_ip_address"}:
            body["port_id"] = await resolve(ctx, "port", new.get("port_id"))
            body["fixed_ip_address"] = new.get("fixed_ip_address") if body["port_id"] \
                else None
        return body

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"fixed_ip_address": raw.get("fixed_ip_address")}
        if props.get("port_id") is not None:
            actual = raw.get("port_id")
            out["port_id"] = props["port_id"] if actual == ctx.data.get("port_id") else actual
        out.update(self._tags_observed(ctx, raw))
        return out


@register
class FloatingIPAssociation(NeutronResource):
    adds_dependencies: ClassVar[bool] = True
    type_name = "OS::Neutron::FloatingIPAssociation"
    description = "Associates an existing floating IP with a port."
    entity = "ip"
    tagged = False
    has_status = False
    #: the replacement may name the same floating IP and port: dissociate first
    can_coexist = False
    properties = {
        "floatingip_id": Property(STRING, "The id of the floating IP to associate.",
                                  required=True, update_allowed=True),
        "port_id": Property(STRING, "An existing port, with at least one IP address, to "
                            "associate with the floating IP.", required=True,
                            update_allowed=True, constraints=(custom("neutron.port"),)),
        "fixed_ip_address": Property(STRING, "The IP address to use when the port has "
                                     "several.", update_allowed=True,
                                     constraints=(custom("ip_addr"),)),
    }
    attributes = {}

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Mapping[str, Any],
                              stack: DependencyView) -> set[str]:
        """Heat: the router interfaces on a subnet of the port it refers to."""
        return interfaces_for_ports(stack, name)

    async def _data(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"floatingip_id": str(props["floatingip_id"]),
                "port_id": await resolve(ctx, "port", props["port_id"])}

    def _ids(self, ctx: ResourceContext) -> tuple[str | None, str | None]:
        fip, port = ctx.data.get("floatingip_id"), ctx.data.get("port_id")
        if (fip is None or port is None) and ctx.physical_id:
            fip, _, port = ctx.physical_id.partition(":")
        return (str(fip) if fip else None), (str(port) if port else None)

    async def _associate(self, ctx: ResourceContext, data: Mapping[str, Any],
                         fixed_ip: Any) -> None:
        body: dict[str, Any] = {"port_id": data["port_id"]}
        if fixed_ip:
            body["fixed_ip_address"] = fixed_ip
        await sdk(ctx, network_proxy(ctx).update_ip, data["floatingip_id"], **body)

    async def _disassociate(self, ctx: ResourceContext, fip_id: str | None,
                            port_id: str | None) -> None:
        """Detach the floating IP from our port; someone else's association is left alone."""
        if not fip_id:
            return
        fip = await get_or_none(ctx, network_proxy(ctx).get_ip, fip_id, wrap_errors=True)
        if fip is None or (port_id is not None and fip.port_id != port_id):
            return
        await delete_quietly(ctx, network_proxy(ctx).update_ip, fip_id, port_id=None)

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        data = await self._data(ctx, props)
        await self._associate(ctx, data, props.get("fixed_ip_address"))
        return Created(f"{data['floatingip_id']}:{data['port_id']}", data)

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        try:
            data = await self._data(ctx, props)
        except ResourceFailure:
            return None
        fip = await get_or_none(ctx, network_proxy(ctx).get_ip, data["floatingip_id"],
                                wrap_errors=True)
        physical_id = f"{data['floatingip_id']}:{data['port_id']}"
        if fip is None or fip.port_id != data["port_id"] or physical_id in ctx.exclude_ids:
            return None
        return Created(physical_id, data)

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        fip_id, port_id = self._ids(ctx)
        if fip_id is None:
            return None
        fip = await get_or_none(ctx, network_proxy(ctx).get_ip, fip_id, wrap_errors=True)
        if fip is None:
            return None
        raw = api_dict(fip)
        actual = raw.get("port_id")
        observed = {"port_id": props.get("port_id") if actual == port_id else actual,
                    "fixed_ip_address": raw.get("fixed_ip_address")}
        return Observed(properties=observe(props, observed), attributes={"show": raw},
                        status=str(raw.get("status") or "OK"))

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        return {}

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        data = await self._data(ctx, new)
        old_fip, old_port = self._ids(ctx)
        if old_fip is not None and old_fip != data["floatingip_id"]:
            await self._disassociate(ctx, old_fip, old_port)
        await self._associate(ctx, data, new.get("fixed_ip_address"))
        return data

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        fip_id, port_id = self._ids(ctx)
        await self._disassociate(ctx, fip_id, port_id)
