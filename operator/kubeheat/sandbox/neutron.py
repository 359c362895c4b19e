"""Neutron v2.0: networks, subnets with IP allocation, ports, routers, floating IPs,
security groups and rules, tags (standard-attr-tag) with tag filters on lists, and the agent
schedulers (:mod:`.neutron_agents`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from kubeheat.sandbox._http import ApiError, Req, Resp
from kubeheat.sandbox._service import Service
from kubeheat.sandbox.neutron_agents import Agents
from kubeheat.sandbox.state import Record, iso_now, new_id

#: URL collection name -> (store kind, body key, plural body key, NotFound type, what)
RESOURCES: dict[str, tuple[str, str, str, str, str]] = {
    "networks": ("networks", "network", "networks", "NetworkNotFound", "Network"),
    "subnets": ("subnets", "subnet", "subnets", "SubnetNotFound", "Subnet"),
    "ports": ("ports", "port", "ports", "PortNotFound", "Port"),
    "routers": ("routers", "router", "routers", "RouterNotFound", "Router"),
    "floatingips": ("floatingips", "floatingip", "floatingips", "FloatingIPNotFound",
                    "Floating IP"),
    "security-groups": ("security_groups", "security_group", "security_groups",
                        "SecurityGroupNotFound", "Security group"),
    "security-group-rules": ("security_group_rules", "security_group_rule",
                             "security_group_rules", "SecurityGroupRuleNotFound",
                             "Security group rule"),
    "subnetpools": ("subnetpools", "subnetpool", "subnetpools", "SubnetPoolNotFound",
                    "Subnet pool"),
    "segments": ("segments", "segment", "segments", "SegmentNotFound", "Segment"),
}

_COMMON = {"name", "description", "project_id", "tenant_id", "tags"}
WRITABLE: dict[str, set[str]] = {
    "networks": _COMMON | {"admin_state_up", "shared", "router:external", "mtu",
                           "port_security_enabled", "availability_zone_hints", "dns_domain",
                           "provider:network_type", "provider:physical_network",
                           "provider:segmentation_id", "qos_policy_id", "is_default"},
    "subnets": _COMMON | {"network_id", "cidr", "ip_version", "gateway_ip", "allocation_pools",
                          "enable_dhcp", "dns_nameservers", "host_routes", "ipv6_ra_mode",
                          "ipv6_address_mode", "subnetpool_id", "prefixlen", "segment_id",
                          "service_types", "dns_publish_fixed_ip", "use_default_subnetpool"},
    "ports": _COMMON | {"network_id", "admin_state_up", "mac_address", "fixed_ips", "device_id",
                        "device_owner", "security_groups", "allowed_address_pairs",
                        "extra_dhcp_opts", "port_security_enabled", "binding:host_id",
                        "binding:vnic_type", "binding:profile", "dns_name", "qos_policy_id",
                        "propagate_uplink_status"},
    "routers": _COMMON | {"admin_state_up", "external_gateway_info", "routes", "distributed",
                          "ha", "availability_zone_hints", "flavor_id"},
    "floatingips": _COMMON | {"floating_network_id", "floating_ip_address", "port_id",
                              "fixed_ip_address", "subnet_id", "dns_name", "dns_domain",
                              "qos_policy_id"},
    "security_groups": _COMMON | {"stateful", "shared"},
    "subnetpools": _COMMON | {"prefixes", "default_prefixlen", "min_prefixlen",
                              "max_prefixlen", "shared", "is_default", "address_scope_id",
                              "default_quota"},
    "segments": {"name", "description", "network_id", "network_type", "physical_network",
                 "segmentation_id", "tags"},
    "security_group_rules": {"description", "project_id", "tenant_id", "security_group_id",
                             "direction", "ethertype", "protocol", "port_range_min",
                             "port_range_max", "remote_ip_prefix", "remote_group_id",
                             "remote_address_group_id"},
}
IMMUTABLE: dict[str, set[str]] = {
    "subnets": {"network_id", "cidr", "ip_version", "subnetpool_id", "prefixlen"},
    "ports": {"network_id"},
    "floatingips": {"floating_network_id", "floating_ip_address", "subnet_id"},
    "security_group_rules": WRITABLE["security_group_rules"] - {"description"},
}
_PAGING = {"limit", "marker", "page_reverse", "sort_key", "sort_dir", "fields", "tags",
           "tags-any", "not-tags", "not-tags-any"}
_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58, "sctp": 132}


def _public(record: Record) -> Record:
    return {k: v for k, v in record.items() if not k.startswith("_")}


class Neutron(Service):
    name = "network"
    prefix = "/networking"

    def register(self) -> None:
        r = self.router
        r.add("GET", "/", self.versions, public=True)
        r.add("GET", "/v2.0", self.resources_index)
        r.add("GET", "/v2.0/extensions", self.extensions)
        for coll in RESOURCES:
            r.add("GET", f"/v2.0/{coll}", self._bind(self.list_resources, coll))
            r.add("POST", f"/v2.0/{coll}", self._bind(self.create, coll))
            r.add("GET", f"/v2.0/{coll}/{{id}}", self._bind(self.show, coll))
            r.add("PUT", f"/v2.0/{coll}/{{id}}", self._bind(self.update, coll))
            r.add("DELETE", f"/v2.0/{coll}/{{id}}", self._bind(self.delete, coll))
            if coll != "security-group-rules":
                r.add("GET", f"/v2.0/{coll}/{{id}}/tags", self._bind(self.tags_get, coll))
                r.add("PUT", f"/v2.0/{coll}/{{id}}/tags", self._bind(self.tags_put, coll))
                r.add("DELETE", f"/v2.0/{coll}/{{id}}/tags", self._bind(self.tags_clear, coll))
                r.add("GET", f"/v2.0/{coll}/{{id}}/tags/{{tag}}",
                      self._bind(self.tag_check, coll))
                r.add("PUT", f"/v2.0/{coll}/{{id}}/tags/{{tag}}", self._bind(self.tag_add, coll))
                r.add("DELETE", f"/v2.0/{coll}/{{id}}/tags/{{tag}}",
                      self._bind(self.tag_remove, coll))
        Agents(self).register(r)
        r.add("PUT", "/v2.0/routers/{id}/add_router_interface", self.add_interface)
        r.add("PUT", "/v2.0/routers/{id}/remove_router_interface", self.remove_interface)

    @staticmethod
    def _bind(fn: Callable[[str, Req], Resp], coll: str) -> Callable[[Req], Resp]:
        return lambda req: fn(coll, req)

    def error(self, status: int, message: str, kind: str | None = None) -> ApiError:
        default = {400: "HTTPBadRequest", 403: "HTTPForbidden", 404: "HTTPNotFound",
                   409: "HTTPConflict", 429: "HTTPTooManyRequests",
                   500: "HTTPInternalServerError", 503: "HTTPServiceUnavailable"}
        return ApiError(status, {"NeutronError": {
            "type": kind or default.get(status, "HTTPError"), "message": message, "detail": ""}})

    def not_found(self, coll: str, ident: str) -> ApiError:
        _, _, _, kind, what = RESOURCES[coll]
        if coll.startswith("security-group"):
            return self.error(404, f"{what} {ident} does not exist", kind)
        return self.error(404, f"{what} {ident} could not be found.", kind)

    def find(self, coll: str, ident: str, project_id: str | None = None) -> Record:
        record = self.state[RESOURCES[coll][0]].get(ident)
        if record is None or (
            project_id is not None and not self.visible(coll, record, project_id)
        ):
            raise self.not_found(coll, ident)
        return record

    def visible(self, coll: str, record: Record, project_id: str) -> bool:
        network = record
        if coll == "subnets":
            network = self.state["networks"].get(record["network_id"], record)
        if coll in ("networks", "subnets") and (
            network.get("shared") or network.get("router:external")
        ):
            return True
        if coll == "segments":
            return True                      # admin-owned, listed for everyone here
        return record.get("project_id") in (project_id, "")

    def in_quota(self, kind: str, quota: str, project_id: str, extra: int = 1) -> None:
        limit = self.state.quota(quota)
        used = self.state.count(kind, lambda r: r.get("project_id") == project_id)
        if limit >= 0 and used + extra > limit:
            raise self.error(409, f"Quota exceeded for resources: ['{quota}'].", "OverQuota")

    # -- discovery ---------------------------------------------------------------------------

    def versions(self, req: Req) -> Resp:
        return Resp(200, {"versions": [{
            "id": "v2.0", "status": "CURRENT",
            "links": [{"href": f"{self.url}/v2.0/", "rel": "self"}]}]})

    def resources_index(self, req: Req) -> Resp:
        return Resp(200, {"resources": [
            {"name": body, "collection": coll,
             "links": [{"href": f"{self.url}/v2.0/{coll}", "rel": "self"}]}
            for coll, (_, body, _, _, _) in RESOURCES.items()]})

    def extensions(self, req: Req) -> Resp:
        aliases = ["router", "external-net", "security-group", "standard-attr-tag", "tag-ext",
                   "standard-attr-description", "standard-attr-revisions", "binding",
                   "port-security", "extraroute", "ext-gw-mode", "quotas", "project-id",
                   "allowed-address-pairs", "fip-port-details", "subnet_allocation", "agent",
                   "l3_agent_scheduler", "dhcp_agent_scheduler"]
        return Resp(200, {"extensions": [
            {"alias": a, "name": a, "description": a, "links": [],
             "updated": "2019-01-01T00:00:00Z"}
            for a in aliases]})

    # -- generic CRUD ------------------------------------------------------------------------

    def _stamp(self, record: Record, project_id: str) -> Record:
        now = iso_now()
        record.setdefault("id", new_id())
        record.setdefault("description", "")
        record["project_id"] = record.get("project_id") or project_id
        record["tenant_id"] = record["project_id"]
        record.setdefault("tags", [])
        record["created_at"] = now
        record["updated_at"] = now
        record["revision_number"] = 0
        return record

    def _touch(self, record: Record) -> None:
        record["updated_at"] = iso_now()
        record["revision_number"] = int(record.get("revision_number", 0)) + 1

    def _checked(self, coll: str, body: dict[str, Any], *, update: bool) -> dict[str, Any]:
        kind = RESOURCES[coll][0]
        unknown = sorted(set(body) - WRITABLE[kind])
        if unknown:
            raise self.error(400, f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        if update:
            frozen = sorted(set(body) & IMMUTABLE.get(kind, set()))
            if frozen:
                raise self.error(
                    400, f"Cannot update read-only attribute {frozen[0]}", "HTTPBadRequest")
        if "name" in body and body["name"] is not None and not isinstance(body["name"], str):
            raise self.error(400, "Invalid input for name. Reason: not a string.", "InvalidInput")
        return body

    def list_resources(self, coll: str, req: Req) -> Resp:
        kind, _, plural, _, _ = RESOURCES[coll]
        items = [r for r in self.state[kind].values() if self.visible(coll, r, req.project_id)]
        items = [r for r in items if self._filter(r, req)]
        items.sort(key=lambda r: (r.get("created_at", ""), r["id"]))
        if req.query.get("sort_dir") == "desc":
            items.reverse()
        marker = req.query.get("marker")
        if marker:
            ids = [r["id"] for r in items]
            items = items[ids.index(marker) + 1:] if marker in ids else []
        body: dict[str, Any] = {}
        limit = req.query.get("limit")
        if limit and limit.isdigit() and int(limit) > 0 and len(items) > int(limit):
            items = items[: int(limit)]
            body[f"{plural}_links"] = [{
                "rel": "next",
                "href": f"{self.url}/v2.0/{coll}?limit={limit}&marker={items[-1]['id']}",
            }]
        fields = req.query_list("fields")
        rendered = [self.render(coll, r) for r in items]
        if fields:
            rendered = [{k: v for k, v in r.items() if k in fields} for r in rendered]
        body[plural] = rendered
        return Resp(200, body)

    def _filter(self, record: Record, req: Req) -> bool:
        tags = set(record.get("tags", []))
        if (want := req.query_list("tags")) and not set(want) <= tags:
            return False
        if (want := req.query_list("tags-any")) and not set(want) & tags:
            return False
        if (want := req.query_list("not-tags")) and set(want) <= tags:
            return False
        if (want := req.query_list("not-tags-any")) and set(want) & tags:
            return False
        for key in set(req.query.keys()) - _PAGING:
            values = req.query.getall(key)
            if key == "fixed_ips":
                if not self._match_fixed_ips(record, values):
                    return False
                continue
            if key not in record:
                continue
            actual = record[key]
            if isinstance(actual, bool):
                if str(actual).lower() not in [v.lower() for v in values]:
                    return False
            elif isinstance(actual, list):
                if not any(v in [str(a) for a in actual] for v in values):
                    return False
            elif str(actual if actual is not None else "") not in values:
                return False
        return True

    @staticmethod
    def _match_fixed_ips(record: Record, values: Iterable[str]) -> bool:
        for value in values:
            key, _, want = value.partition("=")
            if not any(str(ip.get(key)) == want for ip in record.get("fixed_ips", [])):
                return False
        return True

    def show(self, coll: str, req: Req) -> Resp:
        record = self.find(coll, req.params["id"], req.project_id)
        rendered = self.render(coll, record)
        if fields := req.query_list("fields"):
            rendered = {k: v for k, v in rendered.items() if k in fields}
        return Resp(200, {RESOURCES[coll][1]: rendered})

    def render(self, coll: str, record: Record) -> Record:
        out = _public(record)
        if coll == "floatingips" and record.get("port_id"):
            port = self.state["ports"].get(record["port_id"])
            if port is not None:
                out["port_details"] = {k: port.get(k) for k in (
                    "name", "network_id", "mac_address", "admin_state_up", "status",
                    "device_id", "device_owner")}
        elif coll == "floatingips":
            out["port_details"] = None
        return out

    def create(self, coll: str, req: Req) -> Resp:
        _, key, _, _, _ = RESOURCES[coll]
        body = self._checked(coll, dict(self.body_of(req, key)), update=False)
        creator = getattr(self, f"_create_{RESOURCES[coll][0]}")
        record = creator(body, req.project_id)
        return Resp(201, {key: self.render(coll, record)})

    def update(self, coll: str, req: Req) -> Resp:
        kind, key, _, _, _ = RESOURCES[coll]
        record = self.find(coll, req.params["id"], req.project_id)
        body = self._checked(coll, dict(self.body_of(req, key)), update=True)
        updater = getattr(self, f"_update_{kind}", None)
        if updater is not None:
            updater(record, body)
        else:
            record.update(body)
        self._touch(record)
        return Resp(200, {key: self.render(coll, record)})

    def delete(self, coll: str, req: Req) -> Resp:
        kind = RESOURCES[coll][0]
        record = self.find(coll, req.params["id"], req.project_id)
        deleter = getattr(self, f"_delete_{kind}")
        deleter(record)
        return Resp(204)

    def vanish(self, kind: str, ident: str) -> bool:
        if kind not in ("networks", "subnets", "ports", "routers", "floatingips",
                        "security_groups", "security_group_rules"):
            return False
        record = self.state[kind][ident]
        if kind == "ports":
            self.drop_port(record)
        elif kind == "floatingips":
            self._release_fip(record)
        elif kind == "security_groups":
            self._delete_security_groups(record, force=True)
        else:
            del self.state[kind][ident]
        return True

    # -- tags --------------------------------------------------------------------------------

    def _tag_target(self, coll: str, req: Req) -> Record:
        return self.find(coll, req.params["id"], req.project_id)

    def _valid_tag(self, tag: Any) -> str:
        if not isinstance(tag, str) or not tag or len(tag) > 255 or "," in tag or "/" in tag:
            raise self.error(400, f"Invalid input for operation: '{tag}' is not a valid tag.",
                             "InvalidInput")
        return tag

    def tags_get(self, coll: str, req: Req) -> Resp:
        return Resp(200, {"tags": list(self._tag_target(coll, req)["tags"])})

    def tags_put(self, coll: str, req: Req) -> Resp:
        record = self._tag_target(coll, req)
        body = req.json(self.error)
        tags = body.get("tags") if isinstance(body, dict) else None
        if not isinstance(tags, list):
            raise self.error(400, "Invalid input for operation: tags must be a list.",
                             "InvalidInput")
        record["tags"] = sorted({self._valid_tag(t) for t in tags})
        self._touch(record)
        return Resp(200, {"tags": list(record["tags"])})

    def tags_clear(self, coll: str, req: Req) -> Resp:
        record = self._tag_target(coll, req)
        record["tags"] = []
        self._touch(record)
        return Resp(204)

    def tag_check(self, coll: str, req: Req) -> Resp:
        record = self._tag_target(coll, req)
        if req.params["tag"] not in record["tags"]:
            raise self.error(404, f"Tag {req.params['tag']} could not be found.", "TagNotFound")
        return Resp(204)

    def tag_add(self, coll: str, req: Req) -> Resp:
        record = self._tag_target(coll, req)
        tag = self._valid_tag(req.params["tag"])
        if tag not in record["tags"]:
            record["tags"] = sorted([*record["tags"], tag])
            self._touch(record)
        return Resp(201)

    def tag_remove(self, coll: str, req: Req) -> Resp:
        record = self._tag_target(coll, req)
        tag = req.params["tag"]
        if tag not in record["tags"]:
            raise self.error(404, f"Tag {tag} could not be found.", "TagNotFound")
        record["tags"] = [t for t in record["tags"] if t != tag]
        self._touch(record)
        return Resp(204)

    # -- networks ----------------------------------------------------------------------------

    def _create_networks(self, body: dict[str, Any], project_id: str) -> Record:
        self.in_quota("networks", "network", project_id)
        record: Record = {
            "name": "", "admin_state_up": True, "status": "ACTIVE", "subnets": [],
            "shared": False, "router:external": False, "mtu": 1442,
            "port_security_enabled": True, "availability_zone_hints": [],
            "availability_zones": ["nova"], "ipv4_address_scope": None,
            "ipv6_address_scope": None, "is_default": False, "l2_adjacency": True,
            "qos_policy_id": None, "dns_domain": "", "provider:network_type": "geneve",
            "provider:physical_network": None, "provider:segmentation_id": None,
        }
        record.update({k: v for k, v in body.items() if k != "tags"})
        if record["provider:segmentation_id"] is None:
            record["provider:segmentation_id"] = 1000 + len(self.state["networks"])
        self._stamp(record, project_id)
        self.state["networks"][record["id"]] = record
        return record

    def _delete_networks(self, record: Record) -> None:
        busy = [p for p in self.state["ports"].values()
                if p["network_id"] == record["id"]
                and not str(p["device_owner"]).startswith("network:dhcp")]
        if busy:
            raise self.error(
                409, f"Unable to complete operation on network {record['id']}. There are one or"
                " more ports still in use on the network.", "NetworkInUse")
        for subnet_id in list(record["subnets"]):
            self.state["subnets"].pop(subnet_id, None)
        del self.state["networks"][record["id"]]

    # -- subnets -----------------------------------------------------------------------------

    def _create_subnets(self, body: dict[str, Any], project_id: str) -> Record:  # noqa: C901
        net_id = body.get("network_id")
        if not net_id:
            raise self.error(400, "Failed to parse request. Required attribute 'network_id' not"
                             " specified", "HTTPBadRequest")
        network = self.find("networks", str(net_id), project_id)
        if network["project_id"] != project_id and not network.get("shared"):
            raise self.not_found("networks", str(net_id))
        cidr_text = body.get("cidr")
        if not cidr_text and body.get("subnetpool_id"):
            cidr_text = self._allocate_from_pool(str(body["subnetpool_id"]), body, project_id)
        if not cidr_text:
            raise self.error(400, "Bad subnets request: a cidr must be specified in the absence"
                             " of a subnet pool.", "BadRequest")
        try:
            cidr = ipaddress.ip_network(str(cidr_text), strict=False)
        except ValueError:
            raise self.error(400, f"Invalid input for cidr. Reason: '{cidr_text}' is not a valid"
                             " IP subnet.", "InvalidInput") from None
        version = int(body.get("ip_version", cidr.version))
        if version != cidr.version:
            raise self.error(400, "Invalid input for operation: Cidr and ip version mismatch.",
                             "InvalidInput")
        if str(cidr) != str(cidr_text) and "/" in str(cidr_text):
            cidr_text = str(cidr)
        for other_id in network["subnets"]:
            other = self.state["subnets"][other_id]
            if ipaddress.ip_network(other["cidr"]).overlaps(cidr):
                raise self.error(
                    400, f"Invalid input for operation: Requested subnet with cidr: {cidr} for"
                    f" network: {net_id} overlaps with another subnet.", "InvalidInput")
        self.in_quota("subnets", "subnet", project_id)
        hosts_first = cidr.network_address + 1
        hosts_last = cidr.broadcast_address - (1 if version == 4 else 0)
        gateway = body.get("gateway_ip", str(hosts_first))
        if gateway is not None:
            try:
                if ipaddress.ip_address(gateway) not in cidr:
                    raise ValueError
            except ValueError:
                raise self.error(400, f"Invalid input for operation: Gateway IP {gateway} is"
                                 f" not in subnet {cidr}.", "InvalidInput") from None
        pools = body.get("allocation_pools")
        if not pools:
            pools = self._default_pools(hosts_first, hosts_last, gateway)
        else:
            for pool in pools:
                try:
                    start = ipaddress.ip_address(pool["start"])
                    end = ipaddress.ip_address(pool["end"])
                except (KeyError, TypeError, ValueError):
                    raise self.error(400, "Invalid input for allocation_pools.",
                                     "InvalidInput") from None
                if start not in cidr or end not in cidr or int(start) > int(end):
                    raise self.error(400, f"The allocation pool {pool['start']}-{pool['end']}"
                                     f" spans beyond the subnet cidr {cidr}.",
                                     "OutOfBoundsAllocationPool")
        record: Record = {
            "name": "", "network_id": net_id, "cidr": str(cidr), "ip_version": version,
            "gateway_ip": gateway, "allocation_pools": [dict(p) for p in pools],
            "enable_dhcp": True, "dns_nameservers": [], "host_routes": [],
            "ipv6_ra_mode": None, "ipv6_address_mode": None, "subnetpool_id": None,
            "segment_id": None, "service_types": [], "dns_publish_fixed_ip": False,
        }
        record.update({k: v for k, v in body.items()
                       if k not in ("tags", "cidr", "gateway_ip", "allocation_pools",
                                    "prefixlen", "use_default_subnetpool")})
        self._stamp(record, project_id)
        self.state["subnets"][record["id"]] = record
        network["subnets"].append(record["id"])
        self._touch(network)
        return record

    def _allocate_from_pool(self, pool_id: str, body: dict[str, Any], project_id: str) -> str:
        """The first free block of the pool's prefixes with the requested prefix length."""
        pool = self.find("subnetpools", pool_id, project_id)
        try:
            length = int(body.get("prefixlen") or pool["default_prefixlen"])
        except (TypeError, ValueError):
            raise self.error(400, "Invalid input for prefixlen.", "InvalidInput") from None
        if not pool["min_prefixlen"] <= length <= pool["max_prefixlen"]:
            raise self.error(400, f"Illegal prefix bounds: prefixlen={length}, "
                             f"min_prefixlen={pool['min_prefixlen']}, "
                             f"max_prefixlen={pool['max_prefixlen']}.",
                             "IllegalSubnetPoolPrefixBounds")
        taken = [ipaddress.ip_network(s["cidr"]) for s in self.state["subnets"].values()
                 if s.get("subnetpool_id") == pool["id"]]
        for prefix in pool["prefixes"]:
            network = ipaddress.ip_network(prefix)
            if length < network.prefixlen:
                continue
            for candidate in network.subnets(new_prefix=length):
                if not any(candidate.overlaps(t) for t in taken):
                    return str(candidate)
        raise self.error(409, "Failed to allocate subnet: Insufficient prefix space to "
                         f"allocate subnet size /{length}.", "SubnetAllocationError")

    # -- segments (of provider networks; segment ids of subnets) -----------------------------

    def _create_segments(self, body: dict[str, Any], project_id: str) -> Record:
        network = self.find("networks", str(body.get("network_id") or ""), project_id)
        record: Record = {"name": None, "description": None, "network_id": network["id"],
                          "network_type": "vlan", "physical_network": None,
                          "segmentation_id": None}
        record.update({k: v for k, v in body.items() if k != "tags"})
        self._stamp(record, project_id)
        record.pop("project_id", None)
        record.pop("tenant_id", None)
        self.state["segments"][record["id"]] = record
        return record

    def _delete_segments(self, record: Record) -> None:
        if any(s.get("segment_id") == record["id"] for s in self.state["subnets"].values()):
            raise self.error(409, f"Segment '{record['id']}' cannot be deleted: 1 subnet(s) "
                             "still associated.", "SegmentInUse")
        del self.state["segments"][record["id"]]

    # -- subnet pools ------------------------------------------------------------------------

    def _create_subnetpools(self, body: dict[str, Any], project_id: str) -> Record:
        prefixes = body.get("prefixes")
        if not isinstance(prefixes, list) or not prefixes:
            raise self.error(400, "Invalid input for prefixes.", "InvalidInput")
        try:
            networks = [ipaddress.ip_network(str(p)) for p in prefixes]
        except ValueError:
            raise self.error(400, "Invalid input for prefixes.", "InvalidInput") from None
        version = networks[0].version
        longest = 32 if version == 4 else 128
        low = int(body.get("min_prefixlen") or (8 if version == 4 else 64))
        record: Record = {
            "name": "", "prefixes": [str(n) for n in networks], "ip_version": version,
            "min_prefixlen": low, "max_prefixlen": int(body.get("max_prefixlen") or longest),
            "default_prefixlen": int(body.get("default_prefixlen") or low),
            "shared": False, "is_default": False, "address_scope_id": None,
            "default_quota": None,
        }
        record.update({k: v for k, v in body.items() if k not in ("tags", "prefixes")})
        self._stamp(record, project_id)
        self.state["subnetpools"][record["id"]] = record
        return record

    def _delete_subnetpools(self, record: Record) -> None:
        if any(s.get("subnetpool_id") == record["id"] for s in self.state["subnets"].values()):
            raise self.error(409, f"Unable to delete subnet pool: Subnet pool {record['id']} "
                             "has allocated subnets.", "SubnetPoolDeleteError")
        del self.state["subnetpools"][record["id"]]

    @staticmethod
    def _default_pools(first: Any, last: Any, gateway: Any) -> list[dict[str, str]]:
        if last < first:
            return []
        if gateway is None:
            return [{"start": str(first), "end": str(last)}]
        gw = ipaddress.ip_address(gateway)
        pools = []
        if first < gw:
            pools.append({"start": str(first), "end": str(gw - 1)})
        if gw < last:
            pools.append({"start": str(max(first, gw + 1)), "end": str(last)})
        return pools

    def _update_subnets(self, record: Record, body: dict[str, Any]) -> None:
        record.update({k: v for k, v in body.items() if k != "tags"})

    def _delete_subnets(self, record: Record) -> None:
        for port in self.state["ports"].values():
            if any(ip["subnet_id"] == record["id"] for ip in port["fixed_ips"]) and not str(
                port["device_owner"]
            ).startswith("network:dhcp"):
                raise self.error(
                    409, f"Unable to complete operation on subnet {record['id']}: One or more"
                    " ports have an IP allocation from this subnet.", "SubnetInUse")
        network = self.state["networks"].get(record["network_id"])
        if network is not None:
            network["subnets"] = [s for s in network["subnets"] if s != record["id"]]
        del self.state["subnets"][record["id"]]

    def _used_ips(self, subnet_id: str) -> set[str]:
        used = set()
        for port in self.state["ports"].values():
            for ip in port["fixed_ips"]:
                if ip["subnet_id"] == subnet_id:
                    used.add(ip["ip_address"])
        return used

    def allocate_ip(self, subnet: Record, wanted: str | None = None) -> str:
        used = self._used_ips(subnet["id"])
        if wanted is not None:
            try:
                addr = ipaddress.ip_address(wanted)
            except ValueError:
                raise self.error(400, f"Invalid input for operation: '{wanted}' is not a valid"
                                 " IP address.", "InvalidInput") from None
            if addr not in ipaddress.ip_network(subnet["cidr"]):
                raise self.error(400, f"IP address {wanted} is not a valid IP for the specified"
                                 " subnet.", "InvalidIpForSubnet")
            if str(addr) in used:
                raise self.error(409, f"IP address {wanted} already allocated in subnet"
                                 f" {subnet['id']}", "IpAddressAlreadyAllocated")
            return str(addr)
        for pool in subnet["allocation_pools"]:
            first = ipaddress.ip_address(pool["start"])
            last = int(ipaddress.ip_address(pool["end"]))
            for offset in range(last - int(first) + 1):
                candidate = str(first + offset)
                if candidate not in used:
                    return candidate
        raise self.error(409, f"No more IP addresses available on network"
                         f" {subnet['network_id']}.", "IpAddressGenerationFailure")

    # -- ports -------------------------------------------------------------------------------

    def _mac(self) -> str:
        tail = self.state.rng.getrandbits(24)
        return f"fa:16:3e:{tail >> 16:02x}:{(tail >> 8) & 0xFF:02x}:{tail & 0xFF:02x}"

    def _fixed_ips(self, network: Record, requested: Any) -> list[dict[str, str]]:
        subnets = [self.state["subnets"][s] for s in network["subnets"]]
        if requested is None:
            out = []
            for version in (4, 6):
                candidates = [s for s in subnets if s["ip_version"] == version]
                if candidates:
                    out.append({"subnet_id": candidates[0]["id"],
                                "ip_address": self.allocate_ip(candidates[0])})
            return out
        if not isinstance(requested, list):
            raise self.error(400, "Invalid input for fixed_ips. Reason: not a list.",
                             "InvalidInput")
        out = []
        for item in requested:
            if not isinstance(item, dict):
                raise self.error(400, "Invalid input for fixed_ips.", "InvalidInput")
            subnet_id = item.get("subnet_id")
            ip = item.get("ip_address")
            if subnet_id is not None:
                found_subnet = self.state["subnets"].get(str(subnet_id))
                if found_subnet is None:
                    raise self.not_found("subnets", str(subnet_id))
                subnet = found_subnet
                if subnet["network_id"] != network["id"]:
                    raise self.error(400, f"Invalid input for operation: Failed to create port"
                                     f" on network {network['id']}, because fixed_ips included"
                                     f" invalid subnet {subnet_id}.", "InvalidInput")
            elif ip is not None:
                try:
                    addr = ipaddress.ip_address(ip)
                except ValueError:
                    raise self.error(400, f"Invalid input for operation: '{ip}' is not a valid"
                                     " IP address.", "InvalidInput") from None
                found = [s for s in subnets if addr in ipaddress.ip_network(s["cidr"])]
                if not found:
                    raise self.error(400, f"IP address {ip} is not a valid IP for any of the"
                                     " subnets on the specified network.", "InvalidIpForNetwork")
                subnet = found[0]
            else:
                raise self.error(400, "Invalid input for fixed_ips.", "InvalidInput")
            address = self.allocate_ip(subnet, ip)
            if any(a["ip_address"] == address and a["subnet_id"] == subnet["id"] for a in out):
                raise self.error(409, f"IP address {address} already allocated in subnet"
                                 f" {subnet['id']}", "IpAddressAlreadyAllocated")
            out.append({"subnet_id": subnet["id"], "ip_address": address})
        return out

    def default_security_group(self, project_id: str) -> Record:
        for sg in self.state["security_groups"].values():
            if sg["name"] == "default" and sg["project_id"] == project_id:
                return sg
        return self._make_security_group({"name": "default",
                                          "description": "Default security group"},
                                         project_id, default=True)

    def _security_groups(self, ids: Any, project_id: str) -> list[str]:
        if not isinstance(ids, list):
            raise self.error(400, "Invalid input for security_groups.", "InvalidInput")
        for sg_id in ids:
            self.find("security-groups", str(sg_id), project_id)
        return [str(i) for i in ids]

    def create_port(self, body: dict[str, Any], project_id: str) -> Record:
        net_id = body.get("network_id")
        if not net_id:
            raise self.error(400, "Failed to parse request. Required attribute 'network_id' not"
                             " specified", "HTTPBadRequest")
        network = self.find("networks", str(net_id), project_id)
        self.in_quota("ports", "port", project_id)
        if body.get("mac_address"):
            taken = any(p["mac_address"] == body["mac_address"] and p["network_id"] == net_id
                        for p in self.state["ports"].values())
            if taken:
                raise self.error(409, f"Unable to complete operation for network {net_id}. The"
                                 f" mac address {body['mac_address']} is in use.",
                                 "MacAddressInUse")
        fixed_ips = self._fixed_ips(network, body.get("fixed_ips"))
        owner = str(body.get("device_owner") or "")
        if "security_groups" in body:
            sgs = self._security_groups(body["security_groups"], project_id)
        elif owner.startswith("network:") or not body.get("port_security_enabled", True):
            sgs = []
        else:
            sgs = [self.default_security_group(project_id)["id"]]
        record: Record = {
            "name": "", "network_id": net_id, "admin_state_up": True,
            "mac_address": body.get("mac_address") or self._mac(), "fixed_ips": fixed_ips,
            "device_id": "", "device_owner": "", "security_groups": sgs,
            "allowed_address_pairs": [], "extra_dhcp_opts": [],
            "port_security_enabled": network.get("port_security_enabled", True),
            "binding:host_id": "", "binding:vnic_type": "normal", "binding:profile": {},
            "binding:vif_type": "unbound", "binding:vif_details": {}, "dns_name": "",
            "dns_assignment": [], "qos_policy_id": None, "qos_network_policy_id": None,
            "propagate_uplink_status": False, "resource_request": None, "status": "DOWN",
        }
        record.update({k: v for k, v in body.items()
                       if k not in ("tags", "fixed_ips", "security_groups", "mac_address")})
        self._stamp(record, project_id)
        if record["device_id"]:
            self.bind_status(record)
        self.state["ports"][record["id"]] = record
        return record

    def bind_status(self, port: Record) -> None:
        bound = bool(port["device_id"]) and bool(port["device_owner"])
        port["status"] = "ACTIVE" if bound else "DOWN"
        port["binding:host_id"] = "sandbox-compute" if bound and str(
            port["device_owner"]).startswith("compute:") else port.get("binding:host_id", "")
        port["binding:vif_type"] = "ovs" if bound else "unbound"

    def _create_ports(self, body: dict[str, Any], project_id: str) -> Record:
        return self.create_port(body, project_id)

    def _update_ports(self, record: Record, body: dict[str, Any]) -> None:
        if "fixed_ips" in body:
            network = self.state["networks"][record["network_id"]]
            old = record["fixed_ips"]
            record["fixed_ips"] = []
            try:
                record["fixed_ips"] = self._fixed_ips(network, body["fixed_ips"])
            except ApiError:
                record["fixed_ips"] = old
                raise
        if "security_groups" in body:
            record["security_groups"] = self._security_groups(
                body["security_groups"] or [], record["project_id"])
        record.update({k: v for k, v in body.items()
                       if k not in ("tags", "fixed_ips", "security_groups")})
        self.bind_status(record)

    def _delete_ports(self, record: Record) -> None:
        owner = str(record["device_owner"])
        if owner in ("network:router_interface", "network:router_gateway",
                     "network:floatingip", "network:router_interface_distributed"):
            raise self.error(409, f"Port {record['id']} cannot be deleted directly via the port"
                             f" API: has device owner {owner}.", "L3PortInUse")
        self.drop_port(record)

    def drop_port(self, record: Record) -> None:
        for fip in self.state["floatingips"].values():
            if fip.get("port_id") == record["id"]:
                self._disassociate(fip)
        for router in self.state["routers"].values():
            router["_interfaces"] = [p for p in router.get("_interfaces", [])
                                     if p != record["id"]]
        self.state["ports"].pop(record["id"], None)

    def ports_of(self, device_id: str) -> list[Record]:
        return [p for p in self.state["ports"].values() if p["device_id"] == device_id]

    # -- security groups ---------------------------------------------------------------------

    def _make_security_group(self, body: dict[str, Any], project_id: str,
                             default: bool = False) -> Record:
        record: Record = {"name": "", "stateful": True, "shared": False,
                          "security_group_rules": []}
        record.update({k: v for k, v in body.items() if k != "tags"})
        self._stamp(record, project_id)
        self.state["security_groups"][record["id"]] = record
        for ethertype in ("IPv4", "IPv6"):
            self._make_rule({"security_group_id": record["id"], "direction": "egress",
                             "ethertype": ethertype}, project_id)
            if default:
                self._make_rule({"security_group_id": record["id"], "direction": "ingress",
                                 "ethertype": ethertype, "remote_group_id": record["id"]},
                                project_id)
        return record

    def _create_security_groups(self, body: dict[str, Any], project_id: str) -> Record:
        if body.get("name") == "default":
            raise self.error(409, "Default security group already exists.",
                             "SecurityGroupDefaultAlreadyExists")
        self.default_security_group(project_id)
        self.in_quota("security_groups", "security_group", project_id)
        return self._make_security_group(body, project_id)

    def _update_security_groups(self, record: Record, body: dict[str, Any]) -> None:
        if record["name"] == "default" and body.get("name", "default") != "default":
            raise self.error(409, "Insufficient rights for removing default security group.",
                             "SecurityGroupCannotUpdateDefault")
        record.update({k: v for k, v in body.items() if k != "tags"})

    def _delete_security_groups(self, record: Record, force: bool = False) -> None:
        if not force:
            if record["name"] == "default":
                raise self.error(409, "Insufficient rights for removing default security"
                                 " group.", "SecurityGroupCannotRemoveDefault")
            if any(record["id"] in p["security_groups"] for p in self.state["ports"].values()):
                raise self.error(409, f"Security Group {record['id']} in use.",
                                 "SecurityGroupInUse")
        for rule_id in [r["id"] for r in record["security_group_rules"]]:
            self.state["security_group_rules"].pop(rule_id, None)
        for port in self.state["ports"].values():
            port["security_groups"] = [s for s in port["security_groups"] if s != record["id"]]
        del self.state["security_groups"][record["id"]]

    def _make_rule(self, body: dict[str, Any], project_id: str) -> Record:
        record: Record = {
            "direction": None, "ethertype": "IPv4", "protocol": None, "port_range_min": None,
            "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None,
            "remote_address_group_id": None, "normalized_cidr": None, "belongs_to_default_sg":
            False,
        }
        record.update(body)
        self._stamp(record, project_id)
        record.pop("tags", None)
        if record["remote_ip_prefix"]:
            record["normalized_cidr"] = str(
                ipaddress.ip_network(record["remote_ip_prefix"], strict=False))
        group = self.state["security_groups"][record["security_group_id"]]
        record["belongs_to_default_sg"] = group["name"] == "default"
        self.state["security_group_rules"][record["id"]] = record
        group["security_group_rules"].append(record)
        return record

    def _create_security_group_rules(self, body: dict[str, Any], project_id: str) -> Record:
        sg_id = body.get("security_group_id")
        if not sg_id:
            raise self.error(400, "Failed to parse request. Required attribute"
                             " 'security_group_id' not specified", "HTTPBadRequest")
        group = self.find("security-groups", str(sg_id), project_id)
        if body.get("direction") not in ("ingress", "egress"):
            raise self.error(400, f"Invalid input for direction. Reason: {body.get('direction')}"
                             " is not in valid_values.", "InvalidInput")
        ethertype = body.get("ethertype", "IPv4")
        if ethertype not in ("IPv4", "IPv6"):
            raise self.error(400, f"Invalid input for ethertype. Reason: {ethertype} is not in"
                             " valid_values.", "InvalidInput")
        protocol = body.get("protocol")
        if protocol is not None:
            protocol = str(protocol).lower()
            if protocol not in _PROTOCOLS and not (protocol.isdigit() and int(protocol) < 256):
                raise self.error(400, f"Security group rule protocol {protocol} not supported.",
                                 "SecurityGroupRuleInvalidProtocol")
            body["protocol"] = protocol
        lo, hi = body.get("port_range_min"), body.get("port_range_max")
        if protocol in ("tcp", "udp", "6", "17") and lo is not None and hi is not None and (
            int(lo) > int(hi)
        ):
            raise self.error(400, "For TCP/UDP protocols, port_range_min must be <="
                             " port_range_max", "SecurityGroupInvalidPortRange")
        if body.get("remote_ip_prefix") and body.get("remote_group_id"):
            raise self.error(400, "Only remote_ip_prefix or remote_group_id may be provided.",
                             "SecurityGroupRemoteGroupAndRemoteIpPrefix")
        if body.get("remote_group_id"):
            self.find("security-groups", str(body["remote_group_id"]), project_id)
        if body.get("remote_ip_prefix"):
            try:
                net = ipaddress.ip_network(str(body["remote_ip_prefix"]), strict=False)
            except ValueError:
                raise self.error(400, f"Invalid input for remote_ip_prefix. Reason:"
                                 f" '{body['remote_ip_prefix']}' is not a valid IP subnet.",
                                 "InvalidInput") from None
            if f"IPv{net.version}" != ethertype:
                raise self.error(400, f"Conflicting value ethertype {ethertype} for CIDR"
                                 f" {body['remote_ip_prefix']}",
                                 "SecurityGroupRuleParameterConflict")
        keys = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
                "remote_ip_prefix", "remote_group_id")
        wanted = {k: body.get(k, "IPv4" if k == "ethertype" else None) for k in keys}
        for rule in group["security_group_rules"]:
            if all(rule.get(k) == wanted[k] for k in keys):
                raise self.error(409, f"Security group rule already exists. Rule id is"
                                 f" {rule['id']}.", "SecurityGroupRuleExists")
        self.in_quota("security_group_rules", "security_group_rule", project_id)
        return self._make_rule(body, project_id)

    def _delete_security_group_rules(self, record: Record) -> None:
        group = self.state["security_groups"].get(record["security_group_id"])
        if group is not None:
            group["security_group_rules"] = [
                r for r in group["security_group_rules"] if r["id"] != record["id"]]
        del self.state["security_group_rules"][record["id"]]

    # -- routers -----------------------------------------------------------------------------

    def _gateway(self, router: Record, info: Any) -> None:
        old = [p for p in self.ports_of(router["id"])
               if p["device_owner"] == "network:router_gateway"]
        if info and isinstance(info, dict) and info.get("network_id"):
            net = self.find("networks", str(info["network_id"]))
            if not net.get("router:external"):
                raise self.error(400, f"Bad router request: Network {net['id']} is not an"
                                 " external network.", "BadRequest")
            if old and old[0]["network_id"] == net["id"]:
                router["external_gateway_info"]["enable_snat"] = info.get("enable_snat", True)
                return
            for port in old:
                self.state["ports"].pop(port["id"], None)
            port = self.create_port({
                "network_id": net["id"], "device_id": router["id"],
                "device_owner": "network:router_gateway",
                "fixed_ips": info.get("external_fixed_ips")}, "")
            router["external_gateway_info"] = {
                "network_id": net["id"], "enable_snat": info.get("enable_snat", True),
                "external_fixed_ips": [dict(ip) for ip in port["fixed_ips"]],
            }
        else:
            for port in old:
                self.state["ports"].pop(port["id"], None)
            router["external_gateway_info"] = None

    def _create_routers(self, body: dict[str, Any], project_id: str) -> Record:
        self.in_quota("routers", "router", project_id)
        record: Record = {
            "name": "", "admin_state_up": True, "status": "ACTIVE",
            "external_gateway_info": None, "routes": [], "distributed": False, "ha": False,
            "availability_zone_hints": [], "availability_zones": ["nova"], "flavor_id": None,
            "_interfaces": [],
        }
        record.update({k: v for k, v in body.items() if k not in ("tags",
                                                                  "external_gateway_info")})
        self._stamp(record, project_id)
        self._gateway(record, body.get("external_gateway_info"))
        self.state["routers"][record["id"]] = record
        return record

    def _update_routers(self, record: Record, body: dict[str, Any]) -> None:
        if "external_gateway_info" in body:
            self._gateway(record, body["external_gateway_info"])
        record.update({k: v for k, v in body.items()
                       if k not in ("tags", "external_gateway_info")})

    def _delete_routers(self, record: Record) -> None:
        if record.get("_interfaces"):
            raise self.error(409, f"Router {record['id']} still has ports", "RouterInUse")
        for fip in self.state["floatingips"].values():
            if fip.get("router_id") == record["id"]:
                raise self.error(409, f"Router {record['id']} still has ports", "RouterInUse")
        self._gateway(record, None)
        del self.state["routers"][record["id"]]

    def _interface_body(self, router: Record, port: Record) -> dict[str, Any]:
        subnet_ids = [ip["subnet_id"] for ip in port["fixed_ips"]]
        return {"id": router["id"], "tenant_id": router["project_id"],
                "project_id": router["project_id"], "port_id": port["id"],
                "network_id": port["network_id"], "subnet_id": subnet_ids[0] if subnet_ids
                else None, "subnet_ids": subnet_ids, "tags": []}

    def add_interface(self, req: Req) -> Resp:
        router = self.find("routers", req.params["id"], req.project_id)
        body = req.json(self.error)
        if not isinstance(body, dict) or not (body.get("subnet_id") or body.get("port_id")):
            raise self.error(400, "Bad router request: Either subnet_id or port_id must be"
                             " specified.", "BadRequest")
        if body.get("subnet_id") and body.get("port_id"):
            raise self.error(400, "Bad router request: Cannot specify both subnet-id and"
                             " port-id.", "BadRequest")
        attached = {ip["subnet_id"] for pid in router["_interfaces"]
                    for ip in self.state["ports"][pid]["fixed_ips"]}
        if body.get("port_id"):
            port = self.find("ports", str(body["port_id"]), req.project_id)
            if port["device_id"]:
                raise self.error(409, f"Port {port['id']} is still in use.", "PortInUse")
            if not port["fixed_ips"]:
                raise self.error(400, "Bad router request: Router port must have at least"
                                 " one fixed IP.", "BadRequest")
            for ip in port["fixed_ips"]:
                if ip["subnet_id"] in attached:
                    raise self.error(400, f"Bad router request: Router already has a port on"
                                     f" subnet {ip['subnet_id']}.", "BadRequest")
            port["device_id"] = router["id"]
            port["device_owner"] = "network:router_interface"
            self.bind_status(port)
            self._touch(port)
        else:
            subnet = self.find("subnets", str(body["subnet_id"]), req.project_id)
            if subnet["id"] in attached:
                raise self.error(400, f"Bad router request: Router already has a port on subnet"
                                 f" {subnet['id']}.", "BadRequest")
            if not subnet["gateway_ip"]:
                raise self.error(400, "Bad router request: Subnet for router interface must"
                                 " have a gateway IP.", "BadRequest")
            port = self.create_port({
                "network_id": subnet["network_id"], "device_id": router["id"],
                "device_owner": "network:router_interface",
                "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}],
            }, router["project_id"])
        router["_interfaces"].append(port["id"])
        self._touch(router)
        return Resp(200, self._interface_body(router, port))

    def remove_interface(self, req: Req) -> Resp:
        router = self.find("routers", req.params["id"], req.project_id)
        body = req.json(self.error)
        if not isinstance(body, dict) or not (body.get("subnet_id") or body.get("port_id")):
            raise self.error(400, "Bad router request: Either subnet_id or port_id must be"
                             " specified.", "BadRequest")
        port: Record | None = None
        if body.get("port_id"):
            pid = str(body["port_id"])
            if pid not in router["_interfaces"]:
                raise self.error(404, f"Router {router['id']} does not have an interface with"
                                 f" id {pid}", "RouterInterfaceNotFound")
            port = self.state["ports"][pid]
        else:
            sid = str(body["subnet_id"])
            for pid in router["_interfaces"]:
                candidate = self.state["ports"][pid]
                if any(ip["subnet_id"] == sid for ip in candidate["fixed_ips"]):
                    port = candidate
            if port is None:
                raise self.error(404, f"Router {router['id']} has no interface on subnet"
                                 f" {sid}", "RouterInterfaceNotFoundForSubnet")
        subnets = {ip["subnet_id"] for ip in port["fixed_ips"]}
        for fip in self.state["floatingips"].values():
            if fip.get("router_id") == router["id"] and fip.get("port_id"):
                inner = self.state["ports"].get(fip["port_id"])
                if inner and {ip["subnet_id"] for ip in inner["fixed_ips"]} & subnets:
                    raise self.error(409, f"Router interface for subnet {sorted(subnets)[0]} on"
                                     f" router {router['id']} cannot be deleted, as it is"
                                     " required by one or more floating IPs.",
                                     "RouterInterfaceInUseByFloatingIP")
        result = self._interface_body(router, port)
        router["_interfaces"].remove(port["id"])
        self.state["ports"].pop(port["id"], None)
        self._touch(router)
        return Resp(200, result)

    # -- floating IPs ------------------------------------------------------------------------

    def _router_for(self, ext_net: str, port: Record, fixed_ip: str | None) -> tuple[str, str]:
        ips = port["fixed_ips"]
        if fixed_ip is not None:
            ips = [ip for ip in ips if ip["ip_address"] == fixed_ip]
            if not ips:
                raise self.error(400, f"Bad floatingip request: Port {port['id']} does not have"
                                 f" fixed ip {fixed_ip}.", "BadRequest")
        ips = [ip for ip in ips if ":" not in ip["ip_address"]]
        if not ips:
            raise self.error(400, f"Bad floatingip request: Port {port['id']} does not have any"
                             " IPv4 address.", "BadRequest")
        ip = ips[0]
        for router in self.state["routers"].values():
            gw = router.get("external_gateway_info") or {}
            if gw.get("network_id") != ext_net:
                continue
            for pid in router["_interfaces"]:
                if any(i["subnet_id"] == ip["subnet_id"]
                       for i in self.state["ports"][pid]["fixed_ips"]):
                    return router["id"], ip["ip_address"]
        raise self.error(404, f"External network {ext_net} is not reachable from subnet"
                         f" {ip['subnet_id']}.  Therefore, cannot associate Port {port['id']}"
                         " with a Floating IP.", "ExternalGatewayForFloatingIPNotFound")

    def _associate(self, fip: Record, port_id: str | None, fixed_ip: str | None,
                   project_id: str) -> None:
        if not port_id:
            self._disassociate(fip)
            return
        port = self.find("ports", port_id, project_id)
        router_id, address = self._router_for(fip["floating_network_id"], port, fixed_ip)
        for other in self.state["floatingips"].values():
            if other is not fip and other.get("port_id") == port_id and (
                other.get("fixed_ip_address") == address
            ):
                raise self.error(409, f"Cannot associate floating IP"
                                 f" {fip['floating_ip_address']} ({fip['id']}) with port"
                                 f" {port_id} using fixed IP {address}, as that fixed IP"
                                 f" already has a floating IP on external network"
                                 f" {fip['floating_network_id']}.",
                                 "FloatingIPPortAlreadyAssociated")
        fip.update(port_id=port_id, fixed_ip_address=address, router_id=router_id,
                   status="ACTIVE")

    def _disassociate(self, fip: Record) -> None:
        fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")

    def _create_floatingips(self, body: dict[str, Any], project_id: str) -> Record:
        net_id = body.get("floating_network_id")
        if not net_id:
            raise self.error(400, "Failed to parse request. Required attribute"
                             " 'floating_network_id' not specified", "HTTPBadRequest")
        net = self.find("networks", str(net_id), project_id)
        if not net.get("router:external"):
            raise self.error(400, f"Bad floatingip request: Network {net_id} is not a valid"
                             " external network.", "BadRequest")
        self.in_quota("floatingips", "floatingip", project_id)
        fixed = []
        if body.get("floating_ip_address") or body.get("subnet_id"):
            item: dict[str, Any] = {}
            if body.get("subnet_id"):
                item["subnet_id"] = body["subnet_id"]
            if body.get("floating_ip_address"):
                item["ip_address"] = body["floating_ip_address"]
            fixed = [item]
        fip_id = new_id()
        port = self.create_port({"network_id": net_id, "device_id": fip_id,
                                 "device_owner": "network:floatingip",
                                 "fixed_ips": fixed or None}, "")
        if not port["fixed_ips"]:
            self.state["ports"].pop(port["id"], None)
            raise self.error(409, f"No more IP addresses available on network {net_id}.",
                             "IpAddressGenerationFailure")
        record: Record = {
            "id": fip_id, "floating_ip_address": port["fixed_ips"][0]["ip_address"],
            "floating_network_id": net_id, "router_id": None, "port_id": None,
            "fixed_ip_address": None, "status": "DOWN", "dns_domain": "", "dns_name": "",
            "qos_policy_id": None, "port_forwardings": [], "_port": port["id"],
            "description": body.get("description", ""),
        }
        self._stamp(record, project_id)
        try:
            self._associate(record, body.get("port_id"), body.get("fixed_ip_address"),
                            project_id)
        except ApiError:
            self.state["ports"].pop(port["id"], None)
            raise
        self.state["floatingips"][fip_id] = record
        return record

    def _update_floatingips(self, record: Record, body: dict[str, Any]) -> None:
        if "port_id" in body:
            self._associate(record, body["port_id"], body.get("fixed_ip_address"),
                            record["project_id"])
        for key in ("description", "name", "qos_policy_id"):
            if key in body:
                record[key] = body[key]

    def _delete_floatingips(self, record: Record) -> None:
        self._release_fip(record)

    def _release_fip(self, record: Record) -> None:
        self.state["ports"].pop(record.get("_port", ""), None)
        del self.state["floatingips"][record["id"]]

    def floating_ips_of(self, port_id: str) -> list[Record]:
        return [f for f in self.state["floatingips"].values() if f.get("port_id") == port_id]

    # -- what a fresh cloud has --------------------------------------------------------------

    def seed_defaults(self) -> None:
        project_id = self.state.project["id"]
        public = self._create_networks({"name": "public", "router:external": True,
                                        "mtu": 1500, "provider:network_type": "flat",
                                        "provider:physical_network": "public"}, "admin-project")
        public["is_default"] = True
        self._create_subnets({"name": "public-subnet", "network_id": public["id"],
                              "cidr": "172.24.4.0/24", "enable_dhcp": False}, "admin-project")
        self.default_security_group(project_id)
