"""``kubeheat sandbox serve``: run the embedded sandbox cloud as a long-lived local service.

It listens on 127.0.0.1 only, writes a clouds.yaml that points at it (for the operator, for
``kubeheat run --cloud sandbox`` with ``OS_CLIENT_CONFIG_FILE``, or for ``openstack`` itself),
and with ``--state FILE`` restores its contents at start and saves them at exit.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kubeheat.cli.args import add_command
from kubeheat.cli.output import error


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
