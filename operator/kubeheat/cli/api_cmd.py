"""``kubeheat api``: Heat's Orchestration API (heat-api v1) served by kubeheat, with the embedded
backend (the engine of ``kubeheat run``, stacks kept under ``--state-dir``, the embedded sandbox
cloud for resources that need one). It prints a clouds.yaml whose ``orchestration`` endpoint is
the served API, so that ``openstack stack …`` and openstacksdk reach it (no authentication yet:
``auth_type: none``), and serves until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from kubeheat.cli.args import add_command

#: the project in the served endpoint while the API has no authentication
PROJECT = "admin"


def register(sub: Any) -> None:
    add_command(sub, "api", _arguments,
                help="Serve Heat's Orchestration API (heat-api v1) from a local engine.",
                description="Serve heat-api v1 with the embedded backend: stacks kept in "
                            "--state-dir, the embedded sandbox cloud when a resource needs a "
                            "cloud; prints a clouds.yaml for openstack and openstacksdk.")


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kubeheat" / "api"


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=8004,
                   help="port (default: %(default)s, Heat's; 0: a free one)")
    p.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                   help="where the stacks are kept (default: $XDG_STATE_HOME/kubeheat/api)")
    p.add_argument("--clouds-yaml", type=Path, metavar="PATH",
                   help="also write the clouds.yaml here")
    p.add_argument("--cloud-name", default="kubeheat", help="its name in clouds.yaml")
    p.set_defaults(handler=run)


def clouds_yaml(endpoint: str, cloud_name: str) -> str:
    """A clouds.yaml reaching the API at ``endpoint`` without authentication."""
    return (f"clouds:\n  {cloud_name}:\n    auth_type: none\n    auth:\n"
            f"      endpoint: {endpoint}\n"
            f"    orchestration_endpoint_override: {endpoint}\n")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import signal
    import sys

    from kubeheat.api import EmbeddedBackend, build_app, serve
    from kubeheat.cli.output import error

    state_dir = args.state_dir or default_state_dir()

    async def main() -> int:
        try:
            backend = EmbeddedBackend(state_dir)
        except (OSError, ValueError) as exc:
            error(f"--state-dir {state_dir}: {exc}")
            return 2
        try:
            runner, port = await serve(build_app(backend), args.host, args.port)
        except OSError as exc:
            await backend.close()
            error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
            return 1
        host = f"[{args.host}]" if ":" in args.host else args.host
        endpoint = f"http://{host}:{port}/v1/{PROJECT}"
        text = clouds_yaml(endpoint, args.cloud_name)
        if args.clouds_yaml is not None:
            args.clouds_yaml.write_text(text, encoding="utf-8")
            args.clouds_yaml.chmod(0o600)
        print(f"# kubeheat api at {endpoint}; stacks in {state_dir}\n"
              f"# openstack --os-auth-type none --os-endpoint {endpoint} stack list\n{text}",
              end="", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
        print("api stopped", file=sys.stderr)
        return 0

    return asyncio.run(main())
