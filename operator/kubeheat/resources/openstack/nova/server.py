"""``OS::Nova::Server``: a Nova server, booted from an image or volumes on the template's
networks, tagged (server tags and metadata) with the stack's tags; its flavor, image, name,
metadata, networks and tags update in place (resize, rebuild, interfaces attached and
detached). What the create request asks for is built by :mod:`.boot`."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubeheat.resources.base import (
    BOOLEAN,
    DEPRECATED,
    HIDDEN,
    LIST,
    MAP,
    STRING,
    TAG_RESOURCE,
    TAG_STACK_ID,
    Attribute,
    Created,
    Observed,
    Property,
    ResourceContext,
    ResourceFailure,
    register,
)
from kubeheat.resources.openstack._common import (
    POLL_FIRST,
    POLL_MAX,
    ListedResource,
    allowed,
    connection,
    custom,
    delete_quietly,
    failure,
    has_metadata,
    has_tags,
    is_not_found,
    meta_value,
    replace_metadata,
    sdk,
    shared_listing,
    tag_list,
    tag_metadata,
    user_metadata,
    wait_for,
)
from kubeheat.resources.openstack.nova.base import lookup_flavor, lookup_image
from kubeheat.resources.openstack.nova.boot import (
    BDM_SCHEMA,
    BDM_V2_SCHEMA,
    NETWORK_SCHEMA,
    block_devices,
    encoded_user_data,
    legacy_mappings,
    mapping_problem,
    nics,
)
from kubeheat.resources.openstack.nova.floating_ips import (
    associate,
    disassociate,
    floating_ip_problem,
)
from kubeheat.resources.openstack.nova.internal_ports import (
    delete_ports,
    make_ports,
    ports_of,
)
from kubeheat.template import LengthConstraint

if TYPE_CHECKING:
    from openstack.connection import Connection

#: what ``validate`` says about the old properties without a replacement (Heat's words)
_ADMIN_USER = ("ignored (the default cloud-init user set up for each image is used, e.g. "
               "\"ubuntu\" for Ubuntu 12.04+, \"fedora\" for Fedora 19+ and \"cloud-user\" "
               "for CentOS/RHEL 6.5)")
_PERSONALITY = ("not supported with nova api microversion 2.57 and above; use user_data or "
                "metadata instead")

#: server statuses meaning "gone"
_GONE = frozenset({"DELETED", "SOFT_DELETED"})


def _status(obj: Any) -> str:
    return str(getattr(obj, "status", "") or "").upper()


def _list_servers(conn: Connection, tags: str) -> list[Any]:
    return list(conn.compute.servers(details=True, tags=tags))


def _fault(server: Any) -> str | None:
    fault = getattr(server, "fault", None)
    if isinstance(fault, Mapping):
        return str(fault.get("message") or "") or None
    return None


def _plain_nics(networks: Any) -> bool:
    """True when ``networks`` lists interfaces (not empty, no allocate_network)."""
    return bool(networks) and not any(e.get("allocate_network") for e in networks)


def _first_address(addresses: Mapping[str, Any]) -> str:
    for entries in addresses.values():
        for entry in entries or ():
            if entry.get("addr"):
                return str(entry["addr"])
    return ""


def _network_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``networks`` entries removed and added between ``old`` and ``new`` (an entry is
    its set values; one present in both, as often as in both, is neither)."""
    def key(entry: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        return tuple(sorted((k, v) for k, v in entry.items() if v is not None))

    kept = [key(e) for e in new]
    removed: list[dict[str, Any]] = []
    for entry in old:
        if key(entry) in kept:
            kept.remove(key(entry))
        else:
            removed.append(entry)
    remaining = [key(e) for e in old]
    added: list[dict[str, Any]] = []
    for entry in new:
        if key(entry) in remaining:
            remaining.remove(key(entry))
        else:
            added.append(entry)
    return removed, added


@register
class Server(ListedResource):
    type_name = "OS::Nova::Server"
    description = "A Nova server (virtual machine)."
    proxy = "compute"
    entity = "server"
    listing = "servers"
    tagged = True
    name_length = 53
    properties = {
        "name": Property(STRING, "Server name.", update_allowed=True),
        "image": Property(STRING, "The ID or name of the image to boot with.",
                          update_allowed=True, constraints=(custom("glance.image"),)),
        "block_device_mapping": Property(
            LIST, "Block device mappings for this server (Nova's legacy form).",
            item=Property(MAP, schema=BDM_SCHEMA)),
        "block_device_mapping_v2": Property(
            LIST, "Block device mappings v2 for this server.",
            item=Property(MAP, schema=BDM_V2_SCHEMA)),
        "flavor": Property(STRING, "The ID or name of the flavor to boot onto.", required=True,
                           update_allowed=True, constraints=(custom("nova.flavor"),)),
        "flavor_update_policy": Property(
            STRING, "Policy on how to apply a flavor update; either by requesting a server "
            "resize or by replacing the entire server.", default="RESIZE", update_allowed=True,
            constraints=(allowed("RESIZE", "REPLACE"),)),
        "image_update_policy": Property(
            STRING, "Policy on how to apply an image-id update; either by requesting a server "
            "rebuild or by replacing the entire server.", default="REBUILD",
            update_allowed=True,
            constraints=(allowed("REBUILD", "REPLACE", "REBUILD_PRESERVE_EPHEMERAL"),)),
        "key_name": Property(STRING, "Name of keypair to inject into the server.",
                             constraints=(custom("nova.keypair"),)),
        "availability_zone": Property(STRING, "Name of the availability zone for server "
                                      "placement."),
        "security_groups": Property(
            LIST, "List of security group names or IDs. Cannot be used if neutron ports are "
            "associated with this server; assign security groups to the ports instead.",
            default=[]),
        "networks": Property(
            LIST, "An ordered list of nics to be added to this server, with information about "
            "connected networks, fixed ips, port etc.", update_allowed=True,
            item=Property(MAP, schema=NETWORK_SCHEMA)),
        "scheduler_hints": Property(MAP, "Arbitrary key-value pairs specified by the client to "
                                    "help boot a server."),
        "metadata": Property(MAP, "Arbitrary key/value metadata to store for this server. Both "
                             "keys and values must be 255 characters or less. Non-string "
                             "values will be serialized to JSON.", default={},
                             update_allowed=True),
        "user_data_format": Property(
            STRING, "How the user_data should be formatted for the server. kubeheat passes it "
            "unmodified for every format.", default="HEAT_CFNTOOLS", update_allowed=True,
            constraints=(allowed("HEAT_CFNTOOLS", "RAW", "SOFTWARE_CONFIG"),)),
        "user_data": Property(STRING, "User data script to be executed by cloud-init.",
                              default="", update_allowed=True),
        "user_data_update_policy": Property(
            STRING, "Policy on how to apply a user_data update; either by ignoring it or by "
            "replacing the entire server.", default="REPLACE", update_allowed=True,
            constraints=(allowed("REPLACE", "IGNORE"),)),
        "config_drive": Property(BOOLEAN, "If True, enable config drive on the server."),
        "diskConfig": Property(STRING, "Control how the disk is partitioned when the server is "
                               "created.", constraints=(allowed("AUTO", "MANUAL"),)),
        "tags": Property(LIST, "Server tags (in addition to kubeheat's own).",
                         update_allowed=True, item=Property(STRING)),
        "admin_pass": Property(STRING, "The administrator password for the server.",
                               update_allowed=True),
        "software_config_transport": Property(
            STRING, "How the server would receive the metadata of software deployments "
            "(kubeheat runs none: accepted for compatibility).", default="POLL_SERVER_CFN",
            update_allowed=True, constraints=(allowed(
                "POLL_SERVER_CFN", "POLL_SERVER_HEAT", "POLL_TEMP_URL", "ZAQAR_MESSAGE"),)),
        "deployment_swift_data": Property(
            MAP, "Swift container and object for the deployment data of POLL_TEMP_URL "
            "(accepted for compatibility).", default={}, update_allowed=True, schema={
                "container": Property(STRING, "Name of the container.",
                                      constraints=(LengthConstraint(min=1),)),
                "object": Property(STRING, "Name of the object.",
                                   constraints=(LengthConstraint(min=1),)),
            }),
        "reservation_id": Property(STRING, "A UUID for the set of servers being requested "
                                   "(accepted; Nova assigns its own)."),
        "admin_user": Property(STRING, "Name of the administrative user to use on the server.",
                               support=HIDDEN, support_message=_ADMIN_USER),
        "personality": Property(MAP, "A map of files to create/overwrite on the server upon "
                                "boot (deprecated: Nova removed it in API microversion 2.57; "
                                "only an empty map is accepted).", default={},
                                support=DEPRECATED, support_message=_PERSONALITY),
    }
    attributes = {
        "name": Attribute("Name of the server.", STRING),
        "addresses": Attribute("A dict of all network addresses with corresponding port, "
                               "network and subnets, by network name and by network id.", MAP),
        "networks": Attribute("A dict of assigned network addresses of the form "
                              "{network name: [ip ...], network id: [ip ...]}.", MAP),
        "first_address": Attribute("The first assigned network address, or an empty string.",
                                   STRING),
        "instance_name": Attribute("AWS compatible instance name.", STRING),
        "accessIPv4": Attribute("The manually assigned alternative public IPv4 address of the "
                                "server.", STRING),
        "accessIPv6": Attribute("The manually assigned alternative public IPv6 address of the "
                                "server.", STRING),
        "console_urls": Attribute("URLs of the server's consoles (none in kubeheat).", MAP),
        "tags": Attribute("Tags of the server (without kubeheat's own).", LIST),
    }

    # -- planning ---------------------------------------------------------------------------
    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> tuple[str, str] | None:
        """Heat's validation of ``personality`` against a Nova of microversion 2.57 or later
        (every current one): files to inject are refused."""
        if values.get("personality"):
            return ("personality", "Cannot use the personality parameter as nova no longer "
                    "supports it. Use user_data instead.")
        return mapping_problem(values) or floating_ip_problem(values.get("networks"))

    def needs_replacement(self, old: Mapping[str, Any], new: Mapping[str, Any],
                          changed: frozenset[str]) -> frozenset[str]:
        replace = set(super().needs_replacement(old, new, changed))
        if "flavor" in changed and new.get("flavor_update_policy") == "REPLACE":
            replace.add("flavor")
        if "image" in changed and (new.get("image_update_policy") == "REPLACE"
                                   or not old.get("image") or not new.get("image")):
            replace.add("image")
        if changed & {"user_data", "user_data_format"} \
                and new.get("user_data_update_policy", "REPLACE") != "IGNORE":
            replace |= changed & {"user_data", "user_data_format"}
        if "networks" in changed and not (_plain_nics(old.get("networks"))
                                          and _plain_nics(new.get("networks"))):
            replace.add("networks")     # to or from Nova's automatic allocation
        return frozenset(replace)

    # -- handlers ---------------------------------------------------------------------------
    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        conn = connection(ctx)
        name = self._name(ctx, props)
        image_id = await lookup_image(ctx, conn, props["image"]) if props.get("image") else None
        networks = await make_ports(ctx, conn, name, props.get("networks"),
                                    props.get("security_groups") or ())
        attrs: dict[str, Any] = {
            "name": name,
            "flavor_id": await lookup_flavor(ctx, conn, props["flavor"]),
            "networks": await nics(ctx, conn, networks) if props.get("networks") else "auto",
            "metadata": {**{k: meta_value(v) for k, v in (props.get("metadata") or {}).items()},
                         **tag_metadata(ctx)},
            "tags": sorted({*(props.get("tags") or ()), *tag_list(ctx)}),
        }
        if image_id:
            attrs["image_id"] = image_id
        bdms = await block_devices(ctx, conn, props.get("block_device_mapping_v2")
                                   or legacy_mappings(props.get("block_device_mapping")),
                                   bool(image_id))
        if bdms:
            attrs["block_device_mapping"] = bdms
        if props.get("key_name"):
            attrs["key_name"] = props["key_name"]
        if props.get("availability_zone"):
            attrs["availability_zone"] = props["availability_zone"]
        if props.get("security_groups"):
            attrs["security_groups"] = [{"name": g} for g in props["security_groups"]]
        user_data = encoded_user_data(ctx, props)
        if user_data:
            attrs["user_data"] = user_data
        if props.get("config_drive") is not None:
            attrs["config_drive"] = props["config_drive"]
        if props.get("diskConfig"):
            attrs["disk_config"] = props["diskConfig"]
        if props.get("scheduler_hints"):
            attrs["scheduler_hints"] = dict(props["scheduler_hints"])
        if props.get("admin_pass"):
            attrs["admin_password"] = props["admin_pass"]
        server = await sdk(ctx, conn.compute.create_server, **attrs)
        return Created(str(server.id), {"name": name, "image_id": image_id})

    async def _wait_active(self, ctx: ResourceContext, conn: Connection, server_id: str,
                           done: tuple[str, ...] = ("ACTIVE",)) -> Any:
        return await wait_for(ctx, lambda: conn.compute.get_server(server_id), done=done,
                              failed=("ERROR",), what="server", fault_of=_fault)

    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        assert ctx.physical_id is not None
        conn = connection(ctx)
        await self._wait_active(ctx, conn, ctx.physical_id)
        networks = props.get("networks") or []
        await associate(ctx, conn, ctx.physical_id, networks,
                        await ports_of(ctx, conn, networks))
        return True

    async def _stack_listing(self, ctx: ResourceContext) -> list[Any]:
        """The stack's servers listed once by its tag (shared with other observers)."""
        conn = connection(ctx)
        tag = f"{TAG_STACK_ID}={ctx.stack_id}"
        return await shared_listing(ctx, ("servers", tag),
                                    functools.partial(_list_servers, conn, tag))

    async def _observation(self, ctx: ResourceContext, props: Mapping[str, Any], server: Any,
                           *, batch: bool = False) -> Observed | None:
        status = _status(server)
        if status in _GONE:
            return None
        if status == "ERROR":
            return Observed(status=status, failed=_fault(server) or "Unknown")
        observed: dict[str, Any] = {}
        # name: compared only when the template names the server
        if props.get("name") or server.name != ctx.data.get("name", server.name):
            observed["name"] = server.name
        # flavor: the template's spelling while the server still has that flavor
        flavor = getattr(server, "flavor", None)
        current = getattr(flavor, "name", None) or getattr(flavor, "original_name", None)
        current_id = getattr(flavor, "id", None)
        wanted = props.get("flavor")
        if wanted is not None and (current or current_id):
            if wanted in (current, current_id):
                observed["flavor"] = wanted
            else:
                found = await sdk(ctx, connection(ctx).compute.find_flavor, wanted,
                                  ignore_missing=True)
                same = found is not None and (found.name == current or found.id == current_id)
                observed["flavor"] = wanted if same else (current or current_id)
        # image: the template's spelling while the server runs the image it was built from
        image = getattr(server, "image", None)
        image_id = getattr(image, "id", None) if image else None
        if props.get("image") and image_id:
            known = ctx.data.get("image_id")
            observed["image"] = props["image"] if image_id in (known, props["image"]) \
                else image_id
        meta = user_metadata(server.metadata)
        want_meta = props.get("metadata")
        if want_meta is None and not meta:
            observed["metadata"] = None
        else:
            applied = {k: meta_value(v) for k, v in (want_meta or {}).items()}
            observed["metadata"] = want_meta if meta == applied else meta
        # addresses and networks need the server's ports (one more call per server): they are
        # refreshed by create and update, not by every read
        attrs = self._attrs(server, None)
        del attrs["addresses"], attrs["networks"]
        return Observed(properties=observed, attributes=attrs, status=status)

    def _attrs(self, server: Any, ports: list[Any] | None) -> dict[str, Any]:
        addresses = dict(getattr(server, "addresses", None) or {})
        by_mac = {p.mac_address: p for p in ports or ()}
        out_addresses: dict[str, list[dict[str, Any]]] = {}
        networks: dict[str, list[str]] = {}
        for net_name, entries in addresses.items():
            listed: list[dict[str, Any]] = []
            net_id = None
            for entry in entries or ():
                item = dict(entry)
                port = by_mac.get(entry.get("OS-EXT-IPS-MAC:mac_addr"))
                if port is not None:
                    net_id = port.network_id
                    item.update(port=port.id, network=net_id, subnets=[
                        {"id": ip.get("subnet_id")} for ip in port.fixed_ips or ()
                        if ip.get("ip_address") == entry.get("addr")])
                    networks.setdefault(net_id, []).append(entry.get("addr"))
                listed.append(item)
                networks.setdefault(net_name, []).append(entry.get("addr"))
            out_addresses[net_name] = listed
            if net_id is not None and net_id != net_name:
                out_addresses[net_id] = listed
        tags = [t for t in (getattr(server, "tags", None) or ())
                if not t.startswith((f"{TAG_STACK_ID}=", f"{TAG_RESOURCE}="))]
        show = server.to_dict(computed=False, original_names=True) \
            if hasattr(server, "to_dict") else {}
        return {
            "name": server.name,
            "addresses": out_addresses,
            "networks": networks,
            "first_address": _first_address(addresses),
            "instance_name": getattr(server, "instance_name", None),
            "accessIPv4": getattr(server, "access_ipv4", None) or "",
            "accessIPv6": getattr(server, "access_ipv6", None) or "",
            "console_urls": {},
            "tags": tags,
            "show": show,
        }

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        conn = connection(ctx)
        server = await sdk(ctx, conn.compute.get_server, ctx.physical_id)
        ports = await sdk(ctx, lambda: list(conn.network.ports(device_id=ctx.physical_id)))
        return self._attrs(server, ports)

    async def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any],
                     changed: frozenset[str]) -> dict[str, Any] | None:
        conn = connection(ctx)
        sid = ctx.physical_id
        assert sid is not None
        data = dict(ctx.data)
        if "flavor" in changed:
            flavor_id = await lookup_flavor(ctx, conn, new["flavor"])
            server = await sdk(ctx, conn.compute.get_server, sid)
            current = getattr(server.flavor, "id", None)
            current_name = getattr(server.flavor, "name", None)
            target = await sdk(ctx, conn.compute.get_flavor, flavor_id)
            if flavor_id != current and target.name != current_name:
                await sdk(ctx, conn.compute.resize_server, sid, flavor_id)
                server = await self._wait_active(ctx, conn, sid, ("VERIFY_RESIZE", "ACTIVE"))
                if _status(server) == "VERIFY_RESIZE":
                    await sdk(ctx, conn.compute.confirm_server_resize, sid)
                    await self._wait_active(ctx, conn, sid)
        if "image" in changed and new.get("image"):
            image_id = await lookup_image(ctx, conn, new["image"])
            kwargs: dict[str, Any] = {"name": self._name(ctx, new)}
            if new.get("image_update_policy") == "REBUILD_PRESERVE_EPHEMERAL":
                kwargs["preserve_ephemeral"] = True
            if new.get("admin_pass"):
                kwargs["admin_password"] = new["admin_pass"]
            await sdk(ctx, conn.compute.rebuild_server, sid, image_id, **kwargs)
            await self._wait_active(ctx, conn, sid)
            data["image_id"] = image_id
        elif "admin_pass" in changed and new.get("admin_pass"):
            await sdk(ctx, conn.compute.change_server_password, sid, new["admin_pass"])
        if "name" in changed:
            name = self._name(ctx, new)
            await sdk(ctx, conn.compute.update_server, sid, name=name)
            if not new.get("name"):
                data["name"] = name
        if "metadata" in changed:
            server = await sdk(ctx, conn.compute.get_server, sid)
            await replace_metadata(ctx, sid, server.metadata, new.get("metadata"),
                                   conn.compute.delete_server_metadata,
                                   conn.compute.set_server_metadata)
        if "networks" in changed:
            await self._update_networks(ctx, conn, sid, old.get("networks") or [],
                                        new.get("networks") or [])
        if "tags" in changed:
            server = await sdk(ctx, conn.compute.get_server, sid)
            tags = sorted({*(new.get("tags") or ()), *tag_list(ctx)})
            await sdk(ctx, server.set_tags, conn.compute, tags)
        return data

    async def _update_networks(self, ctx: ResourceContext, conn: Connection, sid: str,
                               old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
        """Detach the interfaces of entries gone from ``networks`` and attach the new ones
        (entries present in both are left alone)."""
        removed, added = _network_changes(old, new)
        await disassociate(ctx, conn, removed)
        made = dict(zip(map(id, old), await ports_of(ctx, conn, old), strict=True))
        if removed:
            await self._detach(ctx, conn, sid, [
                {**e, "port": made[id(e)]} if made[id(e)] else e for e in removed])
        await delete_ports(ctx, conn, keep=[p for e, p in zip(old, made.values(), strict=True)
                                            if p and all(e is not r for r in removed)])
        own = dict(zip(map(id, new), await make_ports(
            ctx, conn, str(ctx.data.get("name") or self._name(ctx, {})), new, (), server=sid),
            strict=True))
        attached: list[str | None] = []
        for nic in await nics(ctx, conn, [own[id(e)] for e in added]) if added else []:
            attrs: dict[str, Any] = {}
            if nic.get("port"):
                attrs["port_id"] = nic["port"]
            else:
                attrs["net_id"] = nic["uuid"]
                if nic.get("fixed_ip"):
                    attrs["fixed_ips"] = [{"ip_address": nic["fixed_ip"]}]
            if nic.get("tag"):
                attrs["tag"] = nic["tag"]
            iface = await sdk(ctx, conn.compute.create_server_interface, sid, **attrs)
            attached.append(getattr(iface, "port_id", None))
        await associate(ctx, conn, sid, added, attached)

    async def _detach(self, ctx: ResourceContext, conn: Connection, sid: str,
                      removed: list[dict[str, Any]]) -> None:
        """Detach the interface behind each removed ``networks`` entry (its port, or the
        interface on its network and fixed IP) and wait until they are gone."""
        interfaces = await sdk(ctx, lambda: list(conn.compute.server_interfaces(sid)))
        detached: list[str] = []
        for entry in removed:
            port_id = entry.get("port")
            if not port_id:
                (nic,) = await nics(ctx, conn, [entry])
                port_id = next(
                    (iface.port_id for iface in interfaces
                     if iface.port_id not in detached and iface.net_id == nic["uuid"]
                     and (not entry.get("fixed_ip") or entry["fixed_ip"] in
                          [ip.get("ip_address") for ip in iface.fixed_ips or ()])), None)
            if not port_id:
                continue             # already gone
            detached.append(port_id)
            try:
                await ctx.call(conn.compute.delete_server_interface, port_id,
                               server=sid, ignore_missing=False)
            except Exception as exc:
                if not is_not_found(exc):
                    raise failure(exc) from None
        await self._wait_detached(ctx, conn, sid, detached)

    async def _wait_detached(self, ctx: ResourceContext, conn: Connection, sid: str,
                             ports: list[str]) -> None:
        delay = POLL_FIRST
        while ports:
            interfaces = await sdk(ctx, lambda: list(conn.compute.server_interfaces(sid)))
            if not {i.port_id for i in interfaces} & set(ports):
                return
            remaining = ctx.remaining()
            if remaining is not None and remaining <= 0:
                raise ResourceFailure("Timed out")
            await asyncio.sleep(delay if remaining is None else min(delay, remaining))
            delay = min(delay * 1.5, POLL_MAX)

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        conn = connection(ctx)
        sid = ctx.physical_id
        if sid is None:
            return
        if not await delete_quietly(ctx, conn.compute.delete_server, sid,
                                    ignore_missing=False):
            return
        await wait_for(ctx, lambda: conn.compute.get_server(sid), done=_GONE, failed=(),
                       what="server", gone_ok=True)
        await delete_ports(ctx, conn)

    def _adoptable(self, ctx: ResourceContext, obj: Any) -> bool:
        return (has_tags(obj.tags, ctx) or has_metadata(obj.metadata, ctx)) \
            and _status(obj) not in _GONE

    async def _adopt(self, ctx: ResourceContext, props: Mapping[str, Any], obj: Any
                     ) -> Created:
        image = getattr(obj, "image", None)
        return Created(str(obj.id), {"name": obj.name,
                                     "image_id": getattr(image, "id", None) or None})
