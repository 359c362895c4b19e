"""``update_policy`` keys: only a type with an update policy schema takes any (Heat 27.0.1
refuses the others before creating anything: ``resources.v.update_policy: Unknown Property
anything``, seen on the peer for OS::Heat::Value)."""

from __future__ import annotations

import asyncio

import pytest
from engine_plugins import builtin_engine, hot

from kubeheat.engine import StackRequest
from kubeheat.template import TemplateError


@pytest.mark.parametrize("type_name", ["OS::Heat::Value", "OS::Heat::None",
                                       "OS::Heat::RandomString"])
def test_a_type_without_an_update_policy_refuses_every_key(type_name: str) -> None:
    engine, _store, _native = builtin_engine()
    props = {"value": 1} if type_name == "OS::Heat::Value" else {}
    template = hot({"v": {"type": type_name, "properties": props,
                          "update_policy": {"anything": 1}}})
    with pytest.raises(TemplateError) as err:
        asyncio.run(engine.create(StackRequest("upd-policy", template)))
    assert str(err.value) == "resources.v.update_policy: Unknown Property anything"


def test_a_resource_group_takes_its_own_keys_and_refuses_others() -> None:
    engine, _store, _native = builtin_engine()
    group = {"type": "OS::Heat::ResourceGroup",
             "properties": {"count": 1, "resource_def": {"type": "OS::Heat::None"}},
             "update_policy": {"rolling_update": {"max_batch_size": 1}}}
    state = asyncio.run(engine.create(StackRequest("upd-policy-g", hot({"g": group}))))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    bad = dict(group, update_policy={"rolling_updates": {}})
    with pytest.raises(TemplateError) as err:
        asyncio.run(engine.create(StackRequest("upd-policy-g2", hot({"g": bad}))))
    assert str(err.value) == "resources.g.update_policy: Unknown Property rolling_updates"
