"""The sandbox's second region through the real openstacksdk: both regions in the catalog,
each with its own resources (a network made in RegionTwo is not seen in RegionOne), the same
credentials, snapshots keeping each region, and kubeheat's cloud sessions per region."""

from __future__ import annotations

import openstack
import openstack.connection
import pytest

from kubeheat.cloud import CloudConfigError, connect, region_cloud
from kubeheat.sandbox import SandboxCloud


def in_region(cloud: SandboxCloud, region: str) -> openstack.connection.Connection:
    return openstack.connect(
        load_yaml_config=False, load_envvars=False, **{**cloud.cloud_config, "region_name": region}
    )


def test_each_region_has_its_own_resources(
    cloud: SandboxCloud, conn: openstack.connection.Connection
) -> None:
    two = in_region(cloud, "RegionTwo")
    net = two.network.create_network(name="only-in-two")
    assert conn.network.find_network(net.id) is None
    assert two.network.get_network(net.id).name == "only-in-two"
    assert "only-in-two" not in [n.name for n in conn.network.networks()]
    # each region is seeded like a fresh cloud (a public network, flavors, an image)
    assert "public" in [n.name for n in two.network.networks()]
    assert list(two.compute.flavors()) and list(two.image.images())
    assert "/regions/RegionTwo/" in two.session.get_endpoint(
        service_type="compute", region_name="RegionTwo"
    )
    assert [
        r["id"] for r in cloud.resources("networks", "RegionTwo") if r["name"] == "only-in-two"
    ] == [net.id]
    two.network.delete_network(net.id)
    two.close()


def test_snapshots_keep_every_region(cloud: SandboxCloud) -> None:
    two = in_region(cloud, "RegionTwo")
    net = two.network.create_network(name="kept")
    saved = cloud.snapshot()
    two.network.delete_network(net.id)
    cloud.restore(saved)
    again = in_region(cloud, "RegionTwo")  # tokens are dropped by a restore
    assert again.network.get_network(net.id).name == "kept"
    again.network.delete_network(net.id)
    two.close()
    again.close()


def test_sessions_per_region(cloud: SandboxCloud, conn: openstack.connection.Connection) -> None:
    session = connect(cloud.clouds, cloud.config.cloud_name)
    assert session.regions() == ["RegionOne", "RegionTwo"]
    assert session.for_region("RegionOne") is session
    two = session.for_region("RegionTwo")
    assert two is session.for_region("RegionTwo") and two.region_name == "RegionTwo"
    net = two.conn.network.create_network(name="via-session")
    assert conn.network.find_network(net.id) is None
    with pytest.raises(CloudConfigError, match=r"no region 'Nowhere'.*RegionOne, RegionTwo"):
        session.for_region("Nowhere")
    plain = region_cloud(conn, "RegionTwo")
    assert plain.network.get_network(net.id).name == "via-session"
    assert region_cloud(conn, "RegionOne") is conn
    with pytest.raises(CloudConfigError, match="no region 'Nowhere'"):
        region_cloud(conn, "Nowhere")
    plain.network.delete_network(net.id)
    plain.close()
    session.close()
