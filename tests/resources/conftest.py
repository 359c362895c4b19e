"""Shared fixtures of the OpenStack resource tests: one sandbox cloud for the whole session
(short BUILD delays), a real openstacksdk connection to it over HTTP, and an ``engine`` factory
giving an :class:`~kubeheat.engine.executor.Engine` wired to that cloud."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openstack
import openstack.connection
import pytest

from kubeheat.engine import Engine, ListEventSink, MemoryStateStore
from kubeheat.sandbox import SandboxCloud, SandboxConfig, run_sandbox

#: transitional states last this long in the resource tests' sandbox (seconds)
DELAYS = {"build_delay": 0.05, "volume_delay": 0.05, "image_delay": 0.05}

EngineFactory = Callable[..., tuple[Engine, MemoryStateStore, ListEventSink]]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxCloud]:
    with run_sandbox(SandboxConfig(**DELAYS)) as cloud:  # type: ignore[arg-type]
        yield cloud


@pytest.fixture(scope="session")
def conn(sandbox: SandboxCloud) -> Iterator[openstack.connection.Connection]:
    """A plain openstacksdk connection to the sandbox (no kubeheat guard)."""
    connection = openstack.connect(load_yaml_config=False, load_envvars=False,
                                   **sandbox.cloud_config)
    yield connection
    connection.close()


@pytest.fixture(autouse=True)
def _sandbox_faults_cleared(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults injected by a test never leak into the next one."""
    yield
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").clear_faults()


@pytest.fixture
def engine(conn: openstack.connection.Connection) -> Iterator[EngineFactory]:
    """``engine(store=None, cloud=conn)`` -> (Engine, store, events), closed after the test."""
    made: list[Engine] = []

    def factory(store: MemoryStateStore | None = None, cloud: Any = conn,
                **kwargs: Any) -> tuple[Engine, MemoryStateStore, ListEventSink]:
        store = store if store is not None else MemoryStateStore()
        events = ListEventSink()
        eng = Engine(store, events, cloud=cloud, **kwargs)
        made.append(eng)
        return eng, store, events

    yield factory
    for eng in made:
        eng.close()


class LosePhysicalIdStore(MemoryStateStore):
    """A store whose process "dies" at the save recording ``resource``'s physical id: that save
    and every later one fail, so the inner store keeps the resource IN_PROGRESS without a
    physical id while the cloud already has it (the crash window ``find_existing`` covers)."""

    def __init__(self, inner: MemoryStateStore, resource: str) -> None:
        super().__init__()
        self.inner = inner
        self.resource = resource
        self.dead = False

    def load(self, stack_id: str) -> Any:
        return self.inner.load(stack_id)

    def save(self, state: Any, changed: str | None = None) -> None:
        rec = state.resources.get(self.resource)
        if self.dead or (rec is not None and rec.physical_id is not None):
            self.dead = True
            raise RuntimeError("process died")
        self.inner.save(state, changed)

    def delete(self, stack_id: str) -> None:
        self.inner.delete(stack_id)

    def list(self) -> list[str]:
        return self.inner.list()


@pytest.fixture
def crash_store() -> Callable[[MemoryStateStore, str], LosePhysicalIdStore]:
    """``crash_store(inner, resource)``: see :class:`LosePhysicalIdStore`."""
    return LosePhysicalIdStore
