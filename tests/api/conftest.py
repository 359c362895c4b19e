"""Fixtures of the API tests: the served API (:mod:`api_support`), stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import ApiServer


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path / "api-state")
    try:
        yield server
    finally:
        server.stop()
