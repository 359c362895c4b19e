"""Helpers shared by the Neutron resource tests (test_neutron, test_neutron_crash): a HOT
document, the web tier every scenario builds on, and what the stack left in the cloud."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import openstack.connection

from kubeheat.engine import Engine, MemoryStateStore, StackState
from kubeheat.resources import TAG_STACK_ID

Conn = openstack.connection.Connection
EngineFactory = Callable[..., tuple[Engine, MemoryStateStore, Any]]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def hot(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": "2018-08-31", "resources": resources}
    if outputs:
        doc["outputs"] = {k: {"value": v} for k, v in outputs.items()}
    return doc


def web_tier(cidr: str = "10.20.0.0/24") -> dict[str, Any]:
    """Net, subnet, router with gateway and interface, security group with rules, a separate
    rule, a port in the group and a floating IP on the port."""
    return hot({
        "net": {"type": "OS::Neutron::Net", "properties": {"tags": ["tier=web"]}},
        "subnet": {"type": "OS::Neutron::Subnet", "properties": {
            "network": {"get_resource": "net"}, "cidr": cidr,
            "dns_nameservers": ["8.8.8.8"]}},
        "router": {"type": "OS::Neutron::Router", "properties": {
            "external_gateway_info": {"network": "public"}}},
        "iface": {"type": "OS::Neutron::RouterInterface", "properties": {
            "router": {"get_resource": "router"}, "subnet": {"get_resource": "subnet"}}},
        "sg": {"type": "OS::Neutron::SecurityGroup", "properties": {
            "description": "web servers",
            "rules": [{"protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                       "remote_ip_prefix": "0.0.0.0/0"},
                      {"protocol": "icmp"}]}},
        "http": {"type": "OS::Neutron::SecurityGroupRule", "properties": {
            "security_group": {"get_resource": "sg"}, "port_range_min": 80,
            "port_range_max": 80}},
        "port": {"type": "OS::Neutron::Port", "properties": {
            "network": {"get_resource": "net"},
            "fixed_ips": [{"subnet": {"get_resource": "subnet"}}],
            "security_groups": [{"get_resource": "sg"}]}},
        "fip": {"type": "OS::Neutron::FloatingIP", "depends_on": ["iface"], "properties": {
            "floating_network": "public", "port_id": {"get_resource": "port"}}},
    }, outputs={
        "port_ip": {"get_attr": ["port", "fixed_ips", 0, "ip_address"]},
        "port_mac": {"get_attr": ["port", "mac_address"]},
        "fip_address": {"get_attr": ["fip", "floating_ip_address"]},
        "subnets": {"get_attr": ["net", "subnets"]},
        "gateway": {"get_attr": ["router", "external_gateway_info", "network_id"]},
        "cidr": {"get_attr": ["subnet", "cidr"]},
    })


def tagged(conn: Conn, stack_id: str) -> dict[str, list[Any]]:
    """Everything in the cloud carrying the stack's tag, by listing."""
    tag = f"{TAG_STACK_ID}={stack_id}"
    net = conn.network
    found: dict[str, list[Any]] = {
        "networks": list(net.networks(tags=tag)),
        "subnets": list(net.subnets(tags=tag)),
        "ports": list(net.ports(tags=tag)),
        "routers": list(net.routers(tags=tag)),
        "floating_ips": list(net.ips(tags=tag)),
        "security_groups": list(net.security_groups(tags=tag)),
    }
    found["rules"] = [r for r in net.security_group_rules() if tag in (r.description or "")]
    found["router_ports"] = [p for r in found["routers"] for p in net.ports(device_id=r.id)
                             if p.device_owner == "network:router_interface"]
    return found


def assert_nothing_left(conn: Conn, stack_id: str) -> None:
    left = {k: [getattr(o, "id", o) for o in v] for k, v in tagged(conn, stack_id).items() if v}
    assert left == {}


def assert_complete(state: StackState) -> None:
    assert state.status == "COMPLETE", (state.state, state.status_reason,
                                        {n: r.status_reason for n, r in state.resources.items()
                                         if r.status != "COMPLETE"})


def ids(state: StackState) -> dict[str, str]:
    out = {name: rec.physical_id for name, rec in state.resources.items()}
    assert all(out.values()), out
    return {name: str(pid) for name, pid in out.items()}


def rule_keys(conn: Conn, group_id: str) -> set[tuple[Any, ...]]:
    return {(r.direction, r.ether_type, r.protocol, r.port_range_min, r.port_range_max,
             r.remote_ip_prefix) for r in conn.network.security_group_rules(
                 security_group_id=group_id)}
