"""JsonFileStateStore: a base snapshot plus an fsync'd append-only journal, compacted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from kubeheat.engine import (
    Engine,
    FileNativeStore,
    JsonFileStateStore,
    ListEventSink,
    ResourceState,
    StackRequest,
    StackState,
)


def values(n: int) -> dict[str, object]:
    return {"heat_template_version": "2021-04-16", "resources": {
        f"v{i}": {"type": "OS::Heat::Value", "properties": {"value": i}} for i in range(n)}}


def test_a_big_create_journals_instead_of_rewriting(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.json"
    compactions: list[int] = []
    original = JsonFileStateStore._compact

    def counted(self: JsonFileStateStore) -> None:
        compactions.append(self._journal_writes)
        original(self)

    monkeypatch.setattr(JsonFileStateStore, "_compact", counted)
    store = JsonFileStateStore(path, compact_delay=None)
    engine = Engine(store, ListEventSink(), native=FileNativeStore(store))
    state = asyncio.run(engine.create(StackRequest("big", values(150))))
    engine.close()
    assert state.state == "CREATE_COMPLETE", state.status_reason
    # about 3 x 150 state writes + 150 native writes: a handful of whole-file writes
    assert len(compactions) <= 4
    # a fresh reader replays the journal
    again = JsonFileStateStore(path, compact_delay=None)
    loaded = again.load(state.id)
    assert loaded is not None and loaded.to_dict() == state.to_dict()
    assert len(again.extra("native")["OS::Heat::Value"]) == 150
    store.close()
    assert store.journal_path.stat().st_size == 0
    doc = json.loads(path.read_text())
    assert len(doc["stacks"][state.id]["resources"]) == 150
    third = JsonFileStateStore(path)
    assert third.load(state.id) == loaded


def test_torn_tail_and_stale_journal_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = JsonFileStateStore(path, compact_delay=None)
    state = StackState(id="s1", name="s")
    store.save(state)
    state.resources["a"] = ResourceState(name="a", type="T", physical_id="p1")
    store.save(state, "a")
    store.set_root("s1")
    with open(store.journal_path, "ab") as fh:
        fh.write(b'{"t":"r","s":"s1","k":"b","v":{"na')         # a crash mid-append
    reread = JsonFileStateStore(path, compact_delay=None)
    loaded = reread.load("s1")
    assert loaded is not None and list(loaded.resources) == ["a"]
    assert reread.root == "s1"
    # the torn line was cut off: new entries land after the good ones
    loaded.resources["b"] = ResourceState(name="b", type="T", physical_id="p2")
    reread.save(loaded, "b")
    third = JsonFileStateStore(path, compact_delay=None)
    found = third.load("s1")
    assert found is not None and sorted(found.resources) == ["a", "b"]
    # a crash after the new base was written but before the journal was emptied: the old
    # journal belongs to the previous generation and is not replayed again
    journal = third.journal_path.read_bytes()
    third.compact()
    third.journal_path.write_bytes(journal + b'{"t":"d","s":"s1"}\n')
    fourth = JsonFileStateStore(path, compact_delay=None)
    assert fourth.load("s1") is not None


def test_background_compaction_keeps_the_base_file_current(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = JsonFileStateStore(path, compact_delay=0.01)
    store.save(StackState(id="x", name="x"))
    store.set_extra_item("native", ("kind", "r1"), {"tags": {}, "data": {"v": 1}})
    for _ in range(200):
        if '"r1"' in path.read_text():
            break
        asyncio.run(asyncio.sleep(0.01))
    doc = json.loads(path.read_text())
    assert "x" in doc["stacks"] and doc["native"]["kind"]["r1"]["data"] == {"v": 1}
    store.set_extra_item("native", ("kind", "r1"), None)
    store.close()
    assert json.loads(path.read_text())["native"] == {"kind": {}}


def test_delete_and_list(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    store = JsonFileStateStore(path, compact_delay=None)
    store.save(StackState(id="a", name="a"))
    store.save(StackState(id="b", name="b"))
    store.set_root("a")
    store.delete("a")
    assert store.list() == ["b"] and store.root is None
    again = JsonFileStateStore(path)
    assert again.list() == ["b"] and again.root is None
