"""Configurable limits on what a template may ask for, with Heat's defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds checked while loading and parsing.

    ``max_template_size``, ``max_resources_per_stack`` and ``max_nested_depth`` carry Heat's
    defaults (``max_template_size``, ``max_resources_per_stack``, ``max_nested_stack_depth``).
    The others are kubeheat's own guards against hostile documents: the number of nodes a YAML
    document may expand to once its aliases are followed, how deep data may nest, and how large a
    single parameter value may be.
    """

    max_template_size: int = 524288
    max_resources_per_stack: int = 1000
    max_nested_depth: int = 5
    max_parameter_value_size: int = 524288
    max_expanded_nodes: int = 1_000_000
    max_data_depth: int = 128


DEFAULT_LIMITS = Limits()
