"""One sandbox cloud for the cloud-session tests (real openstacksdk over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubeheat.sandbox import SandboxCloud, SandboxConfig, run_sandbox


@pytest.fixture(scope="module")
def cloud() -> Iterator[SandboxCloud]:
    config = SandboxConfig(build_delay=0.05, volume_delay=0.05, image_delay=0.05)
    with run_sandbox(config) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _no_faults_left(cloud: SandboxCloud) -> Iterator[None]:
    yield
    cloud.clear_faults()
