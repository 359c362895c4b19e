"""The stack and resource state machine, and the state stores that record it.

Actions and statuses are Heat's (``CREATE_IN_PROGRESS``, ``UPDATE_FAILED``, ``ROLLBACK_COMPLETE``
...). A :class:`StackState` holds what the engine last applied: the template, parameters,
environment and files it applied, and per resource a :class:`ResourceState` (physical id,
applied properties, cached attributes, plugin data, status). A :class:`StateStore` persists it;
the engine saves after every step, so a crash loses at most the step in flight, and that step is
recovered through the resource's tags (``find_existing``).
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

# -- actions and statuses ---------------------------------------------------------------------
INIT, CREATE, UPDATE, DELETE, ROLLBACK, CHECK, ADOPT, SUSPEND, RESUME = (
    "INIT", "CREATE", "UPDATE", "DELETE", "ROLLBACK", "CHECK", "ADOPT", "SUSPEND", "RESUME")
ACTIONS = (INIT, CREATE, UPDATE, DELETE, ROLLBACK, CHECK, ADOPT, SUSPEND, RESUME)
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"
STATUSES = (IN_PROGRESS, COMPLETE, FAILED)


def status_word(action: str, status: str) -> str:
    """``CREATE`` + ``COMPLETE`` -> ``CREATE_COMPLETE``."""
    return f"{action}_{status}"


def now() -> str:
    """UTC timestamp as Heat prints it (``2026-11-30T07:29:07Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars), several times faster than
    ``copy.deepcopy``; anything else falls back to ``copy.deepcopy``."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        return {k: clone(v) for k, v in value.items()}
    if kind is list:
        return [clone(v) for v in value]
    if kind is tuple:
        return tuple(clone(v) for v in value)
    return copy.deepcopy(value)


@dataclass
class ResourceState:
    """What the engine recorded of one resource."""

    name: str
    type: str
    action: str = INIT
    status: str = COMPLETE
    status_reason: str = ""
    physical_id: str | None = None
    #: properties as last applied (resolved values)
    properties: dict[str, Any] = field(default_factory=dict)
    #: attribute values cached after the last create/update/read
    attributes: dict[str, Any] = field(default_factory=dict)
    #: plugin-private data
    data: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    #: resources this one depended on when applied (orders the delete of removed resources)
    requires: list[str] = field(default_factory=list)
    deletion_policy: str = "Delete"
    created_time: str | None = None
    updated_time: str | None = None
    #: a replaced resource waiting to be deleted keeps its entry under ``<name>~<n>``
    replaced_by: str | None = None
    #: unique id of this incarnation of the resource (a replacement gets a new one); names
    #: the child stacks a nested-stack resource runs, so a rerun after a crash finds them
    uid: str | None = None
    #: child stacks this resource runs (NestedStacks): child id -> stack id
    nested: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return status_word(self.action, self.status)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def copy(self) -> ResourceState:
        out = copy.copy(self)
        for name in ("properties", "attributes", "data", "metadata", "requires", "nested"):
            setattr(out, name, clone(getattr(self, name)))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceState:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class StackState:
    """What the engine recorded of one stack."""

    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = "stack"
    action: str = INIT
    status: str = COMPLETE
    status_reason: str = ""
    #: the applied template document, parameters (user-given values), environment and files
    template: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    #: names of parameters whose values must never be shown (hidden)
    hidden: list[str] = field(default_factory=list)
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    #: output errors (output name -> message), as Heat's output_error
    output_errors: dict[str, str] = field(default_factory=dict)
    created_time: str | None = None
    updated_time: str | None = None
    disable_rollback: bool = False
    timeout_minutes: float | None = None
    #: child stacks run by nested-stack resources: child stack id -> parent resource name
    parent: str | None = None
    #: the previous applied template (what a rollback restores)
    previous: dict[str, Any] | None = None

    @property
    def state(self) -> str:
        return status_word(self.action, self.status)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["resources"] = {k: v.to_dict() for k, v in self.resources.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StackState:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["resources"] = {k: ResourceState.from_dict(v)
                               for k, v in (data.get("resources") or {}).items()}
        return cls(**values)

    def copy(self) -> StackState:
        out = copy.copy(self)
        for name in ("template", "parameters", "environment", "files", "hidden", "outputs",
                     "output_errors", "previous"):
            setattr(out, name, clone(getattr(self, name)))
        out.resources = {k: v.copy() for k, v in self.resources.items()}
        return out


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

    Writes are atomic (temporary file + rename) and flushed to disk.
    """

    VERSION = 1

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._doc: dict[str, Any] = {"version": self.VERSION, "root": None, "stacks": {}}
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8")
            if text.strip():
                doc = json.loads(text)
                if not isinstance(doc, dict) or doc.get("version") != self.VERSION:
                    raise ValueError(f"{self.path}: not a kubeheat state file")
                self._doc = doc

    @property
    def root(self) -> str | None:
        """The id of the top-level stack this file was made for."""
        root = self._doc.get("root")
        return str(root) if root else None

    def set_root(self, stack_id: str) -> None:
        with self._lock:
            self._doc["root"] = stack_id
            self._write()

    def load(self, stack_id: str) -> StackState | None:
        data = self._doc["stacks"].get(stack_id)
        return StackState.from_dict(data) if data is not None else None

    def save(self, state: StackState, changed: str | None = None) -> None:
        with self._lock:
            self._doc["stacks"][state.id] = state.to_dict()
            self._write()

    def delete(self, stack_id: str) -> None:
        with self._lock:
            self._doc["stacks"].pop(stack_id, None)
            if self._doc.get("root") == stack_id:
                self._doc["root"] = None
            self._write()

    def list(self) -> list[str]:
        return sorted(self._doc["stacks"])

    def extra(self, key: str) -> Any:
        """Other top-level sections (the native store, events) kept in the same file."""
        return self._doc.get(key)

    def set_extra(self, key: str, value: Any) -> None:
        with self._lock:
            self._doc[key] = value
            self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self._doc, fh, separators=(",", ":"), default=str)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
