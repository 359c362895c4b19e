"""``OS::Neutron::Router`` and ``OS::Neutron::RouterInterface``: a router, its gateway and its
interfaces on subnets or ports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeheat.resources.base import (
    BOOLEAN,
    LIST,
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
from kubeheat.resources.openstack._common import custom, failure, get_or_none, is_not_found, sdk
from kubeheat.resources.openstack.neutron.base import (
    TAGS,
    NeutronResource,
    api_dict,
    network_proxy,
    resolve,
    value_specs,
)
from kubeheat.resources.openstack.neutron.dependencies import subnets_of_network
from kubeheat.resources.translation import renamed


@register
class Router(NeutronResource):
    adds_dependencies: ClassVar[bool] = True
    type_name = "OS::Neutron::Router"
    description = "A Neutron router, passing traffic between networks."
    entity = "router"
    listing = "routers"
    properties = {
        "name": Property(STRING, "The name of the router.", update_allowed=True),
        "external_gateway_info": Property(
            MAP, "The external network gateway of the router.", update_allowed=True, schema={
                "network": Property(STRING, "Name or id of the external network of the "
                                    "gateway.", required=True, update_allowed=True,
                                    constraints=(custom("neutron.network"),)),
                "enable_snat": Property(BOOLEAN, "Source NAT on the gateway (administrators "
                                        "only, by Neutron's default policy).",
                                        update_allowed=True),
                "external_fixed_ips": Property(
                    LIST, "External fixed IP addresses of the gateway.", update_allowed=True,
                    item=Property(MAP, schema={
                        "ip_address": Property(STRING, "The external fixed IP address.",
                                               constraints=(custom("ip_addr"),)),
                        "subnet": Property(STRING, "The subnet of the external fixed IP "
                                           "address.", constraints=(custom("neutron.subnet"),)),
                    })),
            }),
        "value_specs": Property(MAP, "Extra parameters to include in the creation request.",
                                default={}, update_allowed=True),
        "admin_state_up": Property(BOOLEAN, "The administrative state of the router.",
                                   default=True, update_allowed=True),
        "distributed": Property(BOOLEAN, "Create a distributed router (administrators "
                                "only)."),
        "ha": Property(BOOLEAN, "Create a highly available router (administrators only)."),
        "l3_agent_ids": Property(LIST, "The L3 agents hosting the router (administrators "
                                 "only; more than one for an HA router).", update_allowed=True,
                                 item=Property(STRING)),
        "l3_agent_id": renamed("l3_agent_ids", update_allowed=True),
        "availability_zone_hints": Property(LIST, "Availability zone candidates for the "
                                            "router (Neutron's availability_zone "
                                            "extension).", update_allowed=True,
                                            item=Property(STRING)),
        "tags": TAGS,
        "tenant_id": Property(STRING, "The project that will own the router (administrators "
                              "only)."),
    }
    attributes = {
        "status": Attribute("The status of the router.", STRING),
        "external_gateway_info": Attribute("The gateway network of the router.", MAP),
        "name": Attribute("The name of the router.", STRING),
        "admin_state_up": Attribute("The administrative state of the router.", STRING),
        "tenant_id": Attribute("The project owning the router.", STRING),
    }

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Mapping[str, Any],
                              stack: DependencyView) -> set[str]:
        """Heat: the subnets of the gateway's network exist before the router (the gateway
        takes an address on one of them)."""
        info = properties.get("external_gateway_info")
        if not isinstance(info, Mapping) or info.get("network") is None:
            return set()
        return subnets_of_network(stack, info.get("network"))

    async def _gateway(self, ctx: ResourceContext, info: Mapping[str, Any] | None
                       ) -> dict[str, Any] | None:
        if not info:
            return None
        gateway: dict[str, Any] = {"network_id": await resolve(ctx, "network",
                                                               info.get("network"))}
        if info.get("enable_snat") is not None:
            gateway["enable_snat"] = info["enable_snat"]
        if info.get("external_fixed_ips") is not None:
            ips = []
            for item in info["external_fixed_ips"]:
                entry: dict[str, Any] = {}
                if item.get("ip_address"):
                    entry["ip_address"] = item["ip_address"]
                if item.get("subnet"):
                    entry["subnet_id"] = await resolve(ctx, "subnet", item["subnet"])
                ips.append(entry)
            gateway["external_fixed_ips"] = ips
        return gateway

    async def _data(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        gateway = await self._gateway(ctx, props.get("external_gateway_info"))
        return {"gateway": gateway} if gateway else {}

    def _check(self, props: Mapping[str, Any]) -> None:
        if props.get("ha") and props.get("distributed"):
            raise ResourceFailure("Cannot define the following properties at the same time: "
                                  "distributed, ha.")

    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> tuple[str, str] | None:
        """Heat's checks of the L3 agents of a router."""
        agents = values.get("l3_agent_ids")
        if agents and values.get("distributed"):
            return ("l3_agent_ids", "Cannot define the following properties at the same time: "
                    "distributed, l3_agent_id/l3_agent_ids.")
        if agents and len(agents) > 1 and not values.get("ha"):
            return ("l3_agent_ids", "Non HA routers can only have one L3 agent.")
        return None

    async def _place(self, ctx: ResourceContext, router: str, agents: Any) -> None:
        """Heat's ``_replace_agent``: the router leaves the agents hosting it, then joins
        ``agents``."""
        net = network_proxy(ctx)
        hosting = await sdk(ctx, lambda: list(net.routers_hosting_l3_agents(router)))
        for agent in hosting:
            await sdk(ctx, net.remove_router_from_agent, agent.id, router)
        for agent in agents or ():
            await sdk(ctx, net.add_router_to_agent, agent, router)

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        self._check(props)
        data = await self._data(ctx, props)
        body: dict[str, Any] = {"name": self._name(ctx, props),
                                "admin_state_up": props["admin_state_up"]}
        if data.get("gateway"):
            body["external_gateway_info"] = data["gateway"]
        for key in ("distributed", "ha", "availability_zone_hints", "tenant_id"):
            if props.get(key) is not None:
                body[key] = props[key]
        body.update(value_specs(props))
        obj = await sdk(ctx, network_proxy(ctx).create_router, **body)
        await self._tag(ctx, obj, props.get("tags"))
        if props.get("l3_agent_ids"):
            await self._place(ctx, str(obj.id), props["l3_agent_ids"])
        return Created(str(obj.id), data)

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        if "l3_agent_ids" in changed and ctx.physical_id is not None:
            await self._place(ctx, ctx.physical_id, new.get("l3_agent_ids"))
        body = await super()._update_body(ctx, old, new,
                                          changed - {"external_gateway_info", "l3_agent_ids",
                                                     "l3_agent_id"})
        if "external_gateway_info" in changed:
            body["external_gateway_info"] = await self._gateway(
                ctx, new.get("external_gateway_info")) or {}
        return body

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: raw.get(k) for k in ("name", "admin_state_up")}
        wanted = props.get("external_gateway_info")
        wanted_gw = ctx.data.get("gateway")
        if wanted and isinstance(wanted_gw, Mapping):
            actual = raw.get("external_gateway_info") or None
            if actual is None:
                out["external_gateway_info"] = None
            elif actual.get("network_id") == wanted_gw.get("network_id") and (
                    "enable_snat" not in wanted_gw
                    or actual.get("enable_snat") == wanted_gw["enable_snat"]):
                out["external_gateway_info"] = wanted
            else:
                out["external_gateway_info"] = {
                    "network": actual.get("network_id"),
                    "enable_snat": actual.get("enable_snat"),
                    "external_fixed_ips": None}
        out.update(self._tags_observed(ctx, raw))
        return out


