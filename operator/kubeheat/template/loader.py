"""Loading template and environment documents from text the way Heat 27.0.1 reads them.

Heat's ``template_format.parse`` tries JSON on the whole text first, then YAML with a safe loader
whose timestamps stay strings (``heat_template_version: 2016-10-14`` is a string); an empty YAML
document is ``{}``, but JSON ``null`` or any other non-mapping is refused, and a template must
name a version key. Environments (``environment_format.parse``) are YAML only, so JSON-only words
such as ``NaN`` stay strings there. Everything else is YAML 1.1 as PyYAML reads it: ``yes``/``off``
are booleans, ``0777`` is octal, ``1_000`` and ``1:30`` are integers, ``~`` is null, a duplicate
key keeps its last value, ``<<`` merges. YAML errors carry PyYAML's own message (from its pure
Python parser, as Heat's do). The values that Heat only ever shows after storing the template as
JSON come out in that form: ``!!binary`` is UTF-8 text, ``!!set`` a list of its members,
``!!omap``/``!!pairs`` lists of ``[key, value]``.

The size limit (Heat's ``max_template_size``, counted in characters as Heat does) is checked
before parsing; after parsing, the document is walked once (iteratively, memoised by identity) to
bound what YAML aliases expand to, to reject recursive aliases and overly deep nesting, so a
"billion laughs" document fails fast with a clear error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from kubeheat.template.errors import (
    PathPart,
    TemplateLimitError,
    TemplateSyntaxError,
    TemplateVersionError,
    format_path,
)
from kubeheat.template.limits import DEFAULT_LIMITS, Limits
from kubeheat.template.versions import VERSION_KEYS

_BaseLoader: type[yaml.SafeLoader]
try:
    _BaseLoader = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _BaseLoader = yaml.SafeLoader


class _NotUtf8(Exception):
    """A ``!!binary`` value that is not UTF-8 text (Heat fails on it storing the template)."""

    def __init__(self, mark: Any) -> None:
        super().__init__()
        self.mark = mark


def _timestamp_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    return loader.construct_scalar(node)


def _binary_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    raw: bytes = loader.construct_yaml_binary(node)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _NotUtf8(node.start_mark) from None


def _member_list(loader: yaml.SafeLoader, node: yaml.MappingNode) -> list[Any]:
    # a mapping of members to nulls, in document order (PyYAML's own checks and messages)
    return list(loader.construct_mapping(node, deep=True))


def _pair_list(loader: yaml.SafeLoader, node: yaml.Node) -> list[list[Any]]:
    pairs = loader.construct_yaml_omap(node)  # a generator: the list, then filling it
    data = next(pairs)
    for _ in pairs:
        pass
    return [list(pair) for pair in data]


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Heat's safe loader: timestamps are strings; the JSON-unfriendly types are given as Heat
    gives them back once stored (binary as text, sets and ordered maps as lists)."""


class _PureLoader(yaml.SafeLoader):
    """The same in pure Python: Heat reparses with PyYAML's own parser when libyaml refuses a
    text, for the message, and keeps what that parser loads when it does not refuse it."""


for _cls in (_Loader, _PureLoader):
    _cls.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_text)
    _cls.add_constructor("tag:yaml.org,2002:binary", _binary_text)
    _cls.add_constructor("tag:yaml.org,2002:set", _member_list)
    _cls.add_constructor("tag:yaml.org,2002:omap", _pair_list)
    _cls.add_constructor("tag:yaml.org,2002:pairs", _pair_list)


def _split_what(what: str) -> tuple[str, str]:
    """``"Template /x/t.yaml"`` -> ``("Template", "/x/t.yaml: ")``; the kind is the first word."""
    kind, _, where = what.partition(" ")
    return kind, (f"{where}: " if where else "")


def _child_url(what: str) -> str | None:
    """The child file a ``what`` of the form ``Template "name"`` names, else ``None``."""
    _, _, where = what.partition(" ")
    if len(where) > 1 and where.startswith('"') and where.endswith('"'):
        return where[1:-1]
    return None


def _check_size(text: str, limits: Limits, what: str) -> None:
    # Heat counts the characters of the text (len(str)), whatever it says of bytes
    if len(text) > limits.max_template_size:
        kind, where = _split_what(what)
        raise TemplateLimitError(
            f"{where}Request limit exceeded: {kind} size ({len(text)} bytes) exceeds maximum "
            f"allowed size ({limits.max_template_size} bytes)."
        )


def _invalid(what: str, message: str) -> TemplateSyntaxError:
    kind, where = _split_what(what)
    return TemplateSyntaxError(f"{where}{kind} not in valid format: {message}")


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
            "(YAML aliases are followed); refusing to process it"
        )
    if nbytes > limits.max_expanded_bytes:
        raise TemplateLimitError(
            f"{what} expands to more than {limits.max_expanded_bytes} bytes of text "
            "(YAML aliases are followed; limit max_expanded_bytes); refusing to process it"
        )
    if depth > limits.max_data_depth:
        raise TemplateLimitError(f"{what} nests deeper than {limits.max_data_depth} levels")


