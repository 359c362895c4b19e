"""``kubeheat sandbox``: the embedded sandbox cloud.

``serve`` runs it as a long-lived local service: it listens on 127.0.0.1 only, writes a
clouds.yaml that points at it (for the operator, for ``kubeheat run --cloud sandbox`` with
``OS_CLIENT_CONFIG_FILE``, or for ``openstack`` itself), and with ``--state FILE`` restores its
contents at start and saves them at exit.

``show`` lists what a sandbox holds, read from a stack command's state file (the sandbox the
commands keep there between runs) or from a file ``serve --state`` wrote: kind, id, name and
status of each record, never other fields (a keypair's private key stays in the file).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubeheat.cli.args import UsageError, add_command
from kubeheat.cli.output import FORMATS, error


def register(sub: Any) -> None:
    add_command(sub, "sandbox", _arguments,
                help="The embedded OpenStack-compatible sandbox cloud.")


def _arguments(p: argparse.ArgumentParser) -> None:
    ssub = p.add_subparsers(dest="sandbox_command", metavar="COMMAND", required=True)
    ps = ssub.add_parser("serve", help="Serve the sandbox cloud on 127.0.0.1 until stopped.",
                         description="Serve Keystone, Nova, Neutron, Cinder, Glance and Swift "
                                     "APIs on the loopback interface until SIGINT/SIGTERM.")
    ps.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    ps.add_argument("--clouds-yaml", type=Path, metavar="PATH",
                    help="write a clouds.yaml for this cloud here (mode 0600)")
    ps.add_argument("--cloud-name", default="sandbox", help="its name in clouds.yaml")
    ps.add_argument("--build-delay", type=float, default=0.5, metavar="SECONDS",
                    help="how long a server stays in BUILD")
    ps.add_argument("--state", type=Path, metavar="FILE",
                    help="restore the cloud's contents from FILE and save them there at exit")
    ps.set_defaults(handler=serve)
    pw = ssub.add_parser("show", help="List what the sandbox kept in a state file holds.",
                         description="List the records (kind, id, name, status) of the sandbox "
                                     "cloud kept in a stack command's state file, or in a file "
                                     "written by 'kubeheat sandbox serve --state'.")
    pw.add_argument("--state", type=Path, metavar="FILE", required=True,
                    help="the state file (or sandbox serve's --state file)")
    pw.add_argument("--kind", action="append", metavar="KIND",
                    help="only records of this kind (servers, networks, volumes ...); "
                         "repeatable")
    pw.add_argument("--format", choices=FORMATS, default="table")
    pw.set_defaults(handler=show)


#: the fields ``show`` prints of a record
SHOWN_FIELDS = ("id", "name", "status")


def show(args: argparse.Namespace) -> int:
    try:
        return _show(args)
    except UsageError as exc:
        error(str(exc))
        return 2


def _show(args: argparse.Namespace) -> int:
    from kubeheat.cli.output import render, table

    snapshot = _read_snapshot(args.state)
    store: Mapping[str, Mapping[str, Any]] = snapshot["store"] if snapshot else {}
    kinds = args.kind or sorted(store)
    unknown = [k for k in kinds if k not in store] if snapshot else []
    if unknown:
        raise UsageError(f"no sandbox records of kind {', '.join(unknown)} "
                         f"(kinds: {', '.join(sorted(store))})")
    rows = [{"kind": kind, **{f: _text(record.get(f)) for f in SHOWN_FIELDS}}
            for kind in kinds for record in store[kind].values()]
    text = table([[r["kind"], *(r[f] for f in SHOWN_FIELDS)] for r in rows],
                 ["KIND", "ID", "NAME", "STATUS"]) if rows else "(the sandbox holds nothing)"
    print(render(rows, args.format, text))
    return 0


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _read_snapshot(path: Path) -> Mapping[str, Any] | None:
    """The sandbox snapshot of ``path``: a file ``serve --state`` wrote, or a state file's
    sandbox section (None when the commands on it never needed a cloud)."""
    import json

    from kubeheat.cli.cloudopt import SANDBOX_SECTION, check_snapshot
    from kubeheat.cli.statefile import DamagedState, Session

    if not path.is_file():
        raise UsageError(f"state file {path} does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if isinstance(data, Mapping) and "store" in data and "stacks" not in data:
        try:
            check_snapshot(data)
        except ValueError as exc:
            raise DamagedState(path, str(exc)) from None
        return data
    session = Session(path, readonly=True)
    try:
        assert session.file is not None
        snapshot: Mapping[str, Any] | None = session.file.extra(SANDBOX_SECTION)
        return snapshot
    finally:
        session.close()


def serve(args: argparse.Namespace) -> int:
    import json
    import signal
    import sys
    import threading

    from kubeheat.sandbox import SandboxConfig, run_sandbox

    config = SandboxConfig(port=args.port, cloud_name=args.cloud_name,
                           build_delay=args.build_delay)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with run_sandbox(config) as cloud:
            if args.state is not None and args.state.exists():
                try:
                    cloud.restore(json.loads(args.state.read_text(encoding="utf-8")))
                except (OSError, ValueError, KeyError) as exc:
                    error(f"cannot restore {args.state}: {exc}")
                    return 1
            if args.clouds_yaml is not None:
                cloud.write_clouds_yaml(args.clouds_yaml)
            print(json.dumps({"auth_url": cloud.auth_url, "cloud": args.cloud_name,
                              "clouds_yaml": str(args.clouds_yaml or "")}), flush=True)
            while not stop.wait(0.5):
                pass
            if args.state is not None:
                args.state.write_text(json.dumps(cloud.snapshot()), encoding="utf-8")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("sandbox stopped", file=sys.stderr)
    return 0
