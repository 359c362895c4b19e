"""HOT condition functions (2016-10-14 and later): ``equals``, ``not``, ``and``, ``or``.

They are only valid in condition context: the ``conditions`` section, a resource's or output's
``condition`` and the first argument of ``if``. Condition tables also reuse ``get_param`` and,
from 2017-09-01, ``yaql`` and ``contains`` (re-exported here with the HOT classes).

An argument of ``not`` / ``and`` / ``or`` is a boolean, the name of a condition (resolved through
:meth:`~kubeheat.template.functions.base.Scope.condition`, lazily, so cycles are detected there) or
an inline condition function; a function whose value is a string names a condition too, as in
Heat. Anything else is an error.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kubeheat.template.functions.base import Function, Scope, resolve
from kubeheat.template.functions.hot import Contains, GetParam, HotFunction, Yaql

__all__ = ["And", "ConditionFunction", "Contains", "Equals", "GetParam", "Not", "Or", "Yaql"]


def _condition_like(value: Any) -> bool:
    """Whether a literal argument can stand for a condition (a function is checked later)."""
    return isinstance(value, str | bool | Function)


class Equals(HotFunction):
    """``equals: [value_1, value_2]``."""

    doc = "whether two values are equal (Python ==, so '1' is not 1): equals: [<value>, <value>]"

    def check_args(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise self.fail(f'Arguments to "{self.name}" must be of the form: '
                            "[value_1, value_2]")

    def result(self, scope: Scope) -> Any:
        first, second = (resolve(a, scope) for a in self.args)
        return bool(first == second)


class ConditionFunction(HotFunction):
    """Base of not / and / or: evaluating one condition argument."""

    def condition(self, value: Any, scope: Scope) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return bool(scope.condition(value, self.path))
        raise self.fail(f'Invalid condition "{value}"')

    def check_condition(self, value: Any) -> None:
        if not _condition_like(value):    # Heat finds it when the condition is evaluated
            raise self.bad_value(f'Invalid condition "{value}"')


class Not(ConditionFunction):
    """``not: condition``."""

    doc = "negation of a condition: not: <condition name, boolean or condition function>"

    def check_args(self) -> None:
        if self.args is None:
            raise self.fail(f'Argument to "{self.name}" must be a condition')
        self.check_condition(self.args)

    def result(self, scope: Scope) -> Any:
        return not self.condition(resolve(self.args, scope), scope)


class _Combination(ConditionFunction):
    """and / or: a list of at least two conditions."""

    #: True for "and" (every condition), False for "or" (any condition)
    every: ClassVar[bool] = True

    def check_args(self) -> None:
        if not isinstance(self.args, list):
            raise self.fail(f'Arguments to "{self.name}" must be a list of conditions')
        if len(self.args) < 2:
            raise self.fail(f'The minimum number of condition arguments to "{self.name}" is 2.')
        for item in self.args:
            self.check_condition(item)

    def result(self, scope: Scope) -> Any:
        values = [resolve(a, scope) for a in self.args]
        results = (self.condition(v, scope) for v in values)
        return all(results) if self.every else any(results)


class And(_Combination):
    """``and: [condition, condition, ...]``."""

    doc = "whether every condition holds: and: [<condition>, <condition>, ...]"
    every = True


class Or(_Combination):
    """``or: [condition, condition, ...]``."""

    doc = "whether any condition holds: or: [<condition>, <condition>, ...]"
    every = False
