"""The CLI's cloud names its project (``OS::project_id``) without starting the sandbox."""

from __future__ import annotations

import argparse
from pathlib import Path

from kubeheat.cli.cloudopt import SANDBOX_SECTION, LazyCloud
from kubeheat.cli.statefile import open_store
from kubeheat.template import SANDBOX_PROJECT_ID


def test_a_fresh_sandbox_is_not_started_for_its_project() -> None:
    cloud = LazyCloud(argparse.Namespace(), None, environ={})
    assert cloud.project_id is None        # the engine then uses SANDBOX_PROJECT_ID ...
    assert not cloud.started
    try:
        # ... which is the project a started sandbox has
        assert cloud.session.project_id == SANDBOX_PROJECT_ID
        assert cloud.project_id == SANDBOX_PROJECT_ID
    finally:
        cloud.close()


def test_a_saved_sandbox_keeps_its_project(tmp_path: Path) -> None:
    store = open_store(tmp_path / "state.json")
    store.set_extra(SANDBOX_SECTION, {"version": 1, "project": {"id": "saved-project"}})
    cloud = LazyCloud(argparse.Namespace(), store, environ={})
    assert cloud.project_id == "saved-project"
    assert not cloud.started
