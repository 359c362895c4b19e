"""Heat's implicit dependencies of the Neutron types (its ``add_dependencies`` rules), found on
the stack's *unresolved* properties: a port waits for the subnets of its network, a router for
the subnets of its gateway network, a floating IP (or association) for the router interfaces
on its port's subnets and for the routers whose gateway is its floating network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeheat.resources.base import DependencyView, ResourceSnippet

SUBNET, PORT, ROUTER, IFACE = ("OS::Neutron::Subnet", "OS::Neutron::Port",
                               "OS::Neutron::Router", "OS::Neutron::RouterInterface")


def subnets_of_network(stack: DependencyView, network: Any) -> set[str]:
    """The stack's subnets on ``network``."""
    return {s.name for s in stack.of_type(SUBNET)
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
    if target is None or stack.resources[target].type != SUBNET:
        return False
    return stack.same(stack.resources[target].properties.get("network"),
                      port.properties.get("network"))


def interfaces_for_ports(stack: DependencyView, name: str) -> set[str]:
    """Router interfaces on a subnet of a port that resource ``name`` depends on."""
    mine = stack.resources[name]
    ports = [stack.resources[d] for d in sorted(mine.dependencies)
             if d in stack.resources and stack.resources[d].type == PORT]
    out: set[str] = set()
    if not ports:
        return out
    for iface in stack.of_type(IFACE):
        subnet = iface.properties.get("subnet")
        if subnet is not None and any(_port_on_subnet(stack, p, subnet) for p in ports):
            out.add(iface.name)
    return out


def gateway_network(router: ResourceSnippet) -> Any:
    info = router.properties.get("external_gateway_info")
    return info.get("network") if isinstance(info, Mapping) else None
