"""Backing stores for Heat's native resource types (``resources.base.NativeStore``).

Heat's own types (``OS::Heat::None``, ``RandomString`` ...) have no cloud; their "physical"
objects live here, tagged like cloud resources, so the engine's crash recovery (find by tags,
adopt) is the same for every type. The store is separate from the state store on purpose: a
crash between "created here" and "recorded in the state" leaves a tagged orphan that the next
run adopts.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from kubeheat.engine.model import clone, new_id
from kubeheat.engine.stores import JsonFileStateStore


class MemoryNativeStore:
    """Records in memory: ``{kind: {id: {"tags": {...}, "data": {...}}}}``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: dict[str, dict[str, dict[str, Any]]] = {}

    def put(self, kind: str, tags: Mapping[str, str], data: Mapping[str, Any],
            record_id: str | None = None) -> str:
        record_id = record_id or new_id()
        with self._lock:
            if record_id in self.records.get(kind, {}):
                raise KeyError(f"{kind} record {record_id} exists already")
            self.records.setdefault(kind, {})[record_id] = {
                "tags": dict(tags), "data": clone(dict(data))}
            self._changed(kind, record_id)
        return record_id

    def get(self, kind: str, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.records.get(kind, {}).get(record_id)
            return clone(found["data"]) if found is not None else None

    def update(self, kind: str, record_id: str, data: Mapping[str, Any]) -> None:
        with self._lock:
            self.records[kind][record_id]["data"] = clone(dict(data))
            self._changed(kind, record_id)

    def delete(self, kind: str, record_id: str) -> bool:
        with self._lock:
            gone = self.records.get(kind, {}).pop(record_id, None) is not None
            if gone:
                self._changed(kind, record_id)
            return gone

    def find(self, kind: str, tags: Mapping[str, str]) -> list[str]:
        with self._lock:
            return sorted(rid for rid, rec in self.records.get(kind, {}).items()
                          if all(rec["tags"].get(k) == v for k, v in tags.items()))

    def count(self, kind: str | None = None) -> int:
        """Number of records (of one kind, or all)."""
        with self._lock:
            if kind is not None:
                return len(self.records.get(kind, {}))
            return sum(len(v) for v in self.records.values())

    def _changed(self, kind: str, record_id: str) -> None:
        """Hook for persistent subclasses: record ``record_id`` of ``kind`` was written or
        removed (called with the lock held)."""


class FileNativeStore(MemoryNativeStore):
    """Native records kept in the CLI's state file, under its ``native`` section."""

    SECTION = "native"

    def __init__(self, state_file: JsonFileStateStore) -> None:
        super().__init__()
        self._file = state_file
        saved = state_file.extra(self.SECTION)
        if isinstance(saved, dict):
            self.records = saved

    def _changed(self, kind: str, record_id: str) -> None:
        # only the record that changed is written (the state file journals it)
        self._file.set_extra_item(self.SECTION, (kind, record_id),
                                  self.records.get(kind, {}).get(record_id))
