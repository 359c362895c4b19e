"""``kubeheat validate``: check a template with its environments and parameters, and print the
result in the shape of Heat's template-validate response.

The result has Heat's keys ``Description``, ``Parameters``, ``ParameterGroups`` (when the template
has groups) and ``Environment`` (the user's environment after merging the ``-e`` files, with the
``-P`` / ``--parameter-file`` values in its ``parameters``, as Heat returns it), plus kubeheat's
``UncheckedConstraints``: the custom constraints that could not be checked here. Unlike Heat, the
value of every hidden parameter (``hidden: true`` / ``NoEcho: true`` in the template or in a
provider template it uses) is shown as ``******`` in ``Environment`` as everywhere else, and is
masked in error messages too (they may quote values computed from parameters).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubeheat.cli.files import collect_files
from kubeheat.cli.output import FORMATS, error, render
from kubeheat.template.constraints import MASK
from kubeheat.template.environment import (
    PARAMETER_DEFAULTS,
    PARAMETERS,
    RESOURCE_REGISTRY,
    Environment,
    merge_environments,
    parse_environment,
)
from kubeheat.template.errors import KubeheatError
from kubeheat.template.parameters import format_parameter_groups, format_validate_parameters
from kubeheat.template.secrets import Redactor, hidden_parameter_names, hidden_values
from kubeheat.template.stack import StackDefinition, Template

#: the sections of Heat's user environment (``Environment.user_env_as_dict``), in its order
ENVIRONMENT_SECTIONS = (RESOURCE_REGISTRY, PARAMETERS, PARAMETER_DEFAULTS, "event_sinks")
#: the CLI masks a hidden value wherever it occurs, however short (see :class:`Redactor`)
CLI_MIN_PARTIAL = 1


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
                                   "result: Description, Parameters, ParameterGroups, "
                                   "Environment (hidden values shown as ******).")
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


@dataclass
class Inputs:
    """What the command line names, filled in as it is read (so that an error half-way can
    still be reported without revealing hidden values)."""

    params: dict[str, Any]
    environments: list[Environment] = field(default_factory=list)
    template: Template | None = None
    environment: Environment | None = None


def read_inputs(args: argparse.Namespace, inputs: Inputs) -> None:
    """Read the template, the environment files and every file they refer to into ``inputs``;
    environment files are merged with the parameter types the template declares."""
    bundle = collect_files(args.template, args.environment)
    for path, text in zip(args.environment, bundle.environment_texts, strict=True):
        inputs.environments.append(parse_environment(text, name=str(path)))
    template = Template.load(bundle.template_text, files=bundle.files)
    inputs.template = template
    param_types = {name: s.type for name, s in template.parameter_schemas.items()}
    if inputs.environments:
        inputs.environment = merge_environments(inputs.environments, param_types)


def load(args: argparse.Namespace) -> tuple[Template, Environment | None, dict[str, Any]]:
    """Read the template, environments and files; returns (template, environment, params).

    Parameter values from the command line are read first, so a malformed ``-P`` is a usage
    error whatever the files hold."""
    inputs = Inputs(parse_parameters(args))
    read_inputs(args, inputs)
    assert inputs.template is not None
    return inputs.template, inputs.environment, inputs.params


def redactor(inputs: Inputs) -> Redactor:
    """What masks the hidden values of ``inputs`` in what the CLI prints: every value given to
    a hidden parameter (command line, environments, defaults), wherever it occurs."""
    if inputs.template is None:
        return Redactor(min_partial=CLI_MIN_PARTIAL)
    envs = [*inputs.environments, *([inputs.environment] if inputs.environment else [])]
    return Redactor(hidden_values(inputs.template, inputs.params, envs),
                    min_partial=CLI_MIN_PARTIAL)


def environment_result(environment: Environment | None, params: Mapping[str, Any],
                       hidden: set[str]) -> dict[str, Any]:
    """The ``Environment`` of the result: Heat's user environment sections of the merged
    environment, the command-line values added to its ``parameters``, hidden values masked."""
    env = (environment or Environment()).as_dict()
    env[PARAMETERS] = {**env[PARAMETERS], **params}
    env[RESOURCE_REGISTRY].setdefault("resources", {})
    for section in (PARAMETERS, PARAMETER_DEFAULTS):
        env[section] = {k: (MASK if k in hidden else v) for k, v in env[section].items()}
    return {section: env[section] for section in ENVIRONMENT_SECTIONS}


def validate_result(defn: StackDefinition, params: Mapping[str, Any] | None = None
                    ) -> dict[str, Any]:
    """Heat's template-validate response for a stack definition (bound with ``strict=False``)
    and the command-line parameter values it was given."""
    template = defn.template
    result: dict[str, Any] = {
        "Description": template.description,
        "Parameters": format_validate_parameters(template.parameter_schemas, defn.parameters),
    }
    if template.parameter_groups:
        result["ParameterGroups"] = format_parameter_groups(template.parameter_groups)
    unchecked = defn.parameters.unchecked_constraints
    if unchecked:
        result["UncheckedConstraints"] = unchecked
    result["Environment"] = environment_result(defn.environment, params or {},
                                               hidden_parameter_names(template))
    return result


def run(args: argparse.Namespace) -> int:
    try:
        inputs = Inputs(parse_parameters(args))
    except UsageError as exc:
        error(str(exc))
        return 2
    try:
        read_inputs(args, inputs)
        assert inputs.template is not None
        defn = inputs.template.define(inputs.params, inputs.environment, strict=False)
    except KubeheatError as exc:
        # Messages may quote values computed from parameters: mask the hidden ones.
        error(redactor(inputs).text(str(exc)))
        return 1
    print(render(validate_result(defn, inputs.params), args.format), end="")
    return 0
