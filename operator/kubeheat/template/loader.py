"""Loading template and environment documents from text, safely.

JSON is tried first, then YAML with a safe loader (the C one when PyYAML has it) in which
timestamps stay strings, as Heat does, so ``heat_template_version: 2016-10-14`` is a string.
The size limit is checked before parsing; after parsing, the document is walked once (iteratively,
memoised by identity) to bound what YAML aliases expand to, to reject recursive aliases and
overly deep nesting, so a "billion laughs" document fails fast with a clear error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from kubeheat.template.errors import TemplateLimitError, TemplateSyntaxError
from kubeheat.template.limits import DEFAULT_LIMITS, Limits

_BaseLoader: type[yaml.SafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader whose timestamps are plain strings."""


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),
)


def _check_size(text: str | bytes, limits: Limits, what: str) -> None:
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > limits.max_template_size:
        raise TemplateLimitError(
            f"{what} exceeds the maximum allowed size ({size} > {limits.max_template_size} bytes)")


def _yaml_error(exc: yaml.YAMLError, what: str) -> TemplateSyntaxError:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return TemplateSyntaxError(f"{what} is not valid YAML{where}: {problem}")


def check_structure(document: Any, limits: Limits = DEFAULT_LIMITS, what: str = "document") -> None:
    """Bound the expanded size and the depth of a loaded document; reject recursion.

    Shared sub-objects (YAML aliases) are counted as many times as they are referenced, which is
    what every later walk of the document will cost, but each is visited once, so the check itself
    is linear in the document's text. Two totals are bounded: the values (every container and
    scalar) and the bytes of text (every string, keys included, in UTF-8), since one alias of a
    large string costs as much as the string in whatever is built from the document.
    """
    sizes: dict[int, int] = {}
    text_bytes: dict[int, int] = {}
    depths: dict[int, int] = {}
    in_progress: set[int] = set()
    # Iterative post-order walk: (object, children-pushed?)
    stack: list[tuple[Any, bool]] = [(document, False)]
    while stack:
        obj, expanded = stack.pop()
        if not isinstance(obj, dict | list):
            continue
        oid = id(obj)
        children = list(obj.keys()) + list(obj.values()) if isinstance(obj, dict) else obj
        if not expanded:
            if oid in sizes:
                continue
            if oid in in_progress:
                raise TemplateSyntaxError(f"{what} contains a recursive YAML alias")
            in_progress.add(oid)
            stack.append((obj, True))
            for child in children:
                if isinstance(child, dict | list):
                    cid = id(child)
                    if cid in in_progress:
                        raise TemplateSyntaxError(f"{what} contains a recursive YAML alias")
                    if cid not in sizes:
                        stack.append((child, False))
            continue
        total = 1
        nbytes = 0
        depth = 0
        for child in children:
            if isinstance(child, dict | list):
                cid = id(child)
                total += sizes[cid]
                nbytes += text_bytes[cid]
                depth = max(depth, depths[cid])
            else:
                total += 1
                if isinstance(child, str):
                    nbytes += len(child) if child.isascii() else len(child.encode("utf-8"))
        in_progress.discard(oid)
        sizes[oid] = total
        text_bytes[oid] = nbytes
        depths[oid] = depth + 1
        _check_totals(total, nbytes, depth + 1, limits, what)


def _check_totals(total: int, nbytes: int, depth: int, limits: Limits, what: str) -> None:
    if total > limits.max_expanded_nodes:
        raise TemplateLimitError(
            f"{what} expands to more than {limits.max_expanded_nodes} values "
            "(YAML aliases are followed); refusing to process it")
    if nbytes > limits.max_expanded_bytes:
        raise TemplateLimitError(
            f"{what} expands to more than {limits.max_expanded_bytes} bytes of text "
            "(YAML aliases are followed; limit max_expanded_bytes); refusing to process it")
    if depth > limits.max_data_depth:
        raise TemplateLimitError(f"{what} nests deeper than {limits.max_data_depth} levels")


def load_document(text: str | bytes, *, limits: Limits = DEFAULT_LIMITS,
                  what: str = "Template") -> Any:
    """Parse ``text`` as JSON or YAML and return the data, checked by :func:`check_structure`."""
    _check_size(text, limits, what)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateSyntaxError(f"{what} is not UTF-8 text: {exc.reason}") from None
    data: Any
    stripped = text.lstrip()
    data = _NOT_JSON
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except RecursionError:
            # YAML could not parse it either (it would nest as deep): say why (review L7)
            raise TemplateLimitError(f"{what} nests too deeply to be parsed") from None
        except ValueError:
            data = _NOT_JSON
    if data is _NOT_JSON:
        try:
            data = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            if "maximum nesting depth" in str(getattr(exc, "problem", "")):   # libyaml's guard
                raise TemplateLimitError(f"{what} nests too deeply to be parsed") from None
            raise _yaml_error(exc, what) from None
        except RecursionError:
            raise TemplateLimitError(f"{what} nests too deeply to be parsed") from None
        except (ValueError, TypeError, OverflowError) as exc:
            raise TemplateSyntaxError(f"{what} is not valid YAML: {exc}") from None
    check_structure(data, limits, what)
    return data


def load_mapping(text: str | bytes, *, limits: Limits = DEFAULT_LIMITS,
                 what: str = "Template") -> dict[str, Any]:
    """Like :func:`load_document` but the result must be a mapping with string keys."""
    data = load_document(text, limits=limits, what=what)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise TemplateSyntaxError(
            f"{what} must be a mapping, not {type(data).__name__}")
    for key in data:
        if not isinstance(key, str):
            raise TemplateSyntaxError(f"{what}: top-level key {key!r} is not a string")
    return dict(data)


_NOT_JSON = object()
