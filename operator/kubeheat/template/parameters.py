"""Template parameters: schemas, groups, typed values, and the template-validate view of them.

:func:`parse_parameter_schemas` reads a template's ``parameters`` (HOT) or ``Parameters`` (CFN)
section into :class:`ParameterSchema` objects, checking keys, types, constraints and defaults as
Heat does (``heat/engine/parameters.py``, ``heat/engine/hot/parameters.py``).
:func:`parse_parameter_groups` checks ``parameter_groups`` (``heat/engine/parameter_groups.py``).
:func:`resolve_parameters` binds user values, environment ``parameter_defaults`` and template
defaults into a :class:`Parameters` mapping of typed values, and :func:`check_immutable` guards
``immutable`` parameters on update. :func:`format_validate_parameters` and
:func:`format_parameter_groups` give the ``Parameters`` / ``ParameterGroups`` parts of Heat's
template-validate response (``heat/engine/api.py``, ``format_validate_parameter``).

Hidden (``hidden: true`` / ``NoEcho: true``) values never appear in a message, a ``repr`` or a
validate result: they are shown as ``******``.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kubeheat.template.constraints import (
    BOOLEAN_HELP,
    DEFAULT_CONSTRAINTS,
    MASK,
    AllowedPatternConstraint,
    AllowedValuesConstraint,
    Constraint,
    ConstraintRegistry,
    ConstraintViolation,
    CustomConstraintRef,
    LengthConstraint,
    ModuloConstraint,
    RangeConstraint,
    bool_from_string,
    check_mapping,
    make_allowed_pattern,
    make_allowed_values,
    make_length,
    make_range,
    parse_hot_constraints,
    schema_error,
    show,
)
from kubeheat.template.errors import ParameterError, Path, TemplateError
from kubeheat.template.limits import DEFAULT_LIMITS, Limits
from kubeheat.template.loader import check_structure
from kubeheat.template.versions import VersionSpec

ParamType = Literal["string", "number", "json", "comma_delimited_list", "boolean"]

#: HOT type names, which kubeheat uses internally for both families.
HOT_TYPES: tuple[ParamType, ...] = ("string", "number", "comma_delimited_list", "json", "boolean")
#: CFN ``Type`` -> HOT type.
CFN_TYPES: dict[str, ParamType] = {
    "String": "string", "Number": "number", "CommaDelimitedList": "comma_delimited_list",
    "Json": "json", "Boolean": "boolean",
}
#: HOT type -> the type name template-validate reports (Heat's rpc api PARAM_TYPE_*).
API_TYPES: dict[str, str] = {hot: cfn for cfn, hot in CFN_TYPES.items()}
#: HOT type -> the value kind constraints know.
KINDS: dict[str, str] = {
    "string": "string", "number": "number", "comma_delimited_list": "list", "json": "map",
    "boolean": "boolean",
}

#: The keys of a HOT parameter (Heat's HOTParamSchema.KEYS); ``tags`` from 2018-03-02.
HOT_KEYS = ("type", "description", "default", "schema", "constraints", "hidden", "label",
            "immutable")
#: The keys of a CFN parameter (Heat's parameters.PARAMETER_KEYS).
CFN_KEYS = ("Type", "Default", "NoEcho", "AllowedValues", "AllowedPattern", "MaxLength",
            "MinLength", "MaxValue", "MinValue", "Description", "ConstraintDescription", "Label")

#: Where value errors are located: the user's parameters.
SECTION = "parameters"


class _NoDefault(enum.Enum):
    NO_DEFAULT = "NO_DEFAULT"

    def __repr__(self) -> str:
        return "NO_DEFAULT"


#: The ``default`` of a parameter that has none (``default: null`` counts as none, as in Heat).
NO_DEFAULT = _NoDefault.NO_DEFAULT


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ParameterSchema:
    """One declared parameter. ``type`` is the HOT type name for both families; ``cfn_type``
    keeps a CFN template's own ``Type`` spelling. ``default`` is the template's value as
    written (validated), or :data:`NO_DEFAULT`."""

    name: str
    type: ParamType
    default: Any = NO_DEFAULT
    description: str | None = None
    label: str | None = None
    hidden: bool = False
    immutable: bool = False
    tags: tuple[str, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    cfn_type: str | None = None

    @property
    def kind(self) -> str:
        """The value kind constraints see: string, number, boolean, list or map."""
        return KINDS[self.type]

    @property
    def type_name(self) -> str:
        """The type as the template spells it."""
        return self.cfn_type or self.type

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    @property
    def custom_constraints(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.constraints if isinstance(c, CustomConstraintRef))

    def __repr__(self) -> str:
        default = MASK if self.hidden and self.has_default else repr(self.default)
        return (f"ParameterSchema(name={self.name!r}, type={self.type_name!r}, "
                f"default={default}, hidden={self.hidden}, immutable={self.immutable}, "
                f"constraints={[c.as_dict() for c in self.constraints]!r})")


def parse_parameter_schemas(section: Any, spec: VersionSpec,
                            path: Path) -> dict[str, ParameterSchema]:
    """Parse a template's parameters section (``path`` points at it) for ``spec``'s family.

    Raises :class:`ParameterError` (code ``InvalidSchemaError``) at the offending parameter.
    """
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise schema_error("The parameters section must be a mapping of parameter names to "
                           "parameter definitions", path)
    parse = _parse_cfn if spec.family == "cfn" else _parse_hot
    out: dict[str, ParameterSchema] = {}
    for name, body in section.items():
        if not isinstance(name, str) or not name:
            raise schema_error(f"Parameter names must be non-empty strings, not {name!r}", path)
        out[name] = parse(name, body, spec, (*path, name))
    return out


def _text(body: Mapping[Any, Any], key: str, name: str, path: Path) -> str | None:
    """An optional free-text key; numbers are taken as their text."""
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise schema_error(f"The {key} of parameter {name} must be a string", (*path, key))


def _flag(body: Mapping[Any, Any], key: str, name: str, path: Path) -> bool:
    """An optional boolean key (``true``/``false`` or their string spellings)."""
    value = body.get(key)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return bool_from_string(value)
        except ValueError:
            pass
    raise schema_error(f"The {key} property of parameter {name} must be a boolean", (*path, key))


def _tags(body: Mapping[Any, Any], name: str, path: Path) -> tuple[str, ...]:
    tags = body.get("tags")
    if tags is None:
        return ()
    if not isinstance(tags, list):
        raise schema_error(f"Tags property should be a list for parameter: {name}",
                           (*path, "tags"))
    if not all(isinstance(t, str) for t in tags):
        raise schema_error(f"Tags of parameter {name} must be strings", (*path, "tags"))
    return tuple(tags)


def _parse_hot(name: str, body: Any, spec: VersionSpec, path: Path) -> ParameterSchema:
    features = spec.param_features
    allowed = HOT_KEYS + (("tags",) if "tags" in features else ())
    check_mapping(body, allowed, f"parameter ({name})", path)
    if "type" not in body:
        raise schema_error(f"Missing parameter type for parameter: {name}", path)
    ptype = body["type"]
    if ptype not in HOT_TYPES:
        raise schema_error(f"Invalid type ({ptype})", (*path, "type"))
    where: Path = (*path, "constraints")
    constraints = parse_hot_constraints(body.get("constraints"), name,
                                        modulo="modulo" in features, path=where)
    schema = ParameterSchema(
        name=name, type=ptype, default=_default(body.get("default")),
        description=_text(body, "description", name, path),
        label=_text(body, "label", name, path),
        hidden=_flag(body, "hidden", name, path),
        immutable=_flag(body, "immutable", name, path),
        tags=_tags(body, name, path), constraints=constraints)
    _check_schema(schema, [(*where, i) for i in range(len(constraints))], path)
    return schema


def _parse_cfn(name: str, body: Any, spec: VersionSpec, path: Path) -> ParameterSchema:
    check_mapping(body, CFN_KEYS, f"parameter ({name})", path)
    if "Type" not in body:
        raise schema_error(f"Missing parameter type for parameter: {name}", path)
    cfn_type = body["Type"]
    if not isinstance(cfn_type, str) or cfn_type not in CFN_TYPES:
        raise schema_error(f"Invalid type ({cfn_type})", (*path, "Type"))
    constraints, paths = _cfn_constraints(body, name, path)
    schema = ParameterSchema(
        name=name, type=CFN_TYPES[cfn_type], default=_default(body.get("Default")),
        description=_text(body, "Description", name, path),
        label=_text(body, "Label", name, path),
        hidden=str(body.get("NoEcho", "false")).lower() == "true",
        constraints=tuple(constraints), cfn_type=cfn_type)
    _check_schema(schema, paths, path)
    return schema


def _cfn_constraints(body: Mapping[Any, Any], name: str,
                     path: Path) -> tuple[list[Constraint], list[Path]]:
    """The constraints CFN keys express, each described by ``ConstraintDescription``."""
    desc = _text(body, "ConstraintDescription", name, path)
    out: list[Constraint] = []
    paths: list[Path] = []

    def where(*keys: str) -> Path:
        return (*path, next(k for k in keys if k in body))

    if "MinValue" in body or "MaxValue" in body:
        paths.append(where("MinValue", "MaxValue"))
        out.append(make_range(body.get("MinValue"), body.get("MaxValue"), desc, paths[-1]))
    if "MinLength" in body or "MaxLength" in body:
        paths.append(where("MinLength", "MaxLength"))
        out.append(make_length(body.get("MinLength"), body.get("MaxLength"), desc, paths[-1]))
    if "AllowedValues" in body:
        paths.append(where("AllowedValues"))
        out.append(make_allowed_values(body["AllowedValues"], desc, paths[-1]))
    if "AllowedPattern" in body:
        paths.append(where("AllowedPattern"))
        out.append(make_allowed_pattern(body["AllowedPattern"], desc, paths[-1]))
    return out, paths


def _default(value: Any) -> Any:
    return NO_DEFAULT if value is None else value


def _invalid(name: str, reason: str) -> str:
    return f"Parameter '{name}' is invalid: {reason}"


def _check_schema(schema: ParameterSchema, paths: Sequence[Path], path: Path) -> None:
    """Heat's ``Schema.validate``: every constraint fits the type, and the default (if any)
    converts to the type and satisfies every constraint but custom ones."""
    for constraint, where in zip(schema.constraints, paths, strict=True):
        if not constraint.applies_to(schema.kind):
            raise schema_error(_invalid(schema.name, f"{constraint.heat_name} constraint "
                                                     f"invalid for {schema.type_name}"), where)
    if not schema.has_default:
        return
    try:
        typed = convert(schema.type, schema.default)
        for constraint in schema.constraints:
            if not isinstance(constraint, CustomConstraintRef):
                _check_one(schema, constraint, typed, schema.default)
    except ConstraintViolation as exc:
        reason = exc.text(schema.hidden, "the value is not valid")
    else:
        return
    shown = MASK if schema.hidden else show(schema.default)
    raise schema_error(_invalid(schema.name, f"Invalid default {shown} ({reason})"), path)


# ---------------------------------------------------------------------------------------------
# Parameter groups
# ---------------------------------------------------------------------------------------------


@dataclass
class ParameterGroup:
    """One entry of ``parameter_groups``: how a UI should group and order parameters."""

    label: str | None = None
    description: str | None = None
    parameters: list[str] = field(default_factory=list)


def _group_error(message: str, path: Path, group: Any = None) -> ParameterError:
    """Heat's words: the section, and the group's label (empty without one), in the message."""
    where = "parameter_groups"
    if isinstance(group, Mapping):
        where += f".{group.get('label', '')}"
    return ParameterError(f"Parameter Groups error: {where}: {message}", path,
                          code="StackValidationFailed")


def _group_text(group: Mapping[Any, Any], key: str, path: Path) -> str | None:
    value = group.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _group_error(f"The {key} of a parameter group must be a string.", (*path, key),
                       group)


def parse_parameter_groups(section: Any, schemas: Mapping[str, ParameterSchema], path: Path,
                           *, extra_names: Iterable[str] = ()) -> list[ParameterGroup]:
    """Check ``parameter_groups`` as Heat does: a list of groups, each with a list of
    ``parameters`` naming declared parameters (or ``extra_names``, e.g. pseudo-parameters), no
    parameter in two groups."""
    if not section:
        return []
    if not isinstance(section, list):
        raise _group_error("The parameter_groups should be a list.", path)
    known = set(schemas) | set(extra_names)
    grouped: set[str] = set()
    out: list[ParameterGroup] = []
    for index, group in enumerate(section):
        where: Path = (*path, index)
        if not isinstance(group, Mapping):
            raise _group_error("Each parameter group must be a mapping.", where)
        names = group.get("parameters")
        if names is None:
            raise _group_error("The parameters must be provided for each parameter group.",
                               where, group)
        if not isinstance(names, list):
            raise _group_error("The parameters of parameter group should be a list.",
                               (*where, "parameters"), group)
        for position, name in enumerate(names):
            at: Path = (*where, "parameters", position)
            if not isinstance(name, str):
                raise _group_error(f"The grouped parameter {show(name)} does not reference a "
                                   "valid parameter.", at, group)
            if name in grouped:
                raise _group_error(f"The {show(name)} parameter must be assigned to one "
                                   "parameter group only.", at, group)
            grouped.add(name)
            if name not in known:
                raise _group_error(f"The grouped parameter {show(name)} does not reference a "
                                   "valid parameter.", at, group)
        out.append(ParameterGroup(parameters=list(names), label=_group_text(group, "label", where),
                                  description=_group_text(group, "description", where)))
    return out


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


def _violation(message: str, redacted: str | None = None) -> ConstraintViolation:
    return ConstraintViolation(message, redacted=message if redacted is None else redacted)


def _to_string(value: Any) -> str:
    """Heat's StringParam: any value as ``str()`` gives it (``True`` -> ``'True'``)."""
    return value if isinstance(value, str) else str(value)


