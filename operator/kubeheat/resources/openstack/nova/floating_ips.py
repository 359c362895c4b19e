"""``OS::Nova::Server``'s ``networks[].floating_ip``: the floating IP of an interface.

Heat associates the floating IP with the interface's port: the entry's own ``port``, or the
port it creates on the entry's ``subnet``. kubeheat lets Nova create the ports of ``subnet``
entries, so once the server is active the floating IP goes to the server's port with an
address on that subnet (the entry's ``fixed_ip`` when it gives one). An entry naming only a
``network`` cannot have one, as in Heat: which port it gets is not known. An entry leaving
``networks`` (an update) takes its floating IP's association away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kubeheat.resources.base import ResourceContext, ResourceFailure
from kubeheat.resources.openstack._common import failure, is_not_found, sdk

if TYPE_CHECKING:
    from openstack.connection import Connection

#: Heat's message for a floating IP on an entry that names only its network
ONLY_NETWORK = ('Property "floating_ip" is not supported if only "network" is specified, '
                "because the corresponding port can not be retrieved.")


def floating_ip_problem(networks: Any) -> tuple[str, str] | None:
    """Heat's check of ``networks[].floating_ip``: ``(property, message)`` or None."""
    for entry in networks or ():
        if isinstance(entry, Mapping) and entry.get("floating_ip") is not None \
                and entry.get("port") is None and entry.get("subnet") is None \
                and entry.get("port_extra_properties") is None:
            return ("networks", ONLY_NETWORK)
    return None


async def _port_of(ctx: ResourceContext, conn: Connection, sid: str,
                   entry: Mapping[str, Any]) -> str:
    if entry.get("port"):
        port = await sdk(ctx, conn.network.find_port, str(entry["port"]), ignore_missing=False)
        return str(port.id)
    subnet = await sdk(ctx, conn.network.find_subnet, str(entry["subnet"]),
                       ignore_missing=False)
    ports = await sdk(ctx, lambda: list(conn.network.ports(device_id=sid)))
    for port in ports:
        for ip in port.fixed_ips or ():
            if ip.get("subnet_id") == subnet.id and (
                    not entry.get("fixed_ip") or ip.get("ip_address") == entry["fixed_ip"]):
                return str(port.id)
    raise ResourceFailure(f"The server has no port on subnet {entry['subnet']} for floating "
                          f"IP {entry['floating_ip']}")


async def associate(ctx: ResourceContext, conn: Connection, sid: str,
                    networks: Iterable[Mapping[str, Any]] | None,
                    ports: Sequence[str | None] = ()) -> None:
    """Associate the floating IP of each entry of ``networks`` that has one; ``ports`` are
    the ports of the entries when known (the interfaces an update attached)."""
    for i, entry in enumerate(networks or ()):
        if not entry.get("floating_ip"):
            continue
        port = ports[i] if i < len(ports) else None
        body: dict[str, Any] = {"port_id": port or await _port_of(ctx, conn, sid, entry)}
        if entry.get("fixed_ip"):
            body["fixed_ip_address"] = entry["fixed_ip"]
        await sdk(ctx, conn.network.update_ip, str(entry["floating_ip"]), **body)


async def disassociate(ctx: ResourceContext, conn: Connection,
                       networks: Iterable[Mapping[str, Any]]) -> None:
    """Take away the association of each entry's floating IP (gone already is fine)."""
    for entry in networks:
        if not entry.get("floating_ip"):
            continue
        try:
            await ctx.call(conn.network.update_ip, str(entry["floating_ip"]), port_id=None)
        except Exception as exc:
            if not is_not_found(exc):
                raise failure(exc) from None


__all__ = ["ONLY_NETWORK", "associate", "disassociate", "floating_ip_problem"]
