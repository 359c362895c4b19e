"""The recorder: the only writer of actions and statuses, and the engine's door to its state
store and event sink.

Every status change of a stack or a resource goes through :meth:`Recorder.transition` or
:meth:`Recorder.stack_transition`, which set the action, status and reason (and whether the
action was interrupted), save the state and emit the event, in that order. Saves go to the
:class:`~kubeheat.engine.stores.StateStore` synchronously (a failing store stops the operation
with :class:`~kubeheat.engine.request.StateSaveError`). Child stack states read only for their
parents' attributes are kept in a small cache until this engine saves or deletes them.
"""

from __future__ import annotations

from kubeheat.engine.events import Event, EventSink
from kubeheat.engine.model import (
    CREATE,
    Action,
    ResourceState,
    StackState,
    Status,
    base_name,
    now,
)
from kubeheat.engine.request import StateSaveError
from kubeheat.engine.stores import StateStore

#: the resource type of a stack's own events, as Heat reports them
STACK_TYPE = "OS::Heat::Stack"
#: the reason of a transition that gives none
NO_REASON = "state changed"


class Recorder:
    """Saves and emits for one engine."""

    def __init__(self, store: StateStore, events: EventSink) -> None:
        self.store = store
        self.events = events
        #: states read for reading only, by stack id (see :meth:`load_cached`)
        self._cached: dict[str, StackState] = {}

    # -- reading ----------------------------------------------------------------------------
    def load(self, stack_id: str) -> StackState | None:
        """The stored state (a copy the caller owns)."""
        return self.store.load(stack_id)

    def load_cached(self, stack_id: str) -> StackState | None:
        """As :meth:`load`, for reading only: the state may be shared with other readers
        until it is saved again or :meth:`forget_cache` is called."""
        found = self._cached.get(stack_id)
        if found is None:
            found = self.store.load(stack_id)
            if found is not None:
                self._cached[stack_id] = found
        return found

    def forget_cache(self) -> None:
        """Drop every cached state (another process may have changed the store)."""
        self._cached.clear()

    # -- writing ----------------------------------------------------------------------------
    def save(self, state: StackState, changed: str | None = None) -> None:
        """Save ``state`` (``changed``: the one resource entry that changed)."""
        if self._cached:
            self._cached.pop(state.id, None)
        try:
            self.store.save(state, changed)
        except Exception as exc:
            raise StateSaveError(f"saving stack {state.id} failed: {exc}") from exc

    def delete(self, stack_id: str) -> None:
        self._cached.pop(stack_id, None)
        try:
            self.store.delete(stack_id)
        except Exception as exc:
            raise StateSaveError(f"deleting stack {stack_id} failed: {exc}") from exc

    def transition(self, state: StackState, key: str, rec: ResourceState, action: Action,
                   status: Status, reason: str = NO_REASON, *,
                   interrupted: bool = False) -> None:
        """Resource entry ``key`` of ``state`` is now ``action``/``status``: record, save,
        emit. ``interrupted``: a FAILED action that was cancelled or timed out, not refused."""
        rec.action, rec.status, rec.status_reason = action, status, reason
        rec.interrupted = interrupted
        self.save(state, key)
        self.emit(state, key, rec, action, status, reason)

    def stack_transition(self, state: StackState, action: Action, status: Status,
                         reason: str) -> None:
        """The stack itself is now ``action``/``status``: record, save, emit."""
        state.action, state.status, state.status_reason = action, status, reason
        state.updated_time = now() if action != CREATE else state.updated_time
        self.save(state)
        self.events.emit(Event(state.id, state.name, state.name, state.id, STACK_TYPE,
                               str(action), str(status), reason))

    @staticmethod
    def correct(rec: ResourceState, action: Action, status: Status) -> None:
        """Set a resource's state without an event or a save of its own (a ``CHECK_FAILED``
        resource that the cloud shows healthy again, before the operation acts on it)."""
        rec.action, rec.status, rec.interrupted = action, status, False

    def emit(self, state: StackState, key: str, rec: ResourceState, action: Action,
             status: Status, reason: str) -> None:
        """An event about resource entry ``key`` (without changing it)."""
        self.events.emit(Event(state.id, state.name, base_name(key), rec.physical_id,
                               rec.type, str(action), str(status), reason))


__all__ = ["NO_REASON", "STACK_TYPE", "Recorder"]
