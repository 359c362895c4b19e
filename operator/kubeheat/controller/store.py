"""The engine's state store for one Stack: a Secret owned by the Stack.

The whole engine state (every stack state of the Stack, nested ones included, and the records of
Heat's own resource types) may hold secret values (applied properties, hidden parameters), so it
lives compressed (xz: its 1 MiB window folds the template, the previous template and the applied
properties into about one copy) in a Secret named after the Stack, never in its status. The
engine saves synchronously after every step; this store keeps the latest state in memory and
writes it from a background task at most ``1 / min_interval`` times a second, at once when a
resource has just got its physical id, and always the last state (:meth:`SecretStateStore.flush`
at the end of every operation). Listeners (the status summary, the Events) are called after each
write.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import lzma
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from kubeheat.controller.crd import API_VERSION, KIND
from kubeheat.controller.kube import KubeClient, KubeError
from kubeheat.engine import MemoryNativeStore, StackState, clone

LOG = logging.getLogger("kubeheat.controller.store")

DATA_KEY = "state.json.xz"
FORMAT = 1
MAX_NAME = 253
#: Kubernetes refuses Secrets over 1 MiB (data, base64-encoded)
MAX_SECRET_BYTES = 1024 * 1024 - 4096


class StateTooLarge(Exception):
    """The compressed engine state does not fit into a Secret."""


def secret_name(stack_name: str) -> str:
    """The state Secret's name for a Stack (a hash keeps long names within 253)."""
    name = f"{stack_name}.kubeheat-state"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(stack_name.encode()).hexdigest()[:10]
    return f"{stack_name[:MAX_NAME - 26]}-{digest}.kubeheat-state"


