"""Fault injection: injected statuses with service-shaped bodies, Retry-After, bounded rules,
runtime changes, servers and volumes going to ERROR, resources vanishing, the request log."""

from __future__ import annotations

import openstack.connection
import openstack.exceptions
import pytest
from sandbox_support import eventually

from kubeheat.sandbox import FaultRule, SandboxCloud

Conn = openstack.connection.Connection


def test_injected_status_bounded_by_times(conn: Conn, cloud: SandboxCloud) -> None:
    conn.compute.get("/flavors")  # authenticate and discover before injecting
    rule = cloud.add_fault(FaultRule("GET", r"/compute/v2\.1/flavors$", status=429,
                                     retry_after=2, times=1))
    resp = conn.compute.get("/flavors")
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "2"
    assert resp.json()["overLimit"]["code"] == 429
    assert conn.compute.get("/flavors").status_code == 200
    assert rule.fired == 1
    [injected] = [r for r in cloud.request_log("compute") if r.injected]
    assert (injected.method, injected.status) == ("GET", 429)


def test_neutron_shaped_500_and_removal(conn: Conn, cloud: SandboxCloud) -> None:
    rule = cloud.add_fault(FaultRule("POST", r"/networking/v2\.0/networks$", status=500))
    with pytest.raises(openstack.exceptions.HttpException) as info:
        conn.network.create_network(name="never")
    assert info.value.status_code == 500
    cloud.remove_fault(rule)
    assert conn.network.create_network(name="now").name == "now"
    assert [n for n in cloud.resources("networks") if n["name"] == "never"] == []


def test_rate_zero_never_fires_and_latency_only_rule_passes(conn: Conn,
                                                            cloud: SandboxCloud) -> None:
    cloud.add_fault(FaultRule("*", r"/flavors", status=503, rate=0.0))
    latency = cloud.add_fault(FaultRule("GET", r"/flavors", latency=0.01))
    assert conn.compute.get("/flavors").status_code == 200
    assert latency.fired >= 1


def test_server_goes_to_error_and_vanishes(conn: Conn, cloud: SandboxCloud) -> None:
    net = conn.network.create_network(name="fault-net")
    conn.network.create_subnet(network_id=net.id, cidr="10.9.0.0/24", ip_version=4)
    image = conn.image.find_image("cirros-0.6.2-x86_64-disk")
    server = conn.compute.create_server(name="f", image_id=image.id, flavor_id="1",
                                        networks=[{"uuid": net.id}])
    server = conn.compute.wait_for_server(server, interval=0.02, wait=5)
    cloud.fail_server(server.id, "Host exploded")
    failed = conn.compute.get_server(server.id)
    assert failed.status == "ERROR" and failed.fault["message"] == "Host exploded"
    cloud.vanish("servers", server.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.compute.get_server(server.id)
    assert list(conn.network.ports(device_id=server.id)) == []


def test_volume_goes_to_error_and_vanishes(conn: Conn, cloud: SandboxCloud) -> None:
    volume = conn.block_storage.create_volume(size=1)
    eventually(lambda: conn.block_storage.get_volume(volume.id).status == "available")
    cloud.fail_volume(volume.id)
    assert conn.block_storage.get_volume(volume.id).status == "error"
    cloud.vanish("volumes", volume.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.block_storage.get_volume(volume.id)
    with pytest.raises(KeyError):
        cloud.vanish("volumes", volume.id)


def test_fault_rule_validation() -> None:
    with pytest.raises(ValueError):
        FaultRule(status=200)
    with pytest.raises(ValueError):
        FaultRule(status=500, rate=2.0)


def test_fault_after_the_service_carried_the_request_out(conn: Conn,
                                                         cloud: SandboxCloud) -> None:
    """``after=True``: the network is created, and the answer is a 500 all the same."""
    rule = cloud.add_fault(FaultRule("POST", r"/networking/v2\.0/networks$", status=500,
                                     times=1, after=True))
    with pytest.raises(openstack.exceptions.HttpException) as info:
        conn.network.create_network(name="made-anyway")
    assert info.value.status_code == 500
    assert rule.fired == 1
    made = [n for n in cloud.resources("networks") if n["name"] == "made-anyway"]
    assert len(made) == 1
    [record] = [r for r in cloud.request_log("network")
                if r.method == "POST" and r.path.endswith("/networks")][-1:]
    assert (record.status, record.injected) == (500, True)
    conn.network.delete_network(made[0]["id"])


def test_skip_lets_the_first_matching_requests_through(conn: Conn,
                                                       cloud: SandboxCloud) -> None:
    """``skip=2, times=1``: exactly the third matching request fails."""
    rule = cloud.add_fault(FaultRule("POST", r"/networking/v2\.0/networks$", status=500,
                                     times=1, skip=2))
    first = conn.network.create_network(name="nth-1")
    second = conn.network.create_network(name="nth-2")
    with pytest.raises(openstack.exceptions.HttpException):
        conn.network.create_network(name="nth-3")
    fourth = conn.network.create_network(name="nth-4")
    assert rule.fired == 1
    assert not [n for n in cloud.resources("networks") if n["name"] == "nth-3"]
    for net in (first, second, fourth):
        conn.network.delete_network(net)
