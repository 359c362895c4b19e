"""The graph walk: runs one coroutine per node of a dependency graph, each as soon as the nodes
it depends on have finished, the whole walk bounded by a deadline and stopped by the first
failure (what is in flight then finishes). Used by the executor for converging (template
order) and deleting (reverse order).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Collection, Coroutine, Mapping
from typing import Any

from kubeheat.engine.request import ResourceFailed


class GraphWalk:
    """Runs ``run(node)`` for every node of a dependency graph, each as soon as the nodes it
    depends on have finished. The first failure stops the walk: nothing new starts, and the
    actions in flight finish (as in Heat's convergence engine); a timeout, a cancellation or
    a crash cancels them."""

    def __init__(self, deps: Mapping[str, Collection[str]],
                 run: Callable[[str], Coroutine[Any, Any, None]]) -> None:
        self.run = run
        self.remaining = {n: len(d) for n, d in deps.items()}
        self.users: dict[str, list[str]] = {n: [] for n in deps}
        for node, needs in deps.items():
            for dep in needs:
                self.users[dep].append(node)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.failure: ResourceFailed | None = None
        self.crash: BaseException | None = None
        self.stopped = False
        self.timed_out = False
        self.finished = 0
        self._done: asyncio.Future[None] | None = None

    def _start(self, node: str) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(self.run(node))
        self.tasks[node] = task
        task.add_done_callback(functools.partial(self._finished, node))

    def _finished(self, node: str, task: asyncio.Task[None]) -> None:
        self.tasks.pop(node, None)
        if not task.cancelled():
            exc = task.exception()
            if exc is None:
                self.finished += 1
                if not self.stopped:
                    for user in self.users[node]:
                        self.remaining[user] -= 1
                        if self.remaining[user] == 0:
                            self._start(user)
            elif isinstance(exc, ResourceFailed):
                # as Heat's convergence engine: nothing new starts, what is in flight finishes
                if self.failure is None:
                    self.failure = exc
                self.stopped = True
            else:
                if self.crash is None:
                    self.crash = exc
                self.stop(None)
        if not self.tasks and self._done is not None and not self._done.done():
            self._done.set_result(None)

    def stop(self, reason: str | None) -> None:
        """Start nothing more and cancel what is in flight (``reason`` goes into their
        ``<ACTION> aborted (<reason>)`` status)."""
        self.stopped = True
        for task in list(self.tasks.values()):
            task.cancel(reason)

    async def execute(self, deadline: float | None) -> None:
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        for node, count in list(self.remaining.items()):
            if count == 0:
                self._start(node)
        if not self.tasks:
            self._done.set_result(None)
        try:
            if deadline is None:
                await asyncio.shield(self._done)
            else:
                await asyncio.wait_for(asyncio.shield(self._done),
                                       max(deadline - time.monotonic(), 0.0))
        except TimeoutError:
            self.timed_out = True
            self.stop("Timed out")
            await asyncio.shield(self._done)
        except asyncio.CancelledError:
            self.stop(None)
            try:
                await asyncio.shield(self._done)
            finally:
                raise
        if self.crash is not None:
            raise self.crash


__all__ = ["GraphWalk"]