_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                     "network:ha_router_replicated_interface")


@register
class RouterInterface(NeutronResource):
    type_name = "OS::Neutron::RouterInterface"
    description = ("An interface of a Neutron router on a subnet (through a new port at the "
                   "subnet's gateway address) or on an existing port.")
    entity = "router_interface"
    tagged = False
    has_status = False
    #: a router has one interface per subnet: the old one goes before the new one is added
    can_coexist = False
    properties = {
        "router": Property(STRING, "The name or id of the router.", required=True,
                           constraints=(custom("neutron.router"),)),
        "router_id": renamed("router", constraints=(custom("neutron.router"),)),
        "subnet_id": renamed("subnet", constraints=(custom("neutron.subnet"),)),
        "port_id": renamed("port", constraints=(custom("neutron.port"),)),
        "subnet": Property(STRING, "The subnet, by name or id; either this or port.",
                           constraints=(custom("neutron.subnet"),)),
        "port": Property(STRING, "The port, by name or id; either this or subnet.",
                         constraints=(custom("neutron.port"),)),
    }
    attributes = {}

    @staticmethod
    def _parse(physical_id: str) -> tuple[str, str, str]:
        """``<router id>:subnet_id=<id>`` or ``<router id>:port_id=<id>`` (Heat's form)."""
        router, _, rest = physical_id.partition(":")
        key, _, value = rest.partition("=")
        if not router or key not in ("subnet_id", "port_id") or not value:
            raise ResourceFailure(f"Malformed router interface id {physical_id!r}")
        return router, key, value

    async def _wanted(self, ctx: ResourceContext, props: Mapping[str, Any]
                      ) -> tuple[str, str, str]:
        subnet, port = props.get("subnet"), props.get("port")
        if subnet and port:
            raise ResourceFailure("Cannot define the following properties at the same time: "
                                  "subnet, port.")
        if not subnet and not port:
            raise ResourceFailure("At least one of the following properties must be "
                                  "specified: subnet, port.")
        router = await resolve(ctx, "router", props["router"])
        assert router is not None
        if subnet:
            return router, "subnet_id", str(await resolve(ctx, "subnet", subnet))
        return router, "port_id", str(await resolve(ctx, "port", port))

    async def _interface_port(self, ctx: ResourceContext, router: str, key: str, value: str
                              ) -> Any | None:
        """The port joining the router to the subnet (or the port itself), if attached."""
        net = network_proxy(ctx)
        ports = await sdk(ctx, lambda: list(net.ports(device_id=router)))
        for port in ports:
            if port.device_owner not in _INTERFACE_OWNERS:
                continue
            if key == "port_id" and port.id == value:
                return port
            if key == "subnet_id" and any(ip.get("subnet_id") == value
                                          for ip in port.fixed_ips or []):
                return port
        return None

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        router, key, value = await self._wanted(ctx, props)
        kwargs = {"subnet": value} if key == "subnet_id" else {"port": value}
        await sdk(ctx, network_proxy(ctx).add_interface_to_router, router, **kwargs)
        return Created(f"{router}:{key}={value}")

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        try:
            router, key, value = await self._wanted(ctx, props)
        except ResourceFailure:
            return None
        physical_id = f"{router}:{key}={value}"
        if physical_id in ctx.exclude_ids:
            return None
        if await self._interface_port(ctx, router, key, value) is None:
            return None
        return Created(physical_id)

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        if ctx.physical_id is None:
            return None
        router, key, value = self._parse(ctx.physical_id)
        if await get_or_none(ctx, network_proxy(ctx).get_router, router, wrap_errors=True) is None:
            return None
        port = await self._interface_port(ctx, router, key, value)
        if port is None:
            return None
        return Observed(properties={}, attributes={"show": api_dict(port)},
                        status=str(port.status or "OK"))

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        return {}

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        return None      # nothing updates in place: any change replaces the interface

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        if ctx.physical_id is None:
            return
        router, key, value = self._parse(ctx.physical_id)
        kwargs = {"subnet": value} if key == "subnet_id" else {"port": value}
        try:
            await ctx.call(network_proxy(ctx).remove_interface_from_router, router, **kwargs)
        except Exception as exc:
            if not is_not_found(exc):
                raise failure(exc) from None
