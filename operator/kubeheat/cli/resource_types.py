"""``kubeheat resource-types`` and ``kubeheat resource-types show TYPE``: the resource types the
engine knows, and each one's schema as generated from its plugin (the one source of truth)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kubeheat.cli.args import add_command
from kubeheat.cli.output import FORMATS, error, render, table

if TYPE_CHECKING:
    from kubeheat.resources import PluginRegistry


def add_parser(subparsers: Any) -> None:
    """Register ``resource-types`` (and its ``show`` subcommand) on the top-level parser."""
    add_command(subparsers, "resource-types", _arguments,
                help="List the resource types, or show one type's schema.",
                description="List the resource types kubeheat supports; `resource-types show "
                            "TYPE` prints one type's properties and attributes.")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table", dest="list_format",
                        help="output format of the list (default: table)")
    parser.set_defaults(handler=run_list)
    sub = parser.add_subparsers(dest="resource_types_command", metavar="SUBCOMMAND")
    show = sub.add_parser("show", help="Show a resource type's schema.",
                          description="Print a resource type's schema: its properties (type, "
                                      "description, required, default, constraints, "
                                      "update_allowed) and attributes.")
    show.add_argument("type_name", metavar="TYPE", help="e.g. OS::Heat::RandomString")
    show.add_argument("--format", choices=("yaml", "json"), default="yaml", dest="show_format",
                      help="output format (default: yaml)")
    show.set_defaults(handler=run_show)


#: the same registration under the name the other command modules use
register = add_parser


def registry() -> PluginRegistry:
    from kubeheat.resources import load_builtin_plugins

    return load_builtin_plugins()


def run_list(args: argparse.Namespace) -> int:
    names = registry().names()
    data = [{"resource_type": name} for name in names]
    rows = [[name] for name in names]
    print(render(data, args.list_format, table(rows, ["Resource Type"])), end="")
    return 0


def run_show(args: argparse.Namespace) -> int:
    plugin = registry().get(args.type_name)
    if plugin is None:
        error(f"The Resource Type ({args.type_name}) could not be found.")
        return 1
    print(render(plugin.schema(), args.show_format), end="")
    return 0
