"""Regular expressions from templates, matched within a time bound (review H4).

A template author's pattern (``allowed_pattern``, CFN ``AllowedPattern``, yaql's ``regex``
functions) can backtrack exponentially: ``(a|aa)+$`` against forty ``a`` and a ``!`` would run
for hours with Python's :mod:`re`, which holds the GIL and cannot be interrupted. These patterns
are therefore compiled with the ``regex`` package, whose matching takes a timeout and releases
the GIL (``concurrent=True``), so a stack's evaluation cannot freeze the operator's other
threads and a slow match ends in :class:`PatternTimeout` after :data:`MATCH_TIMEOUT` seconds.

The syntax accepted is Python's :mod:`re` (Heat's): a pattern is first compiled with :mod:`re`,
whose error message is the one reported, then with ``regex`` (its default ``VERSION0``
behaves as :mod:`re`). Patterns are cached; ``regex`` is imported on first use (it would add
some 30 ms to every ``kubeheat validate``'s start-up).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from kubeheat.template.errors import KubeheatError

# the parser re itself uses, to size a pattern before ``regex`` compiles it (no stubs: Any)
_sre_parser: Any = importlib.import_module("re._parser")
_sre_constants: Any = importlib.import_module("re._constants")

#: seconds one match (a whole search, split or substitution) may take before it is refused
MATCH_TIMEOUT = 1.0
#: seconds all the matches inside one :func:`match_budget` scope (one parameter binding, one
#: evaluation of a snippet) may take together: many matches each just under the timeout (a
#: ``repeat`` of yaql calls) are bounded too
MATCH_BUDGET = 5.0

#: the most items a pattern may hold once its counted repeats are multiplied out
#: (``(?:a{1000}){1000}`` is 10^6, compiled in about 0.5 s): the ``regex`` package unrolls them
#: when compiling, with no timeout, so a pattern past this is refused (a template's 512 KB
#: cannot reach it without repeats)
MAX_PATTERN_SIZE = 1_000_000

#: the flags a caller may pass, as :mod:`re`'s constants (the two modules' values are equal)
IGNORECASE = int(re.IGNORECASE)
MULTILINE = int(re.MULTILINE)
DOTALL = int(re.DOTALL)
UNICODE = int(re.UNICODE)


class PatternTimeout(KubeheatError):
    """A match took longer than :data:`MATCH_TIMEOUT`; ``pattern`` is the regex, ``subject``
    what the message calls it."""

    def __init__(self, pattern: str, subject: str = "the pattern", *,
                 budget: float | None = None) -> None:
        why = (f"more than {MATCH_TIMEOUT:g} s" if budget is None else
               f"the regular expressions here took more than {budget:g} s in total")
        super().__init__(f'{subject} "{pattern}" took too long to match ({why}); '
                         "simplify the pattern")
        self.pattern = pattern
        self.budget = budget


class _Budget(threading.local):
    limit: float | None = None
    spent: float = 0.0


_BUDGET = _Budget()


@contextlib.contextmanager
def match_budget(seconds: float | None = None) -> Iterator[None]:
    """Bound the total time of the matches made inside (in this thread) to ``seconds``
    (:data:`MATCH_BUDGET` by default). Scopes nest: the outermost one counts."""
    if _BUDGET.limit is not None:
        yield
        return
    _BUDGET.limit = MATCH_BUDGET if seconds is None else seconds
    _BUDGET.spent = 0.0
    try:
        yield
    finally:
        _BUDGET.limit = None


class PatternError(KubeheatError):
    """The pattern does not compile; the message is :mod:`re`'s."""


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str, flags: int) -> Any:
    try:
        re.compile(pattern, flags)
    except re.error as exc:
        raise PatternError(str(exc)) from None
    except RecursionError:
        raise PatternError("the pattern nests too deeply") from None
    except (OverflowError, ValueError) as exc:
        raise PatternError(f"{type(exc).__name__}: {exc}") from None
    try:
        size = _expanded_size(_sre_parser.parse(pattern, flags).data)
    except RecursionError:
        size = MAX_PATTERN_SIZE + 1
    except _TooLarge:
        size = MAX_PATTERN_SIZE + 1
    if size > MAX_PATTERN_SIZE:
        raise PatternError(f"the pattern is too large once its repeats are counted (more than "
                           f"{MAX_PATTERN_SIZE} items)")
    import regex

    try:
        return regex.compile(pattern, flags | regex.VERSION0)
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        raise PatternError(str(exc)) from None


