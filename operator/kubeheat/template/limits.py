"""Configurable limits on what a template may ask for, with Heat's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubeheat.template.errors import Path, TemplateLimitError

#: Heat's wording when a tree of nested stacks would hold more than max_resources_per_stack
TOO_MANY_RESOURCES = "Maximum resources per stack exceeded."


@dataclass(frozen=True)
class Limits:
    """Bounds checked while loading and parsing.

    ``max_template_size``, ``max_resources_per_stack`` and ``max_nested_depth`` carry Heat's
    defaults (``max_template_size``, ``max_resources_per_stack``, ``max_nested_stack_depth``).
    The others are kubeheat's own guards against hostile documents: the number of nodes a YAML
    document may expand to once its aliases are followed, how deep data may nest, and how large a
    single parameter value may be.

    ``max_expanded_bytes`` bounds the text (every string, keys included) a document expands to
    once its aliases are followed: 16 times ``max_template_size`` (8 MiB). A document without
    aliases holds at most 512 KiB, so this leaves room for honest reuse (a 32 KiB script aliased
    into 250 servers), while a template that multiplies one large string by aliases, and with it
    the stored state and every walk of the template, is refused before anything is evaluated.

    ``max_evaluated_bytes`` bounds what one stack evaluates in one operation: the JSON of every
    resource's properties and metadata and of every output, together. 64 MiB: a stack may hold
    ``max_resources_per_stack`` (1000) servers, each with up to 64 KiB of ``user_data`` (Nova's
    limit), and one function result may be 16 MiB (``list_join``, ``repeat``), so such stacks
    pass, while a template multiplying results cannot make a state or a status of gigabytes.
    The template of a nested stack, which its parent builds (a group repeats one member
    definition up to 1000 times), is held to this bound instead of ``max_expanded_bytes``:
    what it holds is what its resources will evaluate to.
    """

    max_template_size: int = 524288
    max_resources_per_stack: int = 1000
    max_nested_depth: int = 5
    max_parameter_value_size: int = 524288
    max_expanded_nodes: int = 1_000_000
    max_expanded_bytes: int = 16 * 524288
    max_evaluated_bytes: int = 64 * 1024 * 1024
    max_data_depth: int = 128


DEFAULT_LIMITS = Limits()


class ResourceCount:
    """A running total of the resources of the nested stacks below one stack, held to
    ``max_resources_per_stack`` while a tree is defined or validated, before any of it is built
    (the stack's own resources are not counted: they are held to the limit on their own, as in
    Heat, whose ``total_resources`` counts the nested stacks of a root).

    Provider templates add their resources as each is defined, depth first; the group types
    (ResourceGroup, AutoScalingGroup, ResourceChain) add their member count when it is known
    before they run. The path given to :meth:`add` names where the limit was crossed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0

    def add(self, resources: int, path: Path = ()) -> None:
        self.total += resources
        if 0 <= self.limit < self.total:
            raise TemplateLimitError(TOO_MANY_RESOURCES, path)


def json_size(value: Any, limit: int) -> int:
    """The bytes of ``value``'s compact JSON form (non-ASCII text counted as UTF-8); stops
    counting once past ``limit`` (then the result is only known to exceed it)."""
    total = 0
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            total += 2 + (len(item) if item.isascii() else len(item.encode("utf-8")))
        elif isinstance(item, dict):
            total += 2 * len(item) + 1 if item else 2      # braces, colons and commas
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list | tuple):
            total += 1 + max(len(item), 1)      # brackets and commas
            todo.extend(item)
        elif item is None or item is True:
            total += 4
        elif item is False:
            total += 5
        else:
            total += len(str(item))
        if total > limit:
            return total
    return total
