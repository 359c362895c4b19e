"""The intrinsic-function tree: parsing snippets into :class:`Function` nodes and evaluating them.

A template's properties, metadata and outputs are parsed once into plain data in which every
intrinsic function call is replaced by a :class:`Function` node whose arguments are themselves
parsed. The tree stays unevaluated until the engine asks for a value: :func:`resolve` evaluates it
against a :class:`Scope`, which supplies parameter values, files, and (once resources exist) their
references and attributes. :func:`dependencies` lists the resources a snippet needs.

Macros (``if``) are different: they are expanded while parsing, because conditions only depend on
parameters, so only the chosen branch is parsed (and contributes dependencies).

A function checks its arguments while it is parsed. In an output, an error in the *values* it
was given (one marked ``deferrable``) is kept in the function and raised when it is evaluated,
as Heat finds it then (the output's error), instead of refusing the template.
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from kubeheat.template.errors import FunctionError, Path, PathPart, TemplateError


class _Absent:
    """Sentinel: a value removed by a two-argument ``if`` whose condition is false."""

    _instance: ClassVar[_Absent | None] = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Dependency:
    """A resource a snippet refers to.

    ``attribute`` is None for a plain reference (``get_resource`` / ``Ref``), the attribute name
    for ``get_attr`` / ``Fn::GetAtt``, and ``"*"`` when every attribute may be needed (all
    attributes were asked for, or the attribute name is only known once resources exist).

    ``path`` is the *attribute path*: the components after the attribute name that the resource
    is asked to walk (``get_attr: [server, networks, private, 0]`` gives ``attribute``
    ``"networks"`` and ``path`` ``("private", 0)``). It is only filled in when the resource
    itself is handed the path and every component is known while parsing (HOT 2014-10-16 and
    later); it is empty for references, for ``Fn::GetAtt`` (which takes no path), for HOT
    2013-05-23's ``get_attr`` (which fetches the whole attribute and walks the path itself) and
    when a component depends on a resource. It is never the location of the call in the
    template.
    """

    resource: str
    attribute: str | None = None
    path: Path = ()


class Scope(Protocol):
    """What evaluation needs from the outside world.

    The template layer provides a static scope (parameters, files, conditions, placeholders for
    resources); the engine provides one whose resource methods return real physical ids and
    attributes.
    """

    def get_param(self, name: str, path: Path) -> Any:
        """The typed value of parameter ``name`` (pseudo-parameters included).

        Raises a TemplateError at ``path`` for an unknown name."""

    def get_file(self, key: str, path: Path) -> str:
        """The content of ``key`` in the files map; TemplateError at ``path`` when missing."""

    def resource_ref(self, name: str, path: Path) -> Any:
        """``get_resource`` / ``Ref``: the physical id, or the logical name before creation."""

    def resource_attr(self, name: str, attribute: str | None, attr_path: Sequence[Any],
                      path: Path) -> Any:
        """``get_attr``: attribute ``attribute`` of resource ``name`` followed by ``attr_path``.

        ``attribute`` None means every attribute as a dict (2015-10-15+ ``get_attr: [res]``).
        Returns None when the value does not exist (yet)."""

    def condition(self, name: str, path: Path) -> bool:
        """The value of a named condition."""

    def facade(self, key: str, path: Path) -> Any:
        """``resource_facade``: metadata / deletion_policy / update_policy of the parent."""

    def availability_zones(self) -> list[str]:
        """``Fn::GetAZs``: the stack's availability zones."""


class FunctionTables(Protocol):
    """What parsing needs of a template version (a
    :class:`~kubeheat.template.versions.VersionSpec`, which is built from this module's classes,
    so this module names only the protocol)."""

    @property
    def functions(self) -> Mapping[str, FunctionClass]: ...

    @property
    def condition_functions(self) -> Mapping[str, FunctionClass]: ...

    @property
    def removed_functions(self) -> frozenset[str]:
        """Names the version removed: using one is "not supported in this version"."""

    @property
    def pseudo_parameters(self) -> tuple[str, ...]: ...

    def knows_function(self, name: str) -> bool:
        """True when ``name`` is a function of the family in some other version."""

    def unsupported_message(self, name: str) -> str: ...


