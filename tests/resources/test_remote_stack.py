"""``OS::Heat::Stack`` with ``context.region_name`` against the sandbox's two regions through
the real openstacksdk: the child stack's resources are made in that region (not visible in
the parent's), its outputs come back, it is deleted there; the stack's own region is the
parent's connection; a region the cloud does not have refuses the stack with Heat 27.0.1's
message located at the property; a credential (Barbican) is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import openstack
import openstack.connection
import pytest

from kubeheat.cloud import connect
from kubeheat.engine import StackRequest
from kubeheat.sandbox import SandboxCloud
from kubeheat.template import TemplateError

Conn = openstack.connection.Connection

CHILD = """heat_template_version: 2016-10-14
resources:
  net: {type: OS::Neutron::Net, properties: {name: remote-net}}
outputs:
  net_id: {value: {get_resource: net}}
"""


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def parent(context: dict[str, Any] | None) -> dict[str, Any]:
    props: dict[str, Any] = {"template": CHILD}
    if context is not None:
        props["context"] = context
    return {
        "heat_template_version": "2016-10-14",
        "resources": {
            "remote": {"type": "OS::Heat::Stack", "properties": props},
            "here": {"type": "OS::Neutron::Net"},
        },
        "outputs": {
            "net_id": {"value": {"get_attr": ["remote", "outputs", "net_id"]}},
            "name": {"value": {"get_attr": ["remote", "stack_name"]}},
        },
    }


def two(sandbox: SandboxCloud) -> Conn:
    return openstack.connect(
        load_yaml_config=False,
        load_envvars=False,
        **{**sandbox.cloud_config, "region_name": "RegionTwo"},
    )


def test_the_child_stack_is_made_in_the_named_region(
    engine: Any, conn: Conn, sandbox: SandboxCloud
) -> None:
    eng, store, _ = engine()
    state = run(eng.create(StackRequest("remote", parent({"region_name": "RegionTwo"}))))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    net_id = state.outputs["net_id"]
    other = two(sandbox)
    assert other.network.get_network(net_id).name == "remote-net"
    assert conn.network.find_network(net_id) is None  # not in RegionOne
    here = state.resources["here"].physical_id
    assert conn.network.get_network(here) is not None  # the parent's stays local
    assert other.network.find_network(here) is None
    child = store.load(str(state.resources["remote"].physical_id))
    assert child is not None and child.region == "RegionTwo"
    assert state.outputs["name"] == child.name
    deleted = run(eng.delete(state.id))
    assert deleted.state == "DELETE_COMPLETE", deleted.status_reason
    assert other.network.find_network(net_id) is None
    other.close()


def test_the_own_region_is_the_parents_connection(engine: Any, conn: Conn) -> None:
    eng, _, _ = engine()
    state = run(eng.create(StackRequest("own", parent({"region_name": "RegionOne"}))))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert conn.network.get_network(state.outputs["net_id"]).name == "remote-net"
    run(eng.delete(state.id))


def test_an_unknown_region_refuses_the_stack(engine: Any) -> None:
    eng, store, _ = engine()
    with pytest.raises(TemplateError) as err:
        run(eng.create(StackRequest("nowhere", parent({"region_name": "Nowhere"}))))
    assert err.value.path == ("resources", "remote", "properties", "context", "region_name")
    # Heat 27.0.1 (HTTP 400, StackValidationFailed)
    assert err.value.message == (
        'Cannot establish connection to Heat endpoint at region "Nowhere" due to "public '
        'endpoint for orchestration service in Nowhere region not found"'
    )
    assert store.list() == []


def test_a_region_known_only_when_evaluated_fails_the_resource(engine: Any) -> None:
    eng, _, _ = engine()
    doc = parent({"region_name": {"get_param": "r"}})
    doc["parameters"] = {"r": {"type": "string"}}
    state = run(
        eng.create(StackRequest("late", doc, parameters={"r": "Nowhere"}, disable_rollback=True))
    )
    assert state.state == "CREATE_FAILED"
    assert state.resources["remote"].status_reason.endswith(
        "resources.remote.properties.context.region_name: Cannot establish connection to "
        'Heat endpoint at region "Nowhere" due to "public endpoint for orchestration service '
        'in Nowhere region not found"'
    )
    run(eng.delete(state.id))


def test_a_credential_for_another_cloud_is_refused(engine: Any) -> None:
    eng, _, _ = engine()
    with pytest.raises(TemplateError, match="Barbican") as err:
        run(eng.create(StackRequest("cred", parent({"credential_secret_id": "abc"}))))
    assert err.value.path[-1] == "credential_secret_id"


def test_a_cloud_session_as_the_operator_has_one(engine: Any, sandbox: SandboxCloud) -> None:
    """The operator gives the engine a CloudSession: the child gets that session's session
    for the region (same credentials and guard options), closed with it."""
    session = connect(sandbox.clouds, sandbox.config.cloud_name)
    eng, _, _ = engine(cloud=session)
    state = run(eng.create(StackRequest("op", parent({"region_name": "RegionTwo"}))))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    regional = session.for_region("RegionTwo")
    assert regional.conn.network.get_network(state.outputs["net_id"]).name == "remote-net"
    assert session.conn.network.find_network(state.outputs["net_id"]) is None
    run(eng.delete(state.id))
    assert regional.conn.network.find_network(state.outputs["net_id"]) is None
    session.close()
