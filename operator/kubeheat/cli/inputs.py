"""Reading the template inputs a command names (template, environment files, the files they
refer to, parameter values) into the template layer's objects, and what masks their hidden
values in everything the command prints."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from kubeheat.cli.files import collect_files
from kubeheat.template import (
    Environment,
    Redactor,
    Template,
    hidden_values,
    merge_environments,
    parse_environment,
    values_of,
)


@dataclass
class Inputs:
    """What the command line names, filled in as it is read (so that an error half-way can
    still be reported without revealing hidden values)."""

    params: dict[str, Any]
    environments: list[Environment] = field(default_factory=list)
    template: Template | None = None
    environment: Environment | None = None
    #: the texts read, each with what names it in messages (for ``validate``'s warnings)
    texts: list[tuple[str, str]] = field(default_factory=list)


def read_inputs(args: argparse.Namespace, inputs: Inputs) -> None:
    """Read the template, the environment files and every file they refer to into ``inputs``;
    environment files are merged with the parameter types the template declares."""
    bundle = collect_files(args.template, args.environment)
    inputs.texts = [("Template", bundle.template_text)]
    for path, text in zip(args.environment, bundle.environment_texts, strict=True):
        inputs.environments.append(parse_environment(text, name=str(path)))
        inputs.texts.append((f"Environment {path}", text))
    # the document collect_files loaded and checked: not parsed a second time
    template = Template(bundle.template_document, files=bundle.files)
    inputs.template = template
    param_types = {name: s.type for name, s in template.parameter_schemas.items()}
    if inputs.environments:
        inputs.environment = merge_environments(inputs.environments, param_types)


def redactor(inputs: Inputs) -> Redactor:
    """What masks the hidden values of ``inputs`` in what the CLI prints: every value given to
    a hidden parameter (command line, environments, defaults) in every form its type gives it,
    with the rules the controller uses too (see :class:`Redactor`)."""
    if inputs.template is None:
        return Redactor()
    envs = [*inputs.environments, *([inputs.environment] if inputs.environment else [])]
    return Redactor(hidden_values(inputs.template, inputs.params, envs))


def given_redactor(params: dict[str, Any]) -> Redactor:
    """Masks every parameter value given (when no template tells which ones are hidden)."""
    return Redactor(values_of(params, [params]))