class _TooLarge(Exception):
    pass


_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


def _subpatterns(argument: Any) -> Iterator[Any]:
    if isinstance(argument, _sre_parser.SubPattern):
        yield argument
    elif isinstance(argument, tuple | list):
        for item in argument:
            yield from _subpatterns(item)


def _expanded_size(items: Any) -> int:
    """How many items ``items`` (a parsed pattern) holds with counted repeats multiplied out;
    raises :class:`_TooLarge` past :data:`MAX_PATTERN_SIZE`."""
    total = 0
    for op, argument in items:
        inner = max(1, sum(_expanded_size(sub.data) for sub in _subpatterns(argument)))
        if str(op) in _REPEATS:
            low, high = argument[0], argument[1]
            inner *= max(1, low if high == _sre_constants.MAXREPEAT else high)
        total += inner
        if total > MAX_PATTERN_SIZE:
            raise _TooLarge
    return total


class BoundedPattern:
    """A compiled pattern whose every operation is bounded by :data:`MATCH_TIMEOUT`.

    The methods mirror :class:`re.Pattern`'s (same arguments, same results).
    """

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled = _compiled(pattern, flags)

    def __repr__(self) -> str:
        return repr(re.compile(self.pattern, self.flags))     # as re shows it (yaql's errors)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, BoundedPattern) and other.pattern == self.pattern
                and other.flags == self.flags)

    def __hash__(self) -> int:
        return hash((self.pattern, self.flags))

    def _bounded(self, call: Callable[..., Any], *args: Any) -> Any:
        limit = _BUDGET.limit
        timeout = MATCH_TIMEOUT
        if limit is not None:
            left = limit - _BUDGET.spent
            if left <= 0:
                raise PatternTimeout(self.pattern, budget=limit)
            timeout = min(timeout, left)
        start = time.monotonic()
        try:
            return call(*args, concurrent=True, timeout=timeout)
        except TimeoutError:
            if limit is not None and timeout < MATCH_TIMEOUT:
                raise PatternTimeout(self.pattern, budget=limit) from None
            raise PatternTimeout(self.pattern) from None
        finally:
            if limit is not None:
                _BUDGET.spent += time.monotonic() - start

    def match(self, string: str) -> Any:
        return self._bounded(self._compiled.match, string)

    def search(self, string: str) -> Any:
        return self._bounded(self._compiled.search, string)

    def finditer(self, string: str) -> Iterator[Any]:
        # consumed here, so that the timeout covers the whole scan
        return iter(self._bounded(_all_matches, self._compiled, string))

    def split(self, string: str, maxsplit: int = 0) -> list[Any]:
        return list(self._bounded(self._compiled.split, string, maxsplit))

    def sub(self, repl: str | Callable[[Any], str], string: str, count: int = 0) -> str:
        return str(self._bounded(self._compiled.sub, repl, string, count))


def _all_matches(compiled: Any, string: str, *, concurrent: bool, timeout: float) -> list[Any]:
    return list(compiled.finditer(string, concurrent=concurrent, timeout=timeout))


def compile_pattern(pattern: str, flags: int = 0) -> BoundedPattern:
    """``pattern`` compiled (raises :class:`PatternError` with :mod:`re`'s message)."""
    return BoundedPattern(pattern, flags)


def full_match(pattern: str, value: str) -> bool:
    """Heat's ``allowed_pattern`` test: a match anchored at the start that ends at the end of
    ``value`` (``re.match`` and an end check, not ``fullmatch``, which differs with
    alternations). Raises :class:`PatternTimeout` when the match takes too long."""
    found = compile_pattern(pattern).match(value)
    return found is not None and found.end() == len(value)


__all__ = [
    "DOTALL",
    "IGNORECASE",
    "MATCH_BUDGET",
    "MATCH_TIMEOUT",
    "MULTILINE",
    "UNICODE",
    "BoundedPattern",
    "PatternError",
    "PatternTimeout",
    "compile_pattern",
    "full_match",
    "match_budget",
]
