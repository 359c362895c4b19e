"""``OS::Nova::Server``'s ``networks[].port_extra_properties``: ports kubeheat makes itself.

An entry with ``port_extra_properties`` (and no ``port``) gets a port made before the server
boots, as Heat makes its "internal ports": on the entry's network (or its subnet's), with the
entry's ``subnet``/``fixed_ip`` as its fixed IP, the server's ``security_groups`` and the extra
properties (``value_specs`` merged into the request, ``qos_policy`` resolved to its id,
``no_fixed_ips`` giving no address at all); the server boots on that port. Entries without
them keep Nova's own ports, as before.

Each such port carries the stack's tags and ``kubeheat-nic=<key>``, the key naming its entry
(a digest of the entry's values and which of the identical entries it is), so everything is
found by tags: a create interrupted after the port was made reuses it, a floating IP of the
entry goes to it, an entry leaving ``networks`` (or changed) detaches and deletes it, and the
server's delete deletes them all once the server is gone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kubeheat.resources.base import (
    BOOLEAN,
    LIST,
    MAP,
    STRING,
    Property,
    ResourceContext,
    ResourceFailure,
)
from kubeheat.resources.openstack._common import (
    allowed,
    custom,
    delete_quietly,
    sdk,
    tag_list,
)

if TYPE_CHECKING:
    from openstack.connection import Connection

#: the tag naming the ``networks`` entry of a port kubeheat made for a server
NIC_TAG = "kubeheat-nic"

#: Heat's ``Port.extra_properties_schema`` (the port properties an entry may give)
PORT_EXTRA_SCHEMA = {
    "value_specs": Property(MAP, "Extra parameters to include in the request.", default={},
                            update_allowed=True),
    "admin_state_up": Property(BOOLEAN, "The administrative state of this port.",
                               default=True, update_allowed=True),
    "mac_address": Property(STRING, "MAC address to give to this port.",
                            constraints=(custom("mac_addr"),)),
    "allowed_address_pairs": Property(
        LIST, "Additional MAC/IP address pairs allowed to pass through the port.",
        update_allowed=True, item=Property(MAP, schema={
            "mac_address": Property(STRING, "MAC address to allow through this port.",
                                    constraints=(custom("mac_addr"),)),
            "ip_address": Property(STRING, "IP address to allow through this port.",
                                   required=True, constraints=(custom("net_cidr"),)),
        })),
    "binding:vnic_type": Property(STRING, "The vnic type to be bound on the neutron port.",
                                  default="normal", update_allowed=True,
                                  constraints=(allowed("normal", "direct", "macvtap",
                                                       "direct-physical", "baremetal"),)),
    "port_security_enabled": Property(BOOLEAN, "Flag to enable/disable port security on the "
                                      "port.", update_allowed=True),
    "qos_policy": Property(STRING, "The name or ID of QoS policy to attach to this port.",
                           update_allowed=True, constraints=(custom("neutron.qos_policy"),)),
    "propagate_uplink_status": Property(BOOLEAN, "Flag to enable/disable propagate uplink "
                                        "status on the port.", update_allowed=True),
    "no_fixed_ips": Property(BOOLEAN, "Flag to disable all fixed ips on the port.",
                             default=False, update_allowed=True),
}


def has_extra(entry: Mapping[str, Any]) -> bool:
    """The entry gets a port kubeheat makes."""
    return entry.get("port_extra_properties") is not None and not entry.get("port")


def entry_keys(networks: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ``kubeheat-nic`` key of each entry: a digest of its values, and which of the
    identical entries it is."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for entry in networks:
        text = json.dumps({k: v for k, v in entry.items() if v is not None}, sort_keys=True,
                          default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        out.append(f"{digest}-{seen[digest]}")
    return out


async def _tagged_ports(ctx: ResourceContext, conn: Connection) -> list[Any]:
    tags = ",".join(tag_list(ctx))
    ports = await sdk(ctx, lambda: list(conn.network.ports(tags=tags)))
    return [p for p in ports if any(str(t).startswith(f"{NIC_TAG}=") for t in p.tags or ())]


def _key_of(port: Any) -> str | None:
    for tag in port.tags or ():
        if str(tag).startswith(f"{NIC_TAG}="):
            return str(tag).partition("=")[2]
    return None


async def _find(ctx: ResourceContext, conn: Connection, kind: str, value: Any) -> str:
    found = await sdk(ctx, getattr(conn.network, f"find_{kind}"), str(value),
                      ignore_missing=True)
    if found is None:
        what = {"qos_policy": "QoS policy", "security_group": "Security Group"}.get(
            kind, kind.capitalize())
        raise ResourceFailure(f"The {what} ({value}) could not be found.")
    return str(found.id)


async def _port_body(ctx: ResourceContext, conn: Connection, entry: Mapping[str, Any],
                     security_groups: Iterable[str]) -> dict[str, Any]:
    extra = dict(entry.get("port_extra_properties") or {})
    body: dict[str, Any] = {}
    if entry.get("network"):
        body["network_id"] = await _find(ctx, conn, "network", entry["network"])
    fixed: dict[str, Any] = {}
    if entry.get("subnet"):
        fixed["subnet_id"] = await _find(ctx, conn, "subnet", entry["subnet"])
        if "network_id" not in body:
            subnet = await sdk(ctx, conn.network.get_subnet, fixed["subnet_id"])
            body["network_id"] = subnet.network_id
    if "network_id" not in body:
        raise ResourceFailure('One of the properties "network", "port" or "subnet" should be '
                              "set for the specified network of server.")
    if entry.get("fixed_ip"):
        fixed["ip_address"] = entry["fixed_ip"]
    if extra.get("no_fixed_ips"):
        body["fixed_ips"] = []
    elif fixed:
        body["fixed_ips"] = [fixed]
    groups = [await _find(ctx, conn, "security_group", g) for g in security_groups]
    if groups:
        body["security_groups"] = groups
    body.update(dict(extra.get("value_specs") or {}))
    for key in ("admin_state_up", "mac_address", "binding:vnic_type", "port_security_enabled",
                "propagate_uplink_status"):
        if extra.get(key) is not None:
            body[key] = extra[key]
    if extra.get("allowed_address_pairs") is not None:
        body["allowed_address_pairs"] = [{k: v for k, v in pair.items() if v is not None}
                                         for pair in extra["allowed_address_pairs"]]
    if extra.get("qos_policy"):
        body["qos_policy_id"] = await _find(ctx, conn, "qos_policy", extra["qos_policy"])
    return body


async def make_ports(ctx: ResourceContext, conn: Connection, name: str,
                     networks: Sequence[Mapping[str, Any]] | None,
                     security_groups: Iterable[str] = (), server: str | None = None
                     ) -> list[dict[str, Any]]:
    """``networks`` with each entry that needs a port of its own given one (made now, or
    found: made by an interrupted create, or already on ``server``): ``{"port": <id>}`` plus
    its tag and floating IP."""
    if not networks or not any(has_extra(e) for e in networks):
        return [dict(e) for e in networks or ()]
    existing = {_key_of(p): p for p in await _tagged_ports(ctx, conn)
                if getattr(p, "device_id", None) in (None, "", server)}
    groups = list(security_groups)
    out: list[dict[str, Any]] = []
    for i, (entry, key) in enumerate(zip(networks, entry_keys(networks), strict=True)):
        if not has_extra(entry):
            out.append(dict(entry))
            continue
        found = existing.get(key)
        if found is not None:
            port_id = str(found.id)
        else:
            body = await _port_body(ctx, conn, entry, groups)
            port = await sdk(ctx, conn.network.create_port, name=f"{name}-port-{i}", **body)
            await sdk(ctx, conn.network.set_tags, port, [*tag_list(ctx), f"{NIC_TAG}={key}"])
            port_id = str(port.id)
        out.append({"port": port_id, "tag": entry.get("tag"),
                    "floating_ip": entry.get("floating_ip")})
    return out


async def ports_of(ctx: ResourceContext, conn: Connection,
                   networks: Sequence[Mapping[str, Any]]) -> list[str | None]:
    """The port kubeheat made for each entry (None: none)."""
    if not any(has_extra(e) for e in networks):
        return [None] * len(networks)
    by_key = {_key_of(p): str(p.id) for p in await _tagged_ports(ctx, conn)}
    return [by_key.get(key) if has_extra(entry) else None
            for entry, key in zip(networks, entry_keys(networks), strict=True)]


async def delete_ports(ctx: ResourceContext, conn: Connection,
                       keep: Iterable[str] = ()) -> None:
    """Delete the ports kubeheat made for the server (but ``keep``)."""
    kept = set(keep)
    for port in await _tagged_ports(ctx, conn):
        if str(port.id) not in kept:
            await delete_quietly(ctx, conn.network.delete_port, port.id, ignore_missing=False)


__all__ = ["NIC_TAG", "PORT_EXTRA_SCHEMA", "delete_ports", "entry_keys", "has_extra",
           "make_ports", "ports_of"]
