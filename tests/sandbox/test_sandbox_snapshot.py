"""A sandbox's contents survive a snapshot/restore into a new sandbox (the CLI keeps them)."""

from __future__ import annotations

import json

from sandbox_support import FAST, sdk

from kubeheat.sandbox import SandboxConfig, run_sandbox


def test_snapshot_restore_round_trip() -> None:
    with run_sandbox(SandboxConfig(**FAST)) as first:  # type: ignore[arg-type]
        conn = sdk(first)
        net = conn.network.create_network(name="kept")
        conn.network.set_tags(net, ["kubeheat-stack-id=s1"])
        subnet = conn.network.create_subnet(network_id=net.id, cidr="10.9.0.0/24",
                                            ip_version=4)
        server = conn.compute.create_server(name="vm", flavor_id=next(
            iter(conn.compute.flavors())).id, image_id=next(iter(conn.image.images())).id,
            networks=[{"uuid": net.id}])
        conn.close()
        snap = json.loads(json.dumps(first.snapshot()))   # JSON-able
    with run_sandbox(SandboxConfig(**FAST)) as second:  # type: ignore[arg-type]
        second.restore(snap)
        conn = sdk(second)
        nets = list(conn.network.networks(tags=["kubeheat-stack-id=s1"]))
        assert [n.id for n in nets] == [net.id]
        assert conn.network.get_subnet(subnet.id).cidr == "10.9.0.0/24"
        restored = conn.compute.get_server(server.id)
        assert restored.status == "ACTIVE"          # pending transitions were completed
        conn.close()