def _to_number(value: Any) -> int | float:
    """Heat's ``str_to_num``: an int if the text is one, else a float; finite only."""
    if isinstance(value, bool):
        number: int | float = int(value)
    elif isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        number = _parse_number(value)
    else:
        raise _violation("float() argument must be a string or a real number, not "
                         f"'{type(value).__name__}'")
    if isinstance(number, float) and not math.isfinite(number):
        raise _violation(f"{show(value)} is not a finite number", f"{MASK} is not a finite number")
    return number


# Errors that quote the value are raised outside ``except`` blocks so that no exception holding
# the value is chained (``__context__``) to them.


def _parse_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    raise _violation(f"could not convert string to float: {text!r}",
                     f"could not convert string to float: '{MASK}'")


def _to_boolean(value: Any) -> bool:
    """oslo's strict ``bool_from_string``."""
    try:
        return bool_from_string(value)
    except ValueError:
        pass
    raise _violation(f"Unrecognized value '{value}', acceptable values are: {BOOLEAN_HELP}",
                     f"Unrecognized value '{MASK}', acceptable values are: {BOOLEAN_HELP}")


def _to_list(value: Any) -> list[str]:
    """Heat's CommaDelimitedListParam: a list's items as strings; a string split on ``,``
    without trimming (``''`` is the empty list)."""
    if isinstance(value, list | tuple):
        return [_to_string(v) for v in value]
    if isinstance(value, str):
        return value.split(",") if value else []
    raise _violation("Value must be a comma-delimited list string: "
                     f"'{type(value).__name__}' object has no attribute 'split'")


