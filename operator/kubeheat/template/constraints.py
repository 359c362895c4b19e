"""Parameter constraints: the template's own rules and the registry of named custom ones.

A parameter's ``constraints`` list (HOT) or its ``AllowedValues`` / ``MinLength`` ... keys (CFN)
become :class:`Constraint` objects: :class:`RangeConstraint`, :class:`LengthConstraint`,
:class:`ModuloConstraint`, :class:`AllowedValuesConstraint`, :class:`AllowedPatternConstraint`
and :class:`CustomConstraintRef`. Each knows which value kinds it applies to, describes itself in
Heat's words and checks a typed value, raising :class:`ConstraintViolation` with Heat's message.

``custom_constraint: <name>`` names a plugin found in a :class:`ConstraintRegistry`. Plugins
subclass :class:`CustomConstraint`; :data:`DEFAULT_CONSTRAINTS` holds the ones that need no cloud
(``ip_addr``, ``net_cidr``, ``mac_addr``, ``iso_8601``, ``dns_name``, ``dns_domain``,
``rel_dns_name``, ``json_string``, ``cron_expression``, ``timezone``, ``expiration``,
``test_constr``); those, the plugin interface and the registry live in
:mod:`.custom_constraints` and are re-exported here. Cloud-backed ones (``nova.flavor``,
``glance.image`` ...) are registered by the layer that talks to a cloud; a name nobody
registered is not an error, it is reported unchecked.

Facts follow Heat's ``heat/engine/constraints.py``, ``heat/engine/hot/parameters.py`` and
``heat/engine/constraint/common_constraints.py``; the implementations here are kubeheat's own.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from kubeheat.template.custom_constraints import (
    DEFAULT_CONSTRAINTS,
    ConstraintRegistry,
    ConstraintViolation,
    CustomConstraint,
    builtin,
    show,
    to_number,
)
from kubeheat.template.errors import ParameterError, Path
from kubeheat.template.patterns import PatternError, PatternTimeout, compile_pattern, full_match

#: The value kinds constraints distinguish (Heat's schema types STRING, NUMBER, BOOLEAN, LIST,
#: MAP). A HOT ``comma_delimited_list`` is a list, ``json`` a map.
Kind = Literal["string", "number", "boolean", "list", "map"]

#: What a hidden value is shown as, everywhere.
MASK = "******"

#: Heat's exception name for a malformed schema.
INVALID_SCHEMA = "InvalidSchemaError"


def schema_error(message: str, path: Path) -> ParameterError:
    """A parameter-schema error at ``path`` (Heat's ``InvalidSchemaError``)."""
    return ParameterError(message, path, code=INVALID_SCHEMA)


def _json_text(value: Any) -> str:
    """A value as Heat's ``json.dumps(value)`` renders it (``str()`` if it is no JSON)."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)


# ---------------------------------------------------------------------------------------------
# The template's constraints
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constraint(ABC):
    """One constraint from a parameter schema.

    ``key`` is the HOT keyword (``range`` ...), ``heat_name`` Heat's class name as used in its
    messages ("Range constraint invalid for string"), ``kinds`` the value kinds it applies to, and
    ``description`` the template's text, which replaces Heat's default message when given.
    """

    key: ClassVar[str]
    heat_name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    #: True only for custom_constraint references (the CLI's validate looks for it)
    custom: ClassVar[bool] = False

    description: str | None = field(default=None, kw_only=True)

    @property
    def name(self) -> str:
        """The constraint's name: its keyword, or for a custom constraint the plugin's name."""
        return self.key

    def applies_to(self, kind: str) -> bool:
        return kind in self.kinds

    def check(self, value: Any) -> None:
        """Raise :class:`ConstraintViolation` unless the typed ``value`` satisfies this."""
        if not self._is_valid(value):
            raise self.violation(value)

    def violation(self, value: Any) -> ConstraintViolation:
        """The error for ``value``: the template's description if any, else Heat's message."""
        if self.description:
            return ConstraintViolation(self.description, redacted=self.description)
        return ConstraintViolation(self._message(value, False), redacted=self._message(value, True))

    @abstractmethod
    def default_description(self) -> str:
        """Heat's description of the rule, used when the template gives none."""

    @abstractmethod
    def payload(self) -> Any:
        """The constraint's argument as written in HOT (``{min: 1}``, a list, a pattern ...)."""

    def as_dict(self) -> dict[str, Any]:
        """The HOT form of this constraint, as Heat serialises it."""
        out: dict[str, Any] = {}
        if self.description is not None:
            out["description"] = self.description
        out[self.key] = self.payload()
        return out

    @abstractmethod
    def _is_valid(self, value: Any) -> bool: ...

    @abstractmethod
    def _message(self, value: Any, hide: bool) -> str: ...


def _bounds(low: Any, high: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if low is not None:
        out["min"] = low
    if high is not None:
        out["max"] = high
    return out


def _describe_bounds(subject: str, low: Any, high: Any) -> str:
    if high is None:
        return f"The {subject} must be at least {low}."
    if low is None:
        return f"The {subject} must be no greater than {high}."
    return f"The {subject} must be in the range {low} to {high}."


@dataclass(frozen=True)
class RangeConstraint(Constraint):
    """``range: {min, max}``: a number within inclusive bounds."""

    key: ClassVar[str] = "range"
    heat_name: ClassVar[str] = "Range"
    kinds: ClassVar[frozenset[str]] = frozenset({"number"})

    min: int | float | None = None
    max: int | float | None = None

    def default_description(self) -> str:
        return _describe_bounds("value", self.min, self.max)

    def payload(self) -> dict[str, Any]:
        return _bounds(self.min, self.max)

    def _in_bounds(self, number: int | float) -> bool:
        if self.min is not None and number < self.min:
            return False
        return self.max is None or number <= self.max

    def _is_valid(self, value: Any) -> bool:
        try:
            return self._in_bounds(to_number(value))
        except (TypeError, ValueError):
            return False

    def _message(self, value: Any, hide: bool) -> str:
        shown = MASK if hide else show(value)
        return f"{shown} is out of range (min: {self.min}, max: {self.max})"


@dataclass(frozen=True)
class LengthConstraint(RangeConstraint):
    """``length: {min, max}``: the length of a string, list or map within inclusive bounds.

    A subclass of :class:`RangeConstraint`, as in Heat: test for it first.
    """

    key: ClassVar[str] = "length"
    heat_name: ClassVar[str] = "Length"
    kinds: ClassVar[frozenset[str]] = frozenset({"string", "list", "map"})

    def default_description(self) -> str:
        return _describe_bounds("length", self.min, self.max)

    def _is_valid(self, value: Any) -> bool:
        try:
            return self._in_bounds(len(value))
        except TypeError:
            return False

    def _message(self, value: Any, hide: bool) -> str:
        try:
            size = MASK if hide else str(len(value))
        except TypeError:
            size = "?"
        return f"length ({size}) is out of range (min: {self.min}, max: {self.max})"


@dataclass(frozen=True)
class ModuloConstraint(Constraint):
    """``modulo: {step, offset}`` (HOT 2017-02-24+): ``value % step == offset``."""

    key: ClassVar[str] = "modulo"
    heat_name: ClassVar[str] = "Modulo"
    kinds: ClassVar[frozenset[str]] = frozenset({"number"})

    step: int = 1
    offset: int = 0

    def default_description(self) -> str:
        return f"The value must be a multiple of {self.step} with an offset of {self.offset}."

    def payload(self) -> dict[str, Any]:
        return {"step": self.step, "offset": self.offset}

    def _is_valid(self, value: Any) -> bool:
        try:
            return bool(to_number(value) % self.step == self.offset)
        except (TypeError, ValueError):
            return False

    def _message(self, value: Any, hide: bool) -> str:
        shown = MASK if hide else show(value)
        # Heat 27.0.1's text (older Heat had a stray closing parenthesis)
        return f"{shown} is not a multiple of {self.step} with an offset of {self.offset}"


def _same(kind_value: Any, allowed: Any) -> bool:
    """Compare a typed value with one allowed value as Heat does, converting the allowed value
    to the value's type first (``to_schema_type``)."""
    try:
        if isinstance(kind_value, bool):
            return bool_from_string(allowed) is kind_value
        if isinstance(kind_value, int | float):
            return bool(to_number(allowed) == kind_value)
    except (TypeError, ValueError):
        return False
    return show(allowed) == show(kind_value)


@dataclass(frozen=True)
class AllowedValuesConstraint(Constraint):
    """``allowed_values: [...]``: the value (each item, for a list) is one of these."""

    key: ClassVar[str] = "allowed_values"
    heat_name: ClassVar[str] = "AllowedValues"
    kinds: ClassVar[frozenset[str]] = frozenset({"string", "number", "boolean", "list"})

    allowed: tuple[Any, ...] = ()

    def default_description(self) -> str:
        return "Allowed values: " + ", ".join(show(a) for a in self.allowed)

    def payload(self) -> list[Any]:
        return list(self.allowed)

    def _one_allowed(self, value: Any) -> bool:
        return any(_same(value, a) for a in self.allowed)

    def _is_valid(self, value: Any) -> bool:
        if isinstance(value, list):
            return all(self._one_allowed(v) for v in value)
        return self._one_allowed(value)

    def _message(self, value: Any, hide: bool) -> str:
        # Heat's words: the value and each allowed value as JSON (a list value as a whole)
        shown = json.dumps(MASK) if hide else _json_text(value)
        allowed = ", ".join(_json_text(a) for a in self.allowed)
        return f"{shown} is not an allowed value [{allowed}]"


@dataclass(frozen=True)
class AllowedPatternConstraint(Constraint):
    """``allowed_pattern: <regex>``: the regex, anchored at the start, must consume the whole
    string (Heat's ``match`` + end check, stricter than ``fullmatch`` with alternations)."""

    key: ClassVar[str] = "allowed_pattern"
    heat_name: ClassVar[str] = "AllowedPattern"
    kinds: ClassVar[frozenset[str]] = frozenset({"string"})

    pattern: str = ""

    def default_description(self) -> str:
        return f"Value must match pattern: {self.pattern}"

    def payload(self) -> str:
        return self.pattern

    def _is_valid(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            return full_match(self.pattern, value)
        except PatternError:
            return False
        except PatternTimeout as exc:
            # not a verdict on the value: the template's description would be misleading
            text = str(PatternTimeout(exc.pattern, self.key, budget=exc.budget))
            raise ConstraintViolation(text, redacted=text) from None

    def _message(self, value: Any, hide: bool) -> str:
        shown = MASK if hide else show(value)
        return f'"{shown}" does not match pattern "{self.pattern}"'


@dataclass(frozen=True)
class CustomConstraintRef(Constraint):
    """``custom_constraint: <name>``: delegate to the plugin registered under ``name``.

    A list value is checked item by item. A name no registry knows is not checked at all; the
    parameter layer reports it as unchecked.
    """

    key: ClassVar[str] = "custom_constraint"
    heat_name: ClassVar[str] = "CustomConstraint"
    kinds: ClassVar[frozenset[str]] = frozenset({"string", "number", "boolean", "list"})
    custom: ClassVar[bool] = True

    constraint: str = ""

    @property
    def name(self) -> str:
        return self.constraint

    def resolve(self, registry: ConstraintRegistry | None = None) -> CustomConstraint | None:
        """The plugin for this name in ``registry`` (default :data:`DEFAULT_CONSTRAINTS`)."""
        return (registry if registry is not None else DEFAULT_CONSTRAINTS).get(self.constraint)

    def default_description(self, registry: ConstraintRegistry | None = None) -> str:
        """The plugin's ``message`` if it has one, else Heat's generic wording."""
        plugin = self.resolve(registry)
        if plugin is not None and plugin.message:
            return plugin.message
        return f"Value must be of type {self.constraint}"

    def payload(self) -> str:
        return self.constraint

    def check(self, value: Any, registry: ConstraintRegistry | None = None) -> None:
        """Check with the registered plugin; an unknown name checks nothing."""
        plugin = self.resolve(registry)
        if plugin is not None:
            self.check_with(plugin, value)

    def check_with(self, plugin: CustomConstraint, value: Any) -> None:
        items = value if isinstance(value, list) else [value]
        for item in items:
            failure = _violation_of(plugin, item)
            if failure is not None:
                # raised outside the handler, so nothing quoting the value is chained to it
                raise self._wrap(item, failure)

    def _wrap(self, item: Any, exc: ConstraintViolation) -> ConstraintViolation:
        if self.description:
            return ConstraintViolation(self.description, redacted=self.description)
        message = f"Error validating value '{show(item)}'"
        redacted = f"Error validating value '{MASK}'"
        if exc.message:
            message += f": {exc.message}"
        if exc.redacted:
            redacted += f": {exc.redacted}"
        return ConstraintViolation(message, redacted=redacted)

    def _is_valid(self, value: Any) -> bool:  # pragma: no cover - check() is overridden
        return True

    def _message(self, value: Any, hide: bool) -> str:  # pragma: no cover - see _wrap
        return f"Error validating value '{MASK if hide else show(value)}'"


def _violation_of(plugin: CustomConstraint, value: Any) -> ConstraintViolation | None:
    try:
        plugin.check(value)
    except ConstraintViolation as exc:
        return exc
    return None


# ---------------------------------------------------------------------------------------------
# Parsing constraints out of a schema
# ---------------------------------------------------------------------------------------------


def check_mapping(data: Any, allowed: Iterable[str], entity: str, path: Path) -> Mapping[Any, Any]:
    """Heat's ``_check_dict``: ``data`` must be a mapping whose keys are all in ``allowed``."""
    if not isinstance(data, Mapping):
        raise schema_error(f"Invalid {entity}, expected a mapping", path)
    allowed = frozenset(allowed)
    for key in data:
        if key not in allowed:
            raise schema_error(f"Invalid key '{key}' for {entity}", path)
    return data


def _number(value: Any, message: str, path: Path) -> int | float | None:
    """A bound as Heat's ``get_num`` reads it: None, a number, or a numeric string."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise schema_error(message, path)
    try:
        number = to_number(value)
    except (TypeError, ValueError):
        raise schema_error(message, path) from None
    if isinstance(number, float) and not math.isfinite(number):
        raise schema_error(message, path)
    return number


def make_range(low: Any, high: Any, description: str | None, path: Path) -> RangeConstraint:
    """A range constraint, with Heat's checks on its bounds."""
    lo = _number(low, "min/max must be numeric", path)
    hi = _number(high, "min/max must be numeric", path)
    if lo is None and hi is None:
        raise schema_error("A range constraint must have a min value and/or a max value "
                           "specified.", path)
    return RangeConstraint(min=lo, max=hi, description=description)


def make_length(low: Any, high: Any, description: str | None, path: Path) -> LengthConstraint:
    """A length constraint: at least one bound, both integral."""
    if low is None and high is None:
        raise schema_error("A length constraint must have a min value and/or a max value "
                           "specified.", path)
    lo = _number(low, "min/max must be numeric", path)
    hi = _number(high, "min/max must be numeric", path)
    if not all(b is None or isinstance(b, int) for b in (lo, hi)):
        raise schema_error("min/max length must be integral", path)
    return LengthConstraint(min=lo, max=hi, description=description)


def make_modulo(step: Any, offset: Any, description: str | None, path: Path) -> ModuloConstraint:
    """A modulo constraint: integral step and offset, step non-zero, |offset| < |step|, and
    both of the same sign."""
    if step is None or offset is None:
        raise schema_error("A modulo constraint must have a step value and an offset value "
                           "specified.", path)
    numbers: list[int] = []
    for raw in (step, offset):
        number = _number(raw, "step/offset must be numeric", path)
        assert number is not None
        if int(number) != number:
            raise schema_error("step/offset must be integer", path)
        numbers.append(int(number))
    istep, ioffset = numbers
    if istep == 0:
        raise schema_error("step cannot be 0.", path)
    if abs(ioffset) >= abs(istep):
        raise schema_error("offset must be smaller (by absolute value) than step.", path)
    if istep * ioffset < 0:
        raise schema_error("step and offset must be both positive or both negative.", path)
    return ModuloConstraint(step=istep, offset=ioffset, description=description)


def make_allowed_values(allowed: Any, description: str | None,
                        path: Path) -> AllowedValuesConstraint:
    if not isinstance(allowed, Sequence) or isinstance(allowed, str | bytes):
        raise schema_error("AllowedValues must be a list", path)
    return AllowedValuesConstraint(allowed=tuple(allowed), description=description)


def make_allowed_pattern(pattern: Any, description: str | None,
                         path: Path) -> AllowedPatternConstraint:
    if not isinstance(pattern, str):
        raise schema_error("AllowedPattern must be a string", path)
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        raise schema_error(f'Invalid AllowedPattern "{pattern}": {exc}', path) from None
    return AllowedPatternConstraint(pattern=pattern, description=description)


def make_custom(name: Any, description: str | None, path: Path) -> CustomConstraintRef:
    if not isinstance(name, str) or not name:
        raise schema_error("custom_constraint must be the name of a constraint", path)
    return CustomConstraintRef(constraint=name, description=description)


#: The keys a HOT constraint entry may have (Heat's PARAM_CONSTRAINTS).
HOT_CONSTRAINT_KEYS = ("description", "length", "range", "modulo", "allowed_values",
                       "allowed_pattern", "custom_constraint")
_BOUND_KEYS = ("min", "max")
_MODULO_KEYS = ("step", "offset")


def _description(entry: Mapping[Any, Any], path: Path) -> str | None:
    desc = entry.get("description")
    if desc is None or isinstance(desc, str):
        return desc
    if isinstance(desc, int | float):
        return str(desc)
    raise schema_error("The description of a constraint must be a string", (*path, "description"))


def _hot_constraint(entry: Mapping[Any, Any], modulo: bool, path: Path) -> Constraint:
    """One HOT constraint entry; the first key found wins, in Heat's order."""
    desc = _description(entry, path)
    if modulo and "modulo" in entry:
        where: Path = (*path, "modulo")
        cdef = check_mapping(entry["modulo"], _MODULO_KEYS, "modulo constraint", where)
        return make_modulo(cdef.get("step"), cdef.get("offset"), desc, where)
    for key, entity in (("range", "range constraint"), ("length", "length constraint")):
        if key in entry:
            where = (*path, key)
            cdef = check_mapping(entry[key], _BOUND_KEYS, entity, where)
            make = make_range if key == "range" else make_length
            return make(cdef.get("min"), cdef.get("max"), desc, where)
    if "allowed_values" in entry:
        return make_allowed_values(entry["allowed_values"], desc, (*path, "allowed_values"))
    if "allowed_pattern" in entry:
        return make_allowed_pattern(entry["allowed_pattern"], desc, (*path, "allowed_pattern"))
    if "custom_constraint" in entry:
        return make_custom(entry["custom_constraint"], desc, (*path, "custom_constraint"))
    message = "No constraint expressed"
    if "modulo" in entry:
        message += " (modulo needs heat_template_version 2017-02-24 or later)"
    raise schema_error(message, path)


def parse_hot_constraints(section: Any, param_name: str, *, modulo: bool,
                          path: Path) -> tuple[Constraint, ...]:
    """A HOT ``constraints`` list (``path`` points at it). ``modulo`` says whether the version
    knows the modulo constraint."""
    if section is None:
        return ()
    if not isinstance(section, list):
        raise schema_error(f"Invalid parameter constraints for parameter {param_name}, "
                           "expected a list", path)
    out: list[Constraint] = []
    for index, entry in enumerate(section):
        where: Path = (*path, index)
        check_mapping(entry, HOT_CONSTRAINT_KEYS, "parameter constraints", where)
        out.append(_hot_constraint(entry, modulo, where))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Booleans (shared with the parameter layer)
# ---------------------------------------------------------------------------------------------

TRUE_STRINGS = ("1", "t", "true", "on", "y", "yes")
FALSE_STRINGS = ("0", "f", "false", "off", "n", "no")
BOOLEAN_HELP = ", ".join(f"'{s}'" for s in sorted(TRUE_STRINGS + FALSE_STRINGS))


def bool_from_string(value: Any) -> bool:
    """oslo's strict ``bool_from_string``: booleans pass; anything else is compared, stripped
    and lower-cased, with the true and false spellings. Raises ``ValueError``."""
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in TRUE_STRINGS:
        return True
    if lowered in FALSE_STRINGS:
        return False
    raise ValueError(f"Unrecognized value '{value}', acceptable values are: {BOOLEAN_HELP}")


__all__ = [
    "BOOLEAN_HELP",
    "DEFAULT_CONSTRAINTS",
    "HOT_CONSTRAINT_KEYS",
    "MASK",
    "AllowedPatternConstraint",
    "AllowedValuesConstraint",
    "Constraint",
    "ConstraintRegistry",
    "ConstraintViolation",
    "CustomConstraint",
    "CustomConstraintRef",
    "Kind",
    "LengthConstraint",
    "ModuloConstraint",
    "RangeConstraint",
    "bool_from_string",
    "builtin",
    "check_mapping",
    "make_allowed_pattern",
    "make_allowed_values",
    "make_custom",
    "make_length",
    "make_modulo",
    "make_range",
    "parse_hot_constraints",
    "show",
    "to_number",
]
