"""State written by kubeheat 0.1.0 (commit 1dd50bc) still loads and is carried on.

``fixtures/state-file.json`` is a CLI state file (JsonFileStateStore with the native records
of Heat's types) and ``fixtures/state-secret.json`` an operator state Secret (the xz payload
SecretStateStore writes), both written by that release's engine running the same scenario:

- stack ``legacy``: created, then updated with a replacement that fails without rollback, so it
  is UPDATE_FAILED with the replaced entry ``val~1`` kept, a ResourceGroup left ``UPDATE
  aborted`` and its child stack UPDATE_IN_PROGRESS, a hidden parameter;
- stack ``interrupted``: a create cancelled while a resource was being created, which left it
  ``CREATE aborted`` with its physical id recorded.

Today's engine reads them, sees the same states through its model, then updates the first
stack to completion, finishes (does not replace) the interrupted create, and deletes both,
leaving nothing behind.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from kubeheat.controller import SecretStateStore
from kubeheat.engine import (
    Engine,
    FileNativeStore,
    JsonFileStateStore,
    ListEventSink,
    MemoryNativeStore,
    MemoryStateStore,
    StackRequest,
    StackState,
)

FIXTURES = Path(__file__).parent / "fixtures"


def template(value: str, count: int = 2) -> dict[str, Any]:
    """The scenario's template (the fixtures were written with it)."""
    return {
        "heat_template_version": "2018-08-31",
        "parameters": {"secret": {"type": "string", "hidden": True, "default": "s3cr3t"},
                       "count": {"type": "number", "default": count}},
        "resources": {
            "group": {"type": "OS::Heat::ResourceGroup", "properties": {
                "count": {"get_param": "count"},
                "resource_def": {"type": "OS::Heat::TestResource",
                                 "properties": {"value": "m-%index%"}}}},
            "word": {"type": "OS::Heat::RandomString", "properties": {"length": 8}},
            "val": {"type": "OS::Heat::TestResource", "properties": {
                "value": value, "update_replace": True, "fail": False}},
            "none": {"type": "OS::Heat::None", "properties": {"x": {"get_param": "secret"}}},
        },
        "outputs": {"refs": {"value": {"get_attr": ["group", "refs"]}},
                    "val": {"value": {"get_attr": ["val", "output"]}}},
    }


SLOW = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "fast": {"type": "OS::Heat::None"},
        "slow": {"type": "OS::Heat::TestResource", "properties": {
            "value": "slow", "action_wait_secs": {"create": 2}}},
    },
}


def _by_name(states: list[StackState]) -> dict[str, StackState]:
    return {s.name: s for s in states if s.parent is None}


def _from_file(tmp: Path) -> tuple[Any, Any, str]:
    path = tmp / "state.json"
    shutil.copy(FIXTURES / "state-file.json", path)
    store = JsonFileStateStore(path, compact_delay=None)
    root = store.root
    assert root is not None
    return store, FileNativeStore(store), root


def _from_secret(tmp: Path) -> tuple[Any, Any, str]:
    secret = json.loads((FIXTURES / "state-secret.json").read_text())
    held = SecretStateStore(None, "ns", {"metadata": {"name": "legacy", "uid": "u"}})  # type: ignore[arg-type]
    held.restore(secret)
    store, native = MemoryStateStore(), MemoryNativeStore()
    for stack_id in held.list():
        state = held.load(stack_id)
        assert state is not None
        store.save(state)
    native.records = held.native.records
    assert held.root is not None
    return store, native, held.root


@pytest.mark.parametrize("source", [_from_file, _from_secret], ids=["state-file", "secret"])
def test_state_written_by_0_1_0_loads_and_carries_on(source: Any, tmp_path: Path) -> None:
    store, native, root = source(tmp_path)
    states = [store.load(i) for i in store.list()]
    assert len(states) == 3 and all(s is not None for s in states)
    stacks = _by_name([s for s in states if s is not None])
    legacy, interrupted = stacks["legacy"], stacks["interrupted"]
    assert root == legacy.id
    # the states read as they were written
    assert legacy.state == "UPDATE_FAILED"
    assert set(legacy.resources) == {"group", "word", "none", "val", "val~1"}
    assert legacy.resources["val~1"].replaced_by == "val"
    assert legacy.resources["group"].state == "UPDATE_FAILED"
    assert legacy.resources["group"].status_reason == "UPDATE aborted"
    assert legacy.hidden == ["secret"]
    (child_id,) = legacy.resources["group"].nested.values()
    child = store.load(child_id)
    assert child is not None and child.parent == legacy.id
    assert child.state == "UPDATE_IN_PROGRESS"
    slow = interrupted.resources["slow"]
    assert interrupted.state == "CREATE_FAILED"
    assert slow.state == "CREATE_FAILED" and slow.status_reason == "CREATE aborted"
    assert slow.physical_id is not None
    # the model's predicates read the 0.1.0 records as that release meant them
    assert slow.was_interrupted and slow.create_unfinished
    assert interrupted.create_unfinished and not interrupted.is_good
    assert legacy.resources["group"].was_interrupted
    assert legacy.resources["group"].update_unfinished
    assert not legacy.resources["val"].was_interrupted       # refused, not interrupted
    assert legacy.is_failed and not legacy.create_unfinished

    engine = Engine(store, ListEventSink(), native=native)
    try:
        done = asyncio.run(engine.update(legacy.id, StackRequest("legacy", template("c"))))
        assert done.state == "UPDATE_COMPLETE", done.status_reason
        assert set(done.resources) == {"group", "word", "none", "val"}
        assert done.outputs["val"] == "c" and len(done.outputs["refs"]) == 2
        assert done.resources["word"].physical_id == legacy.resources["word"].physical_id
        finished = asyncio.run(engine.create(StackRequest("interrupted", SLOW),
                                             stack_id=interrupted.id))
        assert finished.state == "CREATE_COMPLETE", finished.status_reason
        assert finished.resources["slow"].physical_id == slow.physical_id   # finished, kept
        for stack_id in (legacy.id, interrupted.id):
            gone = asyncio.run(engine.delete(stack_id))
            assert gone.state == "DELETE_COMPLETE", gone.status_reason
    finally:
        engine.close()
    assert store.list() == []
    assert native.count() == 0