def _to_json(value: Any) -> dict[str, Any] | list[Any]:
    """Heat's JsonParam: a string is parsed; anything else goes through a JSON round trip.
    kubeheat wants a map or a list (``''`` is the empty map)."""
    reason: str | None = None
    try:
        text = value if isinstance(value, str) else json.dumps(value)
        parsed = json.loads(text) if text else {}
    except RecursionError:
        reason = "the value nests too deeply to be parsed"
    except (TypeError, ValueError) as exc:
        # JSON's messages give positions and type names, never the text itself.
        reason = str(exc)
    if reason is not None:
        raise _violation(f"Value must be valid JSON: {reason}")
    if not isinstance(parsed, dict | list):
        raise _violation("Value must be valid JSON: a map or a list is expected, not "
                         f"{type(parsed).__name__}")
    return parsed


_CONVERTERS: dict[str, Any] = {
    "string": _to_string, "number": _to_number, "boolean": _to_boolean,
    "comma_delimited_list": _to_list, "json": _to_json,
}


def convert(ptype: str, value: Any) -> Any:
    """``value`` as parameter type ``ptype`` wants it; raises :class:`ConstraintViolation`
    with Heat's message (and a redacted one)."""
    return _CONVERTERS[ptype](value)


class Parameters(Mapping[str, Any]):
    """A stack's parameter values, typed, plus the pseudo-parameters.

    Iterates pseudo-parameters first, then the template's parameters in template order (a
    template parameter hides a pseudo-parameter of the same name). ``repr`` never shows a
    hidden value; use :meth:`redacted` for anything meant for people.
    """

    def __init__(self, schemas: Mapping[str, ParameterSchema], values: Mapping[str, Any], *,
                 user_values: Mapping[str, Any] | None = None,
                 defaults: Mapping[str, Any] | None = None,
                 pseudo: Mapping[str, Any] | None = None,
                 unchecked: Mapping[str, Sequence[str]] | None = None) -> None:
        self._schemas = dict(schemas)
        self._values: dict[str, Any] = {
            k: v for k, v in (pseudo or {}).items() if k not in self._schemas}
        self._values.update((name, values.get(name)) for name in self._schemas)
        self._user = {k: v for k, v in (user_values or {}).items() if v is not None}
        self._defaults = dict(defaults or {})
        self._unchecked = {k: tuple(v) for k, v in (unchecked or {}).items() if v}

    # -- Mapping ------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Parameters({self.redacted()!r})"

    # -- queries ------------------------------------------------------------------------------
    @property
    def schemas(self) -> Mapping[str, ParameterSchema]:
        """The template's parameter schemas (pseudo-parameters have none)."""
        return self._schemas

    def is_hidden(self, name: str) -> bool:
        schema = self._schemas.get(name)
        return schema is not None and schema.hidden

    def is_pseudo(self, name: str) -> bool:
        return name in self._values and name not in self._schemas

    def user_supplied(self, name: str) -> bool:
        """Whether the value came from the user's ``parameters`` (not a default)."""
        return name in self._user

    def user_value(self, name: str) -> Any:
        """The user's raw value, or :data:`NO_DEFAULT` when none was given."""
        return self._user.get(name, NO_DEFAULT)

    def default_for(self, name: str) -> Any:
        """The effective raw default: the environment's ``parameter_defaults`` entry, else the
        template's ``default``, else :data:`NO_DEFAULT`."""
        if name in self._defaults:
            return self._defaults[name]
        schema = self._schemas.get(name)
        return schema.default if schema is not None else NO_DEFAULT

    def redacted(self) -> dict[str, Any]:
        """The values with every hidden one replaced by ``******``."""
        return {k: (MASK if self.is_hidden(k) else v) for k, v in self._values.items()}

    @property
    def unchecked(self) -> Mapping[str, tuple[str, ...]]:
        """Parameter -> custom constraints that could not be checked (unknown names, or
        cloud-backed ones skipped)."""
        return self._unchecked

    @property
    def unchecked_constraints(self) -> list[str]:
        """Every custom constraint name that went unchecked, sorted."""
        return sorted({n for names in self._unchecked.values() for n in names})


