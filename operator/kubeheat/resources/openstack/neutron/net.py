"""``OS::Neutron::Net``: a Neutron network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeheat.resources.base import (
    BOOLEAN,
    INTEGER,
    LIST,
    STRING,
    Attribute,
    Created,
    Property,
    ResourceContext,
    register,
)
from kubeheat.resources.openstack._common import custom, failure, sdk
from kubeheat.resources.openstack.neutron.base import (
    TAGS,
    VALUE_SPECS,
    NeutronResource,
    api_dict,
    extension_values,
    network_proxy,
    resolve,
    value_specs,
)


@register
class Net(NeutronResource):
    type_name = "OS::Neutron::Net"
    description = ("A Neutron network: an isolated layer-2 broadcast domain, reserved to the "
                   "project that created it unless it is shared.")
    entity = "network"
    listing = "networks"
    properties = {
        "name": Property(STRING, "A symbolic name for the network, not required to be unique.",
                         update_allowed=True),
        "value_specs": VALUE_SPECS,
        "admin_state_up": Property(BOOLEAN, "The administrative status of the network.",
                                   default=True, update_allowed=True),
        "tenant_id": Property(STRING, "The project that owns the network (administrators "
                              "only)."),
        "shared": Property(BOOLEAN, "Whether the network is shared across all projects.",
                           default=False, update_allowed=True),
        "port_security_enabled": Property(BOOLEAN, "Port security on the network: the default "
                                          "of the ports created on it.", update_allowed=True),
        "qos_policy": Property(STRING, "The name or id of the QoS policy attached to the "
                               "network.", update_allowed=True,
                               constraints=(custom("neutron.qos_policy"),)),
        "dns_domain": Property(STRING, "The DNS domain of the network.", update_allowed=True,
                               constraints=(custom("dns_domain"),)),
        "availability_zone_hints": Property(LIST, "Availability zone candidates for the "
                                            "network (Neutron's availability_zone "
                                            "extension).", item=Property(STRING)),
        "dhcp_agent_ids": Property(LIST, "The DHCP agents to schedule the network on "
                                   "(administrators only).", update_allowed=True,
                                   item=Property(STRING)),
        "tags": TAGS,
    }
    attributes = {
        "status": Attribute("The status of the network.", STRING),
        "name": Attribute("The name of the network.", STRING),
        "subnets": Attribute("Subnets of this network.", LIST),
        "admin_state_up": Attribute("The administrative status of the network.", STRING),
        "tenant_id": Attribute("The project owning this network.", STRING),
        "port_security_enabled": Attribute("Port security of the network.", BOOLEAN),
        "mtu": Attribute("The maximum transmission unit (bytes) of the network.", INTEGER),
        "qos_policy_id": Attribute("The QoS policy id attached to this network.", STRING),
        "l2_adjacency": Attribute("True when L2 connectivity is available throughout the "
                                  "network.", BOOLEAN),
        "segments": Attribute("The segments of the network (those without a name first).",
                              LIST),
    }

    async def _attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                          ) -> dict[str, Any]:
        out = await super()._attributes(ctx, raw)
        net = network_proxy(ctx)
        segments = [api_dict(s) for s in await sdk(
            ctx, lambda: list(net.segments(network_id=str(raw.get("id")))))]
        segments.sort(key=lambda s: s.get("name") is not None)
        out["segments"] = segments
        return out

    async def _listed_attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                                 ) -> dict[str, Any]:
        out = await super()._attributes(ctx, raw)
        out.pop("segments", None)           # a call per network: kept as cached
        return out

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        body: dict[str, Any] = {"name": self._name(ctx, props),
                                "admin_state_up": props["admin_state_up"],
                                "shared": props["shared"]}
        for key in ("tenant_id", "port_security_enabled", "dns_domain",
                    "availability_zone_hints"):
            if props.get(key) is not None:
                body[key] = props[key]
        if props.get("qos_policy"):
            body["qos_policy_id"] = await resolve(ctx, "qos_policy", props["qos_policy"])
        body.update(value_specs(props))
        obj = await sdk(ctx, network_proxy(ctx).create_network, **body)
        await self._tag(ctx, obj, props.get("tags"))
        if props.get("dhcp_agent_ids"):
            await self._schedule(ctx, str(obj.id), props["dhcp_agent_ids"])
        return Created(str(obj.id))

    async def _schedule(self, ctx: ResourceContext, network: str, agents: Any) -> None:
        """Heat's ``_replace_dhcp_agents``: the network joins the new agents (one already
        hosting it is fine) and leaves the others."""
        from openstack import exceptions

        net = network_proxy(ctx)
        hosting = {a.id for a in await sdk(ctx, lambda: list(
            net.network_hosting_dhcp_agents(network)))}
        wanted = set(agents or ())
        for agent in sorted(wanted - hosting):
            try:
                await ctx.call(net.add_dhcp_agent_to_network, agent, network)
            except exceptions.ConflictException:
                continue
            except Exception as exc:
                raise failure(exc) from None
        for agent in sorted(hosting - wanted):
            await sdk(ctx, net.remove_dhcp_agent_from_network, agent, network)

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        if "dhcp_agent_ids" in changed and ctx.physical_id is not None:
            await self._schedule(ctx, ctx.physical_id, new.get("dhcp_agent_ids"))
        body = await super()._update_body(ctx, old, new,
                                          changed - {"qos_policy", "dhcp_agent_ids"})
        if "qos_policy" in changed:
            body["qos_policy_id"] = await resolve(ctx, "qos_policy", new.get("qos_policy"))
        return body

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: raw.get(k) for k in ("name", "admin_state_up", "shared")}
        out.update(extension_values(raw, ("port_security_enabled", "dns_domain")))
        out.update(self._tags_observed(ctx, raw))
        return out
