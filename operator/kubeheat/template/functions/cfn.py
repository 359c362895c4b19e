"""CloudFormation intrinsic functions (``AWSTemplateFormatVersion`` 2010-09-09 and
``HeatTemplateFormatVersion`` 2012-12-12), and the CFN condition functions.

HOT 2013-05-23 keeps several of these (``Ref``, ``Fn::Select``, ``Fn::Join`` ...), so the HOT
tables import the classes from here.

Behaviour follows Heat's ``heat/engine/cfn/functions.py`` (and the HOT base classes several of
them share). Where Heat only notices a problem while evaluating, kubeheat checks what it can when
parsing: argument shapes, literal delimiters, and whether a ``Ref`` / ``Fn::GetAtt`` names an
existing resource or parameter.

Deliberate differences from Heat: ``Fn::Split`` and ``Fn::Base64`` pass ``None`` (a value that
does not exist yet, such as an attribute before its resource is created) through instead of
failing; a ``Ref`` to a name that is neither a resource nor a parameter fails at parse time with the
location of the reference rather than at evaluation with the location ``unknown``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
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
    Dependency,
    Function,
    Macro,
    ParseContext,
    Scope,
    dependencies,
    is_static,
    resolve,
)
from kubeheat.template.functions.substitute import MAX_RESULT_SIZE, substitute

#: the most items one ``Fn::Split`` may produce (``MAX_RESULT_ITEMS`` of the HOT functions)
MAX_SPLIT_ITEMS = 100_000

__all__ = [
    "Base64",
    "CfnAnd",
    "CfnConditionRef",
    "CfnEquals",
    "CfnGetAtt",
    "CfnIf",
    "CfnJoin",
    "CfnNot",
    "CfnOr",
    "CfnReplace",
    "CfnResourceFacade",
    "CfnSplit",
    "FindInMap",
    "GetAZs",
    "MemberListToMap",
    "Ref",
    "Select",
]


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _reference_location(path: Path) -> str:
    """Where a reference sits, as Heat names it in "The specified reference ... (in X)":
    the resource (or output, or condition) name followed by the path inside it, without the
    top-level section and without the function's own key."""
    inner = path[1:-1]
    return format_path(inner) if inner else "unknown"


def _unknown_reference(name: str, path: Path) -> ReferenceError_:
    return ReferenceError_(
        f'The specified reference "{name}" (in {_reference_location(path)}) is incorrect.', path)


class _CfnFunction(Function):
    """Common helpers: errors that already name the function (as Heat's messages do)."""

    def fail(self, message: str) -> FunctionError:
        return FunctionError(message, self.path)

    def arg_list(self, length: int, form: str) -> list[Any]:
        """The arguments as a list of exactly ``length`` items, else a shape error."""
        if not isinstance(self.args, list) or len(self.args) != length:
            raise self.fail(f'Arguments to "{self.name}" must be of the form {form}')
        return self.args


# ------------------------------------------------------------------------------------------------
# References
# ------------------------------------------------------------------------------------------------

class Ref(_CfnFunction):
    """``{"Ref": name}``: a resource's reference id when ``name`` is a resource of the template,
    otherwise the value of the parameter (or pseudo-parameter) ``name``."""

    doc: ClassVar[str] = ("reference id of a resource, or the value of a parameter or "
                          "pseudo-parameter: Ref: <name>")

    is_resource: bool

    def check_args(self) -> None:
        name = self.args
        if not isinstance(name, str):
            raise self.fail(
                f'The argument to "{self.name}" must be a resource or parameter name')
        ctx = self.ctx
        if name in ctx.resource_names:
            if name not in ctx.active_resource_names:
                # Declared, but its condition is false: it will not exist.
                raise _unknown_reference(name, self.path)
            self.is_resource = True
            return
        if name in ctx.parameter_names or name in ctx.version.pseudo_parameters:
            self.is_resource = False
            return
        raise _unknown_reference(name, self.path)

    def dependencies(self) -> Iterator[Dependency]:
        if self.is_resource:
            yield Dependency(self.args)

    def result(self, scope: Scope) -> Any:
        if self.is_resource:
            return scope.resource_ref(self.args, self.path)
        return scope.get_param(self.args, self.path)