def owner_reference(body: Mapping[str, Any]) -> dict[str, Any]:
    meta = body["metadata"]
    return {"apiVersion": API_VERSION, "kind": KIND, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": False}


class _Native(MemoryNativeStore):
    """Native records that mark the store dirty when they change."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        super().__init__()
        self._on_change = on_change

    def _changed(self, kind: str, record_id: str) -> None:
        self._on_change()


Listener = Callable[[], Awaitable[None]]


class SecretStateStore:
    """A :class:`~kubeheat.engine.stores.StateStore` kept in one Secret (see the module)."""

    def __init__(self, client: KubeClient, namespace: str, stack: Mapping[str, Any], *,
                 min_interval: float = 0.3) -> None:
        self.client = client
        self.namespace = namespace
        self.name = secret_name(stack["metadata"]["name"])
        self.owner = owner_reference(stack)
        self.labels = {"app.kubernetes.io/managed-by": "kubeheat",
                       "kubeheat.io/stack": stack["metadata"]["name"][:63]}
        self.min_interval = min_interval
        self.states: dict[str, dict[str, Any]] = {}
        self.root: str | None = None
        self.meta: dict[str, Any] = {}
        self.native = _Native(self._mark)
        self.listeners: list[Listener] = []
        self.writes = 0
        self._exists = False
        self._dirty = False
        self._urgent = False
        self._last_write = 0.0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._written_ids: dict[str, str | None] = {}
        self._lock = asyncio.Lock()

    @property
    def error(self) -> BaseException | None:
        """Why the Secret can no longer be written (the state is too large), if so."""
        return self._error

    # -- loading ------------------------------------------------------------------------
    async def load_all(self) -> bool:
        """Read the Secret; False when there is none (nothing was ever recorded)."""
        secret = await self.client.get(self.namespace, "secrets", self.name)
        if secret is None:
            return False
        self._exists = True
        self.restore(secret)
        return True

    def restore(self, secret: Mapping[str, Any]) -> None:
        """Take the record held in ``secret`` (a Secret object as the apiserver returns it)."""
        raw = (secret.get("data") or {}).get(DATA_KEY)
        if not raw:
            return
        doc = json.loads(lzma.decompress(base64.b64decode(raw)))
        if doc.get("format") != FORMAT:
            raise ValueError(f"Secret {self.name}: unknown state format {doc.get('format')}")
        self.states = dict(doc.get("stacks") or {})
        self.root = doc.get("root")
        self.meta = dict(doc.get("meta") or {})
        self.native.records = dict(doc.get("native") or {})
        self._written_ids = self._physical_ids()

    def _physical_ids(self) -> dict[str, Any]:
        """Physical ids of every stack's resources (nested ones keyed ``<stack id>/<name>``)."""
        ids: dict[str, Any] = {}
        for stack_id, doc in self.states.items():
            prefix = "" if stack_id == self.root else f"{stack_id}/"
            for name, rec in (doc.get("resources") or {}).items():
                ids[prefix + name] = rec.get("physical_id")
        return ids

    # -- the StateStore protocol (synchronous, in the event loop) ------------------------
    def load(self, stack_id: str) -> StackState | None:
        data = self.states.get(stack_id)
        return StackState.from_dict(clone(data)) if data is not None else None

    def save(self, state: StackState, changed: str | None = None) -> None:
        if self._error is not None:
            raise RuntimeError(f"the state Secret cannot be written: {self._error}")
        if self.root is None and state.parent is None:
            self.root = state.id
        record = self.states.get(state.id)
        if changed is not None and record is not None:
            rec = state.resources.get(changed)
            resources = record.setdefault("resources", {})
            if rec is None:
                resources.pop(changed, None)
            else:
                resources[changed] = rec.to_dict()
        else:
            self.states[state.id] = state.to_dict()
        if changed is not None:
            rec = state.resources.get(changed)
            key = changed if state.id == self.root else f"{state.id}/{changed}"
            if rec is not None and rec.physical_id and \
                    self._written_ids.get(key) != rec.physical_id:
                self._urgent = True    # a new physical id (any stack, nested too): write now
        self._mark()

    def delete(self, stack_id: str) -> None:
        self.states.pop(stack_id, None)
        if self.root == stack_id:
            self.root = None
        self._mark()

    def list(self) -> list[str]:
        return sorted(self.states)

    # -- state of the Stack (for the controller) ----------------------------------------
    def root_state(self) -> StackState | None:
        return self.load(self.root) if self.root else None

    def set_meta(self, **values: Any) -> None:
        self.meta.update(values)
        self._mark()

    # -- writing ------------------------------------------------------------------------
    def _mark(self) -> None:
        self._dirty = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # outside a loop (tests): flush() writes it
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._flusher(), name=f"flush {self.name}")
        assert self._wake is not None
        self._wake.set()

    async def _flusher(self) -> None:
        assert self._wake is not None
        delay = 0.5
        while True:
            await self._wake.wait()
            self._wake.clear()
            wait = self.min_interval - (time.monotonic() - self._last_write)
            if wait > 0 and not self._urgent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake_urgent(), wait)
            if not self._dirty:
                continue
            try:
                await self._write()
                delay = 0.5
            except asyncio.CancelledError:
                raise
            except StateTooLarge as exc:
                self._error = exc
                LOG.error("%s", exc)
                return
            except Exception as exc:
                LOG.warning("writing Secret %s/%s failed (retrying in %.1fs): %s",
                            self.namespace, self.name, delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                self._wake.set()

    async def _wake_urgent(self) -> None:
        while not self._urgent:
            assert self._wake is not None
            await self._wake.wait()
            self._wake.clear()

    def snapshot(self) -> bytes:
        """The whole record as JSON (taken in the event loop: the engine mutates it)."""
        doc = {"format": FORMAT, "root": self.root, "stacks": self.states, "meta": self.meta,
               "native": self.native.records}
        return json.dumps(doc, separators=(",", ":"), default=str).encode()

    @staticmethod
    def encode(raw: bytes) -> str:
        """Compressed and base64-encoded (run in a thread: large states take a while)."""
        out = base64.b64encode(lzma.compress(raw, preset=1)).decode()
        if len(out) > MAX_SECRET_BYTES:
            raise StateTooLarge(f"the engine state of this Stack is {len(out)} bytes compressed, "
                                f"more than a Secret holds ({MAX_SECRET_BYTES})")
        return out

    async def _write(self) -> None:
        async with self._lock:
            await self._write_locked()

    async def _write_locked(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self._urgent = False
        ids = self._physical_ids()
        try:
            raw = self.snapshot()
            data = self.encode(raw) if len(raw) < 65536 else \
                await asyncio.to_thread(self.encode, raw)
            body = {"apiVersion": "v1", "kind": "Secret", "type": "kubeheat.io/engine-state",
                    "metadata": {"name": self.name, "namespace": self.namespace,
                                 "labels": self.labels, "ownerReferences": [self.owner]},
                    "data": {DATA_KEY: data}}
            if self._exists:
                await self.client.upsert(self.namespace, "secrets", body)
            else:
                try:
                    await self.client.create(self.namespace, "secrets", body)
                except KubeError as exc:
                    if exc.status != 409:
                        raise
                    await self.client.replace(self.namespace, "secrets", self.name, body)
                self._exists = True
        except BaseException:
            self._dirty = True
            raise
        self.writes += 1
        self._last_write = time.monotonic()
        self._written_ids = ids
        for listener in list(self.listeners):
            try:
                await listener()
            except Exception as exc:   # a status or Event failure must not stop the writes
                LOG.warning("after writing %s: %s", self.name, exc)

    async def flush(self, attempts: int = 5) -> None:
        """Write now if anything is unwritten (and call the listeners); raises when the
        Secret cannot be written."""
        if isinstance(self._error, StateTooLarge):
            raise StateTooLarge(str(self._error))
        if self._error is not None:
            raise RuntimeError(str(self._error))
        delay = 0.5
        for attempt in range(attempts):
            if not self._dirty:
                for listener in list(self.listeners):
                    with contextlib.suppress(Exception):
                        await listener()
                return
            try:
                await self._write()
                return
            except StateTooLarge:
                raise
            except Exception:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(delay)
                delay *= 2

    async def close(self) -> None:
        """Write what is unwritten and stop the background task."""
        try:
            if self._dirty:
                await self.flush()
        finally:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
                self._task = None

    async def remove(self) -> None:
        """Delete the Secret (the stack is gone)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self._dirty = False
        await self.client.delete(self.namespace, "secrets", self.name)
        self._exists = False
