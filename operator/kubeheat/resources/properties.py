"""Checking resolved property values against a plugin's schema, the way Heat does.

:func:`check_properties` applies defaults, reports missing required properties and unknown
ones, converts values to their declared type (Heat's lenient conversions: numbers and booleans
become strings, numeric strings become numbers, ``"true"``/``"false"`` become booleans),
recurses into the schema of maps and list items, and checks constraints (custom constraints
through a :class:`~kubeheat.template.constraints.ConstraintRegistry`; names nobody registered
are skipped). Every problem is a :class:`PropertyError` located at
``resources.<name>.properties.<property>`` (plus map keys and ``[index]`` for nested values).
Old property names Heat still accepts (``replaced_by``, see :mod:`kubeheat.resources.translation`)
are translated to the current ones first, at every level (:func:`translate`).

Facts follow Heat's ``heat/engine/properties.py`` (``Property._get_*``, ``Properties.validate``);
the code is kubeheat's own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from kubeheat.resources.base import (
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
    NO_DEFAULT,
    NUMBER,
    STRING,
    Property,
    ResourcePlugin,
)
from kubeheat.template import (
    DEFAULT_CONSTRAINTS,
    ConstraintRegistry,
    ConstraintViolation,
    CustomConstraintRef,
    Path,
    TemplateError,
    to_number,
)


class PropertyError(TemplateError):
    """A property value is missing, unknown, of the wrong type or breaks a constraint."""

    code = "StackValidationFailed"


#: schema kinds as the constraints module names them
_KIND = {STRING: "string", INTEGER: "number", NUMBER: "number", BOOLEAN: "boolean",
         LIST: "list", MAP: "map"}


def accepts_any_properties(plugin_cls: type[ResourcePlugin]) -> bool:
    """Types that take whatever properties they are given (``OS::Heat::None``, provider
    templates): no schema check at all."""
    return plugin_cls.accepts_any_properties


def check_properties(plugin_cls: type[ResourcePlugin], values: Mapping[str, Any], path: Path,
                     *, constraints: ConstraintRegistry = DEFAULT_CONSTRAINTS,
                     strict: bool = True, deferred: Collection[str] = ()) -> dict[str, Any]:
    """The checked property values of one resource: every declared property present (None when
    unset without default), values converted to their types.

    ``path`` is the resource's properties path, e.g. ``("resources", "web", "properties")``.
    ``strict=False`` is validation before resources exist: None (a ``get_attr`` placeholder)
    is accepted for any property, even a required one, and ``deferred`` names properties whose
    values depend on other resources, so their constraints are not checked yet (Heat skips them
    too until the referenced resources exist).
    """
    if accepts_any_properties(plugin_cls):
        return {k: v for k, v in values.items()}
    deferred = translate(plugin_cls.properties, values, path, (), deferred)[1]
    checked = check_schema(plugin_cls.properties, values, path, constraints=constraints,
                           strict=strict, deferred=deferred)
    problem = plugin_cls.check_values(
        {k: v for k, v in checked.items() if k not in deferred})
    if problem is not None:
        raise PropertyError(problem[1], (*path, problem[0]))
    return checked


def check_schema(schema: Mapping[str, Property], values: Mapping[str, Any], path: Path, *,
                 constraints: ConstraintRegistry = DEFAULT_CONSTRAINTS, strict: bool = True,
                 deferred: Collection[str] = (), names: Sequence[str] = ()) -> dict[str, Any]:
    """:func:`check_properties` for a bare schema (also used for nested map schemas, whose
    place in the schema ``names`` gives: ``("fixed_ips",)``)."""
    if not isinstance(values, Mapping):
        raise PropertyError(f'"{values}" is not a map', path)
    values, deferred = translate(schema, values, path, names, deferred)
    for key in values:
        if key not in schema:
            raise PropertyError(f"Unknown Property {key}", path)
    out: dict[str, Any] = {}
    for key, prop in schema.items():
        value = values.get(key)
        if value is None:
            if key in values and not strict:
                out[key] = None          # a placeholder: known only once resources exist
                continue
            if prop.default is not NO_DEFAULT and prop.default is not None:
                out[key] = _coerce(prop, prop.default, (*path, key), constraints, strict, False,
                                   (*names, key))
                continue
            if prop.required:
                raise PropertyError(f"Property {key} not assigned", path)
            out[key] = None
            continue
        out[key] = _coerce(prop, value, (*path, key), constraints, strict, key not in deferred,
                           (*names, key))
    return out


def translate(schema: Mapping[str, Property], values: Mapping[str, Any], path: Path,
              names: Sequence[str] = (), deferred: Collection[str] = ()
              ) -> tuple[Mapping[str, Any], Collection[str]]:
    """``values`` (one level) with each old name's value moved to its replacement (Heat's
    REPLACE translation rule, see :mod:`kubeheat.resources.translation`; a single value of a
    list property's old name becomes its one item, Heat's ADD rule), and the ``deferred``
    names (values not known yet) translated the same way.

    ``path`` locates the values (``resources.<name>.properties`` plus keys and indexes),
    ``names`` is their place in the schema without list indexes (``("fixed_ips",)``), as Heat
    names the properties in its conflict message.
    """
    renames = [(key, prop.replaced_by) for key, prop in schema.items()
               if prop.replaced_by is not None and key in values]
    if not renames:
        return values, deferred
    out = dict(values)
    later = set(deferred)
    for old, new in renames:
        old_value = out.pop(old)
        new_value = out.get(new)
        target = schema.get(new)
        if old_value is not None and target is not None and target.type == LIST \
                and schema[old].type != LIST:
            old_value = [old_value]          # Heat's ADD rule: one item of the new list
        if old_value and new_value:
            both = ", ".join(".".join((*names, n)) for n in (new, old))
            raise PropertyError(
                f"Cannot define the following properties at the same time: {both}",
                (*path, new))
        if old_value is not None or new not in out:  # a null old name: a placeholder
            out[new] = old_value
            if old in later:
                later.add(new)
        later.discard(old)
    return out, later


def translated_names(plugin_cls: type[ResourcePlugin], names: Sequence[str]) -> list[str]:
    """Top-level property ``names`` with each old name replaced by its current one (the names
    of values not known yet, as the checked properties name them)."""
    out: list[str] = []
    for name in names:
        prop = plugin_cls.properties.get(name)
        new = prop.replaced_by if prop is not None and prop.replaced_by else name
        if new not in out:
            out.append(new)
    return out


def _coerce(prop: Property, value: Any, path: Path, registry: ConstraintRegistry,
            strict: bool, check: bool, names: Sequence[str]) -> Any:
    """Convert ``value`` to ``prop``'s type (recursing into children) and check constraints."""
    typed = _convert(prop, value, path, registry, strict, check, names)
    if check and prop.constraints:
        _check_constraints(prop, typed, path, registry)
    return typed


