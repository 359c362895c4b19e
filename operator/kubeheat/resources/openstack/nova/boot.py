"""What ``OS::Nova::Server`` asks Nova to boot: the schemas of its ``networks`` and
``block_device_mapping_v2`` entries, and the create request's nics, block devices and user
data built from them."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubeheat.resources.base import (
    BOOLEAN,
    INTEGER,
    MAP,
    STRING,
    Property,
    ResourceContext,
    ResourceFailure,
)
from kubeheat.resources.config_records import find_config, is_uuid_like
from kubeheat.resources.openstack._common import allowed, custom, sdk
from kubeheat.resources.openstack.nova.base import lookup_image
from kubeheat.resources.openstack.nova.internal_ports import PORT_EXTRA_SCHEMA
from kubeheat.resources.translation import renamed

if TYPE_CHECKING:
    from openstack.connection import Connection

NETWORK_SCHEMA = {
    "network": Property(STRING, "Name or ID of network to create a port on.",
                        constraints=(custom("neutron.network"),)),
    "uuid": renamed("network", constraints=(custom("neutron.network"),)),
    "fixed_ip": Property(STRING, "Fixed IP address to specify for the port created on the "
                         "requested network.", constraints=(custom("ip_addr"),)),
    "port": Property(STRING, "ID of an existing port to associate with this server.",
                     constraints=(custom("neutron.port"),)),
    "subnet": Property(STRING, "Subnet in which to allocate the IP address for the port; the "
                       "network becomes optional."),
    "tag": Property(STRING, "Port tag (device role tagging)."),
    "floating_ip": Property(STRING, "ID of the floating IP to associate with the interface's "
                            "port (an entry with a port, a subnet or port_extra_properties)."),
    "port_extra_properties": Property(MAP, "Properties of the port kubeheat then makes for the "
                                      "entry (not with port).", update_allowed=True,
                                      schema=PORT_EXTRA_SCHEMA),
    "allocate_network": Property(STRING, "auto: a network available to the project is used "
                                 "(or created by Nova); none: no networking. Not to be used "
                                 "with the other keys.",
                                 constraints=(allowed("none", "auto"),)),
}

BDM_V2_SCHEMA = {
    "device_name": Property(STRING, "A device name where the volume will be attached in the "
                            "system at /dev/device_name, typically vda."),
    "volume_id": Property(STRING, "The volume_id can be boot or non-boot device to the server.",
                          constraints=(custom("cinder.volume"),)),
    "image": Property(STRING, "The ID or name of the image to create a volume from.",
                      constraints=(custom("glance.image"),)),
    "image_id": renamed("image", constraints=(custom("glance.image"),)),
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
    "volume_type": Property(STRING, "The volume type of the volume created from an image or "
                            "a snapshot (Nova API microversion 2.67).",
                            constraints=(custom("cinder.vtype"),)),
}

#: the items of ``block_device_mapping``, Heat's first form (Nova's legacy mappings)
BDM_SCHEMA = {
    "device_name": Property(STRING, "A device name where the volume will be attached in the "
                            "system at /dev/device_name. This value is typically vda.",
                            required=True),
    "volume_id": Property(STRING, "The ID of the volume to boot from. Only one of volume_id or "
                          "snapshot_id should be provided.",
                          constraints=(custom("cinder.volume"),)),
    "snapshot_id": Property(STRING, "The ID of the snapshot to create a volume from.",
                            constraints=(custom("cinder.snapshot"),)),
    "volume_size": Property(INTEGER, "The size of the volume, in GB; the Compute service infers "
                            "it when omitted."),
    "delete_on_termination": Property(BOOLEAN, "Indicate whether the volume should be deleted "
                                      "when the server is terminated."),
}


def legacy_mappings(mappings: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """``block_device_mapping`` entries as ``block_device_mapping_v2`` ones: a volume, or a
    volume made from a snapshot, attached at the device name; the device ``vda`` boots (Heat
    counts it as the bootable one, as Nova's legacy mappings do)."""
    if not mappings:
        return None
    out: list[dict[str, Any]] = []
    for m in mappings:
        entry = {k: m.get(k) for k in ("device_name", "volume_id", "snapshot_id",
                                        "volume_size", "delete_on_termination")}
        entry["boot_index"] = 0 if m.get("device_name") in ("vda", "/dev/vda") else -1
        out.append(entry)
    return out


def mapping_problem(props: Mapping[str, Any]) -> tuple[str, str] | None:
    """Heat's checks of ``block_device_mapping``: ``(property, message)`` or None."""
    mappings = props.get("block_device_mapping") or []
    if mappings and props.get("block_device_mapping_v2"):
        return ("block_device_mapping", "Cannot define the following properties at the same "
                "time: block_device_mapping, block_device_mapping_v2.")
    for m in mappings:
        if not isinstance(m, Mapping):
            continue
        if m.get("volume_id") is not None and m.get("snapshot_id") is not None:
            return ("block_device_mapping", "Cannot define the following properties at the "
                    "same time: volume_id, snapshot_id.")
        if m.get("volume_id") is None and m.get("snapshot_id") is None:
            return ("block_device_mapping", "Either volume_id or snapshot_id must be "
                    f"specified for device mapping {m.get('device_name')}")
    return None


def encoded_user_data(ctx: ResourceContext, props: Mapping[str, Any]) -> str | None:
    """The create request's ``user_data`` (base64): the property, or the software config it
    names (formats RAW and SOFTWARE_CONFIG); None when empty."""
    content = props.get("user_data") or ""
    if props.get("user_data_format") in ("RAW", "SOFTWARE_CONFIG") and ctx.native \
            and is_uuid_like(content):
        found = find_config(ctx.native, content)
        if found is not None and found.get("config") is not None:
            content = found["config"]
            if not isinstance(content, str):
                content = json.dumps(content)
    if not content:
        return None
    return base64.b64encode(str(content).encode()).decode()


async def nics(ctx: ResourceContext, conn: Connection, networks: list[dict[str, Any]] | None
               ) -> Any:
    """The create request's ``networks``: ``auto`` or ``none`` (Nova allocates), or one nic per
    entry, the network named by name or id (or a subnet's) resolved to its id."""
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
            ref = entry.get("network")
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


async def block_devices(ctx: ResourceContext, conn: Connection,
                        mappings: list[dict[str, Any]] | None, has_image: bool
                        ) -> list[dict[str, Any]]:
    """The create request's ``block_device_mapping`` from ``block_device_mapping_v2``; the first
    volume boots unless an image does or a mapping says otherwise."""
    out: list[dict[str, Any]] = []
    boot_set = has_image
    for m in mappings or ():
        bdm: dict[str, Any] = {}
        image = m.get("image")
        if m.get("volume_id"):
            bdm.update(source_type="volume", destination_type="volume",
                       uuid=m["volume_id"])
        elif m.get("snapshot_id"):
            bdm.update(source_type="snapshot", destination_type="volume",
                       uuid=m["snapshot_id"])
        elif image:
            bdm.update(source_type="image", destination_type="volume",
                       uuid=await lookup_image(ctx, conn, image))
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
                    "delete_on_termination", "volume_type"):
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
