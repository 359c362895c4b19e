"""The state file of the stack commands (``--state FILE``): opening it, checking it, and the
lock that lets one command at a time change it.

A command that changes the file (``run``, ``delete``, a ``signal`` delivered in-process) holds
``FILE.lock`` (:class:`StateLock`, an exclusive ``flock``) from before it reads the file until it
has written it for the last time: a second such command on the same file fails at once with
"in use by process N" instead of working from what the first one is about to change. A command
that only reads (``plan``, ``events``, ``output``) works on a private copy of the file and its
journal, so it never writes into the file a running command is writing.

A file that cannot be read back whole (cut short, hand-edited, empty) is refused with
:class:`DamagedState` naming it: it is never taken for "no previous run", which would make every
resource again.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from kubeheat.cli.args import UsageError
from kubeheat.cli.cloudopt import SANDBOX_SECTION, LazyCloud, check_snapshot
from kubeheat.engine import (
    Engine,
    FileNativeStore,
    JsonFileStateStore,
    ListEventSink,
    MemoryNativeStore,
    MemoryStateStore,
    StackState,
    StateStore,
)

EVENTS_SECTION = "events"
#: the fields of a recorded event that the commands read
EVENT_FIELDS = ("event_time", "resource_name", "resource_action", "resource_status",
                "resource_status_reason")


class DamagedState(UsageError):
    """The state file exists but cannot be read back as a kubeheat state file."""

    def __init__(self, path: Path, reason: str) -> None:
        self.reason = reason
        super().__init__(f"state file {path} is damaged: {reason} (restore it from a copy, "
                         "or move it away to start a new stack)")


class StateInUse(UsageError):
    """Another command holds the state file's lock."""

    def __init__(self, state: Path, pid: int) -> None:
        self.pid = pid
        holder = f"process {pid}" if pid else "another process"
        super().__init__(f"{state} is in use by {holder}")


def lock_path(state: Path) -> Path:
    return state.with_name(state.name + ".lock")


