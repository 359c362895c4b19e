"""Properties Heat 27.0.1 supports on the types kubeheat implements that kubeheat lacked,
against the sandbox cloud over real HTTP: ``OS::Neutron::Port`` ``no_fixed_ips`` and
``propagate_uplink_status``, ``OS::Neutron::Net`` / ``Router`` ``availability_zone_hints`` (and
the router's ``tenant_id``), ``OS::Neutron::SecurityGroup`` ``stateful``, and
``OS::Nova::Server``'s ``block_device_mapping`` (Nova's legacy form),
``block_device_mapping_v2[].volume_type``, ``software_config_transport``,
``deployment_swift_data`` and ``reservation_id``. Heat's messages are recorded as expected
values (from ``heat/engine/resources/openstack`` of Heat 27.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from neutron_support import Conn, EngineFactory, assert_complete, hot, run

from kubeheat.engine import StackRequest
from kubeheat.resources import (
    PropertyError,
    ResourceContext,
    check_properties,
    cloud_constraints,
    load_builtin_plugins,
)

CIRROS = "cirros-0.6.2-x86_64-disk"
WHERE = ("resources", "r", "properties")
NET = {"net": {"type": "OS::Neutron::Net"},
       "subnet": {"type": "OS::Neutron::Subnet", "properties": {
           "network": {"get_resource": "net"}, "cidr": "10.41.0.0/24"}}}


def _plugin(name: str) -> Any:
    cls = load_builtin_plugins().get(name)
    assert cls is not None
    return cls


@pytest.mark.parametrize(("type_name", "values", "message"), [
    ("OS::Neutron::Port", {"network": "n", "fixed_ips": [{"subnet": "s"}], "no_fixed_ips": True},
     "resources.r.properties.fixed_ips: Cannot define the following properties at the same "
     "time: fixed_ips, no_fixed_ips."),
    ("OS::Nova::Server", {"flavor": "f", "block_device_mapping": [{"device_name": "vda",
                                                                   "volume_id": "v"}],
                          "block_device_mapping_v2": [{"volume_id": "v"}]},
     "resources.r.properties.block_device_mapping: Cannot define the following properties at "
     "the same time: block_device_mapping, block_device_mapping_v2."),
    ("OS::Nova::Server", {"flavor": "f", "block_device_mapping": [
        {"device_name": "vda", "volume_id": "v", "snapshot_id": "s"}]},
     "resources.r.properties.block_device_mapping: Cannot define the following properties at "
     "the same time: volume_id, snapshot_id."),
    ("OS::Nova::Server", {"flavor": "f", "block_device_mapping": [{"device_name": "vdb"}]},
     "resources.r.properties.block_device_mapping: Either volume_id or snapshot_id must be "
     "specified for device mapping vdb"),
    ("OS::Nova::Server", {"flavor": "f", "software_config_transport": "SSH"},
     "resources.r.properties.software_config_transport: \"SSH\" is not an allowed value "
     "[\"POLL_SERVER_CFN\", \"POLL_SERVER_HEAT\", \"POLL_TEMP_URL\", \"ZAQAR_MESSAGE\"]"),
], ids=["no_fixed_ips", "bdm-and-v2", "bdm-volume-and-snapshot", "bdm-neither", "transport"])
def test_heats_checks(type_name: str, values: dict[str, Any], message: str) -> None:
    with pytest.raises(PropertyError) as caught:
        check_properties(_plugin(type_name), values, WHERE)
    assert str(caught.value) == message


def test_server_defaults_are_heats() -> None:
    checked = check_properties(_plugin("OS::Nova::Server"), {"flavor": "f"}, WHERE)
    assert checked["software_config_transport"] == "POLL_SERVER_CFN"
    assert checked["deployment_swift_data"] == {"container": None, "object": None}
    assert checked["block_device_mapping"] is None and checked["reservation_id"] is None


def test_port_without_fixed_ips_and_uplink_status(engine: EngineFactory, conn: Conn) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))

    def doc(no_ips: bool, uplink: bool) -> dict[str, Any]:
        return hot({**NET, "port": {"type": "OS::Neutron::Port", "depends_on": ["subnet"],
                                    "properties": {"network": {"get_resource": "net"},
                                                   "no_fixed_ips": no_ips,
                                                   "propagate_uplink_status": uplink}}},
                   outputs={"uplink": {"get_attr": ["port", "propagate_uplink_status"]}})

    state = run(eng.create(StackRequest("extra-port", doc(True, True))))
    assert_complete(state)
    pid = state.resources["port"].physical_id
    port = conn.network.get_port(pid)
    assert port.fixed_ips == [] and port.propagate_uplink_status is True
    assert state.outputs["uplink"] is True
    state = run(eng.update(state.id, StackRequest("extra-port", doc(True, False))))
    assert_complete(state)
    assert state.resources["port"].physical_id == pid
    assert conn.network.get_port(pid).propagate_uplink_status is False
    assert conn.network.get_port(pid).fixed_ips == []
    run(eng.delete(state.id))


def test_availability_zone_hints_tenant_and_stateful(engine: EngineFactory, conn: Conn) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))
    project = conn.current_project_id
    state = run(eng.create(StackRequest("extra-net", hot({
        "net": {"type": "OS::Neutron::Net", "properties": {
            "availability_zone_hints": ["nova"]}},
        "router": {"type": "OS::Neutron::Router", "properties": {
            "availability_zone_hints": ["nova"], "tenant_id": project}},
        "sg": {"type": "OS::Neutron::SecurityGroup", "properties": {"stateful": False}},
    }))))
    assert_complete(state)
    ids = {n: r.physical_id for n, r in state.resources.items()}
    assert conn.network.get_network(ids["net"]).availability_zone_hints == ["nova"]
    router = conn.network.get_router(ids["router"])
    assert router.availability_zone_hints == ["nova"] and router.project_id == project
    assert conn.network.get_security_group(ids["sg"]).stateful is False
    check = run(eng.check(state.id))
    assert check.ok and check.drifted == {}, check.to_dict()
    run(eng.delete(state.id))


def test_server_boots_from_a_legacy_block_device_mapping(engine: EngineFactory,
                                                         conn: Conn) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))
    doc = hot({**NET,
               "vol": {"type": "OS::Cinder::Volume", "properties": {"size": 1,
                                                                    "image": CIRROS}},
               "vm": {"type": "OS::Nova::Server", "depends_on": ["subnet"], "properties": {
                   "flavor": "m1.tiny", "networks": [{"network": {"get_resource": "net"}}],
                   "software_config_transport": "POLL_TEMP_URL",
                   "deployment_swift_data": {"container": "c", "object": "o"},
                   "reservation_id": "r-1",
                   "block_device_mapping": [{"device_name": "vda",
                                             "volume_id": {"get_resource": "vol"},
                                             "delete_on_termination": False}]}}})
    state = run(eng.create(StackRequest("extra-bdm", doc)))
    assert_complete(state)
    sid = state.resources["vm"].physical_id
    attached = [a.volume_id for a in conn.compute.volume_attachments(sid)]
    assert attached == [state.resources["vol"].physical_id]
    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason


def test_volume_type_of_a_volume_booted_from_an_image(engine: EngineFactory,
                                                      conn: Conn) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))

    def doc(volume_type: str) -> dict[str, Any]:
        return hot({**NET, "vm": {"type": "OS::Nova::Server", "depends_on": ["subnet"],
                                  "properties": {
            "flavor": "m1.tiny", "networks": [{"network": {"get_resource": "net"}}],
            "block_device_mapping_v2": [{"image": CIRROS, "volume_size": 1, "boot_index": 0,
                                         "volume_type": volume_type,
                                         "delete_on_termination": True}]}}})

    with pytest.raises(PropertyError) as caught:      # the cinder.vtype constraint
        run(eng.create(StackRequest("extra-vtype-bad", doc("no-such"))))
    assert str(caught.value) == (
        "resources.vm.properties.block_device_mapping_v2[0].volume_type: Error validating "
        "value 'no-such': The VolumeType (no-such) could not be found.")
    state = run(eng.create(StackRequest("extra-vtype", doc("lvmdriver-1"))))
    assert_complete(state)
    [attachment] = list(conn.compute.volume_attachments(state.resources["vm"].physical_id))
    assert conn.block_storage.get_volume(attachment.volume_id).volume_type == "lvmdriver-1"
    run(eng.delete(state.id))


def test_a_floating_ip_on_a_network_entry_needs_a_port_or_subnet_as_in_heat() -> None:
    with pytest.raises(PropertyError) as caught:
        check_properties(_plugin("OS::Nova::Server"), {"flavor": "f", "networks": [
            {"network": "n", "floating_ip": "f"}]}, WHERE)
    assert str(caught.value) == (
        "resources.r.properties.networks: Property \"floating_ip\" is not supported if only "
        "\"network\" is specified, because the corresponding port can not be retrieved.")


ROUTED = {**NET,
          "router": {"type": "OS::Neutron::Router", "properties": {
              "external_gateway_info": {"network": "public"}}},
          "iface": {"type": "OS::Neutron::RouterInterface", "properties": {
              "router": {"get_resource": "router"}, "subnet": {"get_resource": "subnet"}}},
          "fip": {"type": "OS::Neutron::FloatingIP", "depends_on": ["iface"],
                  "properties": {"floating_network": "public"}},
          "port": {"type": "OS::Neutron::Port", "depends_on": ["subnet"], "properties": {
              "network": {"get_resource": "net"}}}}


def test_networks_floating_ip_goes_to_the_entrys_port(engine: EngineFactory,
                                                      conn: Conn) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))

    def doc(entry: dict[str, Any]) -> dict[str, Any]:
        return hot({**ROUTED, "vm": {"type": "OS::Nova::Server", "depends_on": ["iface"],
                                     "properties": {"flavor": "m1.tiny", "image": CIRROS,
                                                    "networks": [entry]}}})

    fip = {"get_resource": "fip"}
    state = run(eng.create(StackRequest("extra-fip", doc(
        {"subnet": {"get_resource": "subnet"}, "floating_ip": fip}))))
    assert_complete(state)
    ids = {n: r.physical_id for n, r in state.resources.items()}
    [server_port] = list(conn.network.ports(device_id=ids["vm"]))
    assert conn.network.get_ip(ids["fip"]).port_id == server_port.id
    # the entry now names the template's port: the floating IP moves to it
    state = run(eng.update(state.id, StackRequest("extra-fip", doc(
        {"port": {"get_resource": "port"}, "floating_ip": fip}))))
    assert_complete(state)
    assert state.resources["vm"].physical_id == ids["vm"]        # interfaces changed in place
    assert conn.network.get_ip(ids["fip"]).port_id == ids["port"]
    # an entry without it: the association is taken away
    state = run(eng.update(state.id, StackRequest("extra-fip", doc(
        {"network": {"get_resource": "net"}}))))
    assert_complete(state)
    assert conn.network.get_ip(ids["fip"]).port_id is None
    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason


def test_members_need_a_shared_image_as_in_heat() -> None:
    with pytest.raises(PropertyError) as caught:
        check_properties(_plugin("OS::Glance::WebImage"), {
            "disk_format": "qcow2", "container_format": "bare",
            "location": "https://images.example.com/a.qcow2", "members": ["p1"]}, WHERE)
    assert str(caught.value) == ("resources.r.properties.members: members property should "
                                 "only be specified for visibility with value shared.")


def test_web_image_extra_properties_members_and_active(engine: EngineFactory,
                                                       conn: Conn) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))

    def doc(extra: dict[str, str], members: list[str], active: bool) -> dict[str, Any]:
        return hot({"img": {"type": "OS::Glance::WebImage", "properties": {
            "location": "https://images.example.com/extra.qcow2", "disk_format": "qcow2",
            "container_format": "bare", "visibility": "shared", "extra_properties": extra,
            "members": members, "active": active}}})

    state = run(eng.create(StackRequest("extra-img", doc(
        {"hw_disk_bus": "scsi", "hw_scsi_model": "virtio-scsi"}, ["p1"], False))))
    assert_complete(state)
    iid = state.resources["img"].physical_id
    image = conn.image.get(f"/images/{iid}").json()
    assert image["status"] == "deactivated"
    assert (image["hw_disk_bus"], image["hw_scsi_model"]) == ("scsi", "virtio-scsi")
    assert [m.member_id for m in conn.image.members(iid)] == ["p1"]
    check = run(eng.check(state.id))
    assert check.ok and check.drifted == {}, check.to_dict()
    state = run(eng.update(state.id, StackRequest("extra-img", doc(
        {"hw_disk_bus": "virtio"}, ["p2"], True))))
    assert_complete(state)
    assert state.resources["img"].physical_id == iid               # all in place
    image = conn.image.get(f"/images/{iid}").json()
    assert image["status"] == "active"
    assert image["hw_disk_bus"] == "virtio" and "hw_scsi_model" not in image
    assert [m.member_id for m in conn.image.members(iid)] == ["p2"]
    run(eng.delete(state.id))


@pytest.mark.parametrize(("values", "message"), [
    ({"l3_agent_ids": ["a"], "distributed": True},
     "resources.r.properties.l3_agent_ids: Cannot define the following properties at the "
     "same time: distributed, l3_agent_id/l3_agent_ids."),
    ({"l3_agent_ids": ["a", "b"]},
     "resources.r.properties.l3_agent_ids: Non HA routers can only have one L3 agent."),
], ids=["distributed", "non-ha"])
def test_router_agents_checks(values: dict[str, Any], message: str) -> None:
    with pytest.raises(PropertyError) as caught:
        check_properties(_plugin("OS::Neutron::Router"), values, WHERE)
    assert str(caught.value) == message


def test_router_and_network_agents_are_replaced_as_in_heat(engine: EngineFactory,
                                                           conn: Conn) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))

    def doc(l3: list[str], dhcp: list[str]) -> dict[str, Any]:
        return hot({"net": {"type": "OS::Neutron::Net", "properties": {"dhcp_agent_ids": dhcp}},
                    "router": {"type": "OS::Neutron::Router", "properties": {
                        "l3_agent_ids": l3, "ha": len(l3) > 1}}})

    def agents(state: Any) -> tuple[list[str], list[str]]:
        ids = {n: r.physical_id for n, r in state.resources.items()}
        return (sorted(a.id for a in conn.network.routers_hosting_l3_agents(ids["router"])),
                sorted(a.id for a in conn.network.network_hosting_dhcp_agents(ids["net"])))

    state = run(eng.create(StackRequest("extra-agents", doc(["l3-agent-1"],
                                                            ["dhcp-agent-1"]))))
    assert_complete(state)
    assert agents(state) == (["l3-agent-1"], ["dhcp-agent-1"])
    net_id = state.resources["net"].physical_id
    state = run(eng.update(state.id, StackRequest("extra-agents", doc(
        ["l3-agent-2"], ["dhcp-agent-1", "dhcp-agent-2"]))))
    assert_complete(state)
    assert state.resources["net"].physical_id == net_id
    assert agents(state) == (["l3-agent-2"], ["dhcp-agent-1", "dhcp-agent-2"])
    run(eng.delete(state.id))


@pytest.fixture
def pool(conn: Conn) -> Iterator[Any]:
    made = conn.network.create_subnet_pool(name="extra-pool", prefixes=["10.60.0.0/16"],
                                           default_prefixlen=26)
    yield made
    conn.network.delete_subnet_pool(made)


@pytest.mark.parametrize(("values", "message"), [
    ({"subnetpool": "extra-pool", "cidr": "10.0.0.0/24"},
     "Cannot define the following properties at the same time: subnetpool, cidr."),
    ({"prefixlen": 24, "cidr": "10.0.0.0/24"},
     "Cannot define the following properties at the same time: prefixlen, cidr."),
    ({}, "At least one of the following properties must be specified: subnetpool, cidr."),
], ids=["pool-and-cidr", "prefixlen-and-cidr", "neither"])
def test_subnet_pool_checks_as_in_heat(engine: EngineFactory, conn: Conn, pool: Any,
                                       values: dict[str, Any], message: str) -> None:
    eng, _, events = engine()
    state = run(eng.create(StackRequest("extra-pool-bad", hot({**NET, "subnet": {
        "type": "OS::Neutron::Subnet", "properties": {
            "network": {"get_resource": "net"}, **values}}}))))
    reasons = [e.resource_status_reason for e in events.events
               if e.resource_name == "subnet" and e.resource_status == "FAILED"]
    assert reasons and message in reasons[0], reasons
    run(eng.delete(state.id))


def test_subnet_allocated_from_a_subnet_pool(engine: EngineFactory, conn: Conn,
                                             pool: Any) -> None:
    eng, _, _ = engine(constraints=cloud_constraints(conn))
    state = run(eng.create(StackRequest("extra-pool", hot({
        "net": {"type": "OS::Neutron::Net"},
        "a": {"type": "OS::Neutron::Subnet", "properties": {
            "network": {"get_resource": "net"}, "subnetpool": "extra-pool", "prefixlen": 24}},
        "b": {"type": "OS::Neutron::Subnet", "depends_on": ["a"], "properties": {
            "network": {"get_resource": "net"}, "subnetpool": pool.id}},
    }, outputs={"a": {"get_attr": ["a", "cidr"]}, "b": {"get_attr": ["b", "cidr"]}}))))
    assert_complete(state)
    assert state.outputs == {"a": "10.60.0.0/24", "b": "10.60.1.0/26"}
    subnet = conn.network.get_subnet(state.resources["a"].physical_id)
    assert subnet.subnet_pool_id == pool.id
    check = run(eng.check(state.id))
    assert check.ok and check.drifted == {}, check.to_dict()
    run(eng.delete(state.id))


def test_subnet_segment_and_the_networks_segments(engine: EngineFactory, conn: Conn) -> None:
    """A subnet on a segment (set at create, or later on a subnet without one, in place), and
    the network's ``segments`` attribute (unnamed ones first, as Heat sorts them)."""
    eng, _, events = engine(constraints=cloud_constraints(conn))
    net = conn.network.create_network(name="extra-seg-net")
    named = conn.network.create_segment(network_id=net.id, name="rack-1",
                                        network_type="vlan", physical_network="physnet1",
                                        segmentation_id=101)
    unnamed = conn.network.create_segment(network_id=net.id, network_type="vlan",
                                          physical_network="physnet1", segmentation_id=102)
    try:
        def doc(segment: str | None) -> dict[str, Any]:
            props: dict[str, Any] = {"network": net.id, "cidr": "10.70.0.0/24"}
            if segment is not None:
                props["segment"] = segment
            return hot({"subnet": {"type": "OS::Neutron::Subnet", "properties": props}})

        state = run(eng.create(StackRequest("extra-seg", doc(None))))
        assert_complete(state)
        sid = state.resources["subnet"].physical_id
        assert conn.network.get_subnet(sid).segment_id is None
        state = run(eng.update(state.id, StackRequest("extra-seg", doc("rack-1"))))
        assert_complete(state)
        assert state.resources["subnet"].physical_id == sid
        assert conn.network.get_subnet(sid).segment_id == named.id
        # a subnet on a segment keeps it: Heat refuses to move it
        state = run(eng.update(state.id, StackRequest("extra-seg", doc(unnamed.id),
                                                      disable_rollback=True)))
        failed = [e.resource_status_reason for e in events.events
                  if e.resource_name == "subnet" and e.resource_action == "UPDATE"
                  and e.resource_status == "FAILED"]
        assert failed == ["Error: resources.subnet: Updating the subnet segment assciation "
                          "only allowed when the current segment_id is None. The subnet is "
                          "currently associated with segment. In this state update is not "
                          "supported for resource."]
        run(eng.delete(state.id))
        listed = run(eng.create(StackRequest("extra-seg-attr", hot({
            "net": {"type": "OS::Neutron::Net"}}, outputs={
                "segments": {"get_attr": ["net", "segments"]}}))))
        assert_complete(listed)
        assert listed.outputs["segments"] == []
        own = listed.resources["net"].physical_id
        made = [conn.network.create_segment(network_id=own, name=n, network_type="vlan",
                                            physical_network="physnet1", segmentation_id=i)
                for i, n in ((201, "b"), (202, None))]
        plugin = _plugin("OS::Neutron::Net")()    # the attribute as read after an action
        ctx = ResourceContext(stack_id=listed.id, stack_name="extra-seg-attr", name="net",
                              type="OS::Neutron::Net", physical_id=own, cloud=conn)
        seen = run(plugin.attribute_values(ctx, {}))["segments"]
        assert [(x["name"], x["segmentation_id"]) for x in seen] == [(None, 202), ("b", 201)]
        for segment in made:
            conn.network.delete_segment(segment)
        run(eng.delete(listed.id))
    finally:
        for sub in conn.network.subnets(network_id=net.id):
            conn.network.delete_subnet(sub)
        conn.network.delete_segment(named)
        conn.network.delete_segment(unnamed)
        conn.network.delete_network(net)


