"""The HOT string functions: ``list_join``, ``str_replace`` (and its strict forms),
``str_split`` and ``digest``, one class per behaviour a version defines (see :mod:`.hot`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
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
    _json,
    _leaves,
    _plain,
    _short,
    _type,
)
from kubeheat.template.functions.substitute import substitute

# ------------------------------------------------------------------------------------------------
# Strings
# ------------------------------------------------------------------------------------------------

class Join(HotFunction):
    """``list_join: [delimiter, list]`` before 2015-10-15: items must be strings."""

    doc = "strings joined with a delimiter: list_join: [<delimiter>, [<str>, ...]]"

    def usage(self) -> FunctionError:
        return self.fail(f'Incorrect arguments to "{self.name}" should be: '
                         f'"{self.name}" : [ " ", [ "str1", "str2"]]')

    def check_args(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise self.usage()
        self.check_delimiter(self.args[0])
        self.check_list(self.args[1])

    def check_delimiter(self, delim: Any) -> None:
        if not isinstance(delim, str) and not _is_fn(delim):
            raise self.bad_value(f'"{self.name}" delimiter must be a string')

    def check_list(self, strings: Any) -> None:
        strings = _plain(strings)
        if strings is None or _is_fn(strings):
            return
        if not _is_list(strings):
            raise self.bad_value(f'"{self.name}" must operate on a list')
        for item in strings:
            if not _is_fn(item):
                self.item_text(item)

    def item_text(self, item: Any) -> str:
        if item is None or item is ABSENT:
            return ""
        if not isinstance(item, str):
            raise self.bad_value(f"Items to join must be strings not {_short(item)}")
        return item

    def lists(self, scope: Scope) -> list[Any]:
        strings = _arg(self.args[1], scope)
        if strings is None:
            return []
        if not _is_list(strings):
            raise self.fail(f'"{self.name}" must operate on a list')
        return list(strings)

    def result(self, scope: Scope) -> Any:
        items = self.lists(scope)
        delim = _arg(self.args[0], scope)
        if not isinstance(delim, str):
            raise self.fail(f'"{self.name}" delimiter must be a string')
        texts = [self.item_text(item) for item in items]
        size = sum(map(len, texts)) + len(delim) * max(len(texts) - 1, 0)
        if size > MAX_RESULT_SIZE:
            raise self.too_large(size, MAX_RESULT_SIZE, "characters")
        return delim.join(texts)


class JoinMultiple(Join):
    """``list_join: [delimiter, list, list...]`` of 2015-10-15 and later: maps and lists are
    joined as JSON."""

    doc = ("lists joined with a delimiter, maps and lists as JSON: list_join: [<delimiter>, "
           "[<str>, ...], ...]")

    def usage(self) -> FunctionError:
        return self.fail(f'Incorrect arguments to "{self.name}" should be: '
                         f'"{self.name}" : [ " ", [ "str1", "str2"] ...]')

    def check_args(self) -> None:
        if not isinstance(self.args, list) or len(self.args) < 2:
            raise self.usage()
        self.check_delimiter(self.args[0])
        for strings in self.args[1:]:
            if strings and not _is_fn(strings):
                self.check_list(strings)

    def item_text(self, item: Any) -> str:
        if item is None or item is ABSENT:
            return ""
        if isinstance(item, str):
            return item
        if isinstance(item, Mapping | list | tuple) and not any(map(_is_fn, _leaves(item))):
            try:
                return _json(item)
            except (TypeError, ValueError):
                raise self.bad_value(f"Items to join must be string, map or list. "
                                     f"{_short(item)} failed json serialization") from None
        if isinstance(item, Mapping | list | tuple):
            return ""  # contains unevaluated functions (parse-time check only)
        raise self.bad_value(f"Items to join must be string, map or list not {_short(item)}")

    def lists(self, scope: Scope) -> list[Any]:
        items: list[Any] = []
        for strings in self.args[1:]:
            value = _arg(strings, scope)
            if not value:
                continue
            if not _is_list(value):
                raise self.fail(f'"{self.name}" must operate on a list')
            items.extend(value)
        return items


class Replace(HotFunction):
    """``str_replace: {template, params}`` before 2015-10-15: values must be scalars."""

    doc = ("string with params substituted, longest first: str_replace: {template: <str>, params: "
           "{<key>: <value>}}")
    #: whether every param must occur in the template (str_replace_strict)
    strict: ClassVar[bool] = False
    #: whether null and empty values are accepted (not for str_replace_vstrict)
    allow_empty: ClassVar[bool] = True
    #: whether maps and lists are substituted as JSON (2015-10-15+)
    json_values: ClassVar[bool] = False

    def check_args(self) -> None:
        args = self.args
        if not isinstance(args, dict):
            raise self.fail(f'Arguments to "{self.name}" must be a map')
        if "template" not in args or "params" not in args:
            raise self.fail(f'"{self.name}" syntax should be {self.name}: {{template: '
                            "This is var1 template var2, params: {var1: a, var2: string}}")
        params = _plain(args["params"])
        if not isinstance(params, dict) and not _is_fn(params):
            raise self.fail(f'"{self.name}" parameters must be a mapping')
        template = _plain(args["template"])
        if not isinstance(template, str) and not _is_fn(template):
            raise self.bad_value(f'"{self.name}" template must be a string')
        if isinstance(params, dict):
            for key, value in params.items():
                self.check_key(key)
                if not _is_fn(value) and value is not ABSENT:
                    self.text(key, value)

    def check_key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise self.bad_value(f'"{self.name}" param placeholders must be strings')
        if not key:
            raise self.bad_value(f'"{self.name}" param placeholders must not be empty')
        return key

    def empty_value(self, param: str) -> FunctionError:
        return self.bad_value(f"{self.name} has an undefined or empty value for param {param}, "
                         "must be a defined non-empty value")

    def text(self, param: str, value: Any) -> str:
        """The replacement text of ``value``."""
        if value is None:
            if not self.allow_empty:
                raise self.empty_value(param)
            return ""
        if isinstance(value, str | int | float | bool):
            text = str(value)
        elif self.json_values and isinstance(value, Mapping | list | tuple):
            if not self.allow_empty and not value:
                raise self.empty_value(param)
            if any(map(_is_fn, _leaves(value))):
                return ""  # parse-time check of a value that holds functions
            try:
                text = _json(value)
            except (TypeError, ValueError):
                raise self.bad_value(f'"{self.name}" params must be strings, numbers, list or '
                                     f"map. Failed to json serialize {_short(value)}") from None
        elif self.json_values:
            raise self.bad_value(f'"{self.name}" params must be strings, numbers, list or map.')
        else:
            raise self.bad_value(f'"{self.name}" params must be strings or numbers, param '
                                 f"{param} is not valid")
        if not self.allow_empty and not text:
            raise self.empty_value(param)
        return text

    def result(self, scope: Scope) -> Any:
        template = _arg(self.args["template"], scope)
        params = _arg(self.args["params"], scope)
        if not isinstance(template, str):
            raise self.fail(f'"{self.name}" template must be a string')
        if not isinstance(params, Mapping):
            raise self.fail(f'"{self.name}" params must be a map')
        keys = sorted((self.check_key(k) for k in params), key=lambda k: (-len(k), k))
        values = {key: self.text(key, params[key]) for key in keys}
        output, found = self.substitute(template, keys, values)
        missing = [k for k in keys if k not in found]
        if self.strict and missing:
            raise self.fail("The following params were not found in the template: "
                            + ",".join(missing))
        return output

    def substitute(self, template: str, keys: list[str], values: Mapping[str, str]
                   ) -> tuple[str, set[str]]:
        """Replace ``keys`` in order; text inserted by a replacement is never searched again."""
        return substitute(template, keys, values, MAX_RESULT_SIZE,
                          lambda size: self.too_large(size, MAX_RESULT_SIZE, "characters"))


class ReplaceJson(Replace):
    """``str_replace`` of 2015-10-15 and later: maps and lists are substituted as JSON."""

    doc = ("string with params substituted (maps, lists as JSON): str_replace: {template: <str>, "
           "params: {<key>: <value>}}")
    json_values = True


class ReplaceJsonStrict(ReplaceJson):
    """``str_replace_strict``: every param must occur in the template."""

    doc = ("as str_replace, every param must occur: str_replace_strict: {template: <str>, params: "
           "{<key>: <value>}}")
    strict = True


class ReplaceJsonVeryStrict(ReplaceJsonStrict):
    """``str_replace_vstrict``: as strict, and no param may be null or empty."""

    doc = ("as str_replace_strict, no param null or empty: str_replace_vstrict: {template: <str>, "
           "params: {...}}")
    allow_empty = False


class StrSplit(HotFunction):
    """``str_split: [delimiter, string, index?]``."""

    doc = "parts of a string, or the one at an index: str_split: [<delimiter>, <string>(, <index>)]"

    def usage(self) -> FunctionError:
        return self.bad_value(f'Incorrect arguments to "{self.name}" should be: '
                              f'"{self.name}" : [ ",", "apples,pears", <index>]')

    def check_args(self) -> None:
        args = self.args
        if _is_fn(args):
            return
        if isinstance(args, str | Mapping):   # Heat refuses these shapes when parsing
            raise self.fail(self.usage().message)
        if not isinstance(args, list) or len(args) < 2:
            raise self.usage()
        delim, string = args[0], _plain(args[1])
        if string is None:
            return  # evaluates to null whatever the delimiter
        if not _is_fn(delim):
            self.check_delimiter(_plain(delim))
        if not _is_fn(string) and not isinstance(string, str):
            raise self.bad_value(f'"{self.name}" can only split a string, not {_type(string)}')
        if len(args) > 2 and not _is_fn(args[2]):
            self.index(args[2])

    def check_delimiter(self, delim: Any) -> None:
        if delim is not None and not isinstance(delim, str):
            raise self.bad_value(f'"{self.name}" delimiter must be a string')
        if delim == "":
            raise self.bad_value(f'"{self.name}" delimiter must not be empty')

    def index(self, value: Any) -> int:
        try:
            return int(value)
        except (TypeError, ValueError, OverflowError):
            raise self.bad_value(f'Incorrect index to "{self.name}" should be: '
                                 f'"{self.name}" : [ ",", "apples,pears", <index>]') from None

    def result(self, scope: Scope) -> Any:
        args = _arg(self.args, scope)
        if not _is_list(args) or len(args) < 2:
            raise self.usage()
        delim, string = args[0], args[1]
        if string is None:
            return None
        self.check_delimiter(delim)
        if not isinstance(string, str):
            raise self.fail(f'"{self.name}" can only split a string, not {_type(string)}')
        count = (string.count(delim) + 1 if delim is not None
                 else sum(1 for _ in re.finditer(r"\S+", string)))
        if len(args) < 3:
            if count > MAX_RESULT_ITEMS:
                raise self.too_large(count, MAX_RESULT_ITEMS, "items")
            return string.split(delim)
        index = self.index(args[2])
        if not -count <= index < count:
            raise self.fail(f'Incorrect index to "{self.name}" should be between 0 and '
                            f"{count - 1}")
        # only the parts up to the one asked for are made
        if delim is None:
            return string.split()[index]
        if index >= 0:
            return string.split(delim, index + 1)[index]
        return string.rsplit(delim, -index)[index]


class Digest(HotFunction):
    """``digest: [algorithm, value]``."""

    doc = "hex digest of a string: digest: [<hashlib algorithm>, <string>]"

    def check_args(self) -> None:
        args = self.args
        if _is_fn(args):
            return
        if not isinstance(args, list) or not all(isinstance(a, str) or _is_fn(a) for a in args):
            raise self.type_error()
        if len(args) != 2:
            raise self.usage()
        if isinstance(args[0], str):
            self.check_algorithm(args[0])

    def type_error(self) -> FunctionError:
        return self.bad_value(f'Argument to function "{self.name}" must be a list of strings')

    def usage(self) -> FunctionError:
        return self.bad_value(f'Function "{self.name}" usage: ["<algorithm>", "<value>"]')

    def check_algorithm(self, algorithm: str) -> None:
        import hashlib  # on use: only templates calling digest pay for OpenSSL's start-up

        if algorithm.lower() not in hashlib.algorithms_available:
            raise self.bad_value("Algorithm must be one of "
                                 + ", ".join(sorted(hashlib.algorithms_available)))

    def result(self, scope: Scope) -> Any:
        args = _arg(self.args, scope)
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise self.type_error()
        if len(args) != 2:
            raise self.usage()
        algorithm, value = args
        self.check_algorithm(algorithm)
        try:
            data = value.encode("latin-1")
        except UnicodeEncodeError:
            raise self.fail(f'The value given to "{self.name}" may only hold latin-1 '
                            "characters") from None
        import hashlib

        try:
            digest = hashlib.new(algorithm, data)
            return digest.hexdigest()
        except (TypeError, ValueError) as exc:
            raise self.fail(f'"{self.name}" cannot use algorithm {algorithm}: {exc}') from None


