"""The ARN a provider template resource gives (``get_resource`` of a resource whose type is a
template without an ``OS::stack_id`` output) names the stack's project, as in Heat 27.0.1:
``arn:openstack:heat::<project>:stacks/<child name>/<child id>`` (the peer gives its tenant
there, e.g. ``arn:openstack:heat::admin:stacks/...``)."""

from __future__ import annotations

import asyncio
import re

from kubeheat.engine import Engine, ListEventSink, MemoryStateStore, StackRequest, StackState
from kubeheat.template import DEFAULT_CONSTRAINTS, SANDBOX_PROJECT_ID

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "resources": {"prov": {"type": "child.yaml"}},
    "outputs": {"ref": {"value": {"get_resource": "prov"}}},
}
CHILD = "heat_template_version: 2018-08-31\nresources: {n: {type: OS::Heat::None}}\n"


class _Cloud:
    """Only ``project_id`` is read from the cloud here (openstacksdk is not needed)."""

    def __init__(self, project_id: str | None) -> None:
        self.project_id = project_id


def _create(cloud: _Cloud | None) -> StackState:
    engine = Engine(
        MemoryStateStore(), ListEventSink(), cloud=cloud, constraints=DEFAULT_CONSTRAINTS
    )
    try:
        return asyncio.run(
            engine.create(StackRequest("arn", TEMPLATE, files={"child.yaml": CHILD}))
        )
    finally:
        engine.close()


def test_the_arn_names_the_clouds_project() -> None:
    state = _create(_Cloud("0a1b2c3d4e5f"))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert re.fullmatch(
        f"arn:openstack:heat::0a1b2c3d4e5f:stacks/arn-prov-[a-z2-7]{{12}}/{UUID}",
        state.outputs["ref"],
    )


def test_the_arn_names_the_sandbox_project_without_a_cloud() -> None:
    state = _create(None)
    assert state.outputs["ref"].startswith(f"arn:openstack:heat::{SANDBOX_PROJECT_ID}:stacks/")
