"""Neutron through the real openstacksdk: networks, subnets and IP allocation, ports, routers
and interfaces, floating IPs, security groups, tags and tag filters, quotas, error bodies."""

from __future__ import annotations

import openstack.connection
import openstack.exceptions
import pytest
from sandbox_support import FAST, sdk

from kubeheat.sandbox import SandboxCloud, SandboxConfig, run_sandbox

Conn = openstack.connection.Connection


def test_network_subnet_port_allocation(conn: Conn) -> None:
    net = conn.network.create_network(name="alloc")
    assert net.status == "ACTIVE" and net.subnet_ids == []
    subnet = conn.network.create_subnet(
        network_id=net.id, cidr="192.168.5.0/29", ip_version=4,
        allocation_pools=[{"start": "192.168.5.3", "end": "192.168.5.5"}])
    assert subnet.gateway_ip == "192.168.5.1"
    assert conn.network.get_network(net.id).subnet_ids == [subnet.id]
    ports = [conn.network.create_port(network_id=net.id) for _ in range(3)]
    assert [p.fixed_ips[0]["ip_address"] for p in ports] == [
        "192.168.5.3", "192.168.5.4", "192.168.5.5"]
    with pytest.raises(openstack.exceptions.ConflictException,
                       match="No more IP addresses available"):
        conn.network.create_port(network_id=net.id)
    conn.network.delete_port(ports[1])
    again = conn.network.create_port(network_id=net.id,
                                     fixed_ips=[{"ip_address": "192.168.5.4"}])
    assert again.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "192.168.5.4"}]
    with pytest.raises(openstack.exceptions.ConflictException, match="already allocated"):
        conn.network.create_port(network_id=net.id, fixed_ips=[{"ip_address": "192.168.5.4"}])
    with pytest.raises(openstack.exceptions.ConflictException, match="still in use"):
        conn.network.delete_network(net)
    updated = conn.network.update_port(again, name="renamed")
    assert updated.name == "renamed" and updated.revision_number == 1
    for port in (ports[0], ports[2], again):
        conn.network.delete_port(port)
    conn.network.delete_network(net)
    assert conn.network.find_network("alloc") is None


def test_subnet_validation(conn: Conn) -> None:
    net = conn.network.create_network(name="v")
    conn.network.create_subnet(network_id=net.id, cidr="10.1.0.0/24", ip_version=4)
    with pytest.raises(openstack.exceptions.BadRequestException, match="overlaps"):
        conn.network.create_subnet(network_id=net.id, cidr="10.1.0.0/25", ip_version=4)
    with pytest.raises(openstack.exceptions.BadRequestException, match="not a valid IP subnet"):
        conn.network.create_subnet(network_id=net.id, cidr="10.1.300.0/24", ip_version=4)


def test_error_body_shape(conn: Conn) -> None:
    resp = conn.network.get("/networks/00000000-0000-0000-0000-000000000000")
    assert resp.status_code == 404
    error = resp.json()["NeutronError"]
    assert error["type"] == "NetworkNotFound"
    assert set(error) == {"type", "message", "detail"}


def test_tags_and_filters(conn: Conn) -> None:
    a = conn.network.create_network(name="tag-a")
    b = conn.network.create_network(name="tag-b")
    conn.network.set_tags(a, ["stack=s1", "web"])
    conn.network.set_tags(b, ["stack=s1"])
    assert conn.network.get_network(a.id).tags == ["stack=s1", "web"]
    ids = {n.id for n in conn.network.networks(tags="stack=s1")}
    assert ids == {a.id, b.id}
    assert {n.id for n in conn.network.networks(tags="stack=s1,web")} == {a.id}
    assert {n.id for n in conn.network.networks(any_tags="web")} == {a.id}
    assert b.id in {n.id for n in conn.network.networks(not_tags="web")}
    assert a.id not in {n.id for n in conn.network.networks(not_any_tags="web")}
    port = conn.network.create_port(network_id=a.id, name="tp")
    conn.network.set_tags(port, ["stack=s1"])
    assert [p.id for p in conn.network.ports(tags="stack=s1")] == [port.id]


