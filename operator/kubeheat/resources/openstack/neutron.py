"""Neutron resource types: networks, subnets, ports, routers and their interfaces, floating IPs
and their associations, security groups and security group rules.

Every call goes through openstacksdk's network proxy (``ctx.cloud``). Properties, attributes,
defaults, constraints and which properties update in place follow Heat's Neutron plugins;
the code is kubeheat's own.

Crash safety: what supports Neutron tags (nets, subnets, ports, routers, floating IPs, security
groups) is tagged ``kubeheat-stack-id=<stack>`` and ``kubeheat-resource=<name>`` right after it
is created (next to the template's own ``tags``), and :meth:`find_existing` lists by those tags.
An object made by a create interrupted before it was tagged is found by what only that create
gives it: the generated name (when the template sets none), or for a floating IP a marker in
its description. Objects without tags are found by what identifies them in Neutron: a router
interface by its router and subnet/port, a floating IP association by the floating IP's port, a
security group rule by the marker in its description (or the template's description) and its
parameters.

Ordering: Heat's implicit dependencies (:meth:`implicit_dependencies`) make a port wait for the
subnets of its network, a router for the subnets of its gateway network, and a floating IP (or
association) for the router interfaces on its port's subnets and for the routers whose gateway
is its floating network; deletes run in the reverse order, so a router interface is removed
after the floating IPs that need it.

Observation: :meth:`read_many` lists each tagged type once by the stack's tag (``check`` and
``plan``); attributes are re-read by the engine when they may have changed
(``live_attributes``: a network's ``subnets``, a floating IP's ``port_id``).

Drift: :meth:`read` reports the properties that can change in place and were set in the
template, in the template's own form when the cloud agrees with it (names of referenced objects
are compared through the ids they resolved to) and in the cloud's form when it does not, so the
engine's comparison names exactly what moved. Security group rules are compared as a set.

Names or ids are accepted wherever Heat accepts them (``network``, ``subnet``, ``port``,
``router``, security groups ...); the ``neutron.*`` custom constraints check them against the
cloud (see :func:`kubeheat.resources.openstack.cloud_constraints`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from kubeheat.resources.base import (
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
    STRING,
    TAG_STACK_ID,
    Attribute,
    Created,
    DependencyView,
    Observed,
    Property,
    ResourceContext,
    ResourceFailure,
    ResourceSnippet,
    register,
)
from kubeheat.resources.openstack._common import (
    FinderConstraint,
    ListedResource,
    cloud_constraint,
    connection,
    custom,
    delete_quietly,
    failure,
    get_or_none,
    is_not_found,
    pick_existing,
    sdk,
    tag_list,
)
from kubeheat.template.constraints import (
    AllowedValuesConstraint,
    RangeConstraint,
)

# -------------------------------------------------------------------------------------------
# custom constraints answered by the cloud
# -------------------------------------------------------------------------------------------


@cloud_constraint
class NetworkConstraint(FinderConstraint):
    name = "neutron.network"
    description = "A Neutron network, by name or id"
    entity = "Network"
    finder = "network.find_network"
    ambiguous_is_found = True


@cloud_constraint
class SubnetConstraint(FinderConstraint):
    name = "neutron.subnet"
    description = "A Neutron subnet, by name or id"
    entity = "Subnet"
    finder = "network.find_subnet"
    ambiguous_is_found = True


@cloud_constraint
class PortConstraint(FinderConstraint):
    name = "neutron.port"
    description = "A Neutron port, by name or id"
    entity = "Port"
    finder = "network.find_port"
    ambiguous_is_found = True


@cloud_constraint
class RouterConstraint(FinderConstraint):
    name = "neutron.router"
    description = "A Neutron router, by name or id"
    entity = "Router"
    finder = "network.find_router"
    ambiguous_is_found = True


@cloud_constraint
class SecurityGroupConstraint(FinderConstraint):
    name = "neutron.security_group"
    description = "A Neutron security group, by name or id"
    entity = "Security Group"
    finder = "network.find_security_group"
    ambiguous_is_found = True


# -------------------------------------------------------------------------------------------
# helpers
# -------------------------------------------------------------------------------------------

#: what a resource's ``status`` must not be (Neutron reports ERROR for failed objects)
_FAILED = "ERROR"
_BUILDING = frozenset({"BUILD", "PENDING_CREATE"})


def _network(ctx: ResourceContext) -> Any:
    """The openstacksdk network proxy of the stack's cloud."""
    return connection(ctx).network


def _raw(obj: Any) -> dict[str, Any]:
    """An SDK object as the API shows it (wire names, no headers, no computed fields)."""
    out: dict[str, Any] = obj.to_dict(body=True, headers=False, computed=False,
                                      original_names=True)
    return out


async def _find(ctx: ResourceContext, kind: str, value: str) -> Any:
    """The Neutron object of ``kind`` named (or identified) by ``value``; a failure naming it
    when there is none, or several with that name."""
    from openstack import exceptions

    finder = getattr(_network(ctx), f"find_{kind}")
    what = kind.replace("_", " ")
    try:
        found = await ctx.call(finder, value, ignore_missing=False)
    except exceptions.DuplicateResource:
        raise ResourceFailure(f"Multiple {what} matches found for name '{value}', use an ID "
                              "to be more specific.") from None
    except Exception as exc:
        if not is_not_found(exc):
            raise failure(exc) from None
        found = None
    if found is None:
        raise ResourceFailure(f"Unable to find {what} with name or id '{value}'")
    return found


