"""Nested-stack types under a small concurrency limit: a parent never holds a slot its children
wait for.

Every nested-stack type (ResourceGroup, ResourceChain, AutoScalingGroup, OS::Heat::Stack and
provider templates) runs its members in child stacks on the parent's engine, which share the
engine's concurrency limit. These tests put N sibling parents (N at least the limit) in one
stack, and nest groups of provider templates two and three levels deep, then create, scale up,
scale down and delete under ``concurrency`` 1, 2 and 4: each operation must finish. A guard
bounds every operation, so a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from engine_plugins import bounded, builtin_engine

from kubeheat.engine import (
    Engine,
    MemoryNativeStore,
    MemoryStateStore,
    StackRequest,
    StackState,
)

VERSION = "2018-08-31"
MEMBER = {"type": "OS::Heat::None"}


def _group(count: int) -> dict[str, Any]:
    return {"type": "OS::Heat::ResourceGroup",
            "properties": {"count": count, "resource_def": MEMBER}}


def _chain(count: int) -> dict[str, Any]:
    return {"type": "OS::Heat::ResourceChain",
            "properties": {"resources": ["OS::Heat::None"] * count}}


def _asg(count: int) -> dict[str, Any]:
    return {"type": "OS::Heat::AutoScalingGroup",
            "properties": {"min_size": 0, "max_size": 10, "desired_capacity": count,
                           "resource": MEMBER}}


def _heat_stack(count: int) -> dict[str, Any]:
    child = {"heat_template_version": VERSION,
             "resources": {f"r{i}": dict(MEMBER) for i in range(count)}}
    return {"type": "OS::Heat::Stack", "properties": {"template": child}}


#: a provider template holding a group of ``count`` members
PROVIDER = yaml.safe_dump({
    "heat_template_version": VERSION,
    "parameters": {"count": {"type": "number"}},
    "resources": {"inner": {"type": "OS::Heat::ResourceGroup",
                            "properties": {"count": {"get_param": "count"},
                                           "resource_def": MEMBER}}},
})


def _provider(count: int) -> dict[str, Any]:
    return {"type": "provider.yaml", "properties": {"count": count}}


KINDS: dict[str, Callable[[int], dict[str, Any]]] = {
    "ResourceGroup": _group,
    "ResourceChain": _chain,
    "AutoScalingGroup": _asg,
    "OS::Heat::Stack": _heat_stack,
    "provider template": _provider,
}


def _template(kind: str, siblings: int, count: int) -> dict[str, Any]:
    return {"heat_template_version": VERSION,
            "resources": {f"p{i}": KINDS[kind](count) for i in range(siblings)}}


def _lifecycle(engine: Engine, store: MemoryStateStore, native: MemoryNativeStore,
               templates: list[tuple[dict[str, Any], int]], files: dict[str, str]) -> None:
    """Create with the first template, update through the others, delete; after each step
    the stack is complete and holds exactly the expected number of None records."""
    first, expected = templates[0]
    state: StackState = asyncio.run(bounded(
        engine.create(StackRequest("s", first, files=files)), "create (deadlocked?)"))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert native.count("OS::Heat::None") == expected
    for template, expected in templates[1:]:
        state = asyncio.run(bounded(
            engine.update(state.id, StackRequest("s", template, files=files)),
            "update (deadlocked?)"))
        assert state.state == "UPDATE_COMPLETE", state.status_reason
        assert native.count("OS::Heat::None") == expected
    state = asyncio.run(bounded(engine.delete(state.id), "delete (deadlocked?)"))
    assert state.state == "DELETE_COMPLETE", state.status_reason
    assert native.count() == 0
    assert store.list() == []


@pytest.mark.parametrize("concurrency", [1, 2, 4])
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("factor", [1, 2], ids=["N-is-C", "N-is-2C"])
def test_sibling_nested_parents_finish(kind: str, concurrency: int, factor: int) -> None:
    siblings = concurrency * factor
    engine, store, native = builtin_engine(concurrency=concurrency)
    try:
        _lifecycle(engine, store, native,
                   [(_template(kind, siblings, 2), 2 * siblings),       # create
                    (_template(kind, siblings, 3), 3 * siblings),       # scale up
                    (_template(kind, siblings, 1), 1 * siblings)],      # scale down
                   {"provider.yaml": PROVIDER})
    finally:
        engine.close()


#: a provider template holding a group of provider templates, each holding a group
OUTER = yaml.safe_dump({
    "heat_template_version": VERSION,
    "parameters": {"count": {"type": "number"}},
    "resources": {"inner": {"type": "OS::Heat::ResourceGroup",
                            "properties": {"count": {"get_param": "count"},
                                           "resource_def": {
                                               "type": "provider.yaml",
                                               "properties": {"count": {"get_param": "count"}},
                                           }}}},
})


def _deep(levels: int, count: int) -> dict[str, Any]:
    """A group of ``count`` provider templates, each holding a group (levels=2) or a group of
    provider templates holding groups (levels=3), every group of ``count`` members."""
    member = "provider.yaml" if levels == 2 else "outer.yaml"
    return {"heat_template_version": VERSION,
            "resources": {"top": {"type": "OS::Heat::ResourceGroup", "properties": {
                "count": count,
                "resource_def": {"type": member, "properties": {"count": count}}}}}}


@pytest.mark.parametrize("concurrency", [1, 2, 4])
@pytest.mark.parametrize("levels", [2, 3])
def test_deeply_nested_groups_finish(levels: int, concurrency: int) -> None:
    engine, store, native = builtin_engine(concurrency=concurrency)
    files = {"provider.yaml": PROVIDER, "outer.yaml": OUTER}
    try:
        _lifecycle(engine, store, native,
                   [(_deep(levels, 2), 2 ** levels),
                    (_deep(levels, 3), 3 ** levels),
                    (_deep(levels, 1), 1)],
                   files)
    finally:
        engine.close()
