"""Nova resource types: ``OS::Nova::Server``, ``KeyPair``, ``Flavor`` and ``ServerGroup``, and
the ``nova.flavor`` / ``nova.keypair`` custom constraints.

Properties, attributes, defaults and which properties update in place follow Heat's plugins
(``heat/engine/resources/openstack/nova``); every call goes through openstacksdk's compute
proxy. Differences from Heat on purpose:

- ``networks`` entries are passed to Nova (kubeheat creates no port): a ``subnet`` entry boots
  the server on the subnet's network (Heat creates a port on the subnet);
  ``port_extra_properties`` and ``floating_ip`` are not offered. No ``networks`` at all asks
  Nova for ``auto`` allocation. Changing to or from ``auto``/``none`` replaces the server;
  other changes attach and detach interfaces in place, as in Heat.
- ``user_data_format`` ``HEAT_CFNTOOLS`` (Heat's default) and ``SOFTWARE_CONFIG`` send the user
  data as it is, like ``RAW`` (no cfn-tools or os-collect-config bundle); a user_data naming a
  software config (its id) sends that config, as Heat does for ``RAW`` and ``SOFTWARE_CONFIG``.
- ``image`` changes follow Heat's ``image_update_policy`` (default ``REBUILD``: rebuilt in
  place, the server keeps its id); ``REPLACE`` replaces the server.
- The ``addresses`` attribute's ``subnets`` hold only each subnet's id.
- ``admin_pass``, ``personality``, ``reservation_id``, ``software_config_transport`` and
  ``deployment_swift_data`` are not offered; ``console_urls`` is always empty.
- The server carries the stack's tags both as server tags and as metadata; they are hidden
  from the ``metadata`` property (drift) and the ``tags`` attribute.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kubeheat.resources.base import (
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
    NUMBER,
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
    FinderConstraint,
    OpenStackResource,
    allowed,
    by_stack,
    cached_id,
    cloud_constraint,
    connection,
    custom,
    delete_quietly,
    failure,
    get_or_none,
    has_metadata,
    has_tags,
    is_not_found,
    meta_value,
    pick_existing,
    sdk,
    shared_listing,
    tag_list,
    tag_metadata,
    user_metadata,
    wait_for,
)
from kubeheat.template.constraints import (
    LengthConstraint,
    RangeConstraint,
)

#: server statuses meaning "gone"
_GONE = frozenset({"DELETED", "SOFT_DELETED"})


# -- custom constraints ---------------------------------------------------------------------------


@cloud_constraint
class FlavorConstraint(FinderConstraint):
    name = "nova.flavor"
    description = "A flavor (name or id) that exists in the cloud."
    entity = "Flavor"
    finder = "compute.find_flavor"


@cloud_constraint
class KeypairConstraint(FinderConstraint):
    name = "nova.keypair"
    description = "A key pair (name) that exists in the cloud."
    entity = "Key"
    finder = "compute.find_keypair"


@cloud_constraint
class ServerConstraint(FinderConstraint):
    name = "nova.server"
    description = "A server (name or id) that exists in the cloud."
    entity = "Server"
    finder = "compute.find_server"


# -- helpers --------------------------------------------------------------------------------------


async def _flavor_id(ctx: ResourceContext, conn: Any, ref: str) -> str:
    found = await cached_id(ctx, "flavor", ref,
                            lambda: conn.compute.find_flavor(ref, ignore_missing=True))
    if found is None:
        raise ResourceFailure(f"The Flavor ({ref}) could not be found.")
    return found


async def _image_id(ctx: ResourceContext, conn: Any, ref: str) -> str:
    found = await cached_id(ctx, "image", ref,
                            lambda: conn.image.find_image(ref, ignore_missing=True))
    if found is None:
        raise ResourceFailure(f"The Image ({ref}) could not be found.")
    return found


def _status(obj: Any) -> str:
    return str(getattr(obj, "status", "") or "").upper()


def _list_servers(conn: Any, tags: str) -> list[Any]:
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


# -- OS::Nova::Server -----------------------------------------------------------------------------

_NETWORK_SCHEMA = {
    "network": Property(STRING, "Name or ID of network to create a port on.",
                        constraints=(custom("neutron.network"),)),
    "uuid": Property(STRING, "ID of network to create a port on (deprecated: use network).",
                     constraints=(custom("neutron.network"),)),
    "fixed_ip": Property(STRING, "Fixed IP address to specify for the port created on the "
                         "requested network.", constraints=(custom("ip_addr"),)),
    "port": Property(STRING, "ID of an existing port to associate with this server.",
                     constraints=(custom("neutron.port"),)),
    "subnet": Property(STRING, "Subnet in which to allocate the IP address for the port; the "
                       "network becomes optional."),
    "tag": Property(STRING, "Port tag (device role tagging)."),
    "allocate_network": Property(STRING, "auto: a network available to the project is used "
                                 "(or created by Nova); none: no networking. Not to be used "
                                 "with the other keys.",
                                 constraints=(allowed("none", "auto"),)),
}

_BDM_V2_SCHEMA = {
    "device_name": Property(STRING, "A device name where the volume will be attached in the "
                            "system at /dev/device_name, typically vda."),
    "volume_id": Property(STRING, "The volume_id can be boot or non-boot device to the server.",
                          constraints=(custom("cinder.volume"),)),
    "image": Property(STRING, "The ID or name of the image to create a volume from.",
                      constraints=(custom("glance.image"),)),
    "image_id": Property(STRING, "The ID of the image to create a volume from (deprecated: use "
                         "image).", constraints=(custom("glance.image"),)),
    "snapshot_id": Property(STRING, "The ID of the snapshot to create a volume from.",
                            constraints=(custom("cinder.snapshot"),)),
    "swap_size": Property(INTEGER, "The size of the swap, in MB."),
    "ephemeral_size": Property(INTEGER, "The size of the local ephemeral block device, in GB."),
    "ephemeral_format": Property(STRING, "The format of the local ephemeral block device.",
                                 constraints=(allowed("ext3", "ext4", "xfs"),)),
    "device_type": Property(STRING, "Device type: disk or cdrom.",
                            constraints=(allowed("cdrom", "disk"),)),
    "disk_bus": Property(STRING, "Bus of the device; the hypervisor chooses when omitted.",
                         constraints=(allowed("ide", "lame_bus", "scsi", "usb", "virtio"),)),
    "boot_index": Property(INTEGER, "Integer used for ordering the boot disks."),
    "volume_size": Property(INTEGER, "Size of the block device in GB; the hypervisor driver "
                            "calculates it when omitted."),
    "delete_on_termination": Property(BOOLEAN, "Indicate whether the volume should be deleted "
                                      "when the server is terminated."),
}


@register
class Server(OpenStackResource):
    batch_observe: ClassVar[bool] = True
    type_name = "OS::Nova::Server"
    description = "A Nova server (virtual machine)."
    properties = {
        "name": Property(STRING, "Server name.", update_allowed=True),
        "image": Property(STRING, "The ID or name of the image to boot with.",
                          update_allowed=True, constraints=(custom("glance.image"),)),
        "block_device_mapping_v2": Property(
            LIST, "Block device mappings v2 for this server.",
            item=Property(MAP, schema=_BDM_V2_SCHEMA)),
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
            item=Property(MAP, schema=_NETWORK_SCHEMA)),
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

    # -- building the request ---------------------------------------------------------------
    def _user_data(self, ctx: ResourceContext, props: Mapping[str, Any]) -> str | None:
        content = props.get("user_data") or ""
        if props.get("user_data_format") in ("RAW", "SOFTWARE_CONFIG") and ctx.native:
            from kubeheat.resources.config_records import find_config, is_uuid_like

            if is_uuid_like(content):
                found = find_config(ctx.native, content)
                if found is not None and found.get("config") is not None:
                    content = found["config"]
                    if not isinstance(content, str):
                        content = json.dumps(content)
        if not content:
            return None
        return base64.b64encode(str(content).encode()).decode()

    async def _networks(self, ctx: ResourceContext, conn: Any,
                        networks: list[dict[str, Any]] | None) -> Any:
        if not networks:
            return "auto"
        special = [e["allocate_network"] for e in networks if e.get("allocate_network")]
        if special:
            if len(networks) > 1 or any(v for k, v in networks[0].items()
                                        if k != "allocate_network"):
                raise ResourceFailure("allocate_network cannot be used with other network "
                                      "keys or entries.")
            return special[0]
        out: list[dict[str, Any]] = []
        for entry in networks:
            nic: dict[str, Any] = {}
            if entry.get("port"):
                nic["port"] = entry["port"]
            else:
                ref = entry.get("network") or entry.get("uuid")
                if ref:
                    net = await sdk(ctx, conn.network.find_network, ref, ignore_missing=True)
                    if net is None:
                        raise ResourceFailure(f"The Network ({ref}) could not be found.")
                    nic["uuid"] = net.id
                elif entry.get("subnet"):
                    subnet = await sdk(ctx, conn.network.find_subnet, entry["subnet"],
                                       ignore_missing=True)
                    if subnet is None:
                        raise ResourceFailure(
                            f"The Subnet ({entry['subnet']}) could not be found.")
                    nic["uuid"] = subnet.network_id
                else:
                    raise ResourceFailure("One of the properties \"network\", \"port\" or "
                                          "\"subnet\" should be set for the specified network "
                                          "of server.")
                if entry.get("fixed_ip"):
                    nic["fixed_ip"] = entry["fixed_ip"]
            if entry.get("tag"):
                nic["tag"] = entry["tag"]
            out.append(nic)
        return out

    async def _block_devices(self, ctx: ResourceContext, conn: Any,
                             mappings: list[dict[str, Any]] | None, has_image: bool
                             ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        boot_set = has_image
        for m in mappings or ():
            bdm: dict[str, Any] = {}
            image = m.get("image") or m.get("image_id")
            if m.get("volume_id"):
                bdm.update(source_type="volume", destination_type="volume",
                           uuid=m["volume_id"])
            elif m.get("snapshot_id"):
                bdm.update(source_type="snapshot", destination_type="volume",
                           uuid=m["snapshot_id"])
            elif image:
                bdm.update(source_type="image", destination_type="volume",
                           uuid=await _image_id(ctx, conn, image))
            elif m.get("swap_size"):
                bdm.update(source_type="blank", destination_type="local", guest_format="swap",
                           volume_size=m["swap_size"], boot_index=-1)
            elif m.get("ephemeral_size"):
                bdm.update(source_type="blank", destination_type="local",
                           volume_size=m["ephemeral_size"], boot_index=-1)
                if m.get("ephemeral_format"):
                    bdm["guest_format"] = m["ephemeral_format"]
            else:
                raise ResourceFailure("Either volume_id, snapshot_id, image, swap_size or "
                                      "ephemeral_size must be specified in each "
                                      "block_device_mapping_v2 entry.")
            for key in ("device_name", "device_type", "disk_bus", "volume_size",
                        "delete_on_termination"):
                if m.get(key) is not None:
                    bdm[key] = m[key]
            if m.get("boot_index") is not None:
                bdm["boot_index"] = m["boot_index"]
            elif not boot_set and bdm["destination_type"] == "volume":
                bdm["boot_index"] = 0
            if bdm.get("boot_index") == 0:
                boot_set = True
            out.append(bdm)
        return out

    def _server_name(self, ctx: ResourceContext, props: Mapping[str, Any]) -> str:
        return str(props.get("name") or ctx.data.get("name") or ctx.physical_name(53))

    # -- handlers ---------------------------------------------------------------------------
    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        conn = connection(ctx)
        name = self._server_name(ctx, props)
        image_id = await _image_id(ctx, conn, props["image"]) if props.get("image") else None
        attrs: dict[str, Any] = {
            "name": name,
            "flavor_id": await _flavor_id(ctx, conn, props["flavor"]),
            "networks": await self._networks(ctx, conn, props.get("networks")),
            "metadata": {**{k: meta_value(v) for k, v in (props.get("metadata") or {}).items()},
                         **tag_metadata(ctx)},
            "tags": sorted({*(props.get("tags") or ()), *tag_list(ctx)}),
        }
        if image_id:
            attrs["image_id"] = image_id
        bdms = await self._block_devices(ctx, conn, props.get("block_device_mapping_v2"),
                                         bool(image_id))
        if bdms:
            attrs["block_device_mapping"] = bdms
        if props.get("key_name"):
            attrs["key_name"] = props["key_name"]
        if props.get("availability_zone"):
            attrs["availability_zone"] = props["availability_zone"]
        if props.get("security_groups"):
            attrs["security_groups"] = [{"name": g} for g in props["security_groups"]]
        user_data = self._user_data(ctx, props)
        if user_data:
            attrs["user_data"] = user_data
        if props.get("config_drive") is not None:
            attrs["config_drive"] = props["config_drive"]
        if props.get("diskConfig"):
            attrs["disk_config"] = props["diskConfig"]
        if props.get("scheduler_hints"):
            attrs["scheduler_hints"] = dict(props["scheduler_hints"])
        server = await sdk(ctx, conn.compute.create_server, **attrs)
        return Created(str(server.id), {"name": name, "image_id": image_id})

    async def _wait_active(self, ctx: ResourceContext, conn: Any, server_id: str,
                           done: tuple[str, ...] = ("ACTIVE",)) -> Any:
        return await wait_for(ctx, lambda: conn.compute.get_server(server_id), done=done,
                              failed=("ERROR",), what="server", fault_of=_fault)

    async def check_create_complete(self, ctx: ResourceContext, props: dict[str, Any]) -> bool:
        assert ctx.physical_id is not None
        await self._wait_active(ctx, connection(ctx), ctx.physical_id)
        return True

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        conn = connection(ctx)
        server = await get_or_none(ctx, conn.compute.get_server, ctx.physical_id)
        if server is None:
            return None
        return await self._observe(ctx, conn, props, server)

    @classmethod
    async def read_many(cls, items: Sequence[tuple[ResourceContext, dict[str, Any]]]
                        ) -> dict[str, Observed | None]:
        """The stack's servers listed once by its tag (``kubeheat-stack-id=<id>``); a server
        the listing does not show is left to :meth:`read`."""
        out: dict[str, Observed | None] = {}
        plugin = cls()
        for stack_id, group in by_stack(items).items():
            first = group[0][0]
            conn = connection(first)
            tag = f"{TAG_STACK_ID}={stack_id}"
            servers = await shared_listing(
                first, ("servers", tag),
                functools.partial(_list_servers, conn, tag))
            listed = {str(s.id): s for s in servers}
            for ctx, props in group:
                server = listed.get(str(ctx.physical_id))
                if server is not None:
                    out[str(ctx.physical_id)] = await plugin._observe(ctx, conn, props, server)
        return out

    async def _observe(self, ctx: ResourceContext, conn: Any, props: Mapping[str, Any],
                       server: Any) -> Observed | None:
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
                found = await sdk(ctx, conn.compute.find_flavor, wanted, ignore_missing=True)
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
            flavor_id = await _flavor_id(ctx, conn, new["flavor"])
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
            image_id = await _image_id(ctx, conn, new["image"])
            kwargs: dict[str, Any] = {"name": self._server_name(ctx, new)}
            if new.get("image_update_policy") == "REBUILD_PRESERVE_EPHEMERAL":
                kwargs["preserve_ephemeral"] = True
            await sdk(ctx, conn.compute.rebuild_server, sid, image_id, **kwargs)
            await self._wait_active(ctx, conn, sid)
            data["image_id"] = image_id
        if "name" in changed:
            name = str(new.get("name") or data.get("name") or ctx.physical_name(53))
            await sdk(ctx, conn.compute.update_server, sid, name=name)
            if not new.get("name"):
                data["name"] = name
        if "metadata" in changed:
            server = await sdk(ctx, conn.compute.get_server, sid)
            wanted = {k: meta_value(v) for k, v in (new.get("metadata") or {}).items()}
            stale = [k for k in user_metadata(server.metadata) if k not in wanted]
            if stale:
                await sdk(ctx, conn.compute.delete_server_metadata, sid, stale)
            await sdk(ctx, conn.compute.set_server_metadata, sid,
                      **{**wanted, **tag_metadata(ctx)})
        if "networks" in changed:
            await self._update_networks(ctx, conn, sid, old.get("networks") or [],
                                        new.get("networks") or [])
        if "tags" in changed:
            server = await sdk(ctx, conn.compute.get_server, sid)
            tags = sorted({*(new.get("tags") or ()), *tag_list(ctx)})
            await sdk(ctx, server.set_tags, conn.compute, tags)
        return data

    async def _update_networks(self, ctx: ResourceContext, conn: Any, sid: str,
                               old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
        """Detach the interfaces of entries gone from ``networks`` and attach the new ones
        (entries present in both are left alone)."""
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
        if removed:
            interfaces = await sdk(ctx, lambda: list(conn.compute.server_interfaces(sid)))
            detached: list[str] = []
            for entry in removed:
                port_id = entry.get("port")
                if not port_id:
                    (nic,) = await self._networks(ctx, conn, [entry])
                    for iface in interfaces:
                        ips = [ip.get("ip_address") for ip in iface.fixed_ips or ()]
                        if iface.port_id not in detached and iface.net_id == nic["uuid"] \
                                and (not entry.get("fixed_ip") or entry["fixed_ip"] in ips):
                            port_id = iface.port_id
                            break
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
        for nic in await self._networks(ctx, conn, added) if added else []:
            attrs: dict[str, Any] = {}
            if nic.get("port"):
                attrs["port_id"] = nic["port"]
            else:
                attrs["net_id"] = nic["uuid"]
                if nic.get("fixed_ip"):
                    attrs["fixed_ips"] = [{"ip_address": nic["fixed_ip"]}]
            if nic.get("tag"):
                attrs["tag"] = nic["tag"]
            await sdk(ctx, conn.compute.create_server_interface, sid, **attrs)

    async def _wait_detached(self, ctx: ResourceContext, conn: Any, sid: str,
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

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        conn = connection(ctx)
        tags = ",".join(tag_list(ctx))
        servers = await sdk(ctx, lambda: list(conn.compute.servers(tags=tags)))
        mine = [s for s in servers if has_tags(s.tags, ctx) or has_metadata(s.metadata, ctx)]
        found = pick_existing((s for s in mine if _status(s) not in _GONE), ctx)
        if found is None:
            return None
        image = getattr(found, "image", None)
        return Created(str(found.id), {"name": found.name,
                                       "image_id": getattr(image, "id", None) or None})


# -- OS::Nova::KeyPair ----------------------------------------------------------------------------


@register
class KeyPair(OpenStackResource):
    """The physical id is the key pair's name. Key pairs carry no tags: after a crash the pair
    of the template's name is adopted when its public key is the one asked for, or when no
    private key had to be kept."""

    type_name = "OS::Nova::KeyPair"
    description = "A Nova SSH key pair; imports public_key, or generates a key pair."
    properties = {
        "name": Property(STRING, "The name of the key pair.", required=True,
                         constraints=(LengthConstraint(min=1, max=255),)),
        "save_private_key": Property(BOOLEAN, "True if the system should remember a generated "
                                     "private key; False otherwise.", default=False),
        "type": Property(STRING, "Keypair type.", constraints=(allowed("ssh", "x509"),)),
        "public_key": Property(STRING, "The optional public key. This allows users to supply "
                               "the public key from a pre-existing key pair. If not supplied, "
                               "a new key pair will be generated."),
        "user": Property(STRING, "ID or name of user to whom to add key-pair."),
    }
    attributes = {
        "public_key": Attribute("The public key.", STRING),
        "private_key": Attribute("The private key if it has been saved.", STRING),
    }

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        conn = connection(ctx)
        attrs: dict[str, Any] = {"name": props["name"]}
        if props.get("public_key"):
            attrs["public_key"] = props["public_key"]
        if props.get("type"):
            attrs["type"] = props["type"]
        if props.get("user"):
            attrs["user_id"] = props["user"]
        keypair = await sdk(ctx, conn.compute.create_keypair, **attrs)
        data: dict[str, Any] = {"public_key": keypair.public_key}
        if props.get("save_private_key") and getattr(keypair, "private_key", None):
            # kept in the resource's private data only; never logged, never in events
            data["private_key"] = keypair.private_key
        return Created(str(keypair.name), data)

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        conn = connection(ctx)
        try:
            keypair = await ctx.call(conn.compute.get_keypair, ctx.physical_id,
                                     **({"user_id": props["user"]} if props.get("user") else {}))
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        observed: dict[str, Any] = {}
        if props.get("public_key") is not None:
            observed["public_key"] = props["public_key"] \
                if _same_key(keypair.public_key, props["public_key"]) else keypair.public_key
        elif ctx.data.get("public_key") and keypair.public_key != ctx.data["public_key"]:
            observed["public_key"] = keypair.public_key
        return Observed(properties=observed, attributes={"public_key": keypair.public_key})

    async def attribute_values(self, ctx: ResourceContext, props: dict[str, Any]
                               ) -> dict[str, Any]:
        return {"public_key": ctx.data.get("public_key"),
                "private_key": ctx.data.get("private_key", "")}

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        conn = connection(ctx)
        kwargs = {"user_id": props["user"]} if props.get("user") else {}
        await delete_quietly(ctx, conn.compute.delete_keypair, ctx.physical_id,
                             ignore_missing=False, **kwargs)

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        conn = connection(ctx)
        try:
            keypair = await ctx.call(conn.compute.get_keypair, props["name"])
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise failure(exc, str(exc)) from None
        if keypair.name in ctx.exclude_ids:
            return None
        if props.get("public_key"):
            if not _same_key(keypair.public_key, props["public_key"]):
                return None
        elif props.get("save_private_key"):
            return None  # its private key was lost with the crash: creating says "exists"
        return Created(str(keypair.name), {"public_key": keypair.public_key})


def _same_key(a: str | None, b: str | None) -> bool:
    """Public keys compared on type and key material (the comment may differ)."""
    return (a or "").split()[:2] == (b or "").split()[:2]


# -- OS::Nova::Flavor -----------------------------------------------------------------------------


@register
class Flavor(OpenStackResource):
    """Flavors carry no tags; the flavor is named after the stack and resource (unless the
    template names it), so after a crash it is found by that name."""

    type_name = "OS::Nova::Flavor"
    description = "A Nova flavor (admin only in most clouds)."
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

    def _name(self, ctx: ResourceContext, props: Mapping[str, Any]) -> str:
        return str(props.get("name") or ctx.data.get("name") or ctx.physical_name(255))

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

    async def _apply(self, ctx: ResourceContext, conn: Any, fid: str,
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

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        conn = connection(ctx)
        flavor = await get_or_none(ctx, conn.compute.get_flavor, ctx.physical_id)
        if flavor is None:
            return None
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

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        conn = connection(ctx)
        await delete_quietly(ctx, conn.compute.delete_flavor, ctx.physical_id,
                             ignore_missing=False)

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        conn = connection(ctx)
        name = self._name(ctx, props)
        flavors = await sdk(ctx, lambda: list(conn.compute.flavors(is_public=None)))
        # no tags on flavors: the name and the sizes must all be the ones asked for
        found = pick_existing((f for f in flavors if f.name == name and f.ram == props["ram"]
                               and f.vcpus == props["vcpus"] and f.disk == props["disk"]), ctx)
        return None if found is None else Created(str(found.id), {"name": name})


# -- OS::Nova::ServerGroup ------------------------------------------------------------------------


@register
class ServerGroup(OpenStackResource):
    """Server groups carry no tags; the group is named after the stack and resource (unless
    the template names it), so after a crash it is found by that name."""

    type_name = "OS::Nova::ServerGroup"
    description = "A server group: placement policies applied to the servers booted in it."
    properties = {
        "name": Property(STRING, "Server Group name."),
        "policies": Property(
            LIST, "A list of exactly one policy to apply.", default=["anti-affinity"],
            item=Property(STRING, constraints=(allowed(
                "anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"),)),
            constraints=(LengthConstraint(min=1, max=1),)),
        "rules": Property(MAP, "Rules of the policy (max_server_per_host with "
                          "anti-affinity)."),
    }
    attributes = {}

    def _name(self, ctx: ResourceContext, props: Mapping[str, Any]) -> str:
        return str(props.get("name") or ctx.data.get("name") or ctx.physical_name(255))

    async def create(self, ctx: ResourceContext, props: dict[str, Any]) -> Created:
        conn = connection(ctx)
        name = self._name(ctx, props)
        policy = (props.get("policies") or ["anti-affinity"])[0]
        attrs: dict[str, Any] = {"name": name, "policy": policy}
        if props.get("rules"):
            attrs["rules"] = dict(props["rules"])
        group = await sdk(ctx, conn.compute.create_server_group, **attrs)
        return Created(str(group.id), {"name": name})

    async def read(self, ctx: ResourceContext, props: dict[str, Any]) -> Observed | None:
        conn = connection(ctx)
        group = await get_or_none(ctx, conn.compute.get_server_group, ctx.physical_id)
        if group is None:
            return None
        policy = getattr(group, "policy", None) or (getattr(group, "policies", None) or [None])[0]
        return Observed(properties={"policies": [policy]} if policy else {},
                        attributes={"members": list(group.member_ids or [])})

    async def delete(self, ctx: ResourceContext, props: dict[str, Any]) -> None:
        conn = connection(ctx)
        await delete_quietly(ctx, conn.compute.delete_server_group, ctx.physical_id,
                             ignore_missing=False)

    async def find_existing(self, ctx: ResourceContext, props: dict[str, Any]
                            ) -> Created | None:
        conn = connection(ctx)
        name = self._name(ctx, props)
        groups = await sdk(ctx, lambda: list(conn.compute.server_groups()))
        found = pick_existing((g for g in groups if g.name == name), ctx)
        return None if found is None else Created(str(found.id), {"name": name})


__all__ = [
    "Flavor",
    "FlavorConstraint",
    "KeyPair",
    "KeypairConstraint",
    "Server",
    "ServerConstraint",
    "ServerGroup",
]
