"""``kubeheat validate``: check a template with its environments and parameters, and print the
result in the shape of Heat's template-validate response."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kubeheat.cli.files import collect_files
from kubeheat.cli.output import FORMATS, error, render
from kubeheat.template.constraints import DEFAULT_CONSTRAINTS
from kubeheat.template.environment import merge_environments, parse_environment
from kubeheat.template.errors import KubeheatError
from kubeheat.template.parameters import format_parameter_groups, format_validate_parameters
from kubeheat.template.stack import Template


class UsageError(Exception):
    """A command-line argument is malformed (exit status 2)."""


def add_template_arguments(parser: argparse.ArgumentParser) -> None:
    """The inputs shared by validate, plan and run."""
    parser.add_argument("-t", "--template", required=True, type=Path,
                        help="path of the HOT or CloudFormation template (YAML or JSON)")
    parser.add_argument("-e", "--environment", action="append", default=[], type=Path,
                        metavar="ENV", help="environment file; repeat to merge several in order")
    parser.add_argument("-P", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="parameter value; repeatable")
    parser.add_argument("--parameter-file", action="append", default=[], metavar="KEY=PATH",
                        help="parameter whose value is the content of a file; repeatable")


def register(sub: Any) -> None:
    p = sub.add_parser("validate", help="Validate a template, its environments and parameters.",
                       description="Validate a template and print Heat's template-validate "
                                   "result: Description, Parameters, ParameterGroups.")
    add_template_arguments(p)
    p.add_argument("--format", choices=FORMATS, default="yaml")
    p.set_defaults(handler=run)


def parse_parameters(args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f'-P expects KEY=VALUE, got "{item.split("=")[0]}..."'
                             if "=" in item else f'-P expects KEY=VALUE, got "{item}"')
        values[key] = value
    for item in args.parameter_file:
        key, sep, path = item.partition("=")
        if not sep or not key or not path:
            raise UsageError(f'--parameter-file expects KEY=PATH, got "{item}"')
        try:
            values[key] = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f'--parameter-file {key}: cannot read "{path}": {exc}') from None
    return values


def load(args: argparse.Namespace) -> tuple[Template, Any, dict[str, Any]]:
    """Read the template, environments and files; returns (template, environment, params)."""
    bundle = collect_files(args.template, args.environment)
    envs = [parse_environment(text, name=str(path))
            for path, text in zip(args.environment, bundle.environment_texts, strict=True)]
    template = Template.load(bundle.template_text, files=bundle.files)
    param_types = {name: s.type for name, s in template.parameter_schemas.items()}
    environment = merge_environments(envs, param_types) if envs else None
    return template, environment, parse_parameters(args)


def validate_result(template: Template) -> dict[str, Any]:
    result: dict[str, Any] = {
        "Description": template.description,
        "Parameters": format_validate_parameters(template.parameter_schemas),
    }
    if template.parameter_groups:
        result["ParameterGroups"] = format_parameter_groups(template.parameter_groups)
    unchecked = sorted({
        c.name for s in template.parameter_schemas.values() for c in s.constraints
        if getattr(c, "custom", False) and DEFAULT_CONSTRAINTS.get(c.name) is None})
    if unchecked:
        result["UncheckedConstraints"] = unchecked
    return result


def run(args: argparse.Namespace) -> int:
    try:
        template, environment, params = load(args)
        template.define(params, environment, strict=False)
    except UsageError as exc:
        error(str(exc))
        return 2
    except KubeheatError as exc:
        error(str(exc))
        return 1
    print(render(validate_result(template), args.format), end="")
    return 0
