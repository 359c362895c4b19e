"""The total a stack evaluates is bounded (review H6): every resource's properties and
metadata and every output, as JSON, together at most ``max_evaluated_bytes`` (16 MiB) per stack
and operation. Each value here is within every per-function limit; it is their sum that a
template could multiply into gigabytes of state. The resource or output that crosses the limit
is named, the stack ends FAILED with that reason, and the saved state stays small.

Every operation is bounded by a guard, so a hang fails the test instead of stalling it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any, TypeVar

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

T = TypeVar("T")
GUARD = 60.0
LIMIT = DEFAULT_LIMITS.max_evaluated_bytes
MESSAGE = ("The evaluated properties, metadata and outputs of the stack would take more than "
           "16777216 bytes (limit max_evaluated_bytes)")
#: a 10 MB string built within every per-function limit (repeat 40 x 250 KB, then list_join)
BIG = {"list_join": ["", {"repeat": {"template": {"get_param": "s"},
                                     "for_each": {"%i%": [str(i) for i in range(40)]}}}]}
PARAMS = {"s": "A" * 250_000}


def _template(resources: dict[str, Any] | None = None,
              outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"heat_template_version": "2018-08-31",
                           "parameters": {"s": {"type": "string"}},
                           "resources": resources or {}}
    if outputs:
        doc["outputs"] = outputs
    return doc


async def _bounded(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return await asyncio.wait_for(coro, GUARD)
    except TimeoutError:
        raise AssertionError("the operation did not end") from None


def _create(template: dict[str, Any], *, disable_rollback: bool = True
            ) -> tuple[StackState, MemoryStateStore]:
    store = MemoryStateStore()
    engine = Engine(store, ListEventSink(), native=MemoryNativeStore())

    async def go() -> StackState:
        return await _bounded(engine.create(StackRequest(
            "big", template, parameters=PARAMS, disable_rollback=disable_rollback)))

    try:
        return asyncio.run(go()), store
    finally:
        engine.close()


def _saved_bytes(store: MemoryStateStore, state: StackState) -> int:
    saved = store.load(state.id)
    assert saved is not None
    return len(json.dumps(saved.to_dict(), default=str))


def test_outputs_past_the_total_fail_the_stack_naming_the_output() -> None:
    state, store = _create(_template(
        {"r": {"type": "OS::Heat::None"}},
        {"o1": {"value": BIG}, "o2": {"value": BIG}}))
    assert state.state == "CREATE_FAILED"
    assert state.status_reason == f"outputs.o2: {MESSAGE}"
    assert state.output_errors == {"o2": f"outputs.o2: {MESSAGE}"}
    assert state.outputs["o2"] is None
    assert len(state.outputs["o1"]) == 10_000_000
    assert _saved_bytes(store, state) < LIMIT


def test_properties_past_the_total_fail_the_resource_naming_it() -> None:
    state, store = _create(_template({
        "r1": {"type": "OS::Heat::Value", "properties": {"value": BIG}},
        "r2": {"type": "OS::Heat::Value", "properties": {"value": BIG}, "depends_on": ["r1"]},
        "r3": {"type": "OS::Heat::None", "depends_on": ["r2"]}}))
    assert state.state == "CREATE_FAILED"
    assert state.status_reason == (
        f"Resource CREATE failed: RequestLimitExceeded: resources.r2.properties: {MESSAGE}")
    assert state.resources["r2"].status == "FAILED"
    assert "r3" not in state.resources or state.resources["r3"].physical_id is None
    # r1's 10 MB value is kept twice (its property and its attribute); r2's is not kept
    assert _saved_bytes(store, state) < 21_000_000


def test_metadata_counts_too_and_rollback_cleans_up() -> None:
    state, _store = _create(_template({
        "r1": {"type": "OS::Heat::None", "metadata": {"m": BIG}},
        "r2": {"type": "OS::Heat::None", "metadata": {"m": BIG}, "depends_on": ["r1"]}}),
        disable_rollback=False)
    assert state.state == "ROLLBACK_COMPLETE", state.status_reason
    assert state.resources == {}


def test_a_stack_within_the_total_is_created() -> None:
    state, _store = _create(_template(
        {"r1": {"type": "OS::Heat::Value", "properties": {"value": BIG}}},
        {"o": {"value": {"str_split": ["x", {"get_param": "s"}, 0]}}}))
    assert state.state == "CREATE_COMPLETE", state.status_reason
    assert len(state.outputs["o"]) == 250_000


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