async def _resolve(ctx: ResourceContext, kind: str, value: Any) -> str | None:
    """The id of the object named or identified by ``value`` (None stays None)."""
    if value is None or value == "":
        return None
    return str((await _find(ctx, kind, str(value))).id)


def _same(applied: Any, observed: Any) -> bool:
    """Equal as Neutron means it: lists compare as sets (of their items' non-null keys), maps
    by their non-null keys."""
    return bool(_norm(applied) == _norm(observed))


def _norm(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _norm(v)) for k, v in value.items() if v is not None))
    if isinstance(value, list | tuple):
        return tuple(sorted((_norm(v) for v in value), key=repr))
    return value


def _observe(applied: Mapping[str, Any], observed: Mapping[str, Any]) -> dict[str, Any]:
    """The observed values of the properties the template set: the applied value itself when
    the cloud agrees (so only real differences show as drift), else what the cloud has."""
    out: dict[str, Any] = {}
    for key, value in observed.items():
        want = applied.get(key)
        if want is None:
            continue
        out[key] = want if _same(want, value) else value
    return out


def _user_tags(tags: Iterable[str] | None, ctx: ResourceContext) -> list[str]:
    """The template's tags on an object: everything but the ones kubeheat writes."""
    ours = set(tag_list(ctx))
    return sorted(t for t in (tags or ()) if t not in ours)