def _value_size(value: Any) -> int:
    """How many bytes a value takes: UTF-8 for text, its compact JSON text otherwise."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    try:
        return len(json.dumps(value, default=str, separators=(",", ":")))
    except (TypeError, ValueError, RecursionError):
        return 0


def _pick(name: str, values: Mapping[str, Any], defaults: Mapping[str, Any],
          schema: ParameterSchema) -> tuple[Any, bool]:
    """The raw value to use (user value, then ``parameter_defaults``, then the template
    default) and whether there was one."""
    for source in (values, defaults):
        if source.get(name) is not None:
            return source[name], True
    if schema.has_default:
        return schema.default, True
    return None, False


def _check_one(schema: ParameterSchema, constraint: Constraint, typed: Any, raw: Any) -> None:
    """Check ``typed``; Heat's allowed_values message of a number or boolean shows the value
    as it was given (``"4"`` for the text 4), not as converted."""
    try:
        constraint.check(typed)
        return
    except ConstraintViolation as exc:
        failure = exc
    # raised outside the handler, so nothing quoting the value is chained to it
    if isinstance(constraint, AllowedValuesConstraint) and schema.kind in ("number", "boolean"):
        raise constraint.violation(raw)
    raise failure


def _check_constraints(schema: ParameterSchema, value: Any, registry: ConstraintRegistry,
                       skip_cloud: bool, raw: Any = None) -> list[str]:
    """Run every constraint on the typed ``value`` (``raw`` as given); return the custom ones
    left unchecked."""
    unchecked: list[str] = []
    for constraint in schema.constraints:
        if not isinstance(constraint, CustomConstraintRef):
            _check_one(schema, constraint, value, raw)
            continue
        plugin = constraint.resolve(registry)
        if plugin is None or (skip_cloud and plugin.needs_cloud):
            unchecked.append(constraint.name)
        else:
            constraint.check_with(plugin, value)
    return unchecked


def _value_error(name: str, reason: str) -> ParameterError:
    return ParameterError(_invalid(name, reason), (SECTION, name), code="StackValidationFailed")


def _resolve_one(schema: ParameterSchema, raw: Any, registry: ConstraintRegistry,
                 limits: Limits, skip_cloud: bool) -> tuple[Any, list[str]]:
    """Size-check, convert and constraint-check one value."""
    name = schema.name
    _check_structure(name, raw, limits)
    limit = limits.max_parameter_value_size
    if (isinstance(raw, str) and len(raw) > limit) or _value_size(raw) > limit:
        raise ParameterError(_invalid(name, f"the value is larger than the maximum of {limit} "
                                            "bytes"), (SECTION, name),
                             code="RequestLimitExceeded")
    # the error is raised outside the except block: no __context__ may carry a hidden value
    try:
        typed = convert(schema.type, raw)
        _check_structure(name, typed, limits)
        return typed, _check_constraints(schema, typed, registry, skip_cloud, raw)
    except ConstraintViolation as exc:
        reason = exc.text(schema.hidden, "the value is not valid")
    raise _value_error(name, reason)


def _check_structure(name: str, value: Any, limits: Limits) -> None:
    """A map or list value (given as such, or parsed from JSON text) nests no deeper than a
    template may (``max_data_depth``), so that no later walk of it (evaluation, the state's
    JSON) overflows the stack."""
    if not isinstance(value, Mapping | list | tuple):
        return
    try:
        check_structure(value, limits, "the value")
    except TemplateError as exc:
        raise ParameterError(_invalid(name, exc.message), (SECTION, name),
                             code="RequestLimitExceeded") from None


def resolve_parameters(schemas: Mapping[str, ParameterSchema], values: Mapping[str, Any], *,
                       defaults: Mapping[str, Any] | None = None, strict: bool = True,
                       constraints: ConstraintRegistry = DEFAULT_CONSTRAINTS,
                       limits: Limits = DEFAULT_LIMITS,
                       pseudo: Mapping[str, Any] | None = None,
                       skip_cloud: bool = False) -> Parameters:
    """Bind values to ``schemas``.

    ``values`` are the user's (and environment's) ``parameters``; every key must be declared
    (``UnknownUserParameter``). ``defaults`` are the environment's ``parameter_defaults``: they
    override template defaults, and keys the template does not declare are ignored. A ``None``
    value counts as absent. A parameter with no value anywhere is ``UserParameterMissing`` when
    ``strict``, else ``None``. Values are converted to their type and checked against every
    constraint; custom constraints unknown to ``constraints`` (or needing a cloud, with
    ``skip_cloud``) are recorded in :attr:`Parameters.unchecked`. Errors are located at
    ``parameters.<name>``.
    """
    defaults = defaults or {}
    for key in values:
        if key not in schemas:
            raise ParameterError(f"The Parameter ({key}) was not defined in template.",
                                 (SECTION, str(key)), code="UnknownUserParameter")
    typed: dict[str, Any] = {}
    unchecked: dict[str, list[str]] = {}
    for name, schema in schemas.items():
        raw, found = _pick(name, values, defaults, schema)
        if not found:
            if strict:
                raise ParameterError(f"The Parameter ({name}) was not provided.",
                                     (SECTION, name), code="UserParameterMissing")
            typed[name] = None
            continue
        typed[name], unchecked[name] = _resolve_one(schema, raw, constraints, limits, skip_cloud)
    used_defaults = {k: v for k, v in defaults.items() if k in schemas and v is not None}
    return Parameters(schemas, typed, user_values=values, defaults=used_defaults,
                      pseudo=pseudo, unchecked=unchecked)


def check_immutable(old: Parameters, new: Parameters) -> None:
    """On update: a parameter declared in both stacks and ``immutable`` in the new template may
    not change value (``ImmutableParameterModified``, naming them all)."""
    changed = [name for name, schema in new.schemas.items()
               if schema.immutable and name in old.schemas and old[name] != new[name]]
    if changed:
        path: Path = (SECTION, changed[0]) if len(changed) == 1 else (SECTION,)
        raise ParameterError("The following parameters are immutable and may not be updated: "
                             + ", ".join(changed), path, code="ImmutableParameterModified")


# ---------------------------------------------------------------------------------------------
# template-validate output
# ---------------------------------------------------------------------------------------------


def _constraint_fields(constraints: Iterable[Constraint]) -> dict[str, Any]:
    """Heat's ``_build_parameter_constraints``: constraints as CFN-style keys."""
    out: dict[str, Any] = {}
    descriptions: list[str] = []
    for c in constraints:
        if isinstance(c, LengthConstraint):
            out.update(_bound_fields(c, "MinLength", "MaxLength"))
        elif isinstance(c, RangeConstraint):
            out.update(_bound_fields(c, "MinValue", "MaxValue"))
        elif isinstance(c, ModuloConstraint):
            out.update(Step=c.step, Offset=c.offset)
        elif isinstance(c, AllowedValuesConstraint):
            out["AllowedValues"] = list(c.allowed)
        elif isinstance(c, AllowedPatternConstraint):
            out["AllowedPattern"] = c.pattern
        elif isinstance(c, CustomConstraintRef):
            out["CustomConstraint"] = c.name
        if c.description:
            descriptions.append(c.description)
    if descriptions:
        out["ConstraintDescription"] = " ".join(descriptions)
    return out


