"""Suite-wide test hygiene."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _swift_metadata_isolation() -> Iterator[None]:
    """openstacksdk's object-store resources share one class-level ``metadata`` dict that the
    ``metadata=`` argument writes into (an upstream bug kubeheat works around in its Swift
    plugin). Empty it after each test so one test's containers cannot leak metadata into the
    next test's calls. Nothing is replaced or mocked: the SDK's own dict is only cleared."""
    yield
    try:
        from openstack.object_store.v1._base import BaseResource
    except ImportError:  # pragma: no cover - openstacksdk is a dependency
        return
    BaseResource.metadata.clear()
