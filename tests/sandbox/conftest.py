"""A sandbox cloud per test module and an openstacksdk connection to it (real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import openstack.connection
import pytest
from sandbox_support import FAST, sdk

from kubeheat.sandbox import SandboxCloud, SandboxConfig, run_sandbox


@pytest.fixture(scope="module")
def cloud() -> Iterator[SandboxCloud]:
    with run_sandbox(SandboxConfig(**FAST)) as sandbox:  # type: ignore[arg-type]
        yield sandbox


@pytest.fixture(scope="module")
def conn(cloud: SandboxCloud) -> Iterator[openstack.connection.Connection]:
    connection = sdk(cloud)
    yield connection
    connection.close()


@pytest.fixture(autouse=True)
def _no_faults_left(cloud: SandboxCloud) -> Iterator[None]:
    yield
    cloud.clear_faults()