def test_server_group_rules_have_heats_schema(engine: EngineFactory, conn: Conn) -> None:
    group = _plugin("OS::Nova::ServerGroup")
    with pytest.raises(PropertyError) as caught:
        check_properties(group, {"rules": {"max_servers": 2}}, WHERE)
    assert str(caught.value) == "resources.r.properties.rules: Unknown Property max_servers"
    eng, _, _ = engine()
    state = run(eng.create(StackRequest("extra-group", hot({"g": {
        "type": "OS::Nova::ServerGroup", "properties": {
            "policies": ["anti-affinity"], "rules": {"max_server_per_host": "2"}}}}))))
    assert_complete(state)
    made = conn.compute.get_server_group(state.resources["g"].physical_id)
    assert made.rules == {"max_server_per_host": 2}
    run(eng.delete(state.id))


def test_port_extra_properties_give_the_entry_a_port_kubeheat_makes(
        engine: EngineFactory, conn: Conn) -> None:
    eng, _, events = engine(constraints=cloud_constraints(conn))

    def doc(extra: dict[str, Any]) -> dict[str, Any]:
        return hot({**ROUTED, "vm": {"type": "OS::Nova::Server", "depends_on": ["iface"],
                                     "properties": {
            "flavor": "m1.tiny", "image": CIRROS,
            "networks": [{"network": {"get_resource": "net"}, "fixed_ip": "10.41.0.20",
                          "floating_ip": {"get_resource": "fip"},
                          "port_extra_properties": extra}]}}})

    state = run(eng.create(StackRequest("extra-pep", doc({
        "mac_address": "fa:16:3e:00:00:21", "port_security_enabled": False,
        "allowed_address_pairs": [{"ip_address": "10.41.0.99/32"}]}))))
    assert_complete(state)
    assert str(state.action) == "CREATE", events.events[-1]
    ids = {n: r.physical_id for n, r in state.resources.items()}
    [port] = list(conn.network.ports(device_id=ids["vm"]))
    assert (port.mac_address, port.is_port_security_enabled) == ("fa:16:3e:00:00:21", False)
    assert [ip["ip_address"] for ip in port.fixed_ips] == ["10.41.0.20"]
    assert [p["ip_address"] for p in port.allowed_address_pairs] == ["10.41.0.99/32"]
    assert any(t.startswith("kubeheat-nic=") for t in port.tags)
    assert conn.network.get_ip(ids["fip"]).port_id == port.id
    # other extra properties: the entry's port is replaced, the server is kept
    state = run(eng.update(state.id, StackRequest("extra-pep", doc(
        {"propagate_uplink_status": True}))))
    assert_complete(state)
    assert state.resources["vm"].physical_id == ids["vm"]
    [second] = list(conn.network.ports(device_id=ids["vm"]))
    assert second.id != port.id and second.propagate_uplink_status is True
    assert conn.network.find_port(port.id) is None
    assert conn.network.get_ip(ids["fip"]).port_id == second.id
    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    assert conn.network.find_port(second.id) is None


