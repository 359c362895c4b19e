"""The embedded backend across restarts of its process: what a stopped process left
``IN_PROGRESS`` is ``FAILED`` with Heat's reason when the next one opens the state directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kubeheat.api import EmbeddedBackend
from kubeheat.engine import Action, StackState, Status


def test_interrupted_operations_are_failed_on_restart(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path)
    backend.store.save(StackState(id="s1", name="api_cut", action=Action.CREATE,
                                  status=Status.IN_PROGRESS,
                                  status_reason="Stack CREATE started"))
    asyncio.run(backend.close())
    again = EmbeddedBackend(tmp_path)
    try:
        state = again.get("s1")
        assert state is not None
        assert (state.state, state.status_reason) == (
            "CREATE_FAILED", "Engine went down during stack CREATE")
        assert [s.name for s in again.stacks()] == ["api_cut"]
    finally:
        asyncio.run(again.close())
