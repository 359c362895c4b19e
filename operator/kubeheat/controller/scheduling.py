"""Fair scheduling of the operator's reconciles, and deletes that always end.

Slots. The operator runs at most ``Options.concurrency`` Stack operations (create, update,
drift check) at once. A slot is held for the whole operation: an operation cannot be paused, and
one that only waits (a ``TestResource`` sleeping, a ``WaitCondition`` nobody signals) is bounded
by the stack timeout (``spec.timeoutMinutes``, else the operator's ``--default-stack-timeout``,
Heat's 60 minutes), not by the scheduler. So that such operations in one namespace cannot starve
the others, :class:`FairSlots` gives

* each namespace a share: it never holds more than ``Options.namespace_concurrency`` slots
  (default a quarter of the slots), so a namespace full of slow Stacks leaves the other slots
  to the other namespaces;
* round-robin admission across namespaces: when a slot frees, the next namespace in turn with
  a waiting Stack under its share gets it (first come, first served within a namespace);
* one slot per Stack at most: the per-Stack lock is taken before the slot, so a Stack's
  reconcile and its drift check never hold two.

Deletes take no slot: a delete must never wait behind slow creates. Each delete is bounded by
the stack timeout, and it has only one Stack's resources to remove.

Deletes end. kopf handles one object's events one at a time, so the delete handler of a Stack
only runs once its create or update handler returns. :class:`DeletionWatch` therefore watches
the Stacks' metadata in each namespace where some Stack is queued or reconciling (one
metadata-only list, then a metadata-only watch, for as long as one is; after an error it starts
again ``Options.deletion_poll_interval`` seconds later). :meth:`Admission.admit` gives up a
reconcile still waiting for its lock or slot once its Stack is being deleted, and
:meth:`Ticket.guard` cancels the engine operation in progress (no rollback, as Heat's delete
supersedes a create), so the handler returns and kopf runs the delete, with either deletion
policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from kubeheat.controller.kube import KubeClient

LOG = logging.getLogger("kubeheat.controller")
T = TypeVar("T")

#: how often a cancelled operation is asked again to stop (it may not have started yet)
CANCEL_REPEAT = 0.5


class StackDeleted(Exception):
    """The Stack is being deleted: the work done for it was cancelled."""


class _Gauge(Protocol):
    def inc(self, amount: float = 1) -> None: ...

    def dec(self, amount: float = 1) -> None: ...


class _NoGauge:
    def inc(self, amount: float = 1) -> None:
        pass

    def dec(self, amount: float = 1) -> None:
        pass


def default_namespace_share(concurrency: int) -> int:
    """A namespace's share of the slots when none is given: a quarter of them (at least 1)."""
    return max(1, concurrency // 4)


class FairSlots:
    """``total`` slots shared round-robin between namespaces, at most ``per_namespace`` each.

    A free slot goes to the namespace served least recently among those with a waiter under
    their share (a namespace never served, or idle since, first; ties: the oldest waiter)."""

    def __init__(self, total: int, per_namespace: int | None = None, *,
                 queued: _Gauge | None = None, running: _Gauge | None = None) -> None:
        self.total = max(1, total)
        self.per_namespace = max(1, min(self.total, per_namespace or self.total))
        self.held: dict[str, int] = {}
        self._queues: dict[str, deque[tuple[int, asyncio.Future[None]]]] = {}
        #: when each namespace holding or wanting slots was last given one
        self._served: dict[str, int] = {}
        self._tick = 0
        self._queued: _Gauge = queued or _NoGauge()
        self._running: _Gauge = running or _NoGauge()

    @property
    def in_use(self) -> int:
        return sum(self.held.values())

    def waiting(self, namespace: str | None = None) -> int:
        names = list(self._queues) if namespace is None else [namespace]
        return sum(1 for n in names for _, f in self._queues.get(n, ()) if not f.done())

    @contextlib.asynccontextmanager
    async def hold(self, namespace: str) -> AsyncIterator[None]:
        await self.acquire(namespace)
        try:
            yield
        finally:
            self.release(namespace)

    async def acquire(self, namespace: str) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tick += 1
        self._queues.setdefault(namespace, deque()).append((self._tick, fut))
        self._dispatch()
        if fut.done():
            return
        self._queued.inc()
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release(namespace)      # granted, but the waiter went away
            else:
                fut.cancel()
                self._dispatch()
            raise
        finally:
            self._queued.dec()

    def release(self, namespace: str) -> None:
        count = self.held.get(namespace, 0) - 1
        if count > 0:
            self.held[namespace] = count
        else:
            self.held.pop(namespace, None)
        self._running.dec()
        self._dispatch()

    def _dispatch(self) -> None:
        """Grant the free slots, one at a time, by :class:`FairSlots`' rule."""
        while self.in_use < self.total:
            best: tuple[int, int, str] | None = None
            for namespace, queue in list(self._queues.items()):
                while queue and queue[0][1].done():
                    queue.popleft()
                if not queue:
                    del self._queues[namespace]
                    continue
                if self.held.get(namespace, 0) >= self.per_namespace:
                    continue
                key = (self._served.get(namespace, -1), queue[0][0], namespace)
                if best is None or key < best:
                    best = key
            if best is None:
                break
            namespace = best[2]
            self._queues[namespace].popleft()[1].set_result(None)
            self.held[namespace] = self.held.get(namespace, 0) + 1
            self._tick += 1
            self._served[namespace] = self._tick
            self._running.inc()
        for namespace in [n for n in self._served
                          if n not in self.held and n not in self._queues]:
            del self._served[namespace]      # idle: it comes first next time


class DeletionWatch:
    """Which of the watched Stacks are being deleted (``deletionTimestamp`` set, or gone)."""

    def __init__(self, client: Callable[[], KubeClient], interval: float,
                 group: str, version: str, plural: str) -> None:
        self._client = client
        self.interval = interval
        self._path = (group, version, plural)
        self._watched: dict[str, dict[str, list[asyncio.Event]]] = {}
        self._pollers: dict[str, asyncio.Task[None]] = {}
        #: the uids seen being deleted by a namespace's running poller (a reconcile that
        #: registers after the poller saw its deletion is told at once)
        self._seen: dict[str, set[str]] = {}

    @contextlib.contextmanager
    def watch(self, namespace: str, uid: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._watched.setdefault(namespace, {}).setdefault(uid, []).append(event)
        if uid in self._seen.get(namespace, ()):
            event.set()
        if namespace not in self._pollers or self._pollers[namespace].done():
            self._seen[namespace] = set()
            self._pollers[namespace] = asyncio.create_task(
                self._poll(namespace), name=f"kubeheat-deletions-{namespace}")
        try:
            yield event
        finally:
            events = self._watched.get(namespace, {}).get(uid, [])
            if event in events:
                events.remove(event)
            if not events:
                self._watched.get(namespace, {}).pop(uid, None)
            if not self._watched.get(namespace):
                self._watched.pop(namespace, None)
                self._seen.pop(namespace, None)
                poller = self._pollers.pop(namespace, None)
                if poller is not None:
                    poller.cancel()

    def close(self) -> None:
        for poller in self._pollers.values():
            poller.cancel()
        self._pollers.clear()

    async def _poll(self, namespace: str) -> None:
        """List the namespace's Stacks (metadata only), then watch them, for as long as one
        of them is watched; start again after an error (``interval`` seconds later)."""
        group, version, plural = self._path
        version_seen = ""
        while self._watched.get(namespace):
            try:
                client = self._client()
                if not version_seen:
                    items, version_seen = await client.list_metadata(group, version, plural,
                                                                     namespace)
                    listed = {str(m.get("uid")): m for m in items}
                    for uid, meta in listed.items():
                        if meta.get("deletionTimestamp"):
                            self._deleting(namespace, uid)
                    for uid in list(self._watched.get(namespace, {})):
                        if uid not in listed:
                            self._deleting(namespace, uid)    # gone already
                events = 0
                async for kind, meta in client.watch_metadata(group, version, plural,
                                                              namespace, version_seen):
                    events += 1
                    if kind == "ERROR":              # too old a version (410): list again
                        version_seen = ""
                        break
                    version_seen = str(meta.get("resourceVersion") or version_seen)
                    if kind == "DELETED" or meta.get("deletionTimestamp"):
                        self._deleting(namespace, str(meta.get("uid")))
                if events:
                    continue                         # the watch timed out: watch on
            except Exception as exc:  # not logged in yet, the API down: go on
                LOG.debug("watching the Stacks of %s failed: %s", namespace, exc)
                version_seen = ""
            await asyncio.sleep(self.interval)

    def _deleting(self, namespace: str, uid: str) -> None:
        self._seen.setdefault(namespace, set()).add(uid)
        for event in self._watched.get(namespace, {}).get(uid, ()):
            event.set()


@dataclass
class Ticket:
    """A reconcile admitted to run; ``deleting`` is set once its Stack is being deleted."""

    deleting: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def deleted(self) -> bool:
        return self.deleting.is_set()

    async def guard(self, work: Awaitable[T],
                    cancel: Callable[[], Awaitable[Any]] | None = None) -> T:
        """Await ``work``; once the Stack is being deleted, call ``cancel`` (again every
        :data:`CANCEL_REPEAT` seconds until ``work`` ends, it may not have begun its
        operation yet) and return what ``work`` returns. Without ``cancel`` the work is
        cancelled itself and :class:`StackDeleted` raised."""
        task = asyncio.ensure_future(work)
        waiter = asyncio.ensure_future(self.deleting.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            while not task.done():
                if cancel is None:
                    task.cancel()
                    await asyncio.wait({task})
                    raise StackDeleted()
                await cancel()
                await asyncio.wait({task}, timeout=CANCEL_REPEAT)
            return task.result()
        finally:
            waiter.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


class Admission:
    """The per-Stack lock, the fair slots and the deletion watch, taken together."""

    def __init__(self, slots: FairSlots, deletions: DeletionWatch) -> None:
        self.slots = slots
        self.deletions = deletions

    @contextlib.asynccontextmanager
    async def admit(self, namespace: str, uid: str, lock: asyncio.Lock
                    ) -> AsyncIterator[Ticket]:
        """Take the Stack's lock, then a slot. A Stack being deleted before it gets both is
        not run: the ticket comes back with :attr:`Ticket.deleted` set and nothing held."""
        with self.deletions.watch(namespace, uid) as deleting:
            ticket = Ticket(deleting)
            task = asyncio.ensure_future(self._take(namespace, lock))
            waiter = asyncio.ensure_future(deleting.wait())
            try:
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            except BaseException:
                if task.done() and not task.cancelled() and task.exception() is None:
                    self._give_back(namespace, lock)
                raise
            finally:
                waiter.cancel()
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if task.cancelled():
                yield ticket          # deleted while queued: nothing held, nothing to run
                return
            task.result()
            try:
                yield ticket
            finally:
                self._give_back(namespace, lock)

    def _give_back(self, namespace: str, lock: asyncio.Lock) -> None:
        self.slots.release(namespace)
        lock.release()

    async def _take(self, namespace: str, lock: asyncio.Lock) -> None:
        await lock.acquire()
        try:
            await self.slots.acquire(namespace)
        except BaseException:
            lock.release()
            raise
