"""The remaining HOT functions: ``make_url``, ``yaql`` and ``if`` (see :mod:`.hot`)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from kubeheat.template.errors import (
    FunctionError,
    Path,
    TemplateLimitError,
)
from kubeheat.template.functions.base import (
    ABSENT,
    Macro,
    ParseContext,
    Scope,
)
from kubeheat.template.functions.hot_base import (
    HotFunction,
    _arg,
    _is_fn,
    _plain,
)
from kubeheat.template.patterns import PatternError, PatternTimeout

# ------------------------------------------------------------------------------------------------
# URLs
# ------------------------------------------------------------------------------------------------

class MakeURL(HotFunction):
    """``make_url: {scheme, username, password, host, port, path, query, fragment}``."""

    doc = ("escaped URL from its parts: make_url: {scheme, username, password, host, port, path, "
           "query, fragment}")
    KEYS: ClassVar[tuple[str, ...]] = ("scheme", "username", "password", "host", "port",
                                       "path", "query", "fragment")

    def check_args(self) -> None:
        args = self.args
        if not isinstance(args, dict):
            raise self.fail(f'The arguments to "{self.name}" must be a map')
        invalid = sorted(str(k) for k in args if k not in self.KEYS)
        if invalid:
            raise self.fail(f'Invalid arguments to "{self.name}": ' + ", ".join(invalid))
        self.check_parts({k: v for k, v in args.items() if not _is_fn(v) and v is not ABSENT})

    def check_parts(self, args: Mapping[str, Any]) -> None:
        for key, value in args.items():
            if key == "query":
                if not isinstance(value, Mapping):
                    raise self.fail(f'The "query" argument to "{self.name}" must be a map')
            elif key == "port":
                self.check_port(value, args)
            elif not isinstance(value, str):
                raise self.fail(f'The "{key}" argument to "{self.name}" must be a string')

    def check_port(self, port: Any, args: Mapping[str, Any]) -> None:
        if isinstance(port, bool) or not isinstance(port, int | str | float):
            raise self.fail(f'Invalid URL port "{port}" for {self.name} called with {args}')
        try:
            number = int(port)
        except (ValueError, OverflowError):
            raise self.fail(f'Invalid URL port "{port}" for {self.name} called with '
                            f"{dict(args)}") from None
        if not 0 < number <= 65535:
            raise self.fail(f"Invalid URL port {number}, must be in range 1-65535")

    def result(self, scope: Scope) -> Any:
        args = _arg(self.args, scope)
        self.check_parts(args)
        scheme = args.get("scheme", "")
        if ":" in scheme:
            raise self.fail("URL \"scheme\" should not contain ':'")
        quote = urllib.parse.quote
        netloc = ""
        username = quote(args.get("username", ""), safe="")
        password = quote(args.get("password", ""), safe="")
        if username or password:
            netloc = username + (":" + password if password else "") + "@"
        host = args.get("host", "")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        host = quote(host, safe=":")
        netloc += f"[{host}]" if ":" in host else host
        port = args.get("port", "")
        if port:
            netloc += f":{port}"
        path = quote(args.get("path", ""))
        query = urllib.parse.urlencode(args.get("query", {})).replace("%2F", "/")
        fragment = quote(args.get("fragment", ""))
        return urllib.parse.urlunsplit((scheme, netloc, path, query, fragment))


# ------------------------------------------------------------------------------------------------
# yaql
# ------------------------------------------------------------------------------------------------

class Yaql(HotFunction):
    """``yaql: {expression, data}``, evaluated against ``$.data`` with Heat's yaql limits."""

    doc = "result of a yaql expression on $.data: yaql: {expression: <yaql>, data: <value>}"
    LIMIT_ITERATORS: ClassVar[int] = 200
    MEMORY_QUOTA: ClassVar[int] = 10000

    _engine: ClassVar[Any] = None
    _root_context: ClassVar[Any] = None
    _statement: Any = None

    @classmethod
    def engine(cls) -> Any:
        if cls._engine is None:
            import yaql

            from kubeheat.template.functions import yaql_regex

            cls._engine = yaql.YaqlFactory().create({
                "yaql.limitIterators": cls.LIMIT_ITERATORS,
                "yaql.memoryQuota": cls.MEMORY_QUOTA,
            })
            # yaql's regex library matches with Python's re, unbounded: ours instead (H4)
            cls._root_context = yaql.create_context(regex=False)
            yaql_regex.register(cls._root_context)
        return cls._engine

    def check_args(self) -> None:
        args = self.args
        if not isinstance(args, dict):
            raise self.fail(f'Arguments to "{self.name}" must be a map.')
        if "expression" not in args or set(args) - {"expression", "data"}:
            raise self.fail(f'"{self.name}" syntax should be {self.name}: {{expression: '
                            "$.data.var1.sum(), data: {var1: [3, 2, 1]}}")
        expression = _plain(args["expression"])
        if not _is_fn(expression):
            self._statement = self.compile(expression)

    def compile(self, expression: Any) -> Any:
        from yaql.language import exceptions

        if not isinstance(expression, str):
            raise self.fail(f'The "expression" argument to {self.name} must contain a string.')
        try:
            return self.engine()(expression)
        except exceptions.YaqlException as exc:
            raise self.fail(f"Bad expression {exc}.") from None
        except Exception as exc:  # the yaql/ply parser raises assorted errors on odd input
            raise self.fail(f"Bad expression {type(exc).__name__}: {exc}.") from None

    def result(self, scope: Scope) -> Any:
        statement = self._statement
        if statement is None:
            statement = self.compile(_arg(self.args["expression"], scope))
        data = _arg(self.args.get("data", {}), scope)
        self.engine()
        try:
            value = statement.evaluate({"data": data}, self._root_context.create_child_context())
            return _yaql_output(value)
        except RecursionError:
            raise TemplateLimitError(f'"{self.name}" expression nests too deeply',
                                     self.path) from None
        except PatternTimeout as exc:
            raise self.fail(f"Evaluating the yaql expression failed: {exc}") from None
        except PatternError as exc:
            raise self.fail("Evaluating the yaql expression failed: invalid regular "
                            f"expression: {exc}") from None
        except Exception as exc:  # yaql lets expression errors (ZeroDivisionError ...) through
            raise self.fail(f"Evaluating the yaql expression failed: {type(exc).__name__}: "
                            f"{exc}") from None


