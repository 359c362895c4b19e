"""Hidden parameters and the masking of their values, for every front end (CLI and controller).

A parameter is hidden when its schema says so (``hidden: true`` in HOT, ``NoEcho: true`` in
CloudFormation), in the template or in a template of its files map (provider templates:
``parameter_defaults`` reach their parameters too). Every value given to a hidden parameter is a
secret: the value given directly (command line, Stack spec, Secret), in an environment's
``parameters`` or ``parameter_defaults``, and the template's default. :class:`Redactor` shows
``******`` (:data:`MASK`) instead of a secret in messages and in data (outputs may echo hidden
parameters).

A secret is looked for in every text form it can take, following the value's structure as its
parameter type reads it: a string as given and stripped; a number as given and as ``str()``
prints the number; a boolean as given and as ``True``/``true``; every item of a
``comma_delimited_list`` (a string split on ``,``, or a list) and the list as a whole; every
leaf of a ``json`` value (strings, numbers, booleans, however deep) and the whole value as given,
as JSON and as ``repr()`` prints it. Without a type (a value recorded by an earlier run whose
template is gone) a string that parses as a JSON map or list, or holds commas, is read both
ways. Pure: no I/O.

How a secret is masked in free text depends on what it is. One of at least ``min_partial``
characters is masked wherever it occurs, unless it is a boolean word or a number shorter than
:data:`NUMBER_PARTIAL`: those, and shorter secrets, are masked only as a whole token (not next to
a letter, a digit or ``_``, nor joined to one by ``-`` or ``.``), so that a hidden ``1`` never
eats into an id or a timestamp. The start of a secret that a truncated message cut before its
``...`` is masked too. In data, a string or a map key is masked as text is, and a number or a
boolean whose printed form is a secret becomes ``******``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from kubeheat.template.constraints import MASK, ConstraintViolation
from kubeheat.template.environment import Environment
from kubeheat.template.errors import KubeheatError
from kubeheat.template.loader import json_key
from kubeheat.template.parameters import HOT_TYPES, convert
from kubeheat.template.stack import Template
from kubeheat.template.versions import VERSION_KEYS

__all__ = ["MASK", "Redactor", "hidden_parameter_names", "hidden_values", "texts", "values_of"]

#: what a truncated message (``repr(value)[:200] + "..."``) ends a cut value with
ELLIPSIS = "..."
#: the length from which a number is masked inside other text too (shorter numbers are masked
#: as whole tokens only: they occur in ids, times and counts)
NUMBER_PARTIAL = 8
#: the words a boolean is given or printed as (masked as whole tokens only)
_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "t", "f", "y", "n"})


def _hidden_types(template: Template) -> dict[str, set[str]]:
    """The hidden parameters of ``template`` and of every template in its files map, each with
    the types it is declared with."""
    found: dict[str, set[str]] = {}
    schemas = [template.parameter_schemas]
    for text in template.files.values():
        if not any(key in text for key in VERSION_KEYS):
            continue
        try:
            schemas.append(Template.load(text, limits=template.limits).parameter_schemas)
        except KubeheatError:
            continue
    for section in schemas:
        for name, schema in section.items():
            if schema.hidden:
                found.setdefault(name, set()).add(schema.type)
    return found


def hidden_parameter_names(template: Template) -> set[str]:
    """The hidden parameters of ``template`` and of every template in its files map."""
    return set(_hidden_types(template))


def texts(value: Any) -> list[str]:
    """The plain text forms of one value given to a hidden parameter: the value as ``str()``
    gives it and, for a list, each string or number item; empty for None and the empty string.
    (:func:`values_of` and :func:`hidden_values` add the forms of the value's structure.)"""
    if value is None:
        return []
    found = [value if isinstance(value, str) else str(value)]
    if isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, str) or (isinstance(item, int | float)
                                         and not isinstance(item, bool)):
                found.append(str(item))
    return [text for text in found if text]


def _scalar_texts(value: Any) -> list[str]:
    if isinstance(value, bool):
        return [str(value), str(value).lower()]
    if isinstance(value, int | float):
        return [str(value)]
    if isinstance(value, str):
        return [value]
    return []


def _leaves(value: Any) -> Iterator[str]:
    """The text of every leaf (string, number, boolean) of a list or map, however deep (map
    keys are structure, not values)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
        else:
            yield from _scalar_texts(item)


def _whole_forms(value: Any) -> list[str]:
    """A structured value as messages and data print it: ``repr()`` and JSON."""
    forms = [repr(value)]
    for options in ({}, {"sort_keys": True}, {"separators": (",", ":")}):
        try:
            forms.append(json.dumps(value, **options))
        except (TypeError, ValueError, RecursionError):
            break
    return forms


def _typed_texts(value: Any, types: Iterable[str]) -> list[str]:
    """The text forms of ``value`` given to a parameter of one of ``types`` (see the
    module)."""
    found = texts(value)
    if isinstance(value, Mapping | list | tuple):
        found.extend(_leaves(value))
    for ptype in types:
        if ptype not in HOT_TYPES:
            continue
        try:
            parsed = convert(ptype, value)
        except (ConstraintViolation, TypeError, ValueError, RecursionError):
            continue                      # not a value of that type: as given only
        if ptype in ("json", "comma_delimited_list"):
            found.extend(_leaves(parsed))
            found.extend(_whole_forms(parsed) if ptype == "json" else [str(parsed)])
        else:
            found.extend(_scalar_texts(parsed))
    return found


def _guessed_types(value: Any) -> list[str]:
    """The types an untyped recorded value may have had (see the module)."""
    if isinstance(value, Mapping):
        return ["json"]
    if isinstance(value, list | tuple):
        return ["comma_delimited_list"]
    if not isinstance(value, str):
        return ["number", "boolean"]
    guessed = ["comma_delimited_list"] if "," in value else []
    if value.lstrip()[:1] in ("{", "["):
        guessed.append("json")
    return guessed


def _ordered(found: Iterable[str]) -> list[str]:
    return sorted({text for text in found if text}, key=lambda v: (-len(v), v))


def values_of(names: Iterable[str], sources: Iterable[Mapping[str, Any]],
              types: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    """The text forms of every value ``sources`` give to one of ``names``, longest first;
    ``types`` (name -> the types it is declared with) reads each value as its type does, and
    without it a value's structure is guessed (see the module)."""
    wanted = set(names)
    found: list[str] = []
    for source in sources:
        for name in wanted & set(source):
            value = source[name]
            ptypes = list(types.get(name, ())) if types is not None else _guessed_types(value)
            found.extend(_typed_texts(value, ptypes))
    return _ordered(found)


