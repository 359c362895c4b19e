"""yaql's regular-expression functions, bounded in time (review H4).

The ``yaql`` function's context is created without yaql's own regex library (which matches with
Python's :mod:`re`: a backtracking pattern would run for hours holding the GIL) and gets these
instead: the same names, receivers, arguments and results, on
:class:`~kubeheat.template.patterns.BoundedPattern`, so that every match, search, split and
substitution ends in :class:`~kubeheat.template.patterns.PatternTimeout` after
:data:`~kubeheat.template.patterns.MATCH_TIMEOUT` seconds.

The one difference: a named group is published as ``$name`` (yaql's own code fails on one).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from kubeheat.template.patterns import (
    DOTALL,
    IGNORECASE,
    MULTILINE,
    UNICODE,
    BoundedPattern,
    compile_pattern,
)


def register(context: Any) -> None:
    """Add the bounded regex functions to the yaql ``context``."""
    for function in _functions():
        context.register_function(function)


def _record(match: Any, group: int | str) -> dict[str, Any]:
    return {"value": match.group(group), "start": match.start(group), "end": match.end(group)}


def _publish(context: Any, match: Any) -> None:
    """The match as yaql shows it to a selector: ``$1`` the whole match, ``$2``... the groups
    in order, ``$name`` the named ones."""
    context["$1"] = _record(match, 0)
    for index in range(1, len(match.groups()) + 1):
        context[f"${index + 1}"] = _record(match, index)
    for name in match.groupdict():
        context[f"${name}"] = _record(match, name)


def _selected(context: Any, match: Any, selector: Callable[[Any], Any] | None) -> Any:
    if selector is None:
        return match.group()
    child = context.create_child_context()
    _publish(child, match)
    return selector(child)


def _substitute(context: Any, pattern: BoundedPattern, string: str,
                repl: Callable[[Any], Any], count: int) -> str:
    def one(match: Any) -> str:
        child = context.create_child_context()
        _publish(child, match)
        return str(repl(child))

    return pattern.sub(one, string, count)


def regex_(pattern: str, ignore_case: bool = False, multi_line: bool = False,
           dot_all: bool = False) -> BoundedPattern:
    flags = UNICODE
    if ignore_case:
        flags |= IGNORECASE
    if multi_line:
        flags |= MULTILINE
    if dot_all:
        flags |= DOTALL
    return compile_pattern(pattern, flags)


def regex_matches(regexp: BoundedPattern, string: str) -> bool:
    return regexp.search(string) is not None


def string_matches(string: str, regexp: str) -> bool:
    return compile_pattern(regexp).search(string) is not None


def op_matches_regex(string: str, regexp: BoundedPattern) -> bool:
    return regexp.search(string) is not None


def op_matches_string(string: str, pattern: str) -> bool:
    return compile_pattern(pattern).search(string) is not None


def op_not_matches_regex(string: str, regexp: BoundedPattern) -> bool:
    return regexp.search(string) is None


def op_not_matches_string(string: str, pattern: str) -> bool:
    return compile_pattern(pattern).search(string) is None


def search(context: Any, regexp: BoundedPattern, string: str,
           selector: Callable[[Any], Any] | None = None) -> Any:
    found = regexp.search(string)
    return None if found is None else _selected(context, found, selector)


def search_all(context: Any, regexp: BoundedPattern, string: str,
               selector: Callable[[Any], Any] | None = None) -> Iterator[Any]:
    for found in regexp.finditer(string):
        yield _selected(context, found, selector)


def regex_split(regexp: BoundedPattern, string: str, max_split: int = 0) -> list[Any]:
    return regexp.split(string, max_split)


def string_split(string: str, regexp: BoundedPattern, max_split: int = 0) -> list[Any]:
    return regexp.split(string, max_split)


def regex_replace(regexp: BoundedPattern, string: str, repl: str, count: int = 0) -> str:
    return regexp.sub(repl, string, count)


def string_replace(string: str, regexp: BoundedPattern, repl: str, count: int = 0) -> str:
    return regexp.sub(repl, string, count)


def regex_replace_by(context: Any, regexp: BoundedPattern, string: str,
                     repl: Callable[[Any], Any], count: int = 0) -> str:
    return _substitute(context, regexp, string, repl, count)


def string_replace_by(context: Any, string: str, regexp: BoundedPattern,
                      repl: Callable[[Any], Any], count: int = 0) -> str:
    return _substitute(context, regexp, string, repl, count)


def escape_regex(string: str) -> str:
    return re.escape(string)


def is_regex(value: Any) -> bool:
    return isinstance(value, BoundedPattern)


#: each function: its yaql name, whether it is a method (its first argument the receiver) and
#: its arguments' kinds (``str``, ``re`` a BoundedPattern, ``int``, ``fn`` a lambda)
_TABLE: tuple[tuple[Callable[..., Any], str, bool, tuple[tuple[str, str], ...]], ...] = (
    (regex_, "regex", False, (("pattern", "str"),)),
    (regex_matches, "matches", True, (("regexp", "re"), ("string", "str"))),
    (string_matches, "matches", True, (("string", "str"), ("regexp", "str"))),
    (op_matches_regex, "#operator_=~", False, (("regexp", "re"), ("string", "str"))),
    (op_matches_string, "#operator_=~", False, (("pattern", "str"), ("string", "str"))),
    (op_not_matches_regex, "#operator_!~", False, (("regexp", "re"), ("string", "str"))),
    (op_not_matches_string, "#operator_!~", False, (("pattern", "str"), ("string", "str"))),
    (search, "search", True, (("regexp", "re"), ("string", "str"), ("selector", "fn"))),
    (search_all, "searchAll", True, (("regexp", "re"), ("string", "str"), ("selector", "fn"))),
    (regex_split, "split", True, (("regexp", "re"), ("string", "str"), ("max_split", "int"))),
    (string_split, "split", True, (("regexp", "re"), ("string", "str"), ("max_split", "int"))),
    (regex_replace, "replace", True,
     (("regexp", "re"), ("string", "str"), ("repl", "str"), ("count", "int"))),
    (string_replace, "replace", True,
     (("regexp", "re"), ("string", "str"), ("repl", "str"), ("count", "int"))),
    (regex_replace_by, "replaceBy", True,
     (("regexp", "re"), ("string", "str"), ("repl", "fn"), ("count", "int"))),
    (string_replace_by, "replaceBy", True,
     (("regexp", "re"), ("string", "str"), ("repl", "fn"), ("count", "int"))),
    (escape_regex, "escapeRegex", False, (("string", "str"),)),
    (is_regex, "isRegex", False, ()),
)


@functools.cache
def _functions() -> list[Callable[..., Any]]:
    """The table's functions with yaql's specs applied (once: yaql keeps them on the
    function)."""
    from yaql.language import specs, yaqltypes

    kinds: dict[str, Callable[[], Any]] = {
        "str": yaqltypes.String, "re": lambda: BoundedPattern, "int": lambda: int,
        "fn": lambda: yaqltypes.Lambda(with_context=True)}
    out = []
    for function, name, is_method, params in _TABLE:
        decorated: Any = specs.name(name)(function)
        if is_method:
            decorated = specs.method(decorated)
        for param, kind in reversed(params):
            decorated = specs.parameter(param, kinds[kind]())(decorated)
        out.append(decorated)
    return out


__all__ = ["register"]