def _bound_fields(c: RangeConstraint, low: str, high: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if c.min is not None:
        out[low] = c.min
    if c.max is not None:
        out[high] = c.max
    return out


def format_validate_parameter(schema: ParameterSchema,
                              parameters: Parameters | None = None) -> dict[str, Any]:
    """One parameter as Heat's template-validate reports it. With ``parameters``, the default
    is the effective one and a user-supplied value appears as ``Value``."""
    hidden = schema.hidden
    res: dict[str, Any] = {
        "Type": schema.cfn_type or API_TYPES[schema.type],
        "Description": schema.description or "",
        "NoEcho": "true" if hidden else "false",
        "Label": schema.label or schema.name,
    }
    default = parameters.default_for(schema.name) if parameters is not None else schema.default
    if default is not NO_DEFAULT:
        res["Default"] = MASK if hidden else default
    if parameters is not None and parameters.user_value(schema.name) not in (NO_DEFAULT, ""):
        res["Value"] = MASK if hidden else parameters.user_value(schema.name)
    if schema.tags:
        res["Tags"] = list(schema.tags)
    res.update(_constraint_fields(schema.constraints))
    return res


def format_validate_parameters(schemas: Mapping[str, ParameterSchema],
                               parameters: Parameters | None = None) -> dict[str, Any]:
    """The ``Parameters`` part of the template-validate response (pseudo-parameters left out,
    hidden defaults and values shown as ``******``)."""
    return {name: format_validate_parameter(schema, parameters)
            for name, schema in schemas.items()}


def format_parameter_groups(groups: Iterable[ParameterGroup]) -> list[dict[str, Any]]:
    """The ``ParameterGroups`` part of the template-validate response."""
    out: list[dict[str, Any]] = []
    for group in groups:
        entry: dict[str, Any] = {}
        if group.label is not None:
            entry["label"] = group.label
        if group.description is not None:
            entry["description"] = group.description
        entry["parameters"] = list(group.parameters)
        out.append(entry)
    return out


__all__ = [
    "API_TYPES",
    "CFN_KEYS",
    "CFN_TYPES",
    "HOT_KEYS",
    "HOT_TYPES",
    "NO_DEFAULT",
    "ParamType",
    "ParameterGroup",
    "ParameterSchema",
    "Parameters",
    "check_immutable",
    "convert",
    "format_parameter_groups",
    "format_validate_parameter",
    "format_validate_parameters",
    "parse_parameter_groups",
    "parse_parameter_schemas",
    "resolve_parameters",
]
