"""``OS::Neutron::Port``: a port on a network, with its fixed IPs and security groups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from kubeheat.resources.base import (
    BOOLEAN,
    HIDDEN,
    LIST,
    MAP,
    STRING,
    Attribute,
    Created,
    DependencyView,
    Property,
    ResourceContext,
    register,
)
from kubeheat.resources.openstack._common import custom, get_or_none, sdk
from kubeheat.resources.openstack.neutron.base import (
    TAGS,
    VALUE_SPECS,
    NeutronResource,
    api_dict,
    extension_values,
    network_proxy,
    resolve,
    same,
    value_specs,
)
from kubeheat.resources.openstack.neutron.dependencies import subnets_of_network
from kubeheat.resources.translation import renamed
from kubeheat.template import AllowedValuesConstraint

_VNIC_TYPES = ("normal", "direct", "macvtap", "direct-physical", "baremetal")


@register
class Port(NeutronResource):
    adds_dependencies: ClassVar[bool] = True
    type_name = "OS::Neutron::Port"
    description = ("A Neutron port: a virtual switch port on a network, with the MAC and fixed "
                   "IP addresses that a server's interface plugged into it uses.")
    entity = "port"
    listing = "ports"
    properties = {
        "name": Property(STRING, "A symbolic name for this port.", update_allowed=True),
        "network": Property(STRING, "The name or id of the network of this port (a change "
                            "replaces the port).", required=True,
                            constraints=(custom("neutron.network"),)),
        "network_id": renamed("network", constraints=(custom("neutron.network"),)),
        "device_id": Property(STRING, "The device id of this port.", default="",
                              update_allowed=True),
        "device_owner": Property(STRING, "The owner of the device of this port (for example "
                                 "network:dhcp).", default="", update_allowed=True),
        "fixed_ips": Property(
            LIST, "The fixed IPs wanted for this port.", update_allowed=True,
            item=Property(MAP, schema={
                "subnet": Property(STRING, "The subnet to allocate the address from.",
                                   constraints=(custom("neutron.subnet"),)),
                "subnet_id": renamed("subnet", constraints=(custom("neutron.subnet"),)),
                "ip_address": Property(STRING, "The address wanted in the subnet.",
                                       constraints=(custom("ip_addr"),)),
            })),
        "security_groups": Property(LIST, "Names or ids of the security groups of this port.",
                                    update_allowed=True),
        "dns_name": Property(STRING, "The DNS name of the port.", update_allowed=True,
                             constraints=(custom("dns_name"),)),
        "tags": TAGS,
        "value_specs": VALUE_SPECS,
        "admin_state_up": Property(BOOLEAN, "The administrative state of this port.",
                                   default=True, update_allowed=True),
        "mac_address": Property(STRING, "The MAC address of this port (changing it needs "
                                "administrative rights in Neutron).", update_allowed=True,
                                constraints=(custom("mac_addr"),)),
        "allowed_address_pairs": Property(
            LIST, "Additional MAC/IP address pairs allowed through the port.",
            update_allowed=True,
            item=Property(MAP, schema={
                "mac_address": Property(STRING, "The MAC address allowed.",
                                        constraints=(custom("mac_addr"),)),
                "ip_address": Property(STRING, "The IP address (or CIDR) allowed.",
                                       required=True, constraints=(custom("net_cidr"),)),
            })),
        "binding:vnic_type": Property(STRING, "The vNIC type bound to the port.",
                                      default="normal", update_allowed=True,
                                      constraints=(AllowedValuesConstraint(
                                          allowed=_VNIC_TYPES),)),
        "port_security_enabled": Property(BOOLEAN, "Port security (security groups and "
                                          "address pairs filtering) on the port.",
                                          update_allowed=True),
        "qos_policy": Property(STRING, "The name or id of the QoS policy of the port.",
                               update_allowed=True, constraints=(custom("neutron.qos_policy"),)),
        "propagate_uplink_status": Property(BOOLEAN, "Propagate the uplink status on the "
                                            "port.", update_allowed=True),
        "no_fixed_ips": Property(BOOLEAN, "No fixed IP addresses at all on the port.",
                                 default=False, update_allowed=True),
        "replacement_policy": Property(
            STRING, "REPLACE_ALWAYS replaces the port on every update; AUTO updates it in "
            "place when the changed properties allow.", default="AUTO", update_allowed=True,
            constraints=(AllowedValuesConstraint(allowed=("REPLACE_ALWAYS", "AUTO")),),
            support=HIDDEN, support_message="REPLACE_ALWAYS replaces the port on every update "
            "(the default, AUTO, updates it in place where it can)"),
    }
    attributes = {
        "admin_state_up": Attribute("The administrative state of this port.", STRING),
        "device_id": Attribute("The id of the device of this port.", STRING),
        "device_owner": Attribute("The owner of the device of this port.", STRING),
        "fixed_ips": Attribute("The fixed IP addresses of this port.", LIST),
        "mac_address": Attribute("The MAC address of the port.", STRING),
        "name": Attribute("The name of the port.", STRING),
        "network_id": Attribute("The id of the network of the port.", STRING),
        "security_groups": Attribute("The security groups of the port.", LIST),
        "status": Attribute("The status of the port.", STRING),
        "tenant_id": Attribute("The project owning the port.", STRING),
        "allowed_address_pairs": Attribute("The MAC/IP pairs allowed through the port.", LIST),
        "subnets": Attribute("The subnets of the port's fixed IPs, in full.", LIST),
        "port_security_enabled": Attribute("Port security of the port.", BOOLEAN),
        "qos_policy_id": Attribute("The QoS policy id of the port.", STRING),
        "dns_assignment": Attribute("The DNS assignment of the port.", MAP),
        "network": Attribute("The network of the port, in full.", MAP),
        "propagate_uplink_status": Attribute("Propagation of the uplink status on the port.",
                                             BOOLEAN),
    }

    async def _fixed_ips(self, ctx: ResourceContext, items: Iterable[Mapping[str, Any]]
                         ) -> list[dict[str, Any]]:
        out = []
        for item in items:
            entry: dict[str, Any] = {}
            if item.get("subnet"):
                entry["subnet_id"] = await resolve(ctx, "subnet", item["subnet"])
            if item.get("ip_address"):
                entry["ip_address"] = item["ip_address"]
            out.append(entry)
        return out

    async def _groups(self, ctx: ResourceContext, groups: Iterable[Any]) -> list[str]:
        return [str(await resolve(ctx, "security_group", g)) for g in groups]

    async def _data(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if props.get("fixed_ips") is not None:
            data["fixed_ips"] = await self._fixed_ips(ctx, props["fixed_ips"])
        if props.get("security_groups") is not None:
            data["security_groups"] = await self._groups(ctx, props["security_groups"])
        return data

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        data = await self._data(ctx, props)
        body: dict[str, Any] = {"network_id": await resolve(ctx, "network", props["network"]),
                                "name": self._name(ctx, props),
                                "admin_state_up": props["admin_state_up"],
                                "binding:vnic_type": props["binding:vnic_type"]}
        if props.get("no_fixed_ips"):
            body["fixed_ips"] = []
        elif "fixed_ips" in data:
            body["fixed_ips"] = data["fixed_ips"]
        if "security_groups" in data:
            body["security_groups"] = data["security_groups"]
        for key in ("mac_address", "port_security_enabled", "dns_name",
                    "propagate_uplink_status"):
            if props.get(key) is not None:
                body[key] = props[key]
        for key in ("device_id", "device_owner"):
            if props.get(key):
                body[key] = props[key]
        if props.get("allowed_address_pairs") is not None:
            body["allowed_address_pairs"] = [
                {k: v for k, v in pair.items() if v is not None}
                for pair in props["allowed_address_pairs"]]
        if props.get("qos_policy"):
            body["qos_policy_id"] = await resolve(ctx, "qos_policy", props["qos_policy"])
        body.update(value_specs(props))
        obj = await sdk(ctx, network_proxy(ctx).create_port, **body)
        await self._tag(ctx, obj, props.get("tags"))
        return Created(str(obj.id), data)

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        special = {"fixed_ips", "security_groups", "qos_policy", "allowed_address_pairs",
                   "no_fixed_ips", "replacement_policy"}
        body = await super()._update_body(ctx, old, new, changed - special)
        if new.get("no_fixed_ips"):
            if "no_fixed_ips" in changed or "fixed_ips" in changed:
                body["fixed_ips"] = []
        elif changed & {"fixed_ips", "no_fixed_ips"} and new.get("fixed_ips") is not None:
            body["fixed_ips"] = await self._fixed_ips(ctx, new["fixed_ips"])
        if "security_groups" in changed:
            groups = new.get("security_groups")
            body["security_groups"] = await self._groups(
                ctx, groups if groups is not None else ["default"])
        if "qos_policy" in changed:
            body["qos_policy_id"] = await resolve(ctx, "qos_policy", new.get("qos_policy"))
        if "allowed_address_pairs" in changed:
            body["allowed_address_pairs"] = [
                {k: v for k, v in pair.items() if v is not None}
                for pair in new.get("allowed_address_pairs") or []]
        return body

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: raw.get(k) for k in ("name", "admin_state_up", "mac_address")}
        out.update(extension_values(raw, ("port_security_enabled", "dns_name",
                                          "binding:vnic_type", "propagate_uplink_status")))
        for key in ("device_id", "device_owner"):
            if props.get(key):          # "" (the default) leaves it to whoever binds the port
                out[key] = raw.get(key)
        data = ctx.data
        actual_ips = list(raw.get("fixed_ips") or [])
        wanted_ips = data.get("fixed_ips")
        if props.get("fixed_ips") is not None and isinstance(wanted_ips, list):
            out["fixed_ips"] = props["fixed_ips"] if _ips_match(wanted_ips, actual_ips) else [
                {"subnet": ip.get("subnet_id"), "ip_address": ip.get("ip_address")}
                for ip in actual_ips]
        wanted_groups = data.get("security_groups")
        if props.get("security_groups") is not None and isinstance(wanted_groups, list):
            actual = list(raw.get("security_groups") or [])
            out["security_groups"] = props["security_groups"] \
                if set(actual) == set(wanted_groups) else actual
        if props.get("allowed_address_pairs") is not None:
            wanted_pairs = props["allowed_address_pairs"]
            actual_pairs = [
                {"ip_address": p.get("ip_address"),
                 "mac_address": p.get("mac_address") if any(
                     w.get("mac_address") for w in wanted_pairs) else None}
                for p in raw.get("allowed_address_pairs") or []]
            out["allowed_address_pairs"] = wanted_pairs if same(wanted_pairs, actual_pairs) \
                else actual_pairs
        out.update(self._tags_observed(ctx, raw))
        return out

    async def _attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                          ) -> dict[str, Any]:
        out = await super()._attributes(ctx, raw)
        net = network_proxy(ctx)
        subnets = []
        for sid in dict.fromkeys(ip.get("subnet_id") for ip in raw.get("fixed_ips") or []):
            if sid:
                subnet = await get_or_none(ctx, net.get_subnet, str(sid), wrap_errors=True)
                if subnet is not None:
                    subnets.append(api_dict(subnet))
        out["subnets"] = subnets
        network = await get_or_none(ctx, net.get_network, str(raw.get("network_id")),
                                    wrap_errors=True)
        out["network"] = api_dict(network) if network is not None else None
        return out

    async def _listed_attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                                 ) -> dict[str, Any]:
        out = await NeutronResource._attributes(self, ctx, raw)
        out.pop("subnets", None)      # a GET per subnet and the network: kept as cached
        out.pop("network", None)
        return out

    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> tuple[str, str] | None:
        """Heat: fixed IPs and no fixed IPs at once are a conflict."""
        if values.get("fixed_ips") and values.get("no_fixed_ips"):
            return ("fixed_ips", "Cannot define the following properties at the same time: "
                    "fixed_ips, no_fixed_ips.")
        return None

    def needs_replacement(self, old: Mapping[str, Any], new: Mapping[str, Any],
                          changed: frozenset[str]) -> frozenset[str]:
        """Heat's hidden ``replacement_policy``: REPLACE_ALWAYS replaces the port whenever its
        properties change."""
        if changed and new.get("replacement_policy") == "REPLACE_ALWAYS":
            return changed
        return super().needs_replacement(old, new, changed)

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Mapping[str, Any],
                              stack: DependencyView) -> set[str]:
        """Heat: every subnet of the port's network exists before the port (which subnet
        gives it an address is not known)."""
        return subnets_of_network(stack, properties.get("network"))


def _ips_match(wanted: list[dict[str, Any]], actual: list[dict[str, Any]]) -> bool:
    """Every requested fixed IP (subnet and/or address) is on the port, and nothing more."""
    if len(wanted) != len(actual):
        return False
    left = list(actual)
    for want in wanted:
        for ip in left:
            if all(ip.get(k) == v for k, v in want.items()):
                left.remove(ip)
                break
        else:
            return False
    return True