def _extension_values(raw: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """Fields an API extension adds (port security, DNS, bindings): observed only when the
    cloud shows them, so a cloud without the extension (or a policy hiding it) is no drift."""
    return {k: raw[k] for k in keys if raw.get(k) is not None}


def _marker(ctx: ResourceContext) -> str:
    """This resource's tags as one string: the description of what cannot carry tags (or
    cannot carry them from the moment it is made)."""
    return ",".join(tag_list(ctx))


def _value_specs(props: Mapping[str, Any]) -> dict[str, Any]:
    specs = props.get("value_specs")
    return dict(specs) if isinstance(specs, Mapping) else {}


# -------------------------------------------------------------------------------------------
# implicit dependencies (Heat's add_dependencies rules, on unresolved properties)
# -------------------------------------------------------------------------------------------

_SUBNET, _PORT, _ROUTER, _IFACE = ("OS::Neutron::Subnet", "OS::Neutron::Port",
                                   "OS::Neutron::Router", "OS::Neutron::RouterInterface")


def _subnets_of_network(stack: DependencyView, network: Any) -> set[str]:
    """The stack's subnets on ``network``."""
    return {s.name for s in stack.of_type(_SUBNET)
            if stack.same(s.properties.get("network"), network)}


def _port_on_subnet(stack: DependencyView, port: ResourceSnippet, subnet: Any) -> bool:
    """True when the stack's port ``port`` takes an address on ``subnet``: one of its fixed
    IPs names it, or (no subnet named) ``subnet`` is a subnet of the stack on the port's
    network (Heat asks the cloud for the network's subnets; the template tells us)."""
    fixed = port.properties.get("fixed_ips")
    named = [ip.get("subnet") for ip in fixed if isinstance(ip, Mapping)] \
        if isinstance(fixed, list) else []
    named = [n for n in named if n is not None]
    if named:
        return any(stack.same(n, subnet) for n in named)
    target = stack.reference(subnet)
    if target is None or stack.resources[target].type != _SUBNET:
        return False
    return stack.same(stack.resources[target].properties.get("network"),
                      port.properties.get("network"))


def _interfaces_for_ports(stack: DependencyView, name: str) -> set[str]:
    """Router interfaces on a subnet of a port that resource ``name`` depends on."""
    mine = stack.resources[name]
    ports = [stack.resources[d] for d in sorted(mine.dependencies)
             if d in stack.resources and stack.resources[d].type == _PORT]
    out: set[str] = set()
    if not ports:
        return out
    for iface in stack.of_type(_IFACE):
        subnet = iface.properties.get("subnet")
        if subnet is not None and any(_port_on_subnet(stack, p, subnet) for p in ports):
            out.add(iface.name)
    return out


def _gateway_network(router: ResourceSnippet) -> Any:
    info = router.properties.get("external_gateway_info")
    return info.get("network") if isinstance(info, Mapping) else None


# -------------------------------------------------------------------------------------------
# the shared base
# -------------------------------------------------------------------------------------------


class NeutronResource(ListedResource):
    """What the Neutron types share: tags set after the create, a status to wait for, reads
    that fail with the cloud's message, updates by the SDK's naming, drift in the template's
    terms."""

    proxy = "network"
    tagged = True
    wrap_read_errors = True
    #: the object has a ``status`` that must reach a built state
    has_status: ClassVar[bool] = True
    #: a network's subnets, a port's addresses, a floating IP's association ... change after
    #: the object's own create: the engine re-reads the attributes when they may have
    live_attributes = True

    # -- SDK plumbing ------------------------------------------------------------------------
    async def _tag(self, ctx: ResourceContext, obj: Any, user_tags: Iterable[str] | None
                   ) -> None:
        """Set the object's tags: the template's plus the ones that find it after a crash."""
        if obj is None:
            obj = await self._fetch(ctx)
            if obj is None:
                raise ResourceFailure(f"The {self.entity.replace('_', ' ')} "
                                      f"{ctx.physical_id} could not be found.")
        tags = sorted(set(user_tags or ()) | set(tag_list(ctx)))
        await sdk(ctx, _network(ctx).set_tags, obj, tags)

    # -- handlers ----------------------------------------------------------------------------
    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        if not self.has_status:
            return True
        obj = await self._fetch(ctx)
        if obj is None:
            raise ResourceFailure(f"The {self.entity.replace('_', ' ')} disappeared while "
                                  "being created")
        status = str(getattr(obj, "status", "") or "").upper()
        if status == _FAILED:
            raise ResourceFailure(f"Went to status {status} due to \"Unknown\"")
        return status not in _BUILDING

    async def _untagged(self, ctx: ResourceContext, props: Mapping[str, Any]) -> Any | None:
        """Made, but the create was interrupted before it was tagged: found by the name (or
        description) only this stack's resource of that name has, when untagged."""
        fallback = self._fallback_query(ctx, props)
        if not fallback:
            return None
        items = await self._list(ctx, **fallback)
        found = pick_existing((i for i in items if not any(
            str(t).startswith(f"{TAG_STACK_ID}=") for t in i.tags or ())), ctx)
        if found is not None:
            await self._tag(ctx, found, props.get("tags"))
        return found

    def _fallback_query(self, ctx: ResourceContext, props: Mapping[str, Any]
                        ) -> dict[str, str] | None:
        """A listing filter matching only what this resource's own create makes (the
        generated name, when the template sets none)."""
        if "name" in self.properties and not props.get("name"):
            return {"name": ctx.physical_name(255)}
        return None

    async def _adopt(self, ctx: ResourceContext, props: Mapping[str, Any], obj: Any
                     ) -> Created:
        return Created(str(obj.id), await self._data(ctx, props))

    async def _observation(self, ctx: ResourceContext, props: Mapping[str, Any], obj: Any, *,
                           batch: bool = False) -> Observed:
        raw = _raw(obj)
        status = str(raw.get("status") or "OK")
        failed = f"Went to status {status}" if status.upper() == _FAILED else None
        observed = _observe(props, await self._observed(ctx, props, raw))
        attributes = await (self._listed_attributes(ctx, raw) if batch
                            else self._attributes(ctx, raw))
        return Observed(properties=observed, attributes=attributes, status=status,
                        failed=failed)

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        obj = await self._fetch(ctx)
        if obj is None:
            return {}
        return await self._attributes(ctx, _raw(obj))

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        if ctx.physical_id is None:
            raise ResourceFailure("The resource was never created")
        body = await self._update_body(ctx, old, new, changed)
        if "value_specs" in changed:
            body.update(_value_specs(new))
        if body:
            await self._send(ctx, self._call(ctx, "update"), ctx.physical_id, **body)
        if self.tagged and "tags" in changed:
            await self._tag(ctx, None, new.get("tags"))
        return await self._data(ctx, new)

    # -- per type ----------------------------------------------------------------------------
    async def _send(self, ctx: ResourceContext, fn: Callable[..., Any], *args: Any,
                    **kwargs: Any) -> Any:
        """A create or update call."""
        return await sdk(ctx, fn, *args, **kwargs)

    async def _data(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        """Private data kept with the resource (ids the template's names resolved to)."""
        return {}

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        """The cloud's values of the observable properties (before :func:`_observe`)."""
        return {}

    async def _attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                          ) -> dict[str, Any]:
        out = {name: raw.get(name) for name in self.attributes if name != "show"}
        out["show"] = dict(raw)
        return out

    async def _listed_attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                                 ) -> dict[str, Any]:
        """The attributes :meth:`read_many` gives from a listing: those needing no further
        call (the others keep their cached values)."""
        return await self._attributes(ctx, raw)

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key in changed:
            if key in ("tags", "value_specs"):
                continue
            if key == "name":
                body["name"] = self._name(ctx, new)
            elif new.get(key) is not None:    # dropped from the template: left as it is
                body[key] = new[key]
        return body

    def _tags_observed(self, ctx: ResourceContext, raw: Mapping[str, Any]) -> dict[str, Any]:
        if not self.tagged or "tags" not in self.properties:
            return {}
        return {"tags": _user_tags(raw.get("tags"), ctx)}


_TAGS = Property(LIST, "The tags to be added to the resource.", update_allowed=True,
                 item=Property(STRING))
_VALUE_SPECS = Property(MAP, "Extra parameters to include in the request. Parameters are often "
                        "specific to installed hardware or extensions.", default={},
                        update_allowed=True)


# -------------------------------------------------------------------------------------------
# OS::Neutron::Net
# -------------------------------------------------------------------------------------------


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
        "value_specs": _VALUE_SPECS,
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
        "tags": _TAGS,
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
    }

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        body: dict[str, Any] = {"name": self._name(ctx, props),
                                "admin_state_up": props["admin_state_up"],
                                "shared": props["shared"]}
        for key in ("tenant_id", "port_security_enabled", "dns_domain"):
            if props.get(key) is not None:
                body[key] = props[key]
        if props.get("qos_policy"):
            body["qos_policy_id"] = await _resolve(ctx, "qos_policy", props["qos_policy"])
        body.update(_value_specs(props))
        obj = await sdk(ctx, _network(ctx).create_network, **body)
        await self._tag(ctx, obj, props.get("tags"))
        return Created(str(obj.id))

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        body = await super()._update_body(ctx, old, new, changed - {"qos_policy"})
        if "qos_policy" in changed:
            body["qos_policy_id"] = await _resolve(ctx, "qos_policy", new.get("qos_policy"))
        return body

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: raw.get(k) for k in ("name", "admin_state_up", "shared")}
        out.update(_extension_values(raw, ("port_security_enabled", "dns_domain")))
        out.update(self._tags_observed(ctx, raw))
        return out


