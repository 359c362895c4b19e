"""Sandbox calls added for the Nova and Cinder resource plugins: interface attach/detach, flavor
extra-spec keys and flavor access, and Cinder's read-only flag and retype (real openstacksdk)."""

from __future__ import annotations

import openstack.connection
import pytest
from openstack import exceptions
from sandbox_support import eventually

from kubeheat.sandbox import SandboxCloud


def test_interface_attach_and_detach(cloud: SandboxCloud,
                                     conn: openstack.connection.Connection) -> None:
    net = conn.network.create_network(name="iface-net")
    conn.network.create_subnet(network_id=net.id, cidr="10.91.0.0/24", ip_version=4)
    other = conn.network.create_network(name="iface-net-2")
    conn.network.create_subnet(network_id=other.id, cidr="10.92.0.0/24", ip_version=4)
    image = conn.image.find_image("cirros-0.6.2-x86_64-disk", ignore_missing=False)
    server = conn.compute.create_server(name="iface", flavor_id="1", image_id=image.id,
                                        networks=[{"uuid": net.id}])
    eventually(lambda: conn.compute.get_server(server.id).status == "ACTIVE")

    iface = conn.compute.create_server_interface(server.id, net_id=other.id,
                                                 fixed_ips=[{"ip_address": "10.92.0.9"}])
    assert iface.net_id == other.id
    assert iface.fixed_ips[0]["ip_address"] == "10.92.0.9"
    assert {i.net_id for i in conn.compute.server_interfaces(server.id)} == {net.id, other.id}
    assert "iface-net-2" in conn.compute.get_server(server.id).addresses

    port = conn.network.create_port(network_id=other.id)
    conn.compute.create_server_interface(server.id, port_id=port.id)
    assert conn.network.get_port(port.id).device_id == server.id

    conn.compute.delete_server_interface(iface.port_id, server=server.id)
    conn.compute.delete_server_interface(port.id, server=server.id)
    assert {i.net_id for i in conn.compute.server_interfaces(server.id)} == {net.id}
    assert conn.network.find_port(iface.port_id) is None        # Nova's own port is deleted
    assert conn.network.get_port(port.id).device_id == ""       # the user's port is kept
    with pytest.raises(exceptions.NotFoundException):
        conn.compute.get_server_interface(port.id, server=server.id)
    conn.compute.delete_server(server.id)
    conn.network.delete_port(port.id)


def test_flavor_extra_spec_keys_and_access(conn: openstack.connection.Connection) -> None:
    flavor = conn.compute.create_flavor(name="private-x", ram=64, vcpus=1, disk=0,
                                        is_public=False)
    conn.compute.create_flavor_extra_specs(flavor.id, {"a": "1", "b": "2"})
    assert conn.compute.get_flavor_extra_specs_property(flavor.id, "a") == "1"
    conn.compute.update_flavor_extra_specs_property(flavor.id, "a", "9")
    conn.compute.delete_flavor_extra_specs_property(flavor.id, "b")
    assert conn.compute.fetch_flavor_extra_specs(flavor.id).extra_specs == {"a": "9"}
    with pytest.raises(exceptions.NotFoundException):
        conn.compute.delete_flavor_extra_specs_property(flavor.id, "b", ignore_missing=False)

    conn.compute.flavor_add_tenant_access(flavor.id, "p1")
    conn.compute.flavor_add_tenant_access(flavor.id, "p2")
    assert sorted(a["tenant_id"] for a in conn.compute.get_flavor_access(flavor.id)) == [
        "p1", "p2"]
    with pytest.raises(exceptions.ConflictException):
        conn.compute.flavor_add_tenant_access(flavor.id, "p1")
    conn.compute.flavor_remove_tenant_access(flavor.id, "p1")
    assert [a["tenant_id"] for a in conn.compute.get_flavor_access(flavor.id)] == ["p2"]
    with pytest.raises(exceptions.NotFoundException):
        conn.compute.flavor_remove_tenant_access(flavor.id, "p1")
    with pytest.raises(exceptions.ConflictException):
        conn.compute.flavor_add_tenant_access("1", "p1")           # public flavor
    conn.compute.delete_flavor(flavor.id)


def test_volume_readonly_flag_and_retype(cloud: SandboxCloud,
                                         conn: openstack.connection.Connection) -> None:
    volume = conn.block_storage.create_volume(size=1, name="ro")
    eventually(lambda: conn.block_storage.get_volume(volume.id).status == "available")
    conn.block_storage.set_volume_readonly(volume.id, True)
    (raw,) = [v for v in cloud.resources("volumes") if v["id"] == volume.id]
    assert raw["_readonly"] is True
    conn.block_storage.retype_volume(volume.id, "lvmdriver-1")
    with pytest.raises(exceptions.NotFoundException):
        conn.block_storage.retype_volume(volume.id, "no-such-type")
    conn.block_storage.delete_volume(volume.id)
