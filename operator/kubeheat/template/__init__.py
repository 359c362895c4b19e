"""Template layer: everything about reading a Heat template without touching the outside world.

It owns parsing HOT and CloudFormation documents (YAML or JSON) under size and alias limits, the
per-version tables of sections, keys and intrinsic functions, parameter schemas and constraints,
environments and the resource registry, the unevaluated function trees that properties stay as
until the engine asks for their values, conditions, and the resource dependency graph. It does no
I/O: files arrive as a map from the caller, and anything that needs a cloud (resource attributes,
custom constraints) comes in through resolver and registry interfaces.

Its public names are importable from this package (``from kubeheat.template import Template``);
each is imported from its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeheat._lazy import lazy_exports

if TYPE_CHECKING:
    from kubeheat.template.constraints import DEFAULT_CONSTRAINTS, Constraint, ConstraintRegistry
    from kubeheat.template.environment import Environment, merge_environments, parse_environment
    from kubeheat.template.errors import (
        EnvironmentFormatError,
        FunctionError,
        KubeheatError,
        ParameterError,
        TemplateError,
        TemplateLimitError,
        TemplateSyntaxError,
        TemplateVersionError,
    )
    from kubeheat.template.formats import all_versions
    from kubeheat.template.graph import DependencyGraph
    from kubeheat.template.limits import DEFAULT_LIMITS, Limits
    from kubeheat.template.loader import load_mapping
    from kubeheat.template.parameters import Parameters, ParameterSchema
    from kubeheat.template.scope import PlaceholderResources, ResourceResolver, StaticResources
    from kubeheat.template.secrets import MASK, Redactor, hidden_parameter_names, hidden_values
    from kubeheat.template.stack import StackDefinition, StackIdentity, Template
    from kubeheat.template.versions import VersionSpec

#: the module of each public name, imported on first use of one of its names
_EXPORTS = {
    "kubeheat.template.constraints": ("DEFAULT_CONSTRAINTS", "Constraint", "ConstraintRegistry"),
    "kubeheat.template.environment": ("Environment", "merge_environments", "parse_environment"),
    "kubeheat.template.errors": (
        "EnvironmentFormatError", "FunctionError", "KubeheatError", "ParameterError",
        "TemplateError", "TemplateLimitError", "TemplateSyntaxError", "TemplateVersionError",
    ),
    "kubeheat.template.formats": ("all_versions",),
    "kubeheat.template.graph": ("DependencyGraph",),
    "kubeheat.template.limits": ("DEFAULT_LIMITS", "Limits"),
    "kubeheat.template.loader": ("load_mapping",),
    "kubeheat.template.parameters": ("ParameterSchema", "Parameters"),
    "kubeheat.template.scope": ("PlaceholderResources", "ResourceResolver", "StaticResources"),
    "kubeheat.template.secrets": ("MASK", "Redactor", "hidden_parameter_names", "hidden_values"),
    "kubeheat.template.stack": ("StackDefinition", "StackIdentity", "Template"),
    "kubeheat.template.versions": ("VersionSpec",),
}
__all__ = [
    "DEFAULT_CONSTRAINTS",
    "DEFAULT_LIMITS",
    "MASK",
    "Constraint",
    "ConstraintRegistry",
    "DependencyGraph",
    "Environment",
    "EnvironmentFormatError",
    "FunctionError",
    "KubeheatError",
    "Limits",
    "ParameterError",
    "ParameterSchema",
    "Parameters",
    "PlaceholderResources",
    "Redactor",
    "ResourceResolver",
    "StackDefinition",
    "StackIdentity",
    "StaticResources",
    "Template",
    "TemplateError",
    "TemplateLimitError",
    "TemplateSyntaxError",
    "TemplateVersionError",
    "VersionSpec",
    "all_versions",
    "hidden_parameter_names",
    "hidden_values",
    "load_mapping",
    "merge_environments",
    "parse_environment",
]

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)
