"""``OS::Neutron::SecurityGroup`` and ``OS::Neutron::SecurityGroupRule``: a group of IP filter
rules, and one rule of a group (compared with the group's own rules as Neutron keys them)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from kubeheat.resources.base import (
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
    STRING,
    Created,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.openstack._common import custom, delete_quietly, failure, pick_existing, sdk
from kubeheat.resources.openstack.neutron.base import (
    NeutronResource,
    extension_values,
    marker,
    network_proxy,
    resolve,
)
from kubeheat.template import AllowedValuesConstraint, RangeConstraint

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
    "description": Property(STRING, "Description of the security group rule."),
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
    #: writes one): the group neither compares nor removes them, but for the described rules
    #: of its own ``rules``, whose ids it keeps in its data (``described``)
    properties = {
        "name": Property(STRING, "A symbolic name for the security group, not required to "
                         "be unique.", update_allowed=True),
        "description": Property(STRING, "Description of the security group.",
                                update_allowed=True),
        "rules": Property(LIST, "The rules of the security group. When none is egress, the "
                          "default rules allowing all egress traffic are kept.", default=[],
                          update_allowed=True, item=Property(MAP, schema=_RULE_SCHEMA)),
        "stateful": Property(BOOLEAN, "Whether the security group is stateful (unset: "
                             "Neutron's default, stateful).", update_allowed=True),
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
                group = group_id if not remote or remote == group_id else await resolve(
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
            if rule.get("description"):
                body["description"] = rule["description"]
            out[key] = body
        return out

    async def _actual_rules(self, ctx: ResourceContext, group_id: str
                            ) -> dict[RuleKey, tuple[str, str]]:
        """The group's own rules in the cloud: key -> (id, description)."""
        net = network_proxy(ctx)
        rules = await sdk(ctx, lambda: list(net.security_group_rules(
            security_group_id=group_id)))
        own = set(ctx.data.get("described") or ())
        return {_cloud_rule_key(r): (str(r.id), str(r.description or "")) for r in rules
                if not r.description or str(r.id) in own}

    async def _sync_rules(self, ctx: ResourceContext, group_id: str,
                          rules: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Make the group's rules exactly the wanted ones: delete the others, add the missing
        (a rule that already exists is not an error); returns the group's data (the ids of
        its described rules)."""
        from openstack import exceptions

        net = network_proxy(ctx)
        wanted = await self._wanted_rules(ctx, group_id, rules)
        actual = await self._actual_rules(ctx, group_id)
        described: list[str] = []
        for key, (rule_id, _) in actual.items():
            if key not in wanted:
                await delete_quietly(ctx, net.delete_security_group_rule, rule_id,
                                     ignore_missing=False)
        for key, body in wanted.items():
            if key in actual:     # as in Heat, a description alone changes nothing
                rule_id, current = actual[key]
                if current:
                    described.append(rule_id)
                continue
            try:
                made = await ctx.call(net.create_security_group_rule, **body)
            except exceptions.ConflictException:
                continue
            except Exception as exc:
                raise failure(exc) from None
            if body.get("description"):
                described.append(str(made.id))
        return {"described": described} if described else {}

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        if props.get("name") == "default":
            raise ResourceFailure('Security groups cannot be assigned the name "default".')
        body: dict[str, Any] = {"name": self._name(ctx, props)}
        for key in ("description", "stateful"):
            if props.get(key) is not None:
                body[key] = props[key]
        obj = await sdk(ctx, network_proxy(ctx).create_security_group, **body)
        await self._tag(ctx, obj, ())
        return Created(str(obj.id), await self._sync_rules(ctx, str(obj.id),
                                                           props.get("rules") or []))

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
        if "stateful" in changed and new.get("stateful") is not None:
            body["stateful"] = new["stateful"]
        if body:
            await sdk(ctx, network_proxy(ctx).update_security_group, ctx.physical_id, **body)
        if "rules" in changed:
            return await self._sync_rules(ctx, ctx.physical_id, new.get("rules") or [])
        return None

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        found = await super().find_existing(ctx, props)
        if found is not None:
            # the create may have stopped half way through the rules
            found.data = await self._sync_rules(ctx, found.physical_id,
                                                props.get("rules") or [])
        return found

    async def _observed(self, ctx: ResourceContext, props: Mapping[str, Any],
                        raw: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: raw.get(k) for k in ("name", "description")}
        out.update(extension_values(raw, ("stateful",)))
        group_id = str(raw.get("id"))
        rules = props.get("rules") or []
        try:
            wanted = set(await self._wanted_rules(ctx, group_id, rules))
        except ResourceFailure:
            wanted = set()
        own = set(ctx.data.get("described") or ())
        cloud_rules = [r for r in raw.get("security_group_rules") or []
                       if isinstance(r, Mapping)
                       and (not r.get("description") or str(r.get("id")) in own)]
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
            "security_group_id": await resolve(ctx, "security_group",
                                               props["security_group"]),
            "direction": props["direction"], "ethertype": props["ethertype"],
            "description": props.get("description") or marker(ctx),
        }
        if props.get("protocol") is not None:
            body["protocol"] = str(props["protocol"]).lower()
        for key in ("port_range_min", "port_range_max", "remote_ip_prefix"):
            if props.get(key) is not None:
                body[key] = props[key]
        if props.get("remote_group"):
            body["remote_group_id"] = await resolve(ctx, "security_group",
                                                    props["remote_group"])
        return body

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        self._check(props)
        body = await self._body(ctx, props)
        obj = await sdk(ctx, network_proxy(ctx).create_security_group_rule, **body)
        return Created(str(obj.id))

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        try:
            body = await self._body(ctx, props)
        except ResourceFailure:
            return None
        net = network_proxy(ctx)
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
