"""Stack commands that run the engine in-process: ``run``, ``plan``, ``delete``, ``events``,
``output`` and ``signal``.

A stack's record lives in a state file (``--state FILE``: the stack's state, its native
resources and its events, written atomically after every step). Without ``--state`` a run keeps
everything in memory, so it suits one-shot runs (``--delete``) and templates of Heat's own
types. While ``kubeheat run`` (or ``delete``) works on a state file it holds ``FILE.lock``, and a
second command that would change the file fails with "in use"; ``kubeheat signal`` then drops
the signal into ``FILE.signals/`` and the running process delivers it. Ctrl-C stops a command
with one line saying what to do next (exit status 130).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kubeheat.cli.args import add_cloud_arguments, add_command, add_template_arguments, minutes

RUN_FORMATS = ("json", "table")


# -- argument parsing -------------------------------------------------------------------------
def register(sub: Any) -> None:
    add_command(sub, "run", _run_arguments,
                help="Create or update a stack in-process and wait for it to finish.",
                description="Create the stack (or update it, when --state holds a previous "
                            "run), show progress as resources change, and print the result.")
    add_command(sub, "plan", _plan_arguments,
                help="Show what run would change, without changing anything.",
                description="Compare the template with the recorded state (--state) and the "
                            "observed resources and print the plan: create, update, replace, "
                            "delete, adopt or no-op per resource, with the reason.")
    add_command(sub, "delete", _delete_arguments,
                help="Delete the stack recorded in a state file.")
    add_command(sub, "events", _events_arguments,
                help="List the events recorded in a state file.")
    add_command(sub, "output", _output_arguments, help="Show the stack's outputs.")
    add_command(sub, "signal", _signal_arguments,
                help="Send a signal to a resource (wait condition handles, scaling policies).")


def _run_arguments(p: argparse.ArgumentParser) -> None:
    add_template_arguments(p)
    _stack_options(p)
    p.add_argument("--format", choices=RUN_FORMATS, default="table")
    p.add_argument("--timeout", type=minutes, metavar="MINUTES",
                   help="stack timeout in minutes, above 0 (default: the engine's 60, as "
                        "Heat's stack_action_timeout)")
    p.add_argument("--disable-rollback", action="store_true",
                   help="keep what was done when the operation fails instead of rolling back")
    p.add_argument("--delete", action="store_true",
                   help="delete the stack again after the run (a throw-away run)")
    p.add_argument("--concurrency", type=int, default=64, metavar="N",
                   help="resource actions in flight at once (default 64)")
    p.set_defaults(handler=run_cmd)


def _plan_arguments(p: argparse.ArgumentParser) -> None:
    add_template_arguments(p)
    _stack_options(p)
    p.add_argument("--format", choices=("json", "yaml", "table"), default="table")
    p.set_defaults(handler=plan_cmd)


def _delete_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", type=Path, required=True, metavar="FILE")
    add_cloud_arguments(p)
    p.add_argument("--format", choices=RUN_FORMATS, default="table")
    p.add_argument("--timeout", type=minutes, metavar="MINUTES",
                   help="stack timeout in minutes for the delete, above 0 (default: the "
                        "stack's, else the engine's 60)")
    p.set_defaults(handler=delete_cmd)


def _events_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", type=Path, required=True, metavar="FILE")
    p.add_argument("--resource", help="only the events of this resource")
    p.add_argument("--format", choices=("json", "yaml", "table"), default="table")
    p.set_defaults(handler=events_cmd)


def _output_arguments(p: argparse.ArgumentParser) -> None:
    osub = p.add_subparsers(dest="output_command", metavar="COMMAND", required=True)
    po = osub.add_parser("show", help="Show one output, or all of them.")
    po.add_argument("--state", type=Path, required=True, metavar="FILE")
    po.add_argument("name", nargs="?", help="the output's name (default: all outputs)")
    po.add_argument("--format", choices=("json", "yaml", "table"), default="yaml")
    po.set_defaults(handler=output_show_cmd)
    pl = osub.add_parser("list", help="List the outputs' names and descriptions.")
    pl.add_argument("--state", type=Path, required=True, metavar="FILE")
    pl.add_argument("--format", choices=("json", "yaml", "table"), default="table")
    pl.set_defaults(handler=output_list_cmd)


def _signal_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stack", help="the stack's name or id")
    p.add_argument("resource", help="the resource's logical name")
    p.add_argument("--data", "--data-binary", dest="data", metavar="JSON",
                   help="signal details as JSON, e.g. '{\"status\": \"SUCCESS\"}'")
    p.add_argument("--state", type=Path, required=True, metavar="FILE")
    add_cloud_arguments(p)
    p.set_defaults(handler=signal_cmd)


def _stack_options(p: argparse.ArgumentParser) -> None:
    add_cloud_arguments(p)
    p.add_argument("--state", type=Path, metavar="FILE",
                   help="state file: the previous run to update, where this run is recorded")
    p.add_argument("--name", help="stack name (default: the template file's name)")


# -- handlers: the engine is imported when a command runs, not when the parser is built ---------
def run_cmd(args: argparse.Namespace) -> int:
    from kubeheat.cli import stacks

    return stacks.run_cmd(args)


def plan_cmd(args: argparse.Namespace) -> int:
    from kubeheat.cli import stacks

    return stacks.plan_cmd(args)


def delete_cmd(args: argparse.Namespace) -> int:
    from kubeheat.cli import stacks

    return stacks.delete_cmd(args)


def events_cmd(args: argparse.Namespace) -> int:
    from kubeheat.cli import records

    return records.events_cmd(args)


def output_show_cmd(args: argparse.Namespace) -> int:
    from kubeheat.cli import records

    return records.output_show_cmd(args)


def output_list_cmd(args: argparse.Namespace) -> int:
    from kubeheat.cli import records

    return records.output_list_cmd(args)


def signal_cmd(args: argparse.Namespace) -> int:
    from kubeheat.cli import stacks

    return stacks.signal_cmd(args)