def _convert(prop: Property, value: Any, path: Path, registry: ConstraintRegistry,
             strict: bool, check: bool, names: Sequence[str]) -> Any:
    converter = _CONVERTERS.get(prop.type)
    if converter is None:           # ANY
        return value
    return converter(prop, value, path, registry, strict, check, names)


def _to_string(prop: Property, value: Any, path: Path, registry: ConstraintRegistry,
               strict: bool, check: bool, names: Sequence[str]) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int):
        return str(value)
    raise PropertyError(f"Value must be a string; got {value!r}", path)


def _to_integer(prop: Property, value: Any, path: Path, registry: ConstraintRegistry,
                strict: bool, check: bool, names: Sequence[str]) -> Any:
    if isinstance(value, bool):
        raise PropertyError(f"Value '{value}' is not an integer", path)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise PropertyError(f"Value '{value}' is not an integer", path) from None


def _to_number(prop: Property, value: Any, path: Path, registry: ConstraintRegistry,
               strict: bool, check: bool, names: Sequence[str]) -> Any:
    if isinstance(value, bool):
        raise PropertyError(f"Value '{value}' is not a number", path)
    try:
        return to_number(value)
    except (TypeError, ValueError):
        raise PropertyError(f"Value '{value}' is not a number", path) from None


def _to_boolean(prop: Property, value: Any, path: Path, registry: ConstraintRegistry,
                strict: bool, check: bool, names: Sequence[str]) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise PropertyError(f'"{lowered}" is not a valid boolean', path)
    raise PropertyError(f'"{value}" is not a valid boolean', path)


def _to_map(prop: Property, value: Any, path: Path, registry: ConstraintRegistry,
            strict: bool, check: bool, names: Sequence[str]) -> Any:
    if not isinstance(value, Mapping):
        raise PropertyError(f'"{value}" is not a map', path)
    if prop.schema is not None:
        return check_schema(prop.schema, value, path, constraints=registry, strict=strict,
                            deferred=() if check else tuple(prop.schema), names=names)
    return dict(value)


def _to_list(prop: Property, value: Any, path: Path, registry: ConstraintRegistry,
             strict: bool, check: bool, names: Sequence[str]) -> Any:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise PropertyError(f'"{value!r}" is not a list', path)
    item = prop.item
    if item is None and prop.schema is not None:
        item = Property(MAP, schema=prop.schema)
    if item is None:
        return list(value)
    out: list[Any] = []
    for i, element in enumerate(value):
        if element is None and not strict:
            out.append(None)
            continue
        out.append(_coerce(item, element, (*path, i), registry, strict, check, names))
    return out


_Converter = Callable[[Property, Any, Path, ConstraintRegistry, bool, bool, Sequence[str]], Any]
#: the conversion of each schema type (Heat's lenient ones); ``any`` takes values as they are
_CONVERTERS: dict[str, _Converter] = {STRING: _to_string, INTEGER: _to_integer,
                                      NUMBER: _to_number, BOOLEAN: _to_boolean, MAP: _to_map,
                                      LIST: _to_list}


def _check_constraints(prop: Property, value: Any, path: Path,
                       registry: ConstraintRegistry) -> None:
    kind = _KIND.get(prop.type)
    for constraint in prop.constraints:
        if kind is not None and not constraint.applies_to(kind):
            continue
        try:
            if isinstance(constraint, CustomConstraintRef):
                constraint.check(value, registry)
            else:
                constraint.check(value)
        except ConstraintViolation as exc:
            raise PropertyError(exc.message, path) from None


__all__ = ["PropertyError", "accepts_any_properties", "check_properties", "check_schema",
           "translate", "translated_names"]
