"""Which cloud a CLI command talks to.

``--cloud NAME`` (or ``OS_CLOUD``) picks a cloud from clouds.yaml, and the ``OS_*`` variables
describe one directly; with neither, or with ``--sandbox``, the command uses the embedded sandbox
cloud. The sandbox is started only when a resource first needs a cloud (templates of Heat's own
types never start it), and with ``--state FILE`` its contents are kept in the state file, so a
later ``run``, ``plan`` or ``delete`` on the same file sees the same cloud.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubeheat.cli.args import wants_real_cloud

if TYPE_CHECKING:
    from kubeheat.cloud import CloudSession
    from kubeheat.engine import JsonFileStateStore

SANDBOX_SECTION = "sandbox"


def check_snapshot(snapshot: Any) -> None:
    """Raise ``ValueError`` when ``snapshot`` (the state file's sandbox section, or a file
    ``kubeheat sandbox serve --state`` wrote) is not what the sandbox writes: version 1, a
    project, a user, and a store of records by kind and id."""
    if not isinstance(snapshot, Mapping) or snapshot.get("version") != 1:
        raise ValueError(f'"{SANDBOX_SECTION}" is not a sandbox snapshot')
    for key in ("project", "user", "store"):
        if not isinstance(snapshot.get(key), Mapping):
            raise ValueError(f'"{SANDBOX_SECTION}.{key}" is not a map')
    for kind, records in snapshot["store"].items():
        if not isinstance(records, Mapping) or not all(
                isinstance(r, Mapping) for r in records.values()):
            raise ValueError(f'"{SANDBOX_SECTION}.store.{kind}" is not a map of records')


class LazyCloud:
    """The cloud of one command, connected (or the sandbox started) on first use."""

    def __init__(self, args: argparse.Namespace, state_file: JsonFileStateStore | None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.args = args
        self.state_file = state_file
        self.environ = dict(os.environ if environ is None else environ)
        self.real = wants_real_cloud(args, self.environ)
        self._lock = threading.Lock()
        self._session: CloudSession | None = None
        self._sandbox: Any = None
        self._sandbox_cm: contextlib.AbstractContextManager[Any] | None = None

    @property
    def conn(self) -> Any:
        """The openstacksdk connection (what resource plugins use)."""
        return self.session.conn

    @property
    def session(self) -> CloudSession:
        with self._lock:
            if self._session is None:
                self._session = self._connect()
            return self._session

    @property
    def project_id(self) -> str | None:
        """The project of the command's cloud (``OS::project_id``): a real cloud's (connecting
        to it), else the sandbox's, known without starting it (the one its saved contents
        have, or the id every new sandbox gets)."""
        if self.real:
            return self.session.project_id
        with self._lock:
            if self._sandbox is not None:
                return str(self._sandbox.state.project["id"])
        saved = self.state_file.extra(SANDBOX_SECTION) if self.state_file else None
        if isinstance(saved, dict) and isinstance(saved.get("project"), dict):
            found = saved["project"].get("id")
            if isinstance(found, str) and found:
                return found
        return None

    @property
    def started(self) -> bool:
        return self._session is not None

    def _connect(self) -> CloudSession:
        # openstacksdk (and for the sandbox aiohttp) are imported here, on first use: a
        # command whose resources never need a cloud does not pay for them
        from kubeheat.cloud import connect, from_env

        if self.real:
            env = dict(self.environ)
            if getattr(self.args, "cloud", None):
                env["OS_CLOUD"] = self.args.cloud
            return from_env(env)
        from kubeheat.sandbox import run_sandbox

        self._sandbox_cm = run_sandbox()
        self._sandbox = self._sandbox_cm.__enter__()
        saved = self.state_file.extra(SANDBOX_SECTION) if self.state_file else None
        if isinstance(saved, dict):
            self._sandbox.restore(saved)
        return connect(self._sandbox.clouds, self._sandbox.config.cloud_name)

    def close(self) -> None:
        """Save the sandbox's contents into the state file and stop it."""
        with self._lock:
            if self._session is not None:
                with contextlib.suppress(Exception):
                    self._session.close()
            if self._sandbox is not None:
                if self.state_file is not None:
                    self.state_file.set_extra(SANDBOX_SECTION, self._sandbox.snapshot())
                assert self._sandbox_cm is not None
                self._sandbox_cm.__exit__(None, None, None)
                self._sandbox = None