class StateLock:
    """``FILE.lock``, held (``flock``, exclusive) by the command that changes a state file; it
    holds that command's pid while it is held and is removed on release."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.path = lock_path(state)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`StateInUse` naming the process that holds it."""
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise UsageError(f"cannot lock {self.state}: {exc.strerror or exc}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _pid_in(fd)
                os.close(fd)
                raise StateInUse(self.state, pid) from None
            # the holder removes the file before it lets go: a lock taken on a removed file
            # is no lock, start again with the file now at the path
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _pid_in(fd: int) -> int:
    try:
        return int(os.pread(fd, 32, 0).decode().strip() or 0)
    except (OSError, ValueError):
        return 0


# -- checking a state file --------------------------------------------------------------------
def check_document(store: JsonFileStateStore) -> None:
    """Raise ``ValueError``/``TypeError`` (with the reason) when some part of the file that
    the commands read is not what kubeheat writes."""
    stacks = store.extra("stacks")
    if not isinstance(stacks, Mapping):
        raise ValueError('"stacks" is not a map')
    for stack_id, data in stacks.items():
        if not isinstance(data, Mapping):
            raise ValueError(f"stack {stack_id} is not a map")
        try:
            StackState.from_dict(data)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ValueError(f"stack {stack_id}: {exc}") from None
    root = store.extra("root")
    if root is not None and not isinstance(root, str):
        raise ValueError('"root" is not a stack id')
    events = store.extra(EVENTS_SECTION)
    if events is not None and (not isinstance(events, list) or not all(
            isinstance(e, Mapping) and all(isinstance(e.get(k), str) for k in EVENT_FIELDS)
            for e in events)):
        raise ValueError(f'"{EVENTS_SECTION}" is not a list of events')
    native = store.extra(FileNativeStore.SECTION)
    if native is not None and not (isinstance(native, Mapping) and all(
            isinstance(v, Mapping) for v in native.values())):
        raise ValueError(f'"{FileNativeStore.SECTION}" is not a map of records')
    snapshot = store.extra(SANDBOX_SECTION)
    if snapshot is not None:
        check_snapshot(snapshot)


def open_store(path: Path) -> JsonFileStateStore:
    """The state file at ``path`` (a new one when there is none), checked: raises
    :class:`DamagedState` when it cannot be read back whole."""
    try:
        if path.exists() and path.is_file() and not path.read_bytes().strip():
            raise DamagedState(path, "it is empty")
        store = JsonFileStateStore(path)
    except UnicodeDecodeError as exc:
        raise DamagedState(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        reason = str(exc).removeprefix(f"{path}: ")
        raise DamagedState(path, reason) from None
    except OSError as exc:
        raise UsageError(f"cannot read state file {path}: {exc.strerror or exc}") from None
    try:
        check_document(store)
    except (ValueError, TypeError) as exc:
        store.close()
        raise DamagedState(path, str(exc)) from None
    return store


def _private_copy(path: Path, directory: str) -> Path:
    """A copy of the state file and its journal in ``directory`` (the journal names the
    base it belongs to, so a copy taken while a command writes reads back consistent)."""
    copy = Path(directory) / path.name
    for source, target in ((path, copy), (path.with_name(path.name + ".journal"),
                                          copy.with_name(copy.name + ".journal"))):
        with contextlib.suppress(FileNotFoundError):
            shutil.copyfile(source, target)
    return copy


class Session:
    """The stores one command works with: the state file's (``readonly``: a private copy's),
    or memory's without ``--state``."""

    def __init__(self, state_path: Path | None, args: argparse.Namespace | None = None, *,
                 readonly: bool = False) -> None:
        self.path = state_path
        self.file: JsonFileStateStore | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        store: StateStore
        if state_path is not None:
            opened = state_path
            if readonly and state_path.exists():
                self._scratch = tempfile.TemporaryDirectory(prefix="kubeheat-read-")
                opened = _private_copy(state_path, self._scratch.name)
            try:
                self.file = open_store(opened)
            except DamagedState as exc:
                self._cleanup()
                raise DamagedState(state_path, exc.reason) from None
            except BaseException:
                self._cleanup()
                raise
            store = self.file
            self.native: MemoryNativeStore = FileNativeStore(self.file)
        else:
            store = MemoryStateStore()
            self.native = MemoryNativeStore()
        self.store = store
        self.events = ListEventSink()
        self.saved_events = 0
        self.cloud = LazyCloud(args or argparse.Namespace(), self.file)

    @property
    def root(self) -> str | None:
        return self.file.root if self.file is not None else None

    def engine(self, concurrency: int = 64) -> Engine:
        return Engine(self.store, self.events, native=self.native, cloud=self.cloud,
                      concurrency=concurrency)

    def close(self) -> None:
        try:
            self.persist_events()
            self.cloud.close()
            if self.file is not None:
                self.file.close()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def persist_events(self) -> None:
        if self.file is None or self.saved_events == len(self.events.events):
            return
        old = self.file.extra(EVENTS_SECTION) or []
        new = [e.to_dict() for e in self.events.events[self.saved_events:]]
        self.file.set_extra(EVENTS_SECTION, [*old, *new])
        self.saved_events = len(self.events.events)


def require_state(path: Path, args: argparse.Namespace | None = None, *,
                  readonly: bool = False) -> tuple[Session, str]:
    """The session of a state file that must exist and record a stack, and that stack's id."""
    if not path.exists():
        raise UsageError(f"state file {path} does not exist")
    session = Session(path, args, readonly=readonly)
    root = session.root
    if root is None or session.store.load(root) is None:
        session.close()
        raise UsageError(f"state file {path} holds no stack")
    return session, root


__all__ = ["DamagedState", "Session", "StateInUse", "StateLock", "open_store", "require_state"]
