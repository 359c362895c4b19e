"""``OS::Neutron::Subnet``: a block of addresses of a network."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from kubeheat.resources.base import (
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
    STRING,
    Attribute,
    Created,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.openstack._common import custom, sdk
from kubeheat.resources.openstack.neutron.base import (
    TAGS,
    VALUE_SPECS,
    NeutronResource,
    network_proxy,
    resolve,
    value_specs,
)
from kubeheat.resources.translation import renamed
from kubeheat.template import AllowedValuesConstraint, RangeConstraint

_IPV6_MODES = ("dhcpv6-stateful", "dhcpv6-stateless", "slaac")
_NO_GATEWAY = ("", "~")


def _gateway(value: Any) -> Any:
    """Heat's "no gateway" spellings (empty string, ``~``) mean null to Neutron."""
    return None if value in _NO_GATEWAY else value


@register
class Subnet(NeutronResource):
    type_name = "OS::Neutron::Subnet"
    description = ("A Neutron subnet: a block of IP addresses of a network, from which ports "
                   "get their fixed IPs (within its allocation pools).")
    entity = "subnet"
    listing = "subnets"
    has_status = False
    properties = {
        "network": Property(STRING, "The name or id of the network of the subnet.",
                            required=True, constraints=(custom("neutron.network"),)),
        "network_id": renamed("network", constraints=(custom("neutron.network"),)),
        "cidr": Property(STRING, "The CIDR.", constraints=(custom("net_cidr"),)),
        "subnetpool": Property(STRING, "The name or id of the subnet pool to allocate the "
                               "subnet's CIDR from (instead of cidr).",
                               constraints=(custom("neutron.subnetpool"),)),
        "prefixlen": Property(INTEGER, "Prefix length of the CIDR allocated from the subnet "
                              "pool.", constraints=(RangeConstraint(min=0),)),
        "segment": Property(STRING, "The name or id of the network segment of the subnet "
                            "(an update may only set it on a subnet without one).",
                            update_allowed=True, constraints=(custom("neutron.segment"),)),
        "value_specs": VALUE_SPECS,
        "name": Property(STRING, "The name of the subnet.", update_allowed=True),
        "ip_version": Property(INTEGER, "The IP version, 4 or 6.", default=4,
                               constraints=(AllowedValuesConstraint(allowed=(4, 6)),)),
        "dns_nameservers": Property(LIST, "The DNS name servers of the subnet.", default=[],
                                    update_allowed=True),
        "gateway_ip": Property(STRING, "The gateway IP address; empty or ~ for no gateway. "
                               "Omitted, Neutron picks the first address of the subnet.",
                               update_allowed=True),
        "enable_dhcp": Property(BOOLEAN, "Whether DHCP is enabled.", default=True,
                                update_allowed=True),
        "allocation_pools": Property(
            LIST, "The start and end addresses of the allocation pools.", update_allowed=True,
            item=Property(MAP, schema={
                "start": Property(STRING, "Start address of the pool.", required=True,
                                  constraints=(custom("ip_addr"),)),
                "end": Property(STRING, "End address of the pool.", required=True,
                                constraints=(custom("ip_addr"),)),
            })),
        "tenant_id": Property(STRING, "The project that owns the subnet (administrators "
                              "only)."),
        "host_routes": Property(
            LIST, "Host routes of the subnet.", update_allowed=True,
            item=Property(MAP, schema={
                "destination": Property(STRING, "The destination of the route.",
                                        required=True, constraints=(custom("net_cidr"),)),
                "nexthop": Property(STRING, "The next hop of the route.", required=True,
                                    constraints=(custom("ip_addr"),)),
            })),
        "ipv6_ra_mode": Property(STRING, "IPv6 router advertisement mode.",
                                 constraints=(AllowedValuesConstraint(allowed=_IPV6_MODES),)),
        "ipv6_address_mode": Property(STRING, "IPv6 address mode.", constraints=(
            AllowedValuesConstraint(allowed=_IPV6_MODES),)),
        "tags": TAGS,
    }
    attributes = {
        "name": Attribute("The name of the subnet.", STRING),
        "network_id": Attribute("The network of the subnet.", STRING),
        "tenant_id": Attribute("The project owning the subnet.", STRING),
        "allocation_pools": Attribute("The allocation pools of the subnet.", LIST),
        "gateway_ip": Attribute("The gateway IP of the subnet.", STRING),
        "host_routes": Attribute("The host routes of the subnet.", LIST),
        "ip_version": Attribute("The IP version of the subnet.", STRING),
        "cidr": Attribute("The CIDR of the subnet.", STRING),
        "dns_nameservers": Attribute("The DNS name servers of the subnet.", LIST),
        "enable_dhcp": Attribute("'true' when DHCP is enabled on the subnet.", STRING),
    }

    @staticmethod
    def _check(props: Mapping[str, Any]) -> None:
        if props.get("subnetpool") is not None and props.get("cidr"):
            raise ResourceFailure("Cannot define the following properties at the same time: "
                                  "subnetpool, cidr.")
        if props.get("subnetpool") is None and not props.get("cidr"):
            raise ResourceFailure("At least one of the following properties must be "
                                  "specified: subnetpool, cidr.")
        if props.get("prefixlen") and props.get("cidr"):
            raise ResourceFailure("Cannot define the following properties at the same time: "
                                  "prefixlen, cidr.")
        ra, address = props.get("ipv6_ra_mode"), props.get("ipv6_address_mode")
        if props.get("ip_version") == 4 and (ra or address):
            raise ResourceFailure("ipv6_ra_mode and ipv6_address_mode are not supported for "
                                  "ipv4.")
        if ra and address and ra != address:
            raise ResourceFailure("When both ipv6_ra_mode and ipv6_address_mode are set, they "
                                  "must be equal.")
        gateway = _gateway(props.get("gateway_ip"))
        if gateway is not None:
            try:
                ipaddress.ip_address(str(gateway))
            except ValueError:
                raise ResourceFailure(
                    f'Gateway IP address "{gateway}" is in invalid format.') from None

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        self._check(props)
        body: dict[str, Any] = {
            "network_id": await resolve(ctx, "network", props["network"]),
            "ip_version": props["ip_version"],
            "name": self._name(ctx, props), "enable_dhcp": props["enable_dhcp"],
            "dns_nameservers": list(props.get("dns_nameservers") or []),
        }
        if props.get("cidr"):
            body["cidr"] = props["cidr"]
        if props.get("subnetpool"):
            body["subnetpool_id"] = await resolve(ctx, "subnet_pool", props["subnetpool"])
        if props.get("prefixlen"):
            body["prefixlen"] = props["prefixlen"]
        if props.get("segment"):
            body["segment_id"] = await resolve(ctx, "segment", props["segment"])
        if props.get("gateway_ip") is not None:
            body["gateway_ip"] = _gateway(props["gateway_ip"])
        if props.get("allocation_pools") is not None:
            body["allocation_pools"] = [dict(p) for p in props["allocation_pools"]]
        if props.get("host_routes") is not None:
            body["host_routes"] = [dict(r) for r in props["host_routes"]]
        for key in ("tenant_id", "ipv6_ra_mode", "ipv6_address_mode"):
            if props.get(key) is not None:
                body[key] = props[key]
        body.update(value_specs(props))
        obj = await sdk(ctx, network_proxy(ctx).create_subnet, **body)
        await self._tag(ctx, obj, props.get("tags"))
        return Created(str(obj.id))

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        body = await super()._update_body(ctx, old, new, changed - {"segment"})
        if "segment" in changed and new.get("segment"):
            if old.get("segment") is not None:     # Heat's words
                raise ResourceFailure(
                    "Updating the subnet segment assciation only allowed when the current "
                    "segment_id is None. The subnet is currently associated with segment. In "
                    "this state update is not supported for resource.")
            body["segment_id"] = await resolve(ctx, "segment", new["segment"])
        if "gateway_ip" in changed:
            # dropped from the template (or empty, or ~): the subnet has no gateway any more
            body["gateway_ip"] = _gateway(new.get("gateway_ip"))
        if "dns_nameservers" in body:
            body["dns_nameservers"] = list(body["dns_nameservers"] or [])
        return body

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: raw.get(k) for k in ("name", "enable_dhcp", "dns_nameservers",
                                       "allocation_pools", "host_routes")}
        gateway = props.get("gateway_ip")
        if gateway is not None:
            out["gateway_ip"] = gateway if _gateway(gateway) == raw.get("gateway_ip") \
                else raw.get("gateway_ip")
        out.update(self._tags_observed(ctx, raw))
        return out