def test_security_group_rules_with_descriptions(engine: EngineFactory, conn: Conn) -> None:
    """A described rule of ``rules`` is the group's own (created, compared, removed), while a
    described rule of an ``OS::Neutron::SecurityGroupRule`` is left alone."""
    eng, _, _ = engine(constraints=cloud_constraints(conn))

    def doc(rules: list[dict[str, Any]]) -> dict[str, Any]:
        return hot({"sg": {"type": "OS::Neutron::SecurityGroup", "properties": {
                        "rules": rules}},
                    "other": {"type": "OS::Neutron::SecurityGroupRule", "properties": {
                        "security_group": {"get_resource": "sg"}, "protocol": "udp",
                        "port_range_min": 53, "port_range_max": 53,
                        "description": "dns"}}})

    ssh = {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
           "remote_ip_prefix": "0.0.0.0/0", "description": "ssh"}
    state = run(eng.create(StackRequest("extra-sg", doc([ssh, {"protocol": "icmp"}]))))
    assert_complete(state)
    gid = state.resources["sg"].physical_id

    def rules() -> set[tuple[Any, ...]]:
        return {(r.protocol, r.port_range_min, r.description or "")
                for r in conn.network.security_group_rules(security_group_id=gid)
                if r.direction == "ingress"}

    assert rules() == {("tcp", 22, "ssh"), ("icmp", None, ""), ("udp", 53, "dns")}
    check = run(eng.check(state.id))
    assert check.ok and check.drifted == {}, check.to_dict()
    state = run(eng.update(state.id, StackRequest("extra-sg", doc([{"protocol": "icmp"}]))))
    assert_complete(state)
    assert rules() == {("icmp", None, ""), ("udp", 53, "dns")}
    run(eng.delete(state.id))
