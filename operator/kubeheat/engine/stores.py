"""State stores: where the engine's :class:`~kubeheat.engine.model.StackState` records live.

:class:`StateStore` is the interface the engine saves through after every step (so a crash
loses at most the step in flight, and that step is recovered through the resource's tags).
:class:`MemoryStateStore` keeps deep copies in memory (tests, the API's in-process use);
:class:`JsonFileStateStore` is the CLI's state file: a base snapshot plus an fsync'd journal.
The operator's store (a Secret per Stack) is :class:`kubeheat.controller.store.SecretStateStore`.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from kubeheat.engine.model import StackState, clone


class StateStore(Protocol):
    """Persists stack states. ``save`` is called after every step with the whole state; the
    ``changed`` hint names the resource that changed (None: the stack itself), so a store may
    write incrementally. ``save`` must not return before the state is durable."""

    def load(self, stack_id: str) -> StackState | None: ...

    def save(self, state: StackState, changed: str | None = None) -> None: ...

    def delete(self, stack_id: str) -> None: ...

    def list(self) -> list[str]: ...


class MemoryStateStore:
    """States kept in memory (deep copies, so later mutation cannot leak into the record)."""

    def __init__(self) -> None:
        self._states: dict[str, StackState] = {}
        self.writes = 0

    def load(self, stack_id: str) -> StackState | None:
        found = self._states.get(stack_id)
        return found.copy() if found is not None else None

    def save(self, state: StackState, changed: str | None = None) -> None:
        self.writes += 1
        if changed is not None and state.id in self._states:
            record = self._states[state.id]
            if changed in state.resources:
                record.resources[changed] = state.resources[changed].copy()
            else:
                record.resources.pop(changed, None)
            return
        self._states[state.id] = state.copy()

    def delete(self, stack_id: str) -> None:
        self._states.pop(stack_id, None)

    def list(self) -> list[str]:
        return sorted(self._states)


class JsonFileStateStore:
    """All stacks of one CLI state file: ``{"version": 1, "stacks": {id: state}, "root": id}``.

    Writing the whole document after every step would make a stack's create quadratic in its
    size, so the file is a base snapshot plus an append-only journal next to it
    (``<file>.journal``, one JSON entry a line: a resource written or removed, a whole stack,
    a stack deleted, a top-level section set). Every entry is flushed and fsync'd before
    ``save`` returns. The journal is folded into the base (written to a temporary file, synced,
    renamed) every ``compact_every`` writes once it is as large as half the base, in the
    background ``compact_delay`` seconds after a write (so the base file that other programs
    read lags by that much at most, and quiet stores end compacted), and on :meth:`close`;
    loading replays it. The journal names the base generation it belongs to, so
    a crash between writing a new base and emptying the journal cannot replay it twice, and a
    torn last line (a crash while appending) is dropped.
    """

    VERSION = 1
    #: journal entries between compactions (at least; see the class docstring)
    COMPACT_EVERY = 1000

    #: seconds after a write when the journal is folded in the background (None: never)
    COMPACT_DELAY: float | None = 0.5

    def __init__(self, path: str | os.PathLike[str], *,
                 compact_every: int | None = None,
                 compact_delay: float | None = COMPACT_DELAY) -> None:
        self.path = Path(path)
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.compact_every = compact_every if compact_every is not None else \
            self.COMPACT_EVERY
        self.compact_delay = compact_delay
        self._timer: threading.Timer | None = None
        self._lock = threading.RLock()
        self._doc: dict[str, Any] = {"version": self.VERSION, "root": None, "stacks": {}}
        self._generation = 0
        self._base_bytes = 0
        self._journal: Any = None          # the open journal file (append mode)
        self._journal_bytes = 0
        self._journal_writes = 0
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8")
            self._base_bytes = len(text)
            if text.strip():
                doc = json.loads(text)
                if not isinstance(doc, dict) or doc.get("version") != self.VERSION:
                    raise ValueError(f"{self.path}: not a kubeheat state file")
                self._generation = int(doc.pop("generation", 0) or 0)
                self._doc = doc
        self._replay()

    # -- the public API ---------------------------------------------------------------------
    @property
    def root(self) -> str | None:
        """The id of the top-level stack this file was made for."""
        root = self._doc.get("root")
        return str(root) if root else None

    def set_root(self, stack_id: str) -> None:
        with self._lock:
            self._doc["root"] = stack_id
            self._append({"t": "x", "k": "root", "v": stack_id})

    def load(self, stack_id: str) -> StackState | None:
        data = self._doc["stacks"].get(stack_id)
        return StackState.from_dict(clone(data)) if data is not None else None

    def save(self, state: StackState, changed: str | None = None) -> None:
        with self._lock:
            stacks = self._doc["stacks"]
            record = stacks.get(state.id)
            if changed is not None and record is not None:
                rec = state.resources.get(changed)
                value = rec.to_dict() if rec is not None else None
                resources = record.setdefault("resources", {})
                if value is None:
                    resources.pop(changed, None)
                else:
                    resources[changed] = value
                self._append({"t": "r", "s": state.id, "k": changed, "v": value})
                return
            value = state.to_dict()
            stacks[state.id] = value
            self._append({"t": "s", "s": state.id, "v": value})

    def delete(self, stack_id: str) -> None:
        with self._lock:
            self._doc["stacks"].pop(stack_id, None)
            if self._doc.get("root") == stack_id:
                self._doc["root"] = None
            self._append({"t": "d", "s": stack_id})

    def list(self) -> list[str]:
        return sorted(self._doc["stacks"])

    def extra(self, key: str) -> Any:
        """Other top-level sections (the native store, events) kept in the same file."""
        return self._doc.get(key)

    def set_extra(self, key: str, value: Any) -> None:
        with self._lock:
            self._doc[key] = value
            self._append({"t": "x", "k": key, "v": value})

    def set_extra_item(self, key: str, path: tuple[str, ...], value: Any) -> None:
        """Set (``value`` not None) or remove one entry of a top-level section made of nested
        maps, writing only that entry: ``set_extra_item("native", (kind, id), record)``."""
        with self._lock:
            self._set_path(key, path, value)
            self._append({"t": "xi", "k": key, "p": list(path), "v": value})

    def compact(self) -> None:
        """Fold the journal into the base file now."""
        with self._lock:
            self._compact()

    def close(self) -> None:
        """Compact and close the journal (the store stays usable: it reopens it)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._journal_writes or self._journal is not None:
                self._compact()
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    def __enter__(self) -> JsonFileStateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the journal ------------------------------------------------------------------------
    def _set_path(self, key: str, path: tuple[str, ...], value: Any) -> None:
        node = self._doc.get(key)
        if not isinstance(node, dict):
            node = self._doc[key] = {}
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if value is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value

    def _apply(self, entry: Mapping[str, Any]) -> None:
        kind = entry.get("t")
        stacks = self._doc["stacks"]
        if kind == "r":
            record = stacks.get(entry["s"])
            if record is not None:
                resources = record.setdefault("resources", {})
                if entry.get("v") is None:
                    resources.pop(entry["k"], None)
                else:
                    resources[entry["k"]] = entry["v"]
        elif kind == "s":
            stacks[entry["s"]] = entry["v"]
        elif kind == "d":
            stacks.pop(entry["s"], None)
            if self._doc.get("root") == entry["s"]:
                self._doc["root"] = None
        elif kind == "x":
            self._doc[entry["k"]] = entry["v"]
        elif kind == "xi":
            self._set_path(entry["k"], tuple(entry["p"]), entry.get("v"))

    def _replay(self) -> None:
        """Apply the journal of this base; drop a torn tail or a journal of another base."""
        if not self.journal_path.exists():
            return
        with open(self.journal_path, "rb") as fh:
            raw = fh.read()
        good = 0
        entries: list[dict[str, Any]] = []
        stale = True
        for number, line in enumerate(raw.splitlines(keepends=True)):
            if not line.endswith(b"\n"):
                break                                   # torn last line
            try:
                entry = json.loads(line)
            except ValueError:
                break
            if number == 0:
                if not isinstance(entry, dict) or entry.get("generation") != self._generation:
                    break                               # belongs to an older base
                stale = False
            else:
                entries.append(entry)
            good += len(line)
        if stale:
            self.journal_path.unlink(missing_ok=True)
            return
        for entry in entries:
            self._apply(entry)
        self._journal_writes = len(entries)
        self._journal_bytes = good
        if good != len(raw):
            with open(self.journal_path, "r+b") as fh:
                fh.truncate(good)
                fh.flush()
                os.fsync(fh.fileno())

    def _timed_compact(self) -> None:
        with self._lock:
            self._timer = None
            if self._journal_writes:
                self._compact()

    def _open_journal(self) -> Any:
        if self._journal is None:
            if not self.path.exists():
                self._compact()                      # a base first: the file exists from now
            fresh = not self.journal_path.exists() or self.journal_path.stat().st_size == 0
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._journal = open(self.journal_path, "ab")  # noqa: SIM115 (kept open)
            if fresh:
                header = json.dumps({"generation": self._generation}).encode() + b"\n"
                self._journal.write(header)
                self._journal_bytes = len(header)
                self._journal_writes = 0
        return self._journal

    def _append(self, entry: Mapping[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"), default=str).encode("utf-8") + b"\n"
        fh = self._open_journal()
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
        self._journal_writes += 1
        self._journal_bytes += len(line)
        if self._journal_writes >= self.compact_every \
                and self._journal_bytes * 2 >= self._base_bytes:
            self._compact()
        elif self.compact_delay is not None and self._timer is None:
            self._timer = threading.Timer(self.compact_delay, self._timed_compact)
            self._timer.daemon = True
            self._timer.start()

    def _compact(self) -> None:
        """Write the base (next generation) atomically, then start an empty journal."""
        generation = self._generation + 1
        doc = {**self._doc, "generation": generation}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, separators=(",", ":"), default=str)
                fh.flush()
                os.fsync(fh.fileno())
                self._base_bytes = fh.tell()
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._generation = generation
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        # a journal of the previous generation is ignored from now on; empty it
        with open(self.journal_path, "wb") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        self._journal_writes = 0
        self._journal_bytes = 0
