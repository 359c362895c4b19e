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


def test_the_sandbox_cloud_is_kept_in_the_state_directory(tmp_path: Path) -> None:
    from kubeheat.engine import StackRequest

    template = {"heat_template_version": "2018-08-31",
                "resources": {"net": {"type": "OS::Neutron::Net",
                                      "properties": {"name": "api-kept-net"}}}}

    async def create() -> str:
        backend = EmbeddedBackend(tmp_path)
        try:
            state = await backend.create(StackRequest(name="api_kept", template=template))
            for _ in range(600):
                found = backend.get(state.id)
                if found is not None and found.status != Status.IN_PROGRESS:
                    break
                await asyncio.sleep(0.05)
            return backend.get(state.id).state  # type: ignore[union-attr]
        finally:
            await backend.close()

    assert asyncio.run(create()) == "CREATE_COMPLETE"
    again = EmbeddedBackend(tmp_path)
    try:
        assert again.cloud.conn.network.find_network("api-kept-net") is not None
    finally:
        asyncio.run(again.close())
