"""Typed errors of the template layer.

Every problem found in a template, an environment or a parameter value is a :class:`TemplateError`
carrying a human message and the path of the offending item, e.g.
``resources.web.properties.flavor``. Nothing else escapes the template layer: callers can catch
:class:`TemplateError` and show ``str(error)``, which is ``"<path>: <message>"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kubeheat.errors import KubeheatError

PathPart = str | int
Path = tuple[PathPart, ...]


def format_path(path: Iterable[PathPart]) -> str:
    """Render a path the way Heat does: dotted keys, list indexes as ``[n]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class TemplateError(KubeheatError):
    """A template, environment or parameter problem, located by ``path``.

    ``code`` is the name of Heat's equivalent exception (e.g. ``StackValidationFailed``), kept so
    a Heat-compatible API can report the same error type. ``deferrable`` marks an error in the
    values a function was given (not in the shape of its arguments), which Heat only finds when
    it evaluates the function: found while parsing an output, it becomes that output's error
    when the stack is created, instead of a refusal of the template.
    """

    code = "StackValidationFailed"

    def __init__(self, message: str, path: Sequence[PathPart] = (), *, code: str | None = None,
                 deferrable: bool = False):
        super().__init__(message)
        self.message = message
        self.path: Path = tuple(path)
        self.deferrable = deferrable
        if code is not None:
            self.code = code

    @property
    def location(self) -> str:
        return format_path(self.path)

    def at(self, *prefix: PathPart) -> TemplateError:
        """Return this error with ``prefix`` put in front of its path (mutates and returns self)."""
        self.path = tuple(prefix) + self.path
        return self

    def __str__(self) -> str:
        loc = self.location
        return f"{loc}: {self.message}" if loc else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, path={self.location!r})"


class TemplateSyntaxError(TemplateError):
    """The document is not valid YAML/JSON, or not a mapping."""

    code = "TemplateSyntaxError"


class TemplateLimitError(TemplateError):
    """A configured limit (size, resources, nesting, alias expansion) was exceeded."""

    code = "RequestLimitExceeded"


class TemplateVersionError(TemplateError):
    """Missing, ambiguous or unknown template version."""

    code = "InvalidTemplateVersion"


class TemplateSectionError(TemplateError):
    """An unknown or malformed top-level section or key."""

    code = "InvalidTemplateSection"


class FunctionError(TemplateError):
    """An intrinsic function is unknown in this version, misused or got bad arguments."""


class ReferenceError_(TemplateError):
    """A reference (get_resource, get_attr, Ref, depends_on, condition) names nothing."""

    code = "InvalidTemplateReference"


class DependencyCycleError(TemplateError):
    """The resources' dependencies form a cycle."""

    code = "CircularDependencyException"


class ParameterError(TemplateError):
    """A parameter schema is invalid, or a value is missing, unknown or fails a constraint."""


class EnvironmentFormatError(TemplateError):
    """An environment document is malformed."""


__all__ = [
    "DependencyCycleError",
    "EnvironmentFormatError",
    "FunctionError",
    "KubeheatError",
    "ParameterError",
    "Path",
    "PathPart",
    "ReferenceError_",
    "TemplateError",
    "TemplateLimitError",
    "TemplateSectionError",
    "TemplateSyntaxError",
    "TemplateVersionError",
    "format_path",
]