def _parse_yaml(text: str, what: str) -> Any:
    try:
        try:
            data = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            if "maximum nesting depth" in str(getattr(exc, "problem", "")):  # libyaml's guard
                raise TemplateLimitError(f"{what} nests too deeply to be parsed") from None
            # as Heat: PyYAML's own parser words the error, or loads what libyaml refused
            # (then an empty document is not made {})
            return yaml.load(text, Loader=_PureLoader)
    except yaml.YAMLError as exc:
        message = str(exc)
        if what.partition(" ")[0] == "Template":
            message = f"Error parsing template {_child_url(what) or '[root stack]'} {message}"
        raise _invalid(what, message) from None
    except _NotUtf8 as exc:
        where = f" at line {exc.mark.line + 1}, column {exc.mark.column + 1}"
        raise _invalid(what, f"the !!binary value{where} is not UTF-8 text") from None
    except RecursionError:
        raise TemplateLimitError(f"{what} nests too deeply to be parsed") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise _invalid(what, str(exc)) from None
    return {} if data is None else data


def load_document(
    text: str | bytes,
    *,
    limits: Limits = DEFAULT_LIMITS,
    what: str = "Template",
    json_first: bool = True,
) -> Any:
    """Parse ``text`` as Heat does (JSON first when ``json_first``, then YAML; an empty YAML
    document is ``{}``) and return the data, checked by :func:`check_structure`.

    ``what`` names the document in messages: its first word is the kind ("Template",
    "Environment"), the rest where it is; ``Template "name"`` is a child template file.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateSyntaxError(f"{what} is not UTF-8 text: {exc.reason}") from None
    _check_size(text, limits, what)
    data: Any = _NOT_JSON
    if json_first:
        try:
            data = json.loads(text)
        except RecursionError:
            # YAML could not parse it either (it would nest as deep): say why (review L7)
            raise TemplateLimitError(f"{what} nests too deeply to be parsed") from None
        except ValueError:
            data = _NOT_JSON
    if data is _NOT_JSON:
        data = _parse_yaml(text, what)
    check_structure(data, limits, what)
    return data


def load_mapping(
    text: str | bytes,
    *,
    limits: Limits = DEFAULT_LIMITS,
    what: str = "Template",
    json_first: bool | None = None,
) -> dict[str, Any]:
    """Like :func:`load_document` but the result must be a mapping, as Heat requires.

    A template (``what`` starting with "Template") is read JSON first and must have a version
    key; an environment is read as YAML only (``json_first`` overrides either). Keys need not be
    strings here (Heat loads ``1:`` or ``true:`` keys as they are); the template and environment
    checks say where such a key is not allowed.
    """
    kind = what.partition(" ")[0]
    template = kind != "Environment"
    data = load_document(
        text, limits=limits, what=what, json_first=template if json_first is None else json_first
    )
    if not isinstance(data, Mapping):
        raise _invalid(
            what,
            "The template is not a JSON object or YAML mapping."
            if template
            else "The environment is not a valid YAML mapping data type.",
        )
    if kind == "Template" and not any(key in data for key in VERSION_KEYS):
        _, where = _split_what(what)
        raise TemplateVersionError(
            f"{where}Template not in valid format: Template format version not found."
        )
    return dict(data)


def duplicate_key_warnings(text: str | bytes, what: str = "Template") -> list[str]:
    """One warning per key written twice in one mapping of ``text`` (a YAML or JSON document
    that loads): Heat, and kubeheat with it, silently keep the last value; ``kubeheat validate``
    says so. Each names the key's path and the line of the value kept, e.g.
    ``resources.web.properties.flavor: duplicate key, the value at line 9 is kept``.
    Merge keys (``<<``) are not duplicates. A text that does not compose gives no warnings."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return []
    _, where = _split_what(what)
    found: list[tuple[int, str]] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[PathPart, ...]]] = [(root, ())] if root else []
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            keys: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None and key.tag != "tag:yaml.org,2002:merge":
                    if (key.tag, name) in keys:
                        line = value.start_mark.line + 1
                        found.append(
                            (
                                line,
                                f"{where}{format_path((*path, name))}: duplicate "
                                f"key, the value at line {line} is kept",
                            )
                        )
                    keys[(key.tag, name)] = value.start_mark.line
                stack.append((value, (*path, name if name is not None else "?")))
    return [message for _, message in sorted(found)]


_NOT_JSON = object()


def json_key(key: Any) -> str:
    """A map key as JSON names it: a key YAML read as a number, boolean or null (``1:``,
    ``true:``, ``~:``) becomes ``"1"``, ``"true"``, ``"null"``, as Heat gives it back once it
    has stored the template."""
    return key if isinstance(key, str) else json.dumps(key)