def test_security_groups_and_rules(conn: Conn) -> None:
    default = conn.network.find_security_group("default")
    assert default is not None
    sg = conn.network.create_security_group(name="web", description="web tier")
    rules = sg.security_group_rules
    assert sorted((r["direction"], r["ethertype"]) for r in rules) == [
        ("egress", "IPv4"), ("egress", "IPv6")]
    rule = conn.network.create_security_group_rule(
        security_group_id=sg.id, direction="ingress", protocol="tcp", port_range_min=80,
        port_range_max=80, remote_ip_prefix="0.0.0.0/0")
    assert rule.protocol == "tcp"
    with pytest.raises(openstack.exceptions.ConflictException, match="already exists"):
        conn.network.create_security_group_rule(
            security_group_id=sg.id, direction="ingress", protocol="tcp", port_range_min=80,
            port_range_max=80, remote_ip_prefix="0.0.0.0/0")
    assert len(list(conn.network.security_group_rules(security_group_id=sg.id))) == 3
    net = conn.network.create_network(name="sgnet")
    conn.network.create_subnet(network_id=net.id, cidr="10.2.0.0/24", ip_version=4)
    port = conn.network.create_port(network_id=net.id, security_group_ids=[sg.id])
    with pytest.raises(openstack.exceptions.ConflictException, match="in use"):
        conn.network.delete_security_group(sg)
    conn.network.delete_port(port)
    conn.network.delete_security_group_rule(rule)
    conn.network.delete_security_group(sg)
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.network.delete_security_group(default)


def test_router_interface_and_floating_ip(conn: Conn) -> None:
    public = conn.network.find_network("public")
    net = conn.network.create_network(name="fipnet")
    subnet = conn.network.create_subnet(network_id=net.id, cidr="10.3.0.0/24", ip_version=4)
    port = conn.network.create_port(network_id=net.id)
    fip = conn.network.create_ip(floating_network_id=public.id)
    assert fip.floating_ip_address.startswith("172.24.4.") and fip.status == "DOWN"
    with pytest.raises(openstack.exceptions.NotFoundException, match="not reachable"):
        conn.network.update_ip(fip, port_id=port.id)
    router = conn.network.create_router(name="r1",
                                        external_gateway_info={"network_id": public.id})
    assert router.external_gateway_info["external_fixed_ips"]
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    iface = list(conn.network.ports(device_id=router.id,
                                    device_owner="network:router_interface"))
    assert iface[0].fixed_ips[0]["ip_address"] == "10.3.0.1"
    associated = conn.network.update_ip(fip, port_id=port.id)
    assert associated.router_id == router.id
    assert associated.fixed_ip_address == port.fixed_ips[0]["ip_address"]
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.network.delete_router(router)
    conn.network.update_ip(fip, port_id=None)
    conn.network.delete_ip(fip)
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)
    assert conn.network.find_router("r1") is None


def test_quota_over_limit() -> None:
    with run_sandbox(SandboxConfig(**FAST, quotas={"network": 1})) as cloud:  # type: ignore[arg-type]
        conn = sdk(cloud)
        conn.network.create_network(name="one")
        with pytest.raises(openstack.exceptions.ConflictException,
                           match=r"Quota exceeded for resources: \['network'\]"):
            conn.network.create_network(name="two")
        conn.close()


def test_server_addresses_include_floating_ip(conn: Conn, cloud: SandboxCloud) -> None:
    public = conn.network.find_network("public")
    net = conn.network.create_network(name="srvnet")
    subnet = conn.network.create_subnet(network_id=net.id, cidr="10.4.0.0/24", ip_version=4)
    router = conn.network.create_router(external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    image = conn.image.find_image("cirros-0.6.2-x86_64-disk")
    server = conn.compute.create_server(name="fipvm", image_id=image.id, flavor_id="1",
                                        networks=[{"uuid": net.id}])
    [port] = conn.network.ports(device_id=server.id)
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    server = conn.compute.wait_for_server(server, interval=0.02, wait=5)
    kinds = sorted(a["OS-EXT-IPS:type"] for a in server.addresses["srvnet"])
    assert kinds == ["fixed", "floating"]
    conn.compute.delete_server(server)
    assert conn.network.get_ip(fip.id).port_id is None