def hidden_values(template: Template, parameters: Mapping[str, Any],
                  environments: Iterable[Environment] = ()) -> list[str]:
    """Every value given to a hidden parameter of ``template`` (``parameters``, the
    environments' ``parameters`` and ``parameter_defaults``, the template's defaults), in its
    text forms, longest first: what nothing shown may contain."""
    sources: list[Mapping[str, Any]] = [parameters]
    for env in environments:
        sources += [env.parameters, env.parameter_defaults]
    sources.append({name: s.default for name, s in template.parameter_schemas.items()
                    if s.has_default})
    hidden = _hidden_types(template)
    return values_of(hidden, sources, hidden)


def _token_only(secret: str, min_partial: int) -> bool:
    """Whether ``secret`` is masked in text only where it stands as a whole token."""
    if len(secret) < min_partial or secret.strip().lower() in _BOOLEAN_WORDS:
        return True
    if len(secret) >= NUMBER_PARTIAL:
        return False
    try:
        float(secret)
    except ValueError:
        return False
    return True


#: a whole token: not next to a word character, nor joined to one by "-" or "."
_BEFORE = r"(?<!\w)(?<!\w[-.])"
_AFTER = r"(?!\w)(?![-.]\w)"


@lru_cache(maxsize=256)
def _pattern(secrets: tuple[tuple[str, bool], ...]) -> re.Pattern[str]:
    """One alternation of ``(secret, token_only)`` pairs, longest first (so that a secret
    inside a longer one never splits it, and nothing masked is looked at again)."""
    parts = [f"{_BEFORE}{re.escape(s)}{_AFTER}" if token else re.escape(s)
             for s, token in secrets]
    return re.compile("|".join(parts))


class Redactor:
    """Replaces secret values with ``******`` in text and data (see the module for the rules).

    ``min_partial``: the length from which a secret (not a number or a boolean word) is masked
    inside other text; a shorter one is masked as a whole token only. The CLI and the
    controller both keep the default (4).
    """

    def __init__(self, secrets: Iterable[Any] = (), *, min_partial: int = 4) -> None:
        self.min_partial = min_partial
        self._values: set[str] = set()
        self._ordered: list[tuple[str, bool]] | None = None
        self.update(secrets)

    def add(self, value: Any) -> None:
        """Mask ``value`` (a string as given and stripped, anything else as ``str()`` gives
        it)."""
        if value is None:
            return
        text = value if isinstance(value, str) else str(value)
        if text:
            self._values.add(text)
            stripped = text.strip()
            if stripped and stripped != text:
                self._values.add(stripped)
            self._ordered = None

    def update(self, values: Iterable[Any]) -> None:
        for value in values:
            self.add(value)

    @property
    def empty(self) -> bool:
        return not self._values

    def _secrets(self) -> list[tuple[str, bool]]:
        if self._ordered is None:
            self._ordered = [(s, _token_only(s, self.min_partial)) for s in _ordered(
                self._values)]
        return self._ordered

    def text(self, value: str) -> str:
        """``value`` with every secret in it masked (see the module)."""
        if not self._values or not value:
            return value
        if value in self._values:
            return MASK
        present = tuple((s, token) for s, token in self._secrets() if s in value)
        if present:
            value = _pattern(present).sub(MASK, value)
        if ELLIPSIS in value:
            value = self._cut_secrets(value)
        return value

    def _cut_secrets(self, value: str) -> str:
        """Mask the start of a secret that a truncated message cut before its ``...``."""
        shortest = max(self.min_partial, 4)
        for secret, token in self._secrets():
            if token:
                continue
            start = 0
            while (at := value.find(ELLIPSIS, start)) >= 0:
                start = at + len(ELLIPSIS)
                for size in range(min(len(secret) - 1, at), shortest - 1, -1):
                    if value[at - size:at] == secret[:size]:
                        value = value[:at - size] + MASK + value[at:]
                        start = at - size + len(MASK) + len(ELLIPSIS)
                        break
        return value

    def whole(self, value: Any) -> Any:
        """``******`` when ``value`` as a whole (a string, or a number as printed) is a secret,
        else ``value`` unchanged: for identifiers, which masking inside would garble."""
        if value is None or isinstance(value, bool) or not self._values:
            return value
        return MASK if (value if isinstance(value, str) else str(value)) in self._values \
            else value

    def data(self, value: Any) -> Any:
        """``value`` with every string in it (map keys too) masked as :meth:`text` masks it,
        and every number or boolean whose printed form is a secret replaced by ``******``."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            # a key that YAML read as a number, boolean or null is named as JSON names it
            return {self.text(json_key(k)): self.data(v)
                    for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, bool):
            return MASK if str(value) in self._values or str(value).lower() in self._values \
                else value
        if isinstance(value, int | float) and str(value) in self._values:
            return MASK
        return value