class ParseContext(Protocol):
    """What parsing needs: the version's tables and the template being parsed."""

    @property
    def version(self) -> FunctionTables: ...

    @property
    def resource_names(self) -> frozenset[str]:
        """Every resource the template declares (whatever its condition)."""

    @property
    def active_resource_names(self) -> frozenset[str]:
        """Resources whose condition is true (referencing the others is an error)."""

    @property
    def parameter_names(self) -> frozenset[str]:
        """Declared parameters plus pseudo-parameters."""

    @property
    def mappings(self) -> Mapping[str, Any]:
        """The template's CloudFormation ``Mappings`` section (``Fn::FindInMap``); empty for
        HOT, which has no such section."""

    def condition_value(self, name_or_expr: Any, path: Path) -> bool:
        """Evaluate an ``if`` condition argument: a condition name, a bool or an inline
        condition expression."""

    def static_scope(self) -> Scope:
        """A scope good for everything but resources (used by macros at parse time)."""

    @property
    def defer_value_errors(self) -> bool:
        """True while parsing an output: a deferrable error of a function's argument values
        is kept in the function and raised when it is evaluated, as Heat reports it (the
        output's error), instead of refusing the template."""


class Function(abc.ABC):
    """A parsed intrinsic function call.

    Subclasses set ``arg_doc`` (a one-line description of the expected arguments used in error
    messages and ``kubeheat template functions``), implement :meth:`check_args` to reject bad
    argument shapes at parse time and :meth:`result` to evaluate.
    """

    #: short description shown by ``kubeheat template functions``
    doc: ClassVar[str] = ""
    #: whether a Function of this class may appear in ``conditions`` (set per version table)
    is_macro: ClassVar[bool] = False

    def __init__(self, ctx: ParseContext, name: str, args: Any, path: Path) -> None:
        self.ctx = ctx
        self.name = name
        self.args = args
        self.path = path
        #: the deferrable error check_args found in an output, raised when evaluated
        self.deferred: TemplateError | None = None
        try:
            self.check_args()
        except TemplateError as exc:
            if not (exc.deferrable and ctx.defer_value_errors):
                raise
            self.deferred = exc

    # -- parse time -------------------------------------------------------------------------
    def check_args(self) -> None:
        """Validate the shape of already-parsed arguments; raise :meth:`error` when wrong."""
        return None

    def error(self, message: str) -> FunctionError:
        """An error for this call, located at the function's path."""
        return FunctionError(f"{self.name}: {message}", self.path)

    def dependencies(self) -> Iterator[Dependency]:
        """Resources this call refers to (directly or through its arguments)."""
        yield from dependencies(self.args)

    # -- evaluation -------------------------------------------------------------------------
    @abc.abstractmethod
    def result(self, scope: Scope) -> Any:
        """Evaluate this call; arguments are resolved with :func:`resolve` as needed."""

    def __repr__(self) -> str:
        return f"{{{self.name!r}: {self.args!r}}}"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, Function)
            and other.name == self.name
            and other.args == self.args
        )

    def __hash__(self) -> int:
        return hash((type(self), self.name))


class Macro(abc.ABC):
    """A function expanded at parse time (``if``): it receives raw, unparsed arguments and returns
    the parsed snippet that replaces it (or :data:`ABSENT`)."""

    doc: ClassVar[str] = ""
    is_macro: ClassVar[bool] = True

    @classmethod
    @abc.abstractmethod
    def expand(cls, ctx: ParseContext, name: str, args: Any, path: Path,
               parse: Callable[[Any, Path], Any]) -> Any:
        """Return the replacement for this call, parsing what must be parsed with ``parse``."""


FunctionClass = type[Function] | type[Macro]


# ------------------------------------------------------------------------------------------------
# Walking
# ------------------------------------------------------------------------------------------------

def resolve(snippet: Any, scope: Scope) -> Any:
    """Evaluate every Function in ``snippet``; values that evaluate to :data:`ABSENT` are
    dropped from their enclosing dict or list."""
    if isinstance(snippet, Function):
        if snippet.deferred is not None:
            # evaluating gives the error with the values as resolved now (Heat's message)
            try:
                snippet.result(scope)
            except TemplateError:
                raise
            except Exception:  # a call check_args refused may fail to evaluate otherwise
                pass
            raise copy.copy(snippet.deferred)
        return snippet.result(scope)
    if isinstance(snippet, dict):
        out: dict[Any, Any] = {}
        for key, value in snippet.items():
            v = resolve(value, scope)
            if v is not ABSENT:
                out[key] = v
        return out
    if isinstance(snippet, list):
        items = []
        for value in snippet:
            v = resolve(value, scope)
            if v is not ABSENT:
                items.append(v)
        return items
    return snippet