def _yaql_output(value: Any) -> Any:
    """yaql results as plain data: tuples and sets become lists, mappings dicts."""
    if isinstance(value, Mapping):
        return {_yaql_output(k): _yaql_output(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        items = [_yaql_output(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, list | tuple):
        return [_yaql_output(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------------
# if
# ------------------------------------------------------------------------------------------------

class If(Macro):
    """``if: [condition, value_if_true, value_if_false]``, decided while parsing so only the
    chosen branch is parsed (and contributes dependencies)."""

    doc = "one of two values, by a condition: if: [<condition>, <value if true>, <value if false>]"
    #: whether the two-argument form (false -> the item is dropped) is accepted (2021-04-16)
    nullable: ClassVar[bool] = False

    @classmethod
    def expand(cls, ctx: ParseContext, name: str, args: Any, path: Path,
               parse: Callable[[Any, Path], Any]) -> Any:
        counts = (2, 3) if cls.nullable else (3,)
        if not isinstance(args, list) or len(args) not in counts:
            raise FunctionError(f'Arguments to "{name}" must be of the form: '
                                "[condition_name, value_if_true, value_if_false]", path)
        # a condition name is reported at the if (Heat's place), an expression at itself
        where = path if isinstance(args[0], str | bool) else (*path, 0)
        if ctx.condition_value(args[0], where):
            return parse(args[1], (*path, 1))
        if len(args) == 3:
            return parse(args[2], (*path, 2))
        return ABSENT


class IfNullable(If):
    """``if`` of 2021-04-16: without value_if_false a false condition drops the item."""

    doc = ("one of two values, by a condition (no false value: item dropped): if: [<condition>, "
           "<if true>(, <if false>)]")
    nullable = True