# -------------------------------------------------------------------------------------------
# OS::Neutron::Subnet
# -------------------------------------------------------------------------------------------

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
        "cidr": Property(STRING, "The CIDR.", constraints=(custom("net_cidr"),)),
        "value_specs": _VALUE_SPECS,
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
        "tags": _TAGS,
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
        if not props.get("cidr"):
            raise ResourceFailure("At least one of the following properties must be "
                                  "specified: subnetpool, cidr.")
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
            "network_id": await _resolve(ctx, "network", props["network"]),
            "cidr": props["cidr"], "ip_version": props["ip_version"],
            "name": self._name(ctx, props), "enable_dhcp": props["enable_dhcp"],
            "dns_nameservers": list(props.get("dns_nameservers") or []),
        }
        if props.get("gateway_ip") is not None:
            body["gateway_ip"] = _gateway(props["gateway_ip"])
        if props.get("allocation_pools") is not None:
            body["allocation_pools"] = [dict(p) for p in props["allocation_pools"]]
        if props.get("host_routes") is not None:
            body["host_routes"] = [dict(r) for r in props["host_routes"]]
        for key in ("tenant_id", "ipv6_ra_mode", "ipv6_address_mode"):
            if props.get(key) is not None:
                body[key] = props[key]
        body.update(_value_specs(props))
        obj = await sdk(ctx, _network(ctx).create_subnet, **body)
        await self._tag(ctx, obj, props.get("tags"))
        return Created(str(obj.id))

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        body = await super()._update_body(ctx, old, new, changed)
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


# -------------------------------------------------------------------------------------------
# OS::Neutron::Port
# -------------------------------------------------------------------------------------------

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
        "device_id": Property(STRING, "The device id of this port.", default="",
                              update_allowed=True),
        "device_owner": Property(STRING, "The owner of the device of this port (for example "
                                 "network:dhcp).", default="", update_allowed=True),
        "fixed_ips": Property(
            LIST, "The fixed IPs wanted for this port.", update_allowed=True,
            item=Property(MAP, schema={
                "subnet": Property(STRING, "The subnet to allocate the address from.",
                                   constraints=(custom("neutron.subnet"),)),
                "ip_address": Property(STRING, "The address wanted in the subnet.",
                                       constraints=(custom("ip_addr"),)),
            })),
        "security_groups": Property(LIST, "Names or ids of the security groups of this port.",
                                    update_allowed=True),
        "dns_name": Property(STRING, "The DNS name of the port.", update_allowed=True,
                             constraints=(custom("dns_name"),)),
        "tags": _TAGS,
        "value_specs": _VALUE_SPECS,
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
    }

    async def _fixed_ips(self, ctx: ResourceContext, items: Iterable[Mapping[str, Any]]
                         ) -> list[dict[str, Any]]:
        out = []
        for item in items:
            entry: dict[str, Any] = {}
            if item.get("subnet"):
                entry["subnet_id"] = await _resolve(ctx, "subnet", item["subnet"])
            if item.get("ip_address"):
                entry["ip_address"] = item["ip_address"]
            out.append(entry)
        return out

    async def _groups(self, ctx: ResourceContext, groups: Iterable[Any]) -> list[str]:
        return [str(await _resolve(ctx, "security_group", g)) for g in groups]

    async def _data(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if props.get("fixed_ips") is not None:
            data["fixed_ips"] = await self._fixed_ips(ctx, props["fixed_ips"])
        if props.get("security_groups") is not None:
            data["security_groups"] = await self._groups(ctx, props["security_groups"])
        return data

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        data = await self._data(ctx, props)
        body: dict[str, Any] = {"network_id": await _resolve(ctx, "network", props["network"]),
                                "name": self._name(ctx, props),
                                "admin_state_up": props["admin_state_up"],
                                "binding:vnic_type": props["binding:vnic_type"]}
        if "fixed_ips" in data:
            body["fixed_ips"] = data["fixed_ips"]
        if "security_groups" in data:
            body["security_groups"] = data["security_groups"]
        for key in ("mac_address", "port_security_enabled", "dns_name"):
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
            body["qos_policy_id"] = await _resolve(ctx, "qos_policy", props["qos_policy"])
        body.update(_value_specs(props))
        obj = await sdk(ctx, _network(ctx).create_port, **body)
        await self._tag(ctx, obj, props.get("tags"))
        return Created(str(obj.id), data)

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        special = {"fixed_ips", "security_groups", "qos_policy", "allowed_address_pairs"}
        body = await super()._update_body(ctx, old, new, changed - special)
        if "fixed_ips" in changed and new.get("fixed_ips") is not None:
            body["fixed_ips"] = await self._fixed_ips(ctx, new["fixed_ips"])
        if "security_groups" in changed:
            groups = new.get("security_groups")
            body["security_groups"] = await self._groups(
                ctx, groups if groups is not None else ["default"])
        if "qos_policy" in changed:
            body["qos_policy_id"] = await _resolve(ctx, "qos_policy", new.get("qos_policy"))
        if "allowed_address_pairs" in changed:
            body["allowed_address_pairs"] = [
                {k: v for k, v in pair.items() if v is not None}
                for pair in new.get("allowed_address_pairs") or []]
        return body

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: raw.get(k) for k in ("name", "admin_state_up", "mac_address")}
        out.update(_extension_values(raw, ("port_security_enabled", "dns_name",
                                           "binding:vnic_type")))
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
            out["allowed_address_pairs"] = wanted_pairs if _same(wanted_pairs, actual_pairs) \
                else actual_pairs
        out.update(self._tags_observed(ctx, raw))
        return out

    async def _attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                          ) -> dict[str, Any]:
        out = await super()._attributes(ctx, raw)
        net = _network(ctx)
        subnets = []
        for sid in dict.fromkeys(ip.get("subnet_id") for ip in raw.get("fixed_ips") or []):
            if sid:
                subnet = await get_or_none(ctx, net.get_subnet, str(sid), wrap_errors=True)
                if subnet is not None:
                    subnets.append(_raw(subnet))
        out["subnets"] = subnets
        network = await get_or_none(ctx, net.get_network, str(raw.get("network_id")),
                                    wrap_errors=True)
        out["network"] = _raw(network) if network is not None else None
        return out

    async def _listed_attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                                 ) -> dict[str, Any]:
        out = await NeutronResource._attributes(self, ctx, raw)
        out.pop("subnets", None)      # a GET per subnet and the network: kept as cached
        out.pop("network", None)
        return out

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Mapping[str, Any],
                              stack: DependencyView) -> set[str]:
        """Heat: every subnet of the port's network exists before the port (which subnet
        gives it an address is not known)."""
        return _subnets_of_network(stack, properties.get("network"))


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