def dependencies(snippet: Any) -> Iterator[Dependency]:
    """Every resource dependency in ``snippet``, in document order (may repeat)."""
    if isinstance(snippet, Function):
        yield from snippet.dependencies()
    elif isinstance(snippet, dict):
        for value in snippet.values():
            yield from dependencies(value)
    elif isinstance(snippet, list):
        for value in snippet:
            yield from dependencies(value)


def functions_in(snippet: Any) -> Iterator[Function]:
    """Every Function node in ``snippet`` (outer before inner)."""
    if isinstance(snippet, Function):
        yield snippet
        yield from functions_in(snippet.args)
    elif isinstance(snippet, dict):
        for value in snippet.values():
            yield from functions_in(value)
    elif isinstance(snippet, list):
        for value in snippet:
            yield from functions_in(value)


def is_static(snippet: Any) -> bool:
    """True when ``snippet`` refers to no resource, so it can be evaluated before any exists."""
    return next(iter(dependencies(snippet)), None) is None


# ------------------------------------------------------------------------------------------------
# Parsing
# ------------------------------------------------------------------------------------------------

def parse(ctx: ParseContext, snippet: Any, path: Path, *, condition: bool = False) -> Any:
    """Parse ``snippet`` under ``ctx``'s version tables.

    A mapping with exactly one key that names a function of the version becomes that function (a
    multi-key mapping is plain data). A single key naming a function the version removed is an
    error naming the function and the path; any other single key, a function of a later version
    included, is plain data, as in Heat (:func:`data_function_keys` finds those). With
    ``condition=True`` only the version's condition functions are allowed (``conditions`` section
    and inline ``if`` conditions).
    """
    spec = ctx.version
    if isinstance(snippet, dict):
        if len(snippet) == 1:
            (key, raw_args), = snippet.items()
            if isinstance(key, str):
                fn_path: Path = (*path, key)
                table = spec.condition_functions if condition else spec.functions
                cls = table.get(key)
                if cls is not None:
                    return _instantiate(ctx, cls, key, raw_args, fn_path, condition)
                if condition and key in spec.functions:
                    raise FunctionError(
                        f'The function "{key}" is invalid in this context', fn_path)
                if key in spec.removed_functions:
                    raise FunctionError(spec.unsupported_message(key), fn_path)
                # any other key (a function of a later version too) is plain data, as in Heat
        return {
            k: parse(ctx, v, (*path, k) if isinstance(k, (str, int)) else path,
                     condition=condition)
            for k, v in snippet.items()
        }
    if isinstance(snippet, list):
        return [parse(ctx, v, (*path, i), condition=condition) for i, v in enumerate(snippet)]
    return snippet


def data_function_keys(spec: FunctionTables, snippet: Any, path: Path, *,
                       condition: bool = False) -> Iterator[tuple[Path, str]]:
    """``(path, key)`` of each one-key mapping in ``snippet`` that :func:`parse` keeps as plain
    data although ``key`` is a function of the template family in another version."""
    if isinstance(snippet, dict):
        if len(snippet) == 1:
            (key, value), = snippet.items()
            if isinstance(key, str):
                table = spec.condition_functions if condition else spec.functions
                if key in table:
                    yield from data_function_keys(spec, value, (*path, key), condition=condition)
                    return
                if (condition and key in spec.functions) or key in spec.removed_functions:
                    return      # an error when parsed
                if spec.knows_function(key):
                    yield path, key
        for k, v in snippet.items():
            sub = (*path, k) if isinstance(k, (str, int)) else path
            yield from data_function_keys(spec, v, sub, condition=condition)
    elif isinstance(snippet, list):
        for i, v in enumerate(snippet):
            yield from data_function_keys(spec, v, (*path, i), condition=condition)


def _instantiate(ctx: ParseContext, cls: FunctionClass, key: str, raw_args: Any, path: Path,
                 condition: bool) -> Any:
    if issubclass(cls, Macro):
        def sub_parse(value: Any, sub_path: Path) -> Any:
            return parse(ctx, value, sub_path, condition=condition)
        return cls.expand(ctx, key, raw_args, path, sub_parse)
    args = parse(ctx, raw_args, path, condition=condition)
    try:
        return cls(ctx, key, args, path)
    except TemplateError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:  # pragma: no cover
        raise FunctionError(f"{key}: invalid arguments ({exc})", path) from None


def path_join(path: Path, *parts: PathPart) -> Path:
    return (*path, *parts)
