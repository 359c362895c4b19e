"""``kubeheat template versions`` and ``kubeheat template functions``: what is supported, read
from the same version tables the parser uses."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kubeheat.cli.args import add_command
from kubeheat.cli.output import FORMATS, error, render, table

if TYPE_CHECKING:
    from kubeheat.template import VersionSpec


def register(sub: Any) -> None:
    add_command(sub, "template", _arguments,
                help="Show supported template versions and functions.")


def _arguments(tmpl: argparse.ArgumentParser) -> None:
    tsub = tmpl.add_subparsers(dest="template_command", metavar="SUBCOMMAND", required=True)
    pv = tsub.add_parser("versions", help="List supported template versions.")
    pv.add_argument("--format", choices=FORMATS, default="table")
    pv.set_defaults(handler=run_versions)
    pf = tsub.add_parser("functions", help="List the intrinsic functions of a template version.")
    pf.add_argument("--version", required=True, dest="template_version",
                    help="a version date (2016-10-14), release name (newton) or "
                         "CloudFormation version (2010-09-09)")
    pf.add_argument("--conditions", action="store_true",
                    help="list the condition functions instead")
    pf.add_argument("--format", choices=FORMATS, default="table")
    pf.set_defaults(handler=run_functions)


def run_versions(args: argparse.Namespace) -> int:
    from kubeheat.template import all_versions

    specs = all_versions()
    data: list[dict[str, object]] = [
        {"version": f"{s.key}.{s.version}", "type": s.family, "aliases": list(s.aliases)}
        for s in specs]
    rows = [[f"{s.key}.{s.version}", s.family, ", ".join(s.aliases)] for s in specs]
    print(render(data, args.format, table(rows, ["Version", "Type", "Aliases"])), end="")
    return 0


def function_rows(spec: VersionSpec, conditions: bool) -> list[dict[str, str]]:
    tbl = spec.condition_functions if conditions else spec.functions
    return [{"functions": name, "description": getattr(cls, "doc", "") or ""}
            for name, cls in sorted(tbl.items())]


def run_functions(args: argparse.Namespace) -> int:
    from kubeheat.template import all_versions, find_version

    spec = find_version(args.template_version)
    if spec is None:
        known = ", ".join(f"{s.version}" + (f" ({', '.join(s.aliases)})" if s.aliases else "")
                          for s in all_versions())
        error(f'unknown template version "{args.template_version}"; known: {known}')
        return 1
    data = function_rows(spec, args.conditions)
    rows = [[d["functions"], d["description"]] for d in data]
    print(render(data, args.format, table(rows, ["Functions", "Description"])), end="")
    return 0