# -------------------------------------------------------------------------------------------
# OS::Neutron::Router and OS::Neutron::RouterInterface
# -------------------------------------------------------------------------------------------


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
        "tags": _TAGS,
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
        return _subnets_of_network(stack, info.get("network"))

    async def _gateway(self, ctx: ResourceContext, info: Mapping[str, Any] | None
                       ) -> dict[str, Any] | None:
        if not info:
            return None
        gateway: dict[str, Any] = {"network_id": await _resolve(ctx, "network",
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
                    entry["subnet_id"] = await _resolve(ctx, "subnet", item["subnet"])
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

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        self._check(props)
        data = await self._data(ctx, props)
        body: dict[str, Any] = {"name": self._name(ctx, props),
                                "admin_state_up": props["admin_state_up"]}
        if data.get("gateway"):
            body["external_gateway_info"] = data["gateway"]
        for key in ("distributed", "ha"):
            if props.get(key) is not None:
                body[key] = props[key]
        body.update(_value_specs(props))
        obj = await sdk(ctx, _network(ctx).create_router, **body)
        await self._tag(ctx, obj, props.get("tags"))
        return Created(str(obj.id), data)

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        body = await super()._update_body(ctx, old, new, changed - {"external_gateway_info"})
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
        router = await _resolve(ctx, "router", props["router"])
        assert router is not None
        if subnet:
            return router, "subnet_id", str(await _resolve(ctx, "subnet", subnet))
        return router, "port_id", str(await _resolve(ctx, "port", port))

    async def _interface_port(self, ctx: ResourceContext, router: str, key: str, value: str
                              ) -> Any | None:
        """The port joining the router to the subnet (or the port itself), if attached."""
        net = _network(ctx)
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
        await sdk(ctx, _network(ctx).add_interface_to_router, router, **kwargs)
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
        if await get_or_none(ctx, _network(ctx).get_router, router, wrap_errors=True) is None:
            return None
        port = await self._interface_port(ctx, router, key, value)
        if port is None:
            return None
        return Observed(properties={}, attributes={"show": _raw(port)},
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
            await ctx.call(_network(ctx).remove_interface_from_router, router, **kwargs)
        except Exception as exc:
            if not is_not_found(exc):
                raise failure(exc) from None


# -------------------------------------------------------------------------------------------
# OS::Neutron::FloatingIP and OS::Neutron::FloatingIPAssociation
# -------------------------------------------------------------------------------------------


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
        "tags": _TAGS,
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
        out = _interfaces_for_ports(stack, name)
        floating = properties.get("floating_network")
        out.update(r.name for r in stack.of_type(_ROUTER)
                   if stack.same(_gateway_network(r), floating))
        return out

    async def _data(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        port = await _resolve(ctx, "port", props.get("port_id"))
        return {"port_id": port} if port else {}

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        if props.get("fixed_ip_address") and not props.get("port_id"):
            raise ResourceFailure("The property fixed_ip_address requires the property "
                                  "port_id.")
        data = await self._data(ctx, props)
        body: dict[str, Any] = {
            "floating_network_id": await _resolve(ctx, "network", props["floating_network"])}
        if props.get("floating_subnet"):
            body["subnet_id"] = await _resolve(ctx, "subnet", props["floating_subnet"])
        if data.get("port_id"):
            body["port_id"] = data["port_id"]
        for key in ("fixed_ip_address", "floating_ip_address", "dns_name", "dns_domain"):
            if props.get(key):
                body[key] = props[key]
        body["description"] = _marker(ctx)
        body.update(_value_specs(props))
        obj = await sdk(ctx, _network(ctx).create_ip, **body)
        await self._tag(ctx, obj, props.get("tags"))
        return Created(str(obj.id), data)

    def _fallback_query(self, ctx: ResourceContext, props: Mapping[str, Any]
                        ) -> dict[str, str] | None:
        return {"description": _marker(ctx)}

    async def _update_body(self, ctx: ResourceContext, old: Mapping[str, Any],
                           new: Mapping[str, Any], changed: frozenset[str]) -> dict[str, Any]:
        body = await super()._update_body(
            ctx, old, new, changed - {"port_id", "fixed_ip_address"})
        if changed & {"port_id", "fixed_ip_address"}:
            body["port_id"] = await _resolve(ctx, "port", new.get("port_id"))
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
        return _interfaces_for_ports(stack, name)

    async def _data(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        return {"floatingip_id": str(props["floatingip_id"]),
                "port_id": await _resolve(ctx, "port", props["port_id"])}

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
        await sdk(ctx, _network(ctx).update_ip, data["floatingip_id"], **body)

    async def _disassociate(self, ctx: ResourceContext, fip_id: str | None,
                            port_id: str | None) -> None:
        """Detach the floating IP from our port; someone else's association is left alone."""
        if not fip_id:
            return
        fip = await get_or_none(ctx, _network(ctx).get_ip, fip_id, wrap_errors=True)
        if fip is None or (port_id is not None and fip.port_id != port_id):
            return
        await delete_quietly(ctx, _network(ctx).update_ip, fip_id, port_id=None)

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
        fip = await get_or_none(ctx, _network(ctx).get_ip, data["floatingip_id"],
                                wrap_errors=True)
        physical_id = f"{data['floatingip_id']}:{data['port_id']}"
        if fip is None or fip.port_id != data["port_id"] or physical_id in ctx.exclude_ids:
            return None
        return Created(physical_id, data)

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        fip_id, port_id = self._ids(ctx)
        if fip_id is None:
            return None
        fip = await get_or_none(ctx, _network(ctx).get_ip, fip_id, wrap_errors=True)
        if fip is None:
            return None
        raw = _raw(fip)
        actual = raw.get("port_id")
        observed = {"port_id": props.get("port_id") if actual == port_id else actual,
                    "fixed_ip_address": raw.get("fixed_ip_address")}
        return Observed(properties=_observe(props, observed), attributes={"show": raw},
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


# -------------------------------------------------------------------------------------------
# OS::Neutron::SecurityGroup and OS::Neutron::SecurityGroupRule
# -------------------------------------------------------------------------------------------

_DIRECTIONS = ("ingress", "egress")
_ETHERTYPES = ("IPv4", "IPv6")
_PORT_RANGE = (RangeConstraint(min=0, max=65535),)
_DEFAULT_EGRESS = ({"direction": "egress", "ethertype": "IPv4"},
                   {"direction": "egress", "ethertype": "IPv6"})

#: a rule as Neutron identifies it: direction, ethertype, protocol, port_range_min,
#: port_range_max, remote_ip_prefix, remote_group_id
RuleKey = tuple[str, str, str | None, int | None, int | None, str | None, str | None]


def _prefix(value: Any) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        return str(value)


def _port(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _rule_key(direction: Any, ethertype: Any, protocol: Any, port_min: Any, port_max: Any,
              prefix: Any, group: Any) -> RuleKey:
    return (str(direction), str(ethertype or "IPv4"),
            None if protocol is None else str(protocol).lower(), _port(port_min),
            _port(port_max), _prefix(prefix), str(group) if group else None)


def _cloud_rule_key(rule: Any) -> RuleKey:
    """The key of a rule given as an API body (a mapping) or an openstacksdk object (a mapping
    too, of its own attribute names)."""
    from openstack import resource

    if isinstance(rule, Mapping) and not isinstance(rule, resource.Resource):
        fields = dict(rule)
    else:
        fields = {k: getattr(rule, k, None) for k in (
            "direction", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix",
            "remote_group_id")}
        fields["ethertype"] = getattr(rule, "ether_type", None)
    return _rule_key(fields.get("direction"), fields.get("ethertype"), fields.get("protocol"),
                     fields.get("port_range_min"), fields.get("port_range_max"),
                     fields.get("remote_ip_prefix"), fields.get("remote_group_id"))


_RULE_SCHEMA = {
    "direction": Property(STRING, "The direction of the traffic the rule matches: ingress "
                          "(into the instance) or egress (leaving it).", default="ingress",
                          constraints=(AllowedValuesConstraint(allowed=_DIRECTIONS),)),
    "ethertype": Property(STRING, "The ethertype of the traffic.", default="IPv4",
                          constraints=(AllowedValuesConstraint(allowed=_ETHERTYPES),)),
    "port_range_min": Property(INTEGER, "The lowest port matched (TCP/UDP), or the ICMP "
                               "type.", constraints=_PORT_RANGE),
    "port_range_max": Property(INTEGER, "The highest port matched (TCP/UDP), or the ICMP "
                               "code.", constraints=_PORT_RANGE),
    "protocol": Property(STRING, "The protocol matched, e.g. tcp, udp or icmp."),
    "remote_mode": Property(STRING, "Whether the rule names a remote group or a remote IP "
                            "prefix.", default="remote_ip_prefix",
                            constraints=(AllowedValuesConstraint(
                                allowed=("remote_ip_prefix", "remote_group_id")),)),
    "remote_group_id": Property(STRING, "The remote group of the rule (remote_mode "
                                "remote_group_id); unset, the group itself.",
                                constraints=(custom("neutron.security_group"),)),
    "remote_ip_prefix": Property(STRING, "The remote IP prefix (CIDR) of the rule.",
                                 constraints=(custom("net_cidr"),)),
}


@register
class SecurityGroup(NeutronResource):
    type_name = "OS::Neutron::SecurityGroup"
    description = ("A Neutron security group: a set of IP filter rules applied to the ports "
                   "that use it.")
    entity = "security_group"
    listing = "security_groups"
    has_status = False
    #: rules with a description are someone else's (OS::Neutron::SecurityGroupRule always
    #: writes one): the group neither compares nor removes them
    properties = {
        "name": Property(STRING, "A symbolic name for the security group, not required to "
                         "be unique.", update_allowed=True),
        "description": Property(STRING, "Description of the security group.",
                                update_allowed=True),
        "rules": Property(LIST, "The rules of the security group. When none is egress, the "
                          "default rules allowing all egress traffic are kept.", default=[],
                          update_allowed=True, item=Property(MAP, schema=_RULE_SCHEMA)),
    }
    attributes = {}

    async def _wanted_rules(self, ctx: ResourceContext, group_id: str,
                            rules: Iterable[Mapping[str, Any]]) -> dict[RuleKey, dict[str, Any]]:
        """The rules the group must have, keyed as Neutron identifies them, with the request
        body that creates each."""
        rules = list(rules)
        if not any(r.get("direction") == "egress" for r in rules):
            rules = [*rules, *_DEFAULT_EGRESS]
        out: dict[RuleKey, dict[str, Any]] = {}
        for rule in rules:
            group: str | None = None
            prefix = rule.get("remote_ip_prefix")
            if rule.get("remote_mode") == "remote_group_id":
                prefix = None
                remote = rule.get("remote_group_id")
                group = group_id if not remote or remote == group_id else await _resolve(
                    ctx, "security_group", remote)
            key = _rule_key(rule.get("direction") or "ingress", rule.get("ethertype"),
                            rule.get("protocol"), rule.get("port_range_min"),
                            rule.get("port_range_max"), prefix, group)
            body: dict[str, Any] = {"security_group_id": group_id, "direction": key[0],
                                    "ethertype": key[1]}
            for name, value in zip(("protocol", "port_range_min", "port_range_max",
                                    "remote_ip_prefix", "remote_group_id"), key[2:],
                                   strict=True):
                if value is not None:
                    body[name] = value
            out[key] = body
        return out

    async def _actual_rules(self, ctx: ResourceContext, group_id: str) -> dict[RuleKey, str]:
        net = _network(ctx)
        rules = await sdk(ctx, lambda: list(net.security_group_rules(
            security_group_id=group_id)))
        return {_cloud_rule_key(r): str(r.id) for r in rules if not r.description}

    async def _sync_rules(self, ctx: ResourceContext, group_id: str,
                          rules: Iterable[Mapping[str, Any]]) -> None:
        """Make the group's rules exactly the wanted ones: delete the others, add the missing
        (a rule that already exists is not an error)."""
        from openstack import exceptions

        net = _network(ctx)
        wanted = await self._wanted_rules(ctx, group_id, rules)
        actual = await self._actual_rules(ctx, group_id)
        for key, rule_id in actual.items():
            if key not in wanted:
                await delete_quietly(ctx, net.delete_security_group_rule, rule_id,
                                     ignore_missing=False)
        for key, body in wanted.items():
            if key in actual:
                continue
            try:
                await ctx.call(net.create_security_group_rule, **body)
            except exceptions.ConflictException:
                continue
            except Exception as exc:
                raise failure(exc) from None

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        if props.get("name") == "default":
            raise ResourceFailure('Security groups cannot be assigned the name "default".')
        body: dict[str, Any] = {"name": self._name(ctx, props)}
        if props.get("description") is not None:
            body["description"] = props["description"]
        obj = await sdk(ctx, _network(ctx).create_security_group, **body)
        await self._tag(ctx, obj, ())
        await self._sync_rules(ctx, str(obj.id), props.get("rules") or [])
        return Created(str(obj.id))

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        if ctx.physical_id is None:
            raise ResourceFailure("The resource was never created")
        if "name" in changed and new.get("name") == "default":
            raise ResourceFailure('Security groups cannot be assigned the name "default".')
        body: dict[str, Any] = {}
        if "name" in changed:
            body["name"] = self._name(ctx, new)
        if "description" in changed:
            body["description"] = new.get("description") or ""
        if body:
            await sdk(ctx, _network(ctx).update_security_group, ctx.physical_id, **body)
        if "rules" in changed:
            await self._sync_rules(ctx, ctx.physical_id, new.get("rules") or [])
        return None

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        found = await super().find_existing(ctx, props)
        if found is not None:
            # the create may have stopped half way through the rules
            await self._sync_rules(ctx, found.physical_id, props.get("rules") or [])
        return found

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: raw.get(k) for k in ("name", "description")}
        group_id = str(raw.get("id"))
        rules = props.get("rules") or []
        try:
            wanted = set(await self._wanted_rules(ctx, group_id, rules))
        except ResourceFailure:
            wanted = set()
        cloud_rules = [r for r in raw.get("security_group_rules") or []
                       if isinstance(r, Mapping) and not r.get("description")]
        if set(map(_cloud_rule_key, cloud_rules)) == wanted:
            out["rules"] = rules
        else:
            out["rules"] = [_rule_map(_cloud_rule_key(r), group_id) for r in cloud_rules]
        return out


def _rule_map(key: RuleKey, group_id: str) -> dict[str, Any]:
    """A rule in the cloud written as a ``rules`` item of the template."""
    direction, ethertype, protocol, port_min, port_max, prefix, group = key
    mode = "remote_group_id" if group else "remote_ip_prefix"
    return {"direction": direction, "ethertype": ethertype, "protocol": protocol,
            "port_range_min": port_min, "port_range_max": port_max, "remote_mode": mode,
            "remote_group_id": group if group and group != group_id else None,
            "remote_ip_prefix": prefix}


_PROTOCOLS: tuple[Any, ...] = (*range(256), "ah", "dccp", "egp", "esp", "gre", "icmp",
                               "icmpv6", "igmp", "ipv6-encap", "ipv6-frag", "ipv6-icmp",
                               "ipv6-nonxt", "ipv6-opts", "ipv6-route", "ospf", "pgm", "rsvp",
                               "sctp", "tcp", "udp", "udplite", "vrrp")


@register
class SecurityGroupRule(NeutronResource):
    type_name = "OS::Neutron::SecurityGroupRule"
    description = "One rule of a Neutron security group."
    entity = "security_group_rule"
    tagged = False
    has_status = False
    #: an identical rule cannot exist twice: the old one goes before the new one is made
    can_coexist = False
    properties = {
        "security_group": Property(STRING, "The name or id of the security group of the rule.",
                                   required=True,
                                   constraints=(custom("neutron.security_group"),)),
        "description": Property(STRING, "Description of the rule."),
        "direction": _RULE_SCHEMA["direction"],
        "ethertype": _RULE_SCHEMA["ethertype"],
        "port_range_min": _RULE_SCHEMA["port_range_min"],
        "port_range_max": _RULE_SCHEMA["port_range_max"],
        "protocol": Property(STRING, "The protocol matched: a name (tcp, udp, icmp ...) or its "
                             "number, 0 to 255.", default="tcp",
                             constraints=(AllowedValuesConstraint(allowed=_PROTOCOLS),)),
        "remote_group": Property(STRING, "The name or id of the remote group of the rule.",
                                 constraints=(custom("neutron.security_group"),)),
        "remote_ip_prefix": Property(STRING, "The remote IP prefix (CIDR) of the rule.",
                                     constraints=(custom("net_cidr"),)),
    }
    attributes = {}

    @staticmethod
    def _check(props: Mapping[str, Any]) -> None:
        if props.get("remote_group") is not None and props.get("remote_ip_prefix") is not None:
            raise ResourceFailure("Cannot define the following properties at the same time: "
                                  "remote_group, remote_ip_prefix.")
        low, high = props.get("port_range_min"), props.get("port_range_max")
        if low is not None and high is not None and high < low and props.get(
                "protocol") not in ("icmp", "icmpv6", "ipv6-icmp"):
            raise ResourceFailure("The minimum port number must be less than or equal to the "
                                  "maximum port number.")

    async def _body(self, ctx: ResourceContext, props: Mapping[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "security_group_id": await _resolve(ctx, "security_group",
                                                props["security_group"]),
            "direction": props["direction"], "ethertype": props["ethertype"],
            "description": props.get("description") or _marker(ctx),
        }
        if props.get("protocol") is not None:
            body["protocol"] = str(props["protocol"]).lower()
        for key in ("port_range_min", "port_range_max", "remote_ip_prefix"):
            if props.get(key) is not None:
                body[key] = props[key]
        if props.get("remote_group"):
            body["remote_group_id"] = await _resolve(ctx, "security_group",
                                                     props["remote_group"])
        return body

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        self._check(props)
        body = await self._body(ctx, props)
        obj = await sdk(ctx, _network(ctx).create_security_group_rule, **body)
        return Created(str(obj.id))

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        try:
            body = await self._body(ctx, props)
        except ResourceFailure:
            return None
        net = _network(ctx)
        rules = await sdk(ctx, lambda: list(net.security_group_rules(
            security_group_id=body["security_group_id"])))
        key = _cloud_rule_key(body)
        found = pick_existing((r for r in rules if (r.description or "") == body["description"]
                               and _cloud_rule_key(r) == key), ctx)
        return Created(str(found.id)) if found is not None else None

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        return None      # nothing updates in place: any change replaces the rule

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    async def _attributes(self, ctx: ResourceContext, raw: Mapping[str, Any]
                          ) -> dict[str, Any]:
        return {"show": dict(raw)}


__all__ = [
    "FloatingIP",
    "FloatingIPAssociation",
    "Net",
    "NetworkConstraint",
    "Port",
    "PortConstraint",
    "Router",
    "RouterConstraint",
    "RouterInterface",
    "SecurityGroup",
    "SecurityGroupConstraint",
    "SecurityGroupRule",
    "Subnet",
    "SubnetConstraint",
]
