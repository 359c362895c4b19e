"""Hidden parameters and the masking of their values, for every front end (CLI and controller).

A parameter is hidden when its schema says so (``hidden: true`` in HOT, ``NoEcho: true`` in
CloudFormation), in the template or in a template of its files map (provider templates:
``parameter_defaults`` reach their parameters too). Every value given to a hidden parameter is a
secret: the value given directly (command line, Stack spec, Secret), in an environment's
``parameters`` or ``parameter_defaults``, and the template's default. :class:`Redactor` shows
``******`` (:data:`MASK`) instead of a secret in messages and in data (outputs may echo hidden
parameters).

A secret is looked for in every text form it can take in a message: a string as given and
stripped, a number as ``str()`` gives it, a list item by item and as a whole, any other value as
``str()`` gives it. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubeheat.template.constraints import MASK
from kubeheat.template.environment import Environment
from kubeheat.template.errors import KubeheatError
from kubeheat.template.stack import Template
from kubeheat.template.versions import VERSION_KEYS

__all__ = ["MASK", "Redactor", "hidden_parameter_names", "hidden_values", "texts", "values_of"]


def hidden_parameter_names(template: Template) -> set[str]:
    """The hidden parameters of ``template`` and of every template in its files map."""
    hidden = {name for name, s in template.parameter_schemas.items() if s.hidden}
    for text in template.files.values():
        if not any(key in text for key in VERSION_KEYS):
            continue
        try:
            nested = Template.load(text, limits=template.limits)
        except KubeheatError:
            continue
        hidden |= {name for name, s in nested.parameter_schemas.items() if s.hidden}
    return hidden


def texts(value: Any) -> list[str]:
    """The text forms of one value given to a hidden parameter (see the module); empty for
    None and the empty string."""
    if value is None:
        return []
    found = [value if isinstance(value, str) else str(value)]
    if isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, str) or (isinstance(item, int | float)
                                         and not isinstance(item, bool)):
                found.append(str(item))
    return [text for text in found if text]


def values_of(names: Iterable[str], sources: Iterable[Mapping[str, Any]]) -> list[str]:
    """The text forms of every value ``sources`` give to one of ``names``, longest first."""
    wanted = set(names)
    found: set[str] = set()
    for source in sources:
        for name in wanted & set(source):
            found.update(texts(source[name]))
    return sorted(found, key=lambda v: (-len(v), v))


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
    return values_of(hidden_parameter_names(template), sources)


class Redactor:
    """Replaces secret values with ``******`` in text and data.

    A secret of at least ``min_partial`` characters is masked wherever it occurs in a text; a
    shorter one only where it is the whole text (masking it inside text would garble it). The
    controller keeps the default (4); the CLI masks every occurrence (1), as its messages are
    short and quote values.
    """

    def __init__(self, secrets: Iterable[Any] = (), *, min_partial: int = 4) -> None:
        self.min_partial = min_partial
        self._values: set[str] = set()
        self._ordered: list[str] | None = None
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

    def text(self, value: str) -> str:
        if not self._values or not value:
            return value
        if value in self._values:
            return MASK
        if self._ordered is None:
            self._ordered = sorted(self._values, key=lambda v: (-len(v), v))
        for secret in self._ordered:
            if len(secret) >= self.min_partial and secret in value:
                value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        """``value`` with every string in it (map keys too) masked as :meth:`text` masks it,
        and every number whose text is a secret replaced by ``******``."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool) \
                and str(value) in self._values:
            return MASK
        return value
