"""The HOT list and map functions: ``map_merge``, ``map_replace``, ``repeat``, ``filter``,
``list_concat`` (and its unique form) and ``contains`` (see :mod:`.hot`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kubeheat.template.errors import (
    FunctionError,
)
from kubeheat.template.functions.base import (
    ABSENT,
    Scope,
)
from kubeheat.template.functions.hot_base import (
    MAX_RESULT_ITEMS,
    MAX_RESULT_SIZE,
    HotFunction,
    _arg,
    _is_fn,
    _is_list,
    _leaves,
    _plain,
    _short,
    _short_json,
    _type,
)

# ------------------------------------------------------------------------------------------------
# Lists and maps
# ------------------------------------------------------------------------------------------------

class MapMerge(HotFunction):
    """``map_merge: [map, map, ...]``."""

    doc = "maps merged, later keys winning: map_merge: [<map>, <map>, ...]"

    def usage(self) -> FunctionError:
        return self.bad_value(f'Incorrect arguments to "{self.name}" should be: '
                              f'"{self.name}" : [ {{ "key1": "val1" }}, {{ "key2": "val2" }} ]')

    def check_args(self) -> None:
        args = self.args
        if _is_fn(args):
            return
        if not isinstance(args, list):
            raise self.usage()
        for item in args:
            if not _is_fn(item):
                self.as_map(_plain(item))

    def as_map(self, value: Any) -> Mapping[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.bad_value("Incorrect arguments: Items to merge must be maps. "
                                 f"{_short(value)} is type {type(value)} instead of a dict")
        return value

    def result(self, scope: Scope) -> Any:
        args = _arg(self.args, scope)
        if not _is_list(args):
            raise self.usage()
        merged: dict[Any, Any] = {}
        for item in args:
            merged.update(self.as_map(item))
        return merged


class MapReplace(HotFunction):
    """``map_replace: [map, {keys: {old: new}, values: {old: new}}]``."""

    doc = ("map with keys renamed and values replaced: map_replace: [<map>, {keys: {<old>: "
           "<new>}, values: {<old>: <new>}}]")

    def usage(self) -> FunctionError:
        return self.bad_value(f'Incorrect arguments to "{self.name}" should be: "{self.name}" : '
                              '[ { "key1": "val1" }, {"keys": {"key1": "key2"}, '
                              '"values": {"val1": "val2"}}]')

    def as_map(self, value: Any) -> Mapping[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.bad_value(f'Incorrect arguments: to "{self.name}", arguments must be a '
                                 'list of maps. Example:  [ { "key1": "val1" }, {"keys": '
                                 '{"key1": "key2"}, "values": {"val1": "val2"}}]')
        return value

    def check_args(self) -> None:
        args = self.args
        if _is_fn(args):
            return
        if not isinstance(args, list) or len(args) != 2:
            raise self.usage()
        for item in args:
            if not _is_fn(item):
                self.as_map(_plain(item))
        replacements = args[1]
        if isinstance(replacements, Mapping):
            self.check_replacements(replacements)
            for key in ("keys", "values"):
                value = _plain(replacements.get(key))
                if not _is_fn(value):
                    self.as_map(value)

    def check_replacements(self, replacements: Mapping[Any, Any]) -> None:
        if any(k not in ("keys", "values") for k in replacements):
            raise self.usage()

    def result(self, scope: Scope) -> Any:
        args = _arg(self.args, scope)
        if not _is_list(args) or len(args) != 2:
            raise self.usage()
        source = self.as_map(args[0])
        replacements = self.as_map(args[1])
        self.check_replacements(replacements)
        new_keys = self.as_map(replacements.get("keys"))
        new_values = self.as_map(replacements.get("values"))
        out: dict[Any, Any] = {}
        for key, value in source.items():
            new_key = new_keys.get(key)
            if new_key is None:
                new_key = key
            else:
                try:
                    if new_key in source and new_key != key:
                        raise self.fail(f"key replacement {new_key} collides with a key in the "
                                        "input map")
                    if new_key in out:
                        raise self.fail(f"key replacement {new_key} collides with a key in the "
                                        "output map")
                except TypeError:
                    raise self.fail(f"key replacement {_short(new_key)} is not a valid "
                                    "key") from None
            try:
                out[new_key] = new_values.get(value, value)
            except TypeError:  # an unhashable value is never replaced
                out[new_key] = value
        return out


class Repeat(HotFunction):
    """``repeat: {template, for_each: {var: list}}`` of 2015-04-30 and 2016-04-08."""

    doc = ("template copied per combination of the lists: repeat: {template: <value>, for_each: "
           "{<var>: <list>}}")
    #: whether a for_each value may be a map, iterating its keys (2016-10-14+)
    allow_maps: ClassVar[bool] = False
    #: whether the ``permutations`` key is understood (2017-09-01+)
    has_permutations: ClassVar[bool] = False

    nested: bool = True

    def check_args(self) -> None:
        args = self.args
        if not isinstance(args, dict):
            raise self.fail(f'Arguments to "{self.name}" must be a map')
        if "for_each" not in args or "template" not in args:
            raise self.fail(f'"{self.name}" syntax should be {self.name}: {{template: '
                            "This is %var%, for_each: {%var%: [a, b, c]}}")
        if self.has_permutations:
            permutations = args.get("permutations", True)
            if not isinstance(permutations, bool):
                raise self.fail(f'"permutations" should be boolean type for {self.name} '
                                "function.")
            self.nested = permutations
        for_each = _plain(args["for_each"])
        if _is_fn(for_each):
            return
        if not isinstance(for_each, dict):
            raise self.fail(f'The "for_each" argument to "{self.name}" must contain a map')
        for value in for_each.values():
            if not _is_fn(value) and value is not None and value is not ABSENT:
                self.check_loop(value)

    def check_loop(self, value: Any) -> None:
        if _is_list(value):
            return
        if self.allow_maps and self.nested:
            if isinstance(value, Mapping):
                return
            raise self.bad_value(f'The values of the "for_each" argument to "{self.name}" must '
                                 "be lists or maps")
        raise self.bad_value(f'The values of the "for_each" argument to "{self.name}" must be '
                             "lists")

    def result(self, scope: Scope) -> Any:
        for_each = _arg(self.args["for_each"], scope)
        if not isinstance(for_each, Mapping):
            raise self.fail(f'The "for_each" argument to "{self.name}" must contain a map')
        if not for_each:
            raise self.fail(f'The "for_each" argument to "{self.name}" must not be empty')
        keys = list(for_each)
        loops: list[list[Any]] = []
        lengths: list[int] = []
        for value in for_each.values():
            if value is None:
                loops.append([])
                continue
            self.check_loop(value)
            loops.append(list(value))
            lengths.append(len(value))
        if not self.nested and len(set(lengths)) > 1:
            raise self.fail(f"For {self.name}, the length of for_each values should be equal "
                            "if no nested loop.")
        count = math.prod(map(len, loops)) if self.nested else min(map(len, loops))
        template = _arg(self.args["template"], scope)
        if count > MAX_RESULT_ITEMS:
            raise self.too_large(count, MAX_RESULT_ITEMS, "items")
        size = count * (_size(template) + sum(max(map(_size, loop), default=0)
                                              for loop in loops))
        if size > MAX_RESULT_SIZE:
            raise self.too_large(size, MAX_RESULT_SIZE, "characters")
        combos = itertools.product(*loops) if self.nested else zip(*loops, strict=False)
        return [self.substitute(keys, combo, template) for combo in combos]

    def substitute(self, keys: Sequence[Any], values: Sequence[Any], template: Any) -> Any:
        if isinstance(template, str):
            for key, value in zip(keys, values, strict=True):
                if not isinstance(key, str) or not isinstance(value, str):
                    bad = key if not isinstance(key, str) else value
                    raise self.fail(f'"{self.name}" can only substitute strings, not '
                                    f"{_type(bad)} {_short(bad)}")
                template = template.replace(key, value)
            return template
        if _is_list(template):
            return [self.substitute(keys, values, item) for item in template]
        if isinstance(template, Mapping):
            return {self.substitute(keys, values, k): self.substitute(keys, values, v)
                    for k, v in template.items()}
        return template


def _size(value: Any) -> int:
    """A rough size of ``value`` (characters of its strings plus one per node)."""
    if isinstance(value, str):
        return len(value) + 1
    if isinstance(value, Mapping):
        return 1 + sum(_size(k) + _size(v) for k, v in value.items())
    if _is_list(value):
        return 1 + sum(map(_size, value))
    return 1


class RepeatWithMap(Repeat):
    """``repeat`` of 2016-10-14 and 2017-02-24: a for_each map iterates its keys."""

    doc = ("template copied per combination of the lists or map keys: repeat: {template: <value>, "
           "for_each: {<var>: <list or map>}}")
    allow_maps = True


class RepeatWithNestedLoop(RepeatWithMap):
    """``repeat`` of 2017-09-01 and later: ``permutations: false`` walks the lists in step."""

    doc = ("template copied per combination (or in step): repeat: {template, for_each: {<var>: "
           "<list or map>}, permutations}")
    has_permutations = True


class Filter(HotFunction):
    """``filter: [values, list]``."""

    doc = "list without the given values: filter: [<values>, <list>]"

    def check_args(self) -> None:
        args = self.args
        if not isinstance(args, list):
            raise self.fail(f'Argument to "{self.name}" must be a list')
        if len(args) != 2:
            raise self.fail(f'"{self.name}" expected 2 arguments of the form [values, sequence] '
                            f"but got {len(args)} arguments instead")
        values, sequence = (_plain(a) for a in args)
        if sequence and not _is_fn(sequence):
            self.check_sequence(sequence)
        if values and not _is_fn(values):
            self.check_values(values)

    def check_sequence(self, sequence: Any) -> None:
        if not isinstance(sequence, list):
            raise self.bad_value(f'"{self.name}" only works with lists')

    def check_values(self, values: Any) -> None:
        if not isinstance(values, list):
            raise self.bad_value(f'"{self.name}" filters a list of values')

    def result(self, scope: Scope) -> Any:
        sequence = _arg(self.args[1], scope)
        if not sequence:
            return sequence
        self.check_sequence(sequence)
        values = _arg(self.args[0], scope)
        if not values:
            return sequence
        self.check_values(values)
        return [item for item in sequence if item not in values]


class ListConcat(HotFunction):
    """``list_concat: [list, list, ...]``."""

    doc = "lists concatenated: list_concat: [<list>, <list>, ...]"
    unique: ClassVar[bool] = False

    def usage(self) -> FunctionError:
        return self.bad_value(f'Incorrect arguments to "{self.name}" should be: "{self.name}" : '
                              "[ [ <value 1>, <value 2> ], [ <value 3>, <value 4> ] ]")

    def check_args(self) -> None:
        args = self.args
        if _is_fn(args):
            return
        if not isinstance(args, list):
            raise self.usage()
        if any(map(_is_fn, _leaves(args))):
            for item in args:
                if not _is_fn(item) and not _is_list(_plain(item)) and item is not None:
                    raise self.bad_value("Incorrect arguments: Items to concat must be lists, "
                                         f"not {_type(item)} {_short(item)}")
            return
        for item in args:
            self.as_list(_plain(item), args)

    def as_list(self, value: Any, args: Any) -> Sequence[Any]:
        if value is None:
            return []
        if not _is_list(value):
            # Heat's words: the JSON of all the arguments and of the item
            raise self.bad_value("Incorrect arguments: Items to concat must be lists. "
                                 f"{_short_json(args)} contains an item that is not a list: "
                                 f"{_short_json(value)}")
        return list(value)

    def result(self, scope: Scope) -> Any:
        args = _arg(self.args, scope)
        if not _is_list(args):
            raise self.usage()
        items: list[Any] = []
        for value in args:
            items.extend(self.as_list(value, args))
        return _unique(items) if self.unique else items


def _unique(items: list[Any]) -> list[Any]:
    """Drop later duplicates (``==`` equality), keeping first occurrences in order."""
    seen: set[Any] = set()
    seen_unhashable: list[Any] = []
    out = []
    for item in items:
        try:
            if item in seen:
                continue
            seen.add(item)
        except TypeError:
            if item in seen_unhashable:
                continue
            seen_unhashable.append(item)
        out.append(item)
    return out


class ListConcatUnique(ListConcat):
    """``list_concat_unique``: as list_concat, keeping the first of equal items."""

    doc = ("lists concatenated, keeping the first of equal items: list_concat_unique: [<list>, "
           "<list>, ...]")
    unique = True


class Contains(HotFunction):
    """``contains: [value, sequence]``."""

    doc = "whether a value is in a list or a string: contains: [<value>, <list or string>]"

    def check_args(self) -> None:
        args = self.args
        if not args or not isinstance(args, list):
            raise self.fail(f'Incorrect arguments to "{self.name}" should be: '
                            f'"{self.name}" : [ "value1", [ "value1", "value2"]]')
        if len(args) != 2:
            raise self.fail(f'Arguments to "{self.name}" must be of the form: '
                            "[value1, [value1, value2]]")
        sequence = _plain(args[1])
        if not _is_fn(sequence):
            self.check_sequence(sequence)

    def check_sequence(self, sequence: Any) -> None:
        if not isinstance(sequence, str | list | tuple):
            raise self.bad_value(f'Second argument to "{self.name}" should be a sequence.')

    def result(self, scope: Scope) -> Any:
        value = _arg(self.args[0], scope)
        sequence = _arg(self.args[1], scope)
        self.check_sequence(sequence)
        if isinstance(sequence, str) and not isinstance(value, str):
            raise self.fail(f'"{self.name}" can only look for a string in a string, not '
                            f"{_type(value)}")
        return value in sequence


