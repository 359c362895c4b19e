"""The HOT intrinsic functions (``heat_template_version`` templates).

Each class implements one function as some HOT versions define it; the version tables in
:mod:`kubeheat.template.hot` map function names to these classes. Where Heat changed a function's
behaviour between versions there is one class per behaviour (``Join`` / ``JoinMultiple``,
``Replace`` / ``ReplaceJson`` ...). The CloudFormation functions that HOT 2013-05-23 still accepts
(``Fn::Select``, ``Ref`` ...) are the CFN classes themselves, re-exported here.

This module holds the functions of parameters, files and resources (``get_param``,
``get_file``, ``get_resource``, ``get_attr``, ``resource_facade``) and is the public face of the
others: :mod:`.hot_strings`, :mod:`.hot_collections` and :mod:`.hot_other`, over the shared
:mod:`.hot_base`.

Argument shapes are checked while parsing whenever they are known then (literal values);
arguments computed by other functions are checked again when evaluated. Every problem is a
:class:`~kubeheat.template.errors.FunctionError` (or a reference / limit error) located at the
function's path; no other exception escapes evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from kubeheat.template.errors import (
    ReferenceError_,
    TemplateError,
)
from kubeheat.template.functions.base import (
    Dependency,
    Scope,
    dependencies,
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
from kubeheat.template.functions.hot_base import (
    MAX_RESULT_ITEMS,
    MAX_RESULT_SIZE,
    HotFunction,
    _arg,
    _is_fn,
    _is_list,
    _plain,
    _reference_location,
    _type,
)
from kubeheat.template.functions.hot_collections import (
    Contains,
    Filter,
    ListConcat,
    ListConcatUnique,
    MapMerge,
    MapReplace,
    Repeat,
    RepeatWithMap,
    RepeatWithNestedLoop,
)
from kubeheat.template.functions.hot_other import If, IfNullable, MakeURL, Yaql
from kubeheat.template.functions.hot_strings import (
    Digest,
    Join,
    JoinMultiple,
    Replace,
    ReplaceJson,
    ReplaceJsonStrict,
    ReplaceJsonVeryStrict,
    StrSplit,
)
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