class CfnConditionRef(_CfnFunction):
    """``{"Ref": parameter}`` inside ``Conditions``: parameters only, never resources."""

    doc: ClassVar[str] = "value of a parameter or pseudo-parameter (no resources): Ref: <name>"

    def check_args(self) -> None:
        name = self.args
        if not isinstance(name, str):
            raise self.fail(f'The argument to "{self.name}" must be a parameter name')
        ctx = self.ctx
        if name not in ctx.parameter_names and name not in ctx.version.pseudo_parameters:
            raise _unknown_reference(name, self.path)

    def result(self, scope: Scope) -> Any:
        return scope.get_param(self.args, self.path)


class CfnGetAtt(_CfnFunction):
    """``{"Fn::GetAtt": [resource, attribute]}``: an attribute of a resource (None until the
    resource exists)."""

    doc: ClassVar[str] = "attribute of a resource: Fn::GetAtt: [<resource>, <attribute>]"

    resource: str
    attribute: Any
    _dependency: Dependency

    def check_args(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise self.fail(f'Arguments to "{self.name}" must be of the form '
                            "[resource_name, attribute]")
        resource, attribute = self.args
        if not isinstance(resource, str):
            raise self.fail(f'The resource name in "{self.name}" must be a string')
        if not isinstance(attribute, str | Function):
            raise self.fail(f'The attribute name in "{self.name}" must be a string')
        ctx = self.ctx
        if resource not in ctx.resource_names or resource not in ctx.active_resource_names:
            raise _unknown_reference(resource, self.path)
        self.resource = resource
        self.attribute = attribute
        self._dependency = Dependency(resource, self._static_attribute())

    def _static_attribute(self) -> str:
        """The attribute name when it is known while parsing (a literal, or computed from
        parameters only), else ``"*"``: it is only known once resources exist, so the
        dependency is on every attribute. Same rule as HOT's ``get_attr``."""
        if isinstance(self.attribute, str):
            return self.attribute
        if not is_static(self.attribute):
            return "*"
        try:
            value = resolve(self.attribute, self.ctx.static_scope())
        except TemplateError:  # reported when evaluated; depend on more rather than less
            return "*"
        return value if isinstance(value, str) else "*"

    def dependencies(self) -> Iterator[Dependency]:
        yield from dependencies(self.attribute)
        # Fn::GetAtt takes no attribute path, so the dependency's (attribute) path is always
        # empty, as for a HOT get_attr without one.
        yield self._dependency

    def result(self, scope: Scope) -> Any:
        attribute = resolve(self.attribute, scope)
        if not isinstance(attribute, str):
            raise self.fail(f'The attribute name in "{self.name}" must be a string, not '
                            f"{type(attribute).__name__}")
        return scope.resource_attr(self.resource, attribute, [], self.path)


class FindInMap(_CfnFunction):
    """``{"Fn::FindInMap": [map, key, value]}``: a value from the ``Mappings`` section."""

    doc: ClassVar[str] = ("value from the Mappings section: "
                          "Fn::FindInMap: [<mapping>, <top-level key>, <second-level key>]")

    mappings: Mapping[str, Any]

    def check_args(self) -> None:
        self.arg_list(3, "[mapping_name, top_level_key, second_level_key]")
        self.mappings = self.ctx.mappings
        if not any(isinstance(a, Function) for a in self.args):
            # All literal: report a bad lookup while parsing, not on first evaluation.
            self._lookup(*self.args)

    def _lookup(self, map_name: Any, key: Any, value: Any) -> Any:
        for part in (map_name, key, value):
            if not isinstance(part, str | int | float | bool):
                raise self.fail(f'The keys given to "{self.name}" must be strings, not '
                                f"{type(part).__name__}")
        mapping = self.mappings.get(map_name) if isinstance(map_name, str) else None
        if not isinstance(mapping, Mapping):
            raise self.fail(f'"{self.name}": mapping "{map_name}" is not in the Mappings '
                            "section")
        entry = mapping.get(key)
        if not isinstance(entry, Mapping):
            raise self.fail(f'"{self.name}": key "{key}" is not in mapping "{map_name}"')
        if value not in entry:
            raise self.fail(
                f'"{self.name}": key "{value}" is not in mapping "{map_name}" under "{key}"')
        return copy.deepcopy(entry[value])

    def result(self, scope: Scope) -> Any:
        map_name, key, value = (resolve(a, scope) for a in self.args)
        return self._lookup(map_name, key, value)


class GetAZs(_CfnFunction):
    """``{"Fn::GetAZs": region}``: the stack's availability zones (the region is ignored)."""

    doc: ClassVar[str] = "the stack's availability zones: Fn::GetAZs: <region> (ignored)"

    def result(self, scope: Scope) -> Any:
        return list(scope.availability_zones())


class CfnResourceFacade(_CfnFunction):
    """``{"Fn::ResourceFacade": Metadata|DeletionPolicy|UpdatePolicy}``: data of the resource
    that uses this template as its provider template."""

    doc: ClassVar[str] = ("data of the parent (facade) resource of a provider template: "
                          "Fn::ResourceFacade: Metadata | DeletionPolicy | UpdatePolicy")

    #: the CFN spellings and the facade keys the scope answers to
    KEYS: ClassVar[dict[str, str]] = {
        "Metadata": "metadata",
        "DeletionPolicy": "deletion_policy",
        "UpdatePolicy": "update_policy",
    }

    def check_args(self) -> None:
        if not isinstance(self.args, str) or self.args not in self.KEYS:
            raise self.fail(f'Incorrect arguments to "{self.name}" should be one of: '
                            + ", ".join(self.KEYS))

    def result(self, scope: Scope) -> Any:
        return scope.facade(self.KEYS[self.args], self.path)


# ------------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------------

class Select(_CfnFunction):
    """``{"Fn::Select": [index, collection]}``: an item of a list, or a value of a map ('' when
    missing). A string collection is parsed as JSON first."""

    doc: ClassVar[str] = ("item of a list or map ('' when missing): "
                          "Fn::Select: [<index or key>, <list, map or JSON string>]")

    def check_args(self) -> None:
        self.arg_list(2, "[index, collection]")

    def result(self, scope: Scope) -> Any:
        index = resolve(self.args[0], scope)
        collection = resolve(self.args[1], scope)
        if collection == "":
            # What other functions give for a value that is not available yet.
            return ""
        if isinstance(collection, str):
            try:
                collection = json.loads(collection)
            except ValueError as exc:
                raise self.fail(f'"{self.name}": {exc}') from None
        if isinstance(collection, Mapping):
            if not isinstance(index, str):
                raise self.fail(f'Index to "{self.name}" must be a string')
            return collection.get(index, "")
        if _is_list(collection):
            if not isinstance(index, int):
                try:
                    index = int(index)
                except (TypeError, ValueError):
                    raise self.fail(f'Index to "{self.name}" must be an integer') from None
            try:
                return collection[index]
            except IndexError:
                return ""
        if collection is None:
            return ""
        raise self.fail(f"Arguments to {self.name} not fully resolved")


class CfnJoin(_CfnFunction):
    """``{"Fn::Join": [delimiter, [string, ...]]}``: the strings joined (None counts as '')."""

    doc: ClassVar[str] = "strings joined with a delimiter: Fn::Join: [<delimiter>, [<str>, ...]]"

    def check_args(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise self.fail(f'Incorrect arguments to "{self.name}" should be: '
                            f'"{self.name}" : [ " ", [ "str1", "str2"]]')

    def result(self, scope: Scope) -> Any:
        strings = resolve(self.args[1], scope)
        if strings is None:
            strings = []
        if not _is_list(strings):
            raise self.fail(f'"{self.name}" must operate on a list')
        delim = resolve(self.args[0], scope)
        if not isinstance(delim, str):
            raise self.fail(f'"{self.name}" delimiter must be a string')
        items = []
        for item in strings:
            if item is None:
                item = ""
            elif not isinstance(item, str):
                raise self.fail(f"Items to join must be strings not {repr(item)[:200]}")
            items.append(item)
        return delim.join(items)


class CfnSplit(_CfnFunction):
    """``{"Fn::Split": [delimiter, string]}``: a string split on a literal delimiter."""

    doc: ClassVar[str] = ("list of the parts of a string split on a literal delimiter: "
                          "Fn::Split: [<delimiter>, <string>]")

    def check_args(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise self.fail(f'Incorrect arguments to "{self.name}" should be: '
                            f'"{self.name}" : [ ",", "str1,str2"]')
        delim = self.args[0]
        if not isinstance(delim, str):
            raise self.fail(f"Delimiter for {self.name} must be string")
        if delim == "":
            raise self.fail(f"Delimiter for {self.name} must not be empty")

    def result(self, scope: Scope) -> Any:
        value = resolve(self.args[1], scope)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(
                f"String to split must be string; got {type(value).__name__}")
        delim: str = self.args[0]
        count = value.count(delim) + 1
        if count > MAX_SPLIT_ITEMS:
            raise TemplateLimitError(
                f'"{self.name}" would produce {count} items; the limit is {MAX_SPLIT_ITEMS}',
                self.path)
        return value.split(delim)


class CfnReplace(_CfnFunction):
    """``{"Fn::Replace": [{placeholder: value, ...}, template]}``: placeholders substituted,
    longest first (equal lengths in lexical order); substituted text is not scanned again
    (in linear time, as ``str_replace``)."""

    doc: ClassVar[str] = ("string with placeholders substituted, longest first: "
                          "Fn::Replace: [{<placeholder>: <value>, ...}, <template>]")

    def check_args(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise self.fail(
                f'Incorrect arguments to "{self.name}" should be: '
                f'{{"{self.name}": [ {{"$var1": "foo", "%var2%": "bar"}}, '
                '"$var1 is %var2%"]}')
        if not isinstance(self.args[0], dict | Function):
            raise self.fail(f'"{self.name}" parameters must be a mapping')

    def result(self, scope: Scope) -> Any:
        template = resolve(self.args[1], scope)
        mapping = resolve(self.args[0], scope)
        if not isinstance(template, str):
            raise self.fail(f'"{self.name}" template must be a string')
        if not isinstance(mapping, Mapping):
            raise self.fail(f'"{self.name}" params must be a map')
        for key in mapping:
            if not isinstance(key, str):
                raise self.fail(f'"{self.name}" param placeholders must be strings')
            if not key:
                raise self.fail(f'"{self.name}" param placeholders must not be empty')
        values = {key: self._replacement(key, value) for key, value in mapping.items()}
        keys = sorted(sorted(values), key=len, reverse=True)
        return substitute(template, keys, values, MAX_RESULT_SIZE, self._too_large)[0]

    def _too_large(self, size: int) -> TemplateLimitError:
        return TemplateLimitError(f'"{self.name}" would produce {size} characters; the limit is '
                                  f"{MAX_RESULT_SIZE}", self.path)

    def _replacement(self, key: str, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str | int | float | bool):
            raise self.fail(f'"{self.name}" params must be strings or numbers, param {key} '
                            "is not valid")
        return str(value)


class Base64(_CfnFunction):
    """``{"Fn::Base64": string}``: the string unchanged (Heat accepts user data as plain text
    and performs no encoding)."""

    doc: ClassVar[str] = "the string unchanged (no encoding is done, as in Heat): Fn::Base64: <str>"

    def result(self, scope: Scope) -> Any:
        value = resolve(self.args, scope)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(f'"{self.name}" argument must be a string')
        return value


_MEMBER = re.compile(r"\.member\.([0-9]+)\.(.*)")


class MemberListToMap(_CfnFunction):
    """``{"Fn::MemberListToMap": [key_name, value_name, ['.member.0.<key_name>=k',
    '.member.0.<value_name>=v', ...]]}``: an AWS query-style member list as a map."""

    doc: ClassVar[str] = ("map from an AWS-style member list: Fn::MemberListToMap: [<key name>, "
                          "<value name>, ['.member.0.<key name>=k', '.member.0.<value name>=v']]")

    def check_args(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 3:
            raise self.fail(
                f'Arguments to "{self.name}" must be of the form [key_name, value_name, '
                "['.member.0.key_name=key', '.member.0.value_name=value', ...]]")
        if not isinstance(self.args[0], str):
            raise self.fail(f"{self.name} Key Name must be a string")
        if not isinstance(self.args[1], str):
            raise self.fail(f"{self.name} Value Name must be a string")

    def result(self, scope: Scope) -> Any:
        key_name: str = self.args[0]
        value_name: str = self.args[1]
        members = resolve(self.args[2], scope)
        if not _is_list(members):
            raise self.fail("Member list must be a list")
        partials: dict[str, str] = {}
        for item in members:
            if not isinstance(item, str):
                raise self.fail("Member list items must be strings")
            name, sep, value = item.partition("=")
            if not sep:
                raise self.fail(f'Member list item "{item}" must be of the form name=value')
            partials[name] = value
        # Group the fields by member index (numerically), then pair key and value fields.
        groups: dict[int, dict[str, str]] = {}
        for name, value in partials.items():
            match = _MEMBER.match(name)
            if match:
                groups.setdefault(int(match.group(1)), {})[match.group(2)] = value
        result: dict[str, str] = {}
        for index in sorted(groups):
            fields = groups[index]
            if key_name in fields and value_name in fields:
                result[fields[key_name]] = fields[value_name]
        return result


# ------------------------------------------------------------------------------------------------
# Conditions
# ------------------------------------------------------------------------------------------------

class CfnIf(Macro):
    """``{"Fn::If": [condition, value_if_true, value_if_false]}``: expanded while parsing, so
    only the chosen value is parsed (and can refer to resources)."""

    doc: ClassVar[str] = ("one of two values by a condition: "
                          "Fn::If: [<condition name>, <value if true>, <value if false>]")

    @classmethod
    def expand(cls, ctx: ParseContext, name: str, args: Any, path: Path,
               parse: Callable[[Any, Path], Any]) -> Any:
        if not isinstance(args, list) or len(args) != 3:
            raise FunctionError(
                f'Arguments to "{name}" must be of the form: '
                "[condition_name, value_if_true, value_if_false]", path)
        chosen = 1 if ctx.condition_value(args[0], (*path, 0)) else 2
        return parse(args[chosen], (*path, chosen))


def _check_condition_args(args: list[Any], path: Path) -> None:
    """Reject, while parsing, a literal that cannot stand for a condition (a function is only
    known once evaluated)."""
    for i, arg in enumerate(args):
        if not isinstance(arg, str | bool | Function):
            raise FunctionError(f'Invalid condition "{arg}"', (*path, i))


def _condition_result(value: Any, path: Path, scope: Scope) -> bool:
    """An evaluated condition argument: a boolean, or the name of a condition."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return scope.condition(value, path)
    raise FunctionError(f'Invalid condition "{value}"', path)


class CfnEquals(_CfnFunction):
    """``{"Fn::Equals": [value_1, value_2]}``: whether two values are equal."""

    doc: ClassVar[str] = "whether two values are equal: Fn::Equals: [<value 1>, <value 2>]"

    def check_args(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise self.fail(
                f'Arguments to "{self.name}" must be of the form: [value_1, value_2]')

    def result(self, scope: Scope) -> Any:
        return resolve(self.args[0], scope) == resolve(self.args[1], scope)


class CfnNot(_CfnFunction):
    """``{"Fn::Not": [condition]}``: the negation of one condition (a list of one)."""

    doc: ClassVar[str] = "negation of a condition: Fn::Not: [<condition>]"

    def check_args(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 1:
            raise self.fail(f'Arguments to "{self.name}" must be of the form: [condition]')
        _check_condition_args(self.args, self.path)

    def result(self, scope: Scope) -> Any:
        value = resolve(self.args[0], scope)
        return not _condition_result(value, (*self.path, 0), scope)


class _CfnBoolean(_CfnFunction):
    """Fn::And / Fn::Or: a list of at least two conditions."""

    def check_args(self) -> None:
        if not isinstance(self.args, list):
            raise self.fail(f'Arguments to "{self.name}" must be a list of conditions')
        if len(self.args) < 2:
            raise self.fail(f'The minimum number of condition arguments to "{self.name}" is 2.')
        _check_condition_args(self.args, self.path)

    def conditions(self, scope: Scope) -> Iterator[bool]:
        # Every argument is evaluated (as Heat does); named conditions are looked up lazily.
        values = [resolve(arg, scope) for arg in self.args]
        for i, value in enumerate(values):
            yield _condition_result(value, (*self.path, i), scope)


class CfnAnd(_CfnBoolean):
    """``{"Fn::And": [condition, condition, ...]}``: true when every condition is true."""

    doc: ClassVar[str] = "true when all conditions are: Fn::And: [<condition>, <condition>, ...]"

    def result(self, scope: Scope) -> Any:
        return all(self.conditions(scope))


class CfnOr(_CfnBoolean):
    """``{"Fn::Or": [condition, condition, ...]}``: true when any condition is true."""

    doc: ClassVar[str] = "true when any condition is: Fn::Or: [<condition>, <condition>, ...]"

    def result(self, scope: Scope) -> Any:
        return any(self.conditions(scope))
