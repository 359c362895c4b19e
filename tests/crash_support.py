"""A state store that simulates the engine's process dying (or being cancelled) at a given
save: shared by the engine's and the cloud plugins' crash-safety tests."""

from __future__ import annotations

import asyncio
from typing import Any

from kubeheat.engine import MemoryStateStore, StackState


class Crash(Exception):
    pass


class CrashingStore(MemoryStateStore):
    """Fails every save from the ``limit``-th on (the process is dead from then on), or
    cancels the running task at that save (``cancel=True``)."""

    def __init__(self, inner: MemoryStateStore, limit: int, cancel: bool = False) -> None:
        super().__init__()
        self.inner = inner
        self.limit = limit
        self.cancel = cancel
        self.count = 0
        self.task: asyncio.Task[Any] | None = None

    def load(self, stack_id: str) -> StackState | None:
        return self.inner.load(stack_id)

    def save(self, state: StackState, changed: str | None = None) -> None:
        self.count += 1
        if self.count >= self.limit:
            if not self.cancel:
                raise Crash(f"crash at save {self.count}")
            if self.count == self.limit and self.task is not None:
                self.task.cancel()
        self.inner.save(state, changed)

    def delete(self, stack_id: str) -> None:
        self.inner.delete(stack_id)

    def list(self) -> list[str]:
        return self.inner.list()
