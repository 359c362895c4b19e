"""The total a stack evaluates is bounded (review H6): every resource's properties and
metadata and every output, as JSON, together at most ``max_evaluated_bytes`` (64 MiB) per
stack and operation. Each value here is within every per-function limit; it is their sum that a
template could multiply into gigabytes of state. The resource or output that crosses the limit
is named, the stack ends FAILED with that reason, and the saved state stays small.

Every operation is bounded by a guard, so a hang fails the test instead of stalling it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from engine_plugins import bounded

from kubeheat.engine import (
    Engine,
    ListEventSink,
    MemoryNativeStore,
    MemoryStateStore,
    StackRequest,
    StackState,
)
from kubeheat.engine.sizes import EvaluatedSize, json_size
from kubeheat.template import DEFAULT_LIMITS, TemplateLimitError

LIMIT = DEFAULT_LIMITS.max_evaluated_bytes
MESSAGE = ("The evaluated properties, metadata and outputs of the stack would take more than "
           "67108864 bytes (limit max_evaluated_bytes)")
#: a 16 MB string built within every per-function limit (repeat 40 x 400 KB, then list_join)
BIG = {"list_join": ["", {"repeat": {"template": {"get_param": "s"},
                                     "for_each": {"%i%": [str(i) for i in range(40)]}}}]}
PARAMS = {"s": "A" * 400_000}
#: four BIG values fit (64 000 000 bytes and a little JSON), the fifth does not
FIT = 4


def _template(resources: dict[str, Any] | None = None,
              outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": "2018-08-31",
                           "parameters": {"s": {"type": "string"}},
                           "resources": resources or {}}
    if outputs:
        doc["outputs"] = outputs
    return doc


def _create(template: dict[str, Any], *, disable_rollback: bool = True
            ) -> tuple[StackState, MemoryStateStore]:
    store = MemoryStateStore()
    engine = Engine(store, ListEventSink(), native=MemoryNativeStore())

    async def go() -> StackState:
        return await bounded(engine.create(StackRequest(
            "big", template, parameters=PARAMS, disable_rollback=disable_rollback)))

    try:
        return asyncio.run(go()), store
    finally:
        engine.close()


def _saved_bytes(store: MemoryStateStore, state: StackState) -> int:
    saved = store.load(state.id)
    assert saved is not None
    return len(json.dumps(saved.to_dict(), default=str))


def _chain(kind: str, count: int) -> dict[str, Any]:
    """``count`` OS::Heat::None resources each holding BIG as a property or metadata, one
    after the other (so the one that crosses the limit is known)."""
    out: dict[str, Any] = {}
    for i in range(1, count + 1):
        body: dict[str, Any] = {"type": "OS::Heat::None"}
        body[kind] = {"blob": BIG}
        if i > 1:
            body["depends_on"] = [f"r{i - 1}"]
        out[f"r{i}"] = body
    return out


def test_outputs_past_the_total_fail_the_stack_naming_the_output() -> None:
    last = f"o{FIT + 1}"
    state, store = _create(_template(
        {"r": {"type": "OS::Heat::None"}},
        {f"o{i}": {"value": BIG} for i in range(1, FIT + 2)}))
    assert state.state == "CREATE_FAILED"
    assert state.status_reason == f"outputs.{last}: {MESSAGE}"
    assert state.output_errors == {last: f"outputs.{last}: {MESSAGE}"}
    assert state.outputs[last] is None
    assert len(state.outputs["o1"]) == 16_000_000
    assert _saved_bytes(store, state) < LIMIT


def test_properties_past_the_total_fail_the_resource_naming_it() -> None:
    last = f"r{FIT + 1}"
    resources = _chain("properties", FIT + 1)
    resources["after"] = {"type": "OS::Heat::None", "depends_on": [last]}
    state, store = _create(_template(resources))
    assert state.state == "CREATE_FAILED"
    assert state.status_reason == (
        f"Resource CREATE failed: RequestLimitExceeded: resources.{last}.properties: {MESSAGE}")
    assert state.resources[last].status == "FAILED"
    assert "after" not in state.resources or state.resources["after"].physical_id is None
    assert _saved_bytes(store, state) < LIMIT      # the refused value is not kept


def test_metadata_counts_too_and_rollback_cleans_up() -> None:
    state, _store = _create(_template(_chain("metadata", FIT + 1)), disable_rollback=False)
    assert state.state == "ROLLBACK_COMPLETE", state.status_reason
    assert state.resources == {}


def test_a_stack_within_the_total_is_created() -> None:
    state, _store = _create(_template(
        _chain("properties", FIT - 1),
        {"o": {"value": {"str_split": ["x", {"get_param": "s"}, 0]}}}))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert len(state.outputs["o"]) == 400_000


def test_a_large_group_of_large_members_is_created() -> None:
    """1000 members with 20 KB of properties each (a user_data script): the child stack's
    template (20 MB) is above the 8 MiB a template text may expand to, within what a nested
    stack, built by its parent, may hold."""
    group = {"type": "OS::Heat::ResourceGroup", "properties": {
        "count": 1000, "resource_def": {"type": "OS::Heat::None", "properties": {
            "user_data": {"get_param": "s"}}}}}
    store = MemoryStateStore()
    engine = Engine(store, ListEventSink(), native=MemoryNativeStore())

    async def go() -> StackState:
        return await bounded(engine.create(StackRequest(
            "group", _template({"g": group}), parameters={"s": "#!/bin/sh\n" + "x" * 20_000})))

    try:
        state = asyncio.run(go())
    finally:
        engine.close()
    assert state.state == "CREATE_COMPLETE", state.status_reason


def test_a_group_whose_members_would_take_gigabytes_fails_cleanly() -> None:
    """The same group with 16 MB members: the child template (16 GB once written out) is
    refused before it is built."""
    group = {"type": "OS::Heat::ResourceGroup", "properties": {
        "count": 1000, "resource_def": {"type": "OS::Heat::None", "properties": {
            "user_data": BIG}}}}
    state, store = _create(_template({"g": group}))
    assert state.state == "CREATE_FAILED"
    assert state.status_reason == (
        "Resource CREATE failed: RequestLimitExceeded: resources.g: The nested stack's "
        "template (1000 members) would take more than 67108864 bytes (limit "
        "max_evaluated_bytes)")
    assert _saved_bytes(store, state) < LIMIT


def test_json_size_is_the_compact_json_length() -> None:
    for value in ({"a": [1, "é", None, True, False, 2.5, {}], "b": []}, "x", [], {},
                  [[1], [2, 3]], {"k": {"l": "m"}}):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        assert json_size(value, 10**9) == len(text.encode("utf-8")), value


def test_a_shared_value_is_refused_without_walking_all_of_it() -> None:
    shared: list[Any] = ["x" * 1000]
    for _ in range(60):                 # 2**60 leaves once expanded
        shared = [shared, shared]
    sizes = EvaluatedSize(LIMIT)
    try:
        sizes.admit(("outputs", "o"), shared, ("outputs", "o"))
    except TemplateLimitError as exc:
        assert str(exc) == f"outputs.o: {MESSAGE}"
    else:
        raise AssertionError("not refused")
