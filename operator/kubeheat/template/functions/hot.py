"""The HOT intrinsic functions (``heat_template_version`` templates).

Each class implements one function as some HOT versions define it; the version tables in
:mod:`kubeheat.template.hot` map function names to these classes. Where Heat changed a function's
behaviour between versions there is one class per behaviour (``Join`` / ``JoinMultiple``,
``Replace`` / ``ReplaceJson`` ...). The CloudFormation functions that HOT 2013-05-23 still accepts
(``Fn::Select``, ``Ref`` ...) are the CFN classes themselves, re-exported here.

Argument shapes are checked while parsing whenever they are known then (literal values);
arguments computed by other functions are checked again when evaluated. Every problem is a
:class:`~kubeheat.template.errors.FunctionError` (or a reference / limit error) located at the
function's path; no other exception escapes evaluation.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from kubeheat.template.errors import (
    FunctionError,
    Path,
    ReferenceError_,
    TemplateError,
    TemplateLimitError,
    format_path,
)
from kubeheat.template.functions.base import (
    ABSENT,
    Dependency,
    Function,
    Macro,
    ParseContext,
    Scope,
    dependencies,
    is_static,
    resolve,
)
from kubeheat.template.functions.cfn import (
    Base64,
    CfnJoin,
    CfnReplace,
    CfnResourceFacade,
    CfnSplit,
    GetAZs,
    MemberListToMap,
    Ref,
    Select,
)
from kubeheat.template.functions.substitute import MAX_RESULT_SIZE as _MAX_SUBSTITUTED
from kubeheat.template.functions.substitute import substitute
from kubeheat.template.patterns import PatternError, PatternTimeout
from kubeheat.template.scope import walk_path

__all__ = [
    "MAX_RESULT_ITEMS",
    "MAX_RESULT_SIZE",
    "Base64",
    "CfnJoin",
    "CfnReplace",
    "CfnResourceFacade",
    "CfnSplit",
    "Contains",
    "Digest",
    "Filter",
    "GetAZs",
    "GetAtt",
    "GetAttAllAttributes",
    "GetAttThenSelect",
    "GetFile",
    "GetParam",
    "GetResource",
    "HotFunction",
    "If",
    "IfNullable",
    "Join",
    "JoinMultiple",
    "ListConcat",
    "ListConcatUnique",
    "MakeURL",
    "MapMerge",
    "MapReplace",
    "MemberListToMap",
    "Ref",
    "Repeat",
    "RepeatWithMap",
    "RepeatWithNestedLoop",
    "Replace",
    "ReplaceJson",
    "ReplaceJsonStrict",
    "ReplaceJsonVeryStrict",
    "ResourceFacade",
    "Select",
    "StrSplit",
    "Yaql",
]

#: kubeheat's guard (Heat has none): the largest string, in characters, that ``str_replace`` or
#: ``list_join`` may build, and the largest total size ``repeat`` may expand to (defined with
#: the substitution, which Fn::Replace shares).
MAX_RESULT_SIZE = _MAX_SUBSTITUTED
#: kubeheat's guard: the most items one ``repeat`` or ``str_split`` may produce.
MAX_RESULT_ITEMS = 100_000


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------

def _is_fn(value: Any) -> bool:
    return isinstance(value, Function)


#: how Heat names the sections of a resource in "The specified reference ... (in X)"
_HEAT_SECTION_NAMES = {"properties": "Properties", "metadata": "Metadata"}


def _reference_location(path: Path) -> str:
    """The ``X`` of Heat's "The specified reference ... (in X)" for a reference at ``path``:
    ``<resource>.Properties.<path inside>`` (or ``Metadata``) in a resource, ``unknown`` in an
    output (Heat 27.0.1 finds those while validating, where it knows no path)."""
    inner = path[1:-1]
    if path[:1] == ("resources",) and len(inner) >= 2:
        section = _HEAT_SECTION_NAMES.get(str(inner[1]), inner[1])
        return format_path((inner[0], section, *inner[2:]))
    if path[:1] == ("outputs",) or not inner:
        return "unknown"
    return format_path(inner)


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _plain(value: Any) -> Any:
    """A value removed by a two-argument ``if`` reads as null when used as an argument."""
    return None if value is ABSENT else value


def _arg(snippet: Any, scope: Scope) -> Any:
    return _plain(resolve(snippet, scope))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _short_json(value: Any) -> str:
    """``value`` as JSON (Heat's form in some messages), cut as :func:`_short` does."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


class HotFunction(Function):
    """Base of the HOT functions: error helpers and parse-time static evaluation."""

    def fail(self, message: str) -> FunctionError:
        """An error at this call's path whose message names the function itself."""
        return FunctionError(message, self.path)

    def bad_value(self, message: str) -> FunctionError:
        """An error in the values the call was given, which Heat only finds when it evaluates
        the call (deferrable: in an output, the output's error at create)."""
        return FunctionError(message, self.path, deferrable=True)

    def too_large(self, size: int, limit: int, what: str) -> TemplateLimitError:
        """kubeheat's guard against results that would exhaust memory."""
        return TemplateLimitError(
            f'"{self.name}" would produce {size} {what}; the limit is {limit}', self.path)

    def static(self, snippet: Any) -> tuple[bool, Any]:
        """``(True, value)`` when ``snippet`` refers to no resource and can be evaluated while
        parsing (parameters, files and literals only); ``(False, None)`` otherwise."""
        if not is_static(snippet):
            return False, None
        if not isinstance(snippet, Function | dict | list):
            return True, _plain(snippet)
        return True, _arg(snippet, self.ctx.static_scope())


# ------------------------------------------------------------------------------------------------
# Parameters, files, resources
# ------------------------------------------------------------------------------------------------

def _walk_parameter(value: Any, components: Sequence[Any]) -> Any:
    """Heat's get_param path walk: maps by key, sequences (strings too) by index; a string
    index on a sequence is int()-converted; any miss yields ''."""
    for key in components:
        if not isinstance(value, Mapping | Sequence) or not isinstance(key, str | int):
            return ""
        if not isinstance(value, Mapping) and isinstance(key, str):
            try:
                key = int(key)
            except ValueError:
                return ""
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return ""
    return value


class GetParam(HotFunction):
    """``get_param: name`` or ``get_param: [name, key_or_index, ...]``."""

    doc = ("value of a parameter, walked along an optional path: get_param: <name> | [<name>, "
           "<key or index>, ...]")

    def check_args(self) -> None:
        args = self.args
        if _is_fn(args):
            return
        name = self._split(args)[0]
        if _is_fn(name):
            return
        if name not in self.ctx.parameter_names:
            raise ReferenceError_(f"The Parameter ({name}) was not provided.", self.path,
                                  code="UserParameterMissing", deferrable=True)

    def _split(self, args: Any) -> tuple[Any, list[Any]]:
        if not args:
            raise self.fail(f'Function "{self.name}" must have arguments')
        if isinstance(args, str):
            return args, []
        if not _is_list(args):
            raise self.fail(f'Argument to "{self.name}" must be string or list')
        name = args[0]
        if not isinstance(name, str) and not _is_fn(name):
            raise self.fail(f'Parameter name in "{self.name}" must be string')
        return name, list(args[1:])

    def result(self, scope: Scope) -> Any:
        name, components = self._split(_arg(self.args, scope))
        value = scope.get_param(name, self.path)
        return _walk_parameter(value, components)


class GetFile(HotFunction):
    """``get_file: key``."""

    doc = "content of a file of the files map, verbatim: get_file: <key>"

    def check_args(self) -> None:
        if not isinstance(self.args, str) and not _is_fn(self.args):
            raise self.fail(f'Argument to "{self.name}" must be a string')

    def result(self, scope: Scope) -> Any:
        key = _arg(self.args, scope)
        if not isinstance(key, str):
            raise self.fail(f'Argument to "{self.name}" must be a string')
        return scope.get_file(key, self.path)


class _ResourceFunction(HotFunction):
    """Shared handling of the resource-name argument of get_resource / get_attr."""

    #: the resource name when it is known while parsing (a literal or a parameter)
    resource_name: str | None = None

    def parse_resource_name(self, snippet: Any) -> None:
        known, name = self.static(snippet)
        if not known:
            raise self.fail(f'The resource name given to "{self.name}" may not depend on '
                            "other resources")
        if name is None and _is_fn(snippet):
            return  # a parameter without a value (template validation): checked when evaluated
        self.resource_name = self.check_name(name)

    def check_name(self, name: Any) -> str:
        if not isinstance(name, str):
            raise self.fail(f'The resource name given to "{self.name}" must be a string, '
                            f"not {_type(name)}")
        if name not in self.ctx.active_resource_names:
            # Heat reports a resource whose condition is false exactly like an unknown one,
            # but in an output only when it evaluates it (the output's error)
            raise ReferenceError_(
                f'The specified reference "{name}" (in {_reference_location(self.path)}) '
                "is incorrect.", self.path, deferrable=name in self.ctx.resource_names)
        return name

    def runtime_name(self, snippet: Any, scope: Scope) -> str:
        if self.resource_name is not None:
            return self.resource_name
        return self.check_name(_arg(snippet, scope))


class GetResource(_ResourceFunction):
    """``get_resource: name``."""

    doc = "reference id of a resource (its name before it exists): get_resource: <resource>"

    def check_args(self) -> None:
        self.parse_resource_name(self.args)

    def dependencies(self) -> Iterator[Dependency]:
        yield from dependencies(self.args)
        if self.resource_name is not None:
            yield Dependency(self.resource_name)

    def result(self, scope: Scope) -> Any:
        return scope.resource_ref(self.runtime_name(self.args, scope), self.path)


class GetAttThenSelect(_ResourceFunction):
    """``get_attr: [resource, attribute, path...]`` of 2013-05-23: the attribute is fetched
    whole, then the path is walked here."""

    doc = ("attribute of a resource, then a path into it: get_attr: [<resource>, <attribute>, "
           "<key or index>...]")
    #: whether ``[resource]`` alone (every attribute) is accepted
    allow_all: ClassVar[bool] = False
    #: whether the path is part of what the resource is asked for (2014-10-16+)
    path_to_resource: ClassVar[bool] = False

    attribute: Any = None
    components: list[Any]
    _dependency: Dependency | None = None

    def check_args(self) -> None:
        args = self.args
        form = ("[resource_name] or [resource_name, attribute, (path), ...]" if self.allow_all
                else "[resource_name, attribute, (path), ...]")
        if not _is_list(args):
            raise self.fail(f'Argument to "{self.name}" must be a list')
        if len(args) < (1 if self.allow_all else 2):
            raise self.fail(f'Arguments to "{self.name}" must be of the form {form}')
        self.parse_resource_name(args[0])
        self.attribute = _plain(args[1]) if len(args) > 1 else None
        self.components = list(args[2:])
        if self.attribute is None and not self.allow_all:
            raise self.fail(f'Arguments to "{self.name}" must be of the form {form}')
        if not isinstance(self.attribute, str | None) and not _is_fn(self.attribute):
            raise self.fail(f'The attribute name given to "{self.name}" must be a string')
        self._dependency = self._static_dependency()

    def _static_dependency(self) -> Dependency | None:
        name = self.resource_name
        if name is None:
            return None
        if self.attribute is None:
            return Dependency(name, "*")
        try:
            known, attr = self.static(self.attribute)
            if not known or not isinstance(attr, str):
                return Dependency(name, "*")
            if not self.path_to_resource:
                return Dependency(name, attr)
            known, path = self.static(self.components)
        except TemplateError:  # reported when evaluated; depend on more rather than less
            return Dependency(name, "*")
        if known and all(isinstance(p, str | int) for p in path):
            return Dependency(name, attr, tuple(path))
        return Dependency(name, attr)

    def dependencies(self) -> Iterator[Dependency]:
        yield from dependencies(self.args)
        if self._dependency is not None:
            yield self._dependency

    def result(self, scope: Scope) -> Any:
        name = self.runtime_name(self.args[0], scope)
        attr: str | None = None
        if self.attribute is not None:
            attr = _arg(self.attribute, scope)
            if not isinstance(attr, str):
                raise self.fail(f'The attribute name given to "{self.name}" must be a string')
        path = [_arg(p, scope) for p in self.components] if attr is not None else []
        if self.path_to_resource or attr is None:
            return scope.resource_attr(name, attr, path, self.path)
        value = scope.resource_attr(name, attr, [], self.path)
        return None if value is None else walk_path(value, path)


class GetAtt(GetAttThenSelect):
    """``get_attr`` of 2014-10-16 and 2015-04-30: the path is handed to the resource."""

    doc = ("attribute of a resource, with an optional path: get_attr: [<resource>, <attribute>, "
           "<key or index>...]")
    path_to_resource = True


class GetAttAllAttributes(GetAtt):
    """``get_attr`` of 2015-10-15 and later: ``[resource]`` alone gives every attribute."""

    doc = ("attribute of a resource with an optional path, or all attributes: get_attr: "
           "[<resource>(, <attribute>, ...)]")
    allow_all = True


class ResourceFacade(HotFunction):
    """``resource_facade: metadata | deletion_policy | update_policy``."""

    doc = ("data of the parent resource of a provider template: resource_facade: metadata | "
           "deletion_policy | update_policy")
    KEYS: ClassVar[tuple[str, ...]] = ("metadata", "deletion_policy", "update_policy")

    def check_args(self) -> None:
        if not isinstance(self.args, str) or self.args not in self.KEYS:
            raise self.fail(f'Incorrect arguments to "{self.name}" should be one of: '
                            + ", ".join(self.KEYS))

    def result(self, scope: Scope) -> Any:
        return scope.facade(self.args, self.path)


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


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


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

