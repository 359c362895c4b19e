"""Pseudo parameters: never empty, in the forms Heat gives them.

Expected forms come from Heat 27.0.1 (checked side by side on a running Heat whose project is
``admin``): ``OS::project_id`` is the project's id, ``OS::stack_id`` the stack's UUID,
``OS::stack_name`` its name; in a provider template they are the nested stack's own (named
``<parent>-<resource>-<suffix>``). CFN: ``AWS::StackId`` is
``arn:openstack:heat::<project>:stacks/<name>/<id>``, ``AWS::Region`` ``ap-southeast-1``,
``AWS::StackName`` the name, and ``AWS::AccountId`` is no pseudo parameter at all (an output
error). kubeheat's project is the cloud's when its cloud says, else the sandbox's fixed id.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import yaml
from engine_plugins import builtin_engine, hot

from kubeheat.engine import Engine, ListEventSink, MemoryStateStore, StackRequest
from kubeheat.sandbox import SandboxConfig
from kubeheat.template import DEFAULT_CONSTRAINTS, SANDBOX_PROJECT_ID, TemplateError

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

PSEUDO = {"sid": {"get_param": "OS::stack_id"}, "sname": {"get_param": "OS::stack_name"},
          "pid": {"get_param": "OS::project_id"}}

CHILD = yaml.safe_dump({"heat_template_version": "2021-04-16",
                        "resources": {"r": {"type": "OS::Heat::None"}},
                        "outputs": {k: {"value": v} for k, v in PSEUDO.items()}})

CFN = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {"r": {"Type": "OS::Heat::None"}},
    "Outputs": {"region": {"Value": {"Ref": "AWS::Region"}},
                "sid": {"Value": {"Ref": "AWS::StackId"}},
                "sname": {"Value": {"Ref": "AWS::StackName"}}},
}


def _run(engine: Engine, request: StackRequest) -> Any:
    state = asyncio.run(engine.create(request))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    return state


def test_hot_pseudo_parameters_without_a_cloud() -> None:
    engine, _store, _native = builtin_engine()
    state = _run(engine, StackRequest("f-small-pseudo", hot(
        {"bare": {"type": "child.yaml"}},
        {**PSEUDO, **{f"child_{k}": {"get_attr": ["bare", k]} for k in PSEUDO}}),
        files={"child.yaml": CHILD}))
    out = state.outputs
    assert out["sid"] == state.id and UUID.match(out["sid"])
    assert out["sname"] == "f-small-pseudo"
    assert out["pid"] == SANDBOX_PROJECT_ID != ""
    # the nested stack's own id and name, the parent's project
    assert UUID.match(out["child_sid"]) and out["child_sid"] != state.id
    assert re.match(r"^f-small-pseudo-bare-[a-z0-9]+$", out["child_sname"]), out["child_sname"]
    assert out["child_pid"] == SANDBOX_PROJECT_ID


def test_the_sandbox_project_is_the_stable_one() -> None:
    assert SandboxConfig().project_id == SANDBOX_PROJECT_ID


def test_cfn_pseudo_parameters() -> None:
    engine, _store, _native = builtin_engine()
    state = _run(engine, StackRequest("f-small-cfn", CFN))
    assert state.outputs["sid"] == (
        f"arn:openstack:heat::{SANDBOX_PROJECT_ID}:stacks/f-small-cfn/{state.id}")
    assert state.outputs["sname"] == "f-small-cfn"
    assert state.outputs["region"] == "ap-southeast-1"


def test_aws_account_id_is_no_pseudo_parameter() -> None:
    # Heat 27.0.1 creates the stack and gives the output null with 'The specified reference
    # "AWS::AccountId" (in unknown) is incorrect.'; kubeheat refuses an unknown Ref in the
    # outputs before creating anything (docs/migration.md)
    engine, _store, _native = builtin_engine()
    template = {**CFN, "Outputs": {"acct": {"Value": {"Ref": "AWS::AccountId"}}}}
    with pytest.raises(TemplateError) as err:
        asyncio.run(engine.create(StackRequest("f-small-cfn", template)))
    assert str(err.value) == ('Outputs.acct.Value.Ref: The specified reference "AWS::AccountId" '
                              "(in acct.Value) is incorrect.")


class _Cloud:
    """What the engine asks of a cloud session for its project (openstacksdk is not needed:
    only ``project_id`` is read, and ``None`` means the cloud cannot say)."""

    def __init__(self, project_id: str | None) -> None:
        self.project_id = project_id


def _engine_with(cloud: Any) -> Engine:
    return Engine(MemoryStateStore(), ListEventSink(), cloud=cloud,
                  constraints=DEFAULT_CONSTRAINTS)


def test_the_clouds_project_when_it_says() -> None:
    engine = _engine_with(_Cloud("0a1b2c3d4e5f"))
    state = _run(engine, StackRequest("f-small-p", hot({}, PSEUDO)))
    assert state.outputs["pid"] == "0a1b2c3d4e5f"
    cfn = _run(engine, StackRequest("f-small-c", CFN))
    assert cfn.outputs["sid"] == f"arn:openstack:heat::0a1b2c3d4e5f:stacks/f-small-c/{cfn.id}"


def test_a_cloud_that_cannot_say_gives_the_sandbox_project() -> None:
    engine = _engine_with(_Cloud(None))
    state = _run(engine, StackRequest("f-small-p", hot({}, PSEUDO)))
    assert state.outputs["pid"] == SANDBOX_PROJECT_ID
