"""Nova through the real openstacksdk: servers, actions, tags, metadata, flavors, keypairs,
server groups, volume attachments, quotas and error bodies."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import openstack.connection
import openstack.exceptions
import pytest
from sandbox_support import FAST, eventually, sdk

from kubeheat.sandbox import SandboxCloud, SandboxConfig, run_sandbox

Conn = openstack.connection.Connection
CIRROS = "cirros-0.6.2-x86_64-disk"


@pytest.fixture(scope="module")
def net(conn: Conn) -> Iterator[str]:
    network = conn.network.create_network(name="nova-net")
    conn.network.create_subnet(network_id=network.id, cidr="10.10.0.0/24", ip_version=4)
    yield network.id


def boot(conn: Conn, net: str, name: str = "vm", **extra: object) -> object:
    image = conn.image.find_image(CIRROS)
    return conn.compute.create_server(name=name, image_id=image.id, flavor_id="1",
                                      networks=[{"uuid": net}], **extra)


def test_server_build_to_active_with_addresses(conn: Conn, net: str, cloud: SandboxCloud) -> None:
    # a build long enough to be seen however loaded the machine is
    fast, cloud.config.build_delay = cloud.config.build_delay, 1.5
    try:
        server = boot(conn, net, metadata={"stack": "s1"}, tags=["kubeheat-stack=s1"])
    finally:
        cloud.config.build_delay = fast
    first = conn.compute.get_server(server.id)
    assert first.status == "BUILD"
    active = conn.compute.wait_for_server(first, interval=0.05, wait=10)
    assert active.status == "ACTIVE"
    assert active.flavor.original_name == "m1.tiny"
    [addr] = active.addresses["nova-net"]
    assert addr["addr"].startswith("10.10.0.") and addr["OS-EXT-IPS:type"] == "fixed"
    assert active.tags == ["kubeheat-stack=s1"]
    assert active.metadata == {"stack": "s1"}
    ports = list(conn.network.ports(device_id=server.id))
    assert len(ports) == 1 and ports[0].device_owner == "compute:nova"
    assert ports[0].status == "ACTIVE"
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(active, interval=0.02, wait=5)
    assert list(conn.network.ports(device_id=server.id)) == []


def test_server_update_list_filters_and_tags(conn: Conn, net: str) -> None:
    a = conn.compute.wait_for_server(boot(conn, net, name="web-a", tags=["t1", "t2"]),
                                     interval=0.02, wait=5)
    b = conn.compute.wait_for_server(boot(conn, net, name="web-b", tags=["t1"]),
                                     interval=0.02, wait=5)
    assert {s.id for s in conn.compute.servers(tags="t1,t2")} == {a.id}
    assert {s.id for s in conn.compute.servers(any_tags="t2")} == {a.id}
    assert b.id in {s.id for s in conn.compute.servers(not_tags="t2")}
    assert {s.name for s in conn.compute.servers(name="web-")} >= {"web-a", "web-b"}
    conn.compute.add_tag_to_server(b, "t3")
    assert "t3" in conn.compute.get_server(b.id).tags
    conn.compute.remove_tag_from_server(b, "t3")
    assert "t3" not in conn.compute.get_server(b.id).tags
    conn.compute.set_server_metadata(b, role="db")
    assert conn.compute.get_server_metadata(b).metadata["role"] == "db"
    conn.compute.delete_server_metadata(b, ["role"])
    assert "role" not in conn.compute.get_server_metadata(b).metadata
    renamed = conn.compute.update_server(b, name="web-b2")
    assert renamed.name == "web-b2"
    for server in (a, b):
        conn.compute.delete_server(server)


def test_resize_confirm(conn: Conn, net: str) -> None:
    server = conn.compute.wait_for_server(boot(conn, net), interval=0.02, wait=5)
    conn.compute.resize_server(server, "2")
    resized = conn.compute.wait_for_server(server, status="VERIFY_RESIZE", interval=0.02,
                                           wait=5)
    assert resized.flavor.original_name == "m1.small"
    conn.compute.confirm_server_resize(server)
    assert conn.compute.get_server(server.id).status == "ACTIVE"
    conn.compute.delete_server(server)


def test_tags_refused_while_building() -> None:
    # its own sandbox whose servers stay in BUILD for the whole test, however slow the machine
    with run_sandbox(SandboxConfig(build_delay=300)) as slow:
        conn = sdk(slow)
        network = conn.network.create_network(name="slow-net")
        conn.network.create_subnet(network_id=network.id, cidr="10.11.0.0/24", ip_version=4)
        server = boot(conn, network.id)
        with pytest.raises(openstack.exceptions.ConflictException, match="vm_state building"):
            conn.compute.add_tag_to_server(conn.compute.get_server(server.id), "late")
        conn.compute.delete_server(server)
        conn.close()


def test_create_validation_errors(conn: Conn, net: str) -> None:
    image = conn.image.find_image(CIRROS)
    with pytest.raises(openstack.exceptions.BadRequestException, match="Flavor 999"):
        conn.compute.create_server(name="x", image_id=image.id, flavor_id="999",
                                   networks=[{"uuid": net}])
    with pytest.raises(openstack.exceptions.BadRequestException, match="networks"):
        conn.compute.create_server(name="x", image_id=image.id, flavor_id="1")
    with pytest.raises(openstack.exceptions.BadRequestException, match="key_name"):
        conn.compute.create_server(name="x", image_id=image.id, flavor_id="1",
                                   networks=[{"uuid": net}], key_name="missing")


def test_not_found_body_shape(conn: Conn, cloud: SandboxCloud) -> None:
    resp = conn.compute.get("/servers/00000000-0000-0000-0000-000000000000")
    assert resp.status_code == 404
    body = resp.json()
    assert body["itemNotFound"]["code"] == 404
    assert "could not be found" in body["itemNotFound"]["message"]
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.compute.get_server("00000000-0000-0000-0000-000000000000")


def test_flavors_crud(conn: Conn) -> None:
    assert conn.compute.find_flavor("m1.small").ram == 2048
    flavor = conn.compute.create_flavor(name="custom.1", ram=1024, vcpus=2, disk=10)
    assert conn.compute.get_flavor(flavor.id).vcpus == 2
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.compute.create_flavor(name="custom.1", ram=1024, vcpus=2, disk=10)
    conn.compute.delete_flavor(flavor)
    assert conn.compute.find_flavor("custom.1") is None


def test_keypairs_crud(conn: Conn) -> None:
    generated = conn.compute.create_keypair(name="gen")
    assert generated.private_key and generated.public_key.startswith("ssh-")
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes(range(32))
    key = f"ssh-ed25519 {base64.b64encode(blob).decode()} user@host"
    imported = conn.compute.create_keypair(name="imp", public_key=key)
    assert imported.fingerprint.count(":") == 15
    assert {k.name for k in conn.compute.keypairs()} >= {"gen", "imp"}
    assert conn.compute.get_keypair("imp").public_key == key
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.compute.create_keypair(name="imp", public_key=key)
    conn.compute.delete_keypair("gen")
    conn.compute.delete_keypair("imp")
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.compute.get_keypair("imp")


def test_server_groups_and_membership(conn: Conn, net: str) -> None:
    group = conn.compute.create_server_group(name="grp", policy="anti-affinity")
    assert group.policy == "anti-affinity"
    server = boot(conn, net, scheduler_hints={"group": group.id})
    assert conn.compute.get_server_group(group.id).member_ids == [server.id]
    conn.compute.delete_server(server)
    conn.compute.delete_server_group(group)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.compute.get_server_group(group.id)


def test_volume_attach_detach(conn: Conn, net: str) -> None:
    server = conn.compute.wait_for_server(boot(conn, net), interval=0.02, wait=5)
    volume = conn.block_storage.create_volume(size=1, name="data")
    conn.block_storage.wait_for_status(volume, "available", interval=0.02, wait=5)
    attachment = conn.compute.create_volume_attachment(server, volume_id=volume.id)
    assert attachment.device == "/dev/vdb"
    in_use = conn.block_storage.wait_for_status(volume, "in-use", interval=0.02, wait=5)
    assert in_use.attachments[0]["server_id"] == server.id
    assert [a.volume_id for a in conn.compute.volume_attachments(server)] == [volume.id]
    got = conn.compute.get_server(server.id)
    assert got.attached_volumes[0]["id"] == volume.id
    conn.compute.delete_volume_attachment(server, volume.id)
    conn.block_storage.wait_for_status(volume, "available", interval=0.02, wait=5)
    conn.compute.delete_server(server)
    conn.block_storage.delete_volume(volume)


def test_bound_port_keeps_living_after_server(conn: Conn, net: str) -> None:
    port = conn.network.create_port(network_id=net, name="pre")
    image = conn.image.find_image(CIRROS)
    server = conn.compute.create_server(name="p", image_id=image.id, flavor_id="1",
                                        networks=[{"port": port.id}])
    assert conn.network.get_port(port.id).device_id == server.id
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.compute.create_server(name="q", image_id=image.id, flavor_id="1",
                                   networks=[{"port": port.id}])
    conn.compute.delete_server(server)
    assert conn.network.get_port(port.id).device_id == ""
    conn.network.delete_port(port)


def test_quota_and_error_state() -> None:
    config = SandboxConfig(**FAST, quotas={"instances": 1},  # type: ignore[arg-type]
                           server_error_rate=1.0, server_error_message="No valid host")
    with run_sandbox(config) as cloud:
        conn = sdk(cloud)
        network = conn.network.create_network(name="q")
        conn.network.create_subnet(network_id=network.id, cidr="10.0.0.0/29", ip_version=4)
        server = boot(conn, network.id)
        with pytest.raises(openstack.exceptions.ForbiddenException,
                           match="Quota exceeded for instances"):
            boot(conn, network.id)
        failed = eventually(lambda: (s := conn.compute.get_server(server.id)).status
                            == "ERROR" and s)
        assert failed.fault["message"] == "No valid host"
        with pytest.raises(openstack.exceptions.ResourceFailure):
            conn.compute.wait_for_server(failed, interval=0.02, wait=2)
        assert failed.addresses == {}
        conn.close()
