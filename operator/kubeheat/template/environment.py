"""Heat environments: parsing, the resource registry, and merging several environments.

An environment is a mapping with up to six sections (``parameters``, ``parameter_defaults``,
``resource_registry``, ``event_sinks``, ``parameter_merge_strategies`` and
``encrypted_param_names``). :func:`parse_environment` checks one document and returns an
:class:`Environment`; :func:`merge_environments` combines several in order the way Heat merges the
environment files of a stack; :class:`ResourceRegistry` answers which implementation, provider
template, hooks and restricted actions apply to a resource.

The registry follows Heat's lookup rules: entries of a higher layer (the user's environment) are
tried before those of a lower one (a global environment), per-resource entries before top-level
ones, exact names before wildcards and longer wildcard prefixes before shorter ones; aliases are
followed until a type no entry maps, or a provider template. Everything here is pure: provider
template *names* are recorded, their contents come later through the stack's files map.
"""

from __future__ import annotations

import copy
import enum
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from kubeheat.template.errors import EnvironmentFormatError, Path, TemplateError
from kubeheat.template.limits import DEFAULT_LIMITS, Limits
from kubeheat.template.loader import check_structure, json_key, load_mapping

SECTIONS = (
    PARAMETERS, RESOURCE_REGISTRY, PARAMETER_DEFAULTS,
    ENCRYPTED_PARAM_NAMES, EVENT_SINKS, PARAMETER_MERGE_STRATEGIES,
) = (
    "parameters", "resource_registry", "parameter_defaults",
    "encrypted_param_names", "event_sinks", "parameter_merge_strategies",
)

HOOK_TYPES = ("pre-create", "pre-update", "pre-delete", "post-create", "post-update",
              "post-delete")
RESTRICTED_ACTIONS = ("update", "replace")
MERGE_STRATEGIES = (OVERWRITE, MERGE, DEEP_MERGE) = ("overwrite", "merge", "deep_merge")
EVENT_SINK_TYPES = ("zaqar-queue",)

TEMPLATE_SUFFIXES = (".yaml", ".template")
"""A registry value (or resource type) ending like this names a provider template, as in Heat."""

_TEMPLATE_URL = re.compile(r"^(?:file|https?)://", re.IGNORECASE)
_RESOURCES = "resources"
_HOOKS = "hooks"
_RESTRICTED = "restricted_actions"
_BASE_URL = "base_url"
_MAX_CHAIN = 64
"""How many registry entries one lookup may follow before it is declared runaway."""


def is_template_reference(name: str) -> bool:
    """Whether ``name`` names a provider template rather than a resource type: the one rule
    of the whole code base (definitions, the engine's choice of plugin, the CLI's file
    collection).

    Heat's rule is a name ending in ``.yaml`` or ``.template``; kubeheat also treats ``file://``
    and ``http(s)://`` URLs with any ending as template references, so they are refused clearly
    (nothing is ever fetched) instead of being reported as unknown resource types.
    """
    return name.endswith(TEMPLATE_SUFFIXES) or bool(_TEMPLATE_URL.match(name))


def _label(name: str) -> str:
    return "environment" if name == "environment" else f"environment {name}"


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


# --------------------------------------------------------------------------------------------
# Registry entries and matches
# --------------------------------------------------------------------------------------------


class EntryKind(enum.Enum):
    """What a registry entry does with the type it matches."""

    ALIAS = "alias"
    """``"OS::X": "OS::Y"``: look ``OS::Y`` up instead."""
    GLOB = "glob"
    """``"OS::Net*": "OS::Neutron*"``: replace the prefix (or map every match to one type)."""
    TEMPLATE = "template"
    """``"My::T": nested.yaml``: the resource is a nested stack built from that template."""


@dataclass(frozen=True)
class RegistryEntry:
    """One mapping of the registry.

    ``path`` is where it sits inside ``resource_registry`` (``("OS::X",)`` at the top level,
    ``("resources", "web", "OS::X")`` for a per-resource override); ``value`` is the target type,
    the wildcard replacement or the template file name, as written.
    """

    path: tuple[str, ...]
    value: str
    kind: EntryKind

    @property
    def key(self) -> str:
        """The type name (or wildcard) the entry is registered under."""
        return self.path[-1]

    @property
    def location(self) -> Path:
        """The entry's path in the environment, for error messages."""
        return (RESOURCE_REGISTRY, *self.path)

    @property
    def prefix(self) -> str:
        """For a wildcard entry, the part before the ``*``."""
        return self.key[:-1] if self.kind is EntryKind.GLOB else self.key

    def matches(self, type_name: str) -> bool:
        """Whether this top-level entry applies to ``type_name``."""
        if self.kind is EntryKind.GLOB:
            # As in Heat, a many-to-one wildcard never matches its own target.
            return type_name != self.value and type_name.startswith(self.prefix)
        return type_name == self.key

    def target_for(self, type_name: str) -> str:
        """The type (or template) that ``type_name`` becomes through this entry."""
        if self.kind is EntryKind.GLOB and self.value.endswith("*"):
            return self.value[:-1] + type_name[len(self.prefix):]
        return self.value


@dataclass(frozen=True)
class RegistryMatch:
    """The outcome of :meth:`ResourceRegistry.resolve`.

    ``target`` is the final resource type, or the provider template's file name when
    ``is_template``; ``entries`` are the registry entries followed, in order (empty when no entry
    applied and ``target`` is the requested type itself).
    """

    requested: str
    target: str
    is_template: bool
    entries: tuple[RegistryEntry, ...] = ()

    @property
    def type_name(self) -> str:
        """Alias of :attr:`target`."""
        return self.target

    @property
    def template(self) -> str | None:
        """The provider template's file name, or ``None`` for a plain resource type."""
        return self.target if self.is_template else None

    @property
    def entry(self) -> RegistryEntry | None:
        """The first entry that matched the requested type, if any."""
        return self.entries[0] if self.entries else None

    @property
    def template_entry(self) -> RegistryEntry | None:
        """The entry that named the provider template (to drop it in the nested stack)."""
        if self.is_template and self.entries and self.entries[-1].kind is EntryKind.TEMPLATE:
            return self.entries[-1]
        return None


# --------------------------------------------------------------------------------------------
# Registry tree and loading
# --------------------------------------------------------------------------------------------


@dataclass
class _Node:
    """One level of the registry: the top level, or the overrides of one resource (pattern).

    ``types`` are type mappings; ``children`` the ``resources`` section at the top level, or the
    overrides of resources in the nested stack below a per-resource node.
    """

    types: dict[str, RegistryEntry] = field(default_factory=dict)
    children: dict[str, _Node] = field(default_factory=dict)
    hooks: tuple[str, ...] | None = None
    restricted_actions: tuple[str, ...] | None = None

    def copy(self) -> _Node:
        return _Node(dict(self.types), {k: v.copy() for k, v in self.children.items()},
                     self.hooks, self.restricted_actions)

    def entries(self) -> Iterator[RegistryEntry]:
        yield from self.types.values()
        for child in self.children.values():
            yield from child.entries()

    def override_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: e.value for k, e in self.types.items()}
        if self.hooks is not None:
            out[_HOOKS] = list(self.hooks)
        if self.restricted_actions is not None:
            out[_RESTRICTED] = list(self.restricted_actions)
        for name, child in self.children.items():
            out[name] = child.override_dict()
        return out

    def root_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: e.value for k, e in self.types.items()}
        if self.children:
            out[_RESOURCES] = {k: v.override_dict() for k, v in self.children.items()}
        return out


def _fail(message: str, where: Path, code: str | None = None) -> EnvironmentFormatError:
    return EnvironmentFormatError(message, where, code=code)


def _make_entry(key: str, value: Any, where: Path, *, top_level: bool) -> RegistryEntry:
    """Classify one ``key: value`` type mapping the way Heat's ResourceInfo does."""
    if not key:
        raise _fail("a resource type name must not be empty", where)
    if not isinstance(value, str) or not value:
        raise _fail("must be a resource type, a provider template file name or null, "
                    f"not {_type_name(value) if value != '' else 'an empty string'}", where)
    path = tuple(str(p) for p in where[1:])
    if key.endswith(TEMPLATE_SUFFIXES):
        # Heat: a key naming a template is that template, whatever the value says.
        return RegistryEntry(path, key, EntryKind.TEMPLATE)
    if is_template_reference(value):
        if key.endswith("*"):
            raise _fail(f'a wildcard entry cannot map to a provider template ("{value}"); '
                        "register each type separately", where)
        return RegistryEntry(path, value, EntryKind.TEMPLATE)
    if key.endswith("*"):
        if not top_level:
            raise _fail("wildcard type mappings are only honoured at the top level of "
                        "resource_registry, not inside resources", where)
        return RegistryEntry(path, value, EntryKind.GLOB)
    return RegistryEntry(path, value, EntryKind.ALIAS)


def _remove_types(types: dict[str, RegistryEntry], key: str) -> None:
    """``key: null`` unregisters ``key``; ``prefix*: null`` every type starting with prefix."""
    if key.endswith("*"):
        for name in [n for n in types if n.startswith(key[:-1])]:
            del types[name]
    else:
        types.pop(key, None)


def _action_list(value: Any, allowed: tuple[str, ...], what: str, where: Path,
                 code: str) -> tuple[str, ...]:
    """Validate ``hooks`` / ``restricted_actions``: one name or a list of names."""
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list) and all(isinstance(i, str) and i in allowed for i in items):
        return tuple(dict.fromkeys(items))
    shown = value if isinstance(value, str | list) else _type_name(value)
    raise _fail(f'Invalid {what} type "{shown}"; acceptable {what} types are: '
                f"{', '.join(allowed)}", where, code)


def _check_key(key: Any, where: Path) -> str:
    if not isinstance(key, str):
        raise _fail(f"key {key!r} is not a string", where)
    return key


def _reject_base_url(where: Path) -> None:
    raise _fail('"base_url" is a python-heatclient option that kubeheat does not support: '
                "provider templates are always resolved relative to the environment file",
                where)


def _apply_root(root: _Node, data: Mapping[str, Any], where: Path) -> None:
    """Apply one ``resource_registry`` mapping onto ``root``, in document order."""
    for raw_key, value in data.items():
        key = _check_key(raw_key, where)
        here = (*where, key)
        if key == _RESOURCES:
            _apply_resources(root, value, here)
        elif key == _BASE_URL:
            _reject_base_url(here)
        elif key in (_HOOKS, _RESTRICTED):
            raise _fail(f'"{key}" is only allowed inside resource_registry.resources.<name>',
                        here)
        elif value is None:
            _remove_types(root.types, key)
        elif isinstance(value, Mapping):
            raise _fail("must be a resource type, a provider template file name or null, "
                        "not a mapping (per-resource overrides go under resources)", here)
        else:
            root.types[key] = _make_entry(key, value, here, top_level=True)


def _apply_resources(root: _Node, value: Any, where: Path) -> None:
    if value is None:
        root.children.clear()
        return
    if not isinstance(value, Mapping):
        raise _fail(f"must be a mapping of resource names to overrides, not "
                    f"{_type_name(value)}", where)
    for raw_name, spec in value.items():
        name = _check_key(raw_name, where)
        _apply_override_node(root.children, name, spec, (*where, name))


def _apply_override_node(children: dict[str, _Node], name: str, spec: Any,
                         where: Path) -> None:
    if spec is None:
        children.pop(name, None)
        return
    if not isinstance(spec, Mapping):
        raise _fail(f"the overrides of resource {name} must be a mapping, not "
                    f"{_type_name(spec)}", where)
    node = children.setdefault(name, _Node())
    for raw_key, value in spec.items():
        key = _check_key(raw_key, where)
        _apply_override(node, key, value, (*where, key))


def _apply_override(node: _Node, key: str, value: Any, where: Path) -> None:
    """One key inside ``resources.<name>``: hooks, restricted actions, a type or a child."""
    if key == _HOOKS:
        node.hooks = None if value is None else _action_list(
            value, HOOK_TYPES, "hook", where, "InvalidBreakPointHook")
    elif key == _RESTRICTED:
        node.restricted_actions = None if value is None else _action_list(
            value, RESTRICTED_ACTIONS, "restricted_action", where, "InvalidRestrictedAction")
    elif key == _BASE_URL:
        _reject_base_url(where)
    elif value is None:
        node.children.pop(key, None)
        _remove_types(node.types, key)
    elif isinstance(value, Mapping):
        node.types.pop(key, None)
        _apply_override_node(node.children, key, value, where)
    else:
        node.children.pop(key, None)
        node.types[key] = _make_entry(key, value, where, top_level=False)


def _descend(children: Mapping[str, _Node], name: str) -> dict[str, _Node]:
    """The ``resources`` view inside the nested stack of resource ``name``.

    As Heat builds a child environment: the nested overrides of every pattern matching ``name``
    (in order), then those of the exact name, later ones replacing earlier ones.
    """
    view: dict[str, _Node] = {}
    for pattern, node in children.items():
        if fnmatchcase(name, pattern):
            view.update(node.children)
    exact = children.get(name)
    if exact is not None:
        view.update(exact.children)
    return {k: v.copy() for k, v in view.items()}


@dataclass
class _Layer:
    root: _Node
    snippets: tuple[Mapping[str, Any], ...]


def _build_layer(snippets: Sequence[Mapping[str, Any]]) -> _Layer:
    root = _Node()
    for snippet in snippets:
        _apply_root(root, snippet, (RESOURCE_REGISTRY,))
    return _Layer(root, tuple(snippets))


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------


class ResourceRegistry:
    """Resource type mappings, provider templates and per-resource overrides.

    Built from a ``resource_registry`` mapping (validated; errors carry paths such as
    ``resource_registry.resources.web.hooks``). Registries are immutable: :meth:`merged`,
    :meth:`layer` and :meth:`nested` return new ones.
    """

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        if data is not None and not isinstance(data, Mapping):
            raise _fail(f"must be a mapping, not {_type_name(data)}", (RESOURCE_REGISTRY,))
        snippets = (copy.deepcopy(dict(data)),) if data else ()
        self._layers: tuple[_Layer, ...] = (_build_layer(snippets),)

    @classmethod
    def _from_layers(cls, layers: Sequence[_Layer]) -> ResourceRegistry:
        registry = cls()
        registry._layers = tuple(layers)
        return registry

    # -- combining ------------------------------------------------------------------------
    def merged(self, later: ResourceRegistry) -> ResourceRegistry:
        """Apply ``later``'s entries after this registry's, as when a later environment file
        is loaded: its entries override, its nulls unregister, per-resource maps combine.

        Only the top (user) layers are combined; this registry's lower layers are kept.
        """
        snippets = self._layers[0].snippets + later._layers[0].snippets
        return self._from_layers((_build_layer(snippets), *self._layers[1:]))

    def layer(self, user: ResourceRegistry) -> ResourceRegistry:
        """A registry in which ``user``'s entries come before this (global) registry's."""
        return self._from_layers((*user._layers, *self._layers))

    def nested(self, resource_name: str, *,
               remove: RegistryEntry | None = None) -> ResourceRegistry:
        """The registry of the nested stack behind resource ``resource_name``.

        Top-level entries carry over; the per-resource overrides become those given for the
        resources inside that nested stack. ``remove`` (the template entry that created the
        nested stack, :attr:`RegistryMatch.template_entry`) is dropped so a provider template
        for ``OS::X`` can itself use the real ``OS::X``, as Heat does.
        """
        layers = []
        for layer in self._layers:
            root = _Node(dict(layer.root.types), _descend(layer.root.children, resource_name))
            if (remove is not None and remove.kind is EntryKind.TEMPLATE
                    and len(remove.path) == 1 and root.types.get(remove.key) == remove):
                del root.types[remove.key]
            layers.append(_Layer(root, (root.root_dict(),)))
        return self._from_layers(layers)

    # -- lookups ---------------------------------------------------------------------------
    def resolve(self, type_name: str, resource_name: str | None = None,
                nested_path: Sequence[str] = (), *,
                is_known: Callable[[str], bool] | None = None) -> RegistryMatch:
        """Map ``type_name`` (of resource ``resource_name`` in the nested stack reached through
        the resources ``nested_path``) to its implementation.

        Aliases and wildcards are followed until a type no entry maps, or a provider template.
        Without ``is_known`` the first matching entry always wins. With it, a chain ending in a
        type ``is_known`` rejects is abandoned and the next candidate tried, as Heat skips
        mappings to unregistered types; if nothing is left, the lookup fails.
        A mapping loop, or a chain longer than 64 entries, is an error.
        """
        if not isinstance(type_name, str) or not type_name:
            raise TemplateError(f"Resource type must be a non-empty string, not "
                                f"{_type_name(type_name)!s}")
        views = [(layer.root, self._resources_view(layer.root, nested_path))
                 for layer in self._layers]
        resolver = _Resolver(views, resource_name, is_known)
        match = resolver.follow(type_name, type_name, (), (type_name,))
        if match is None:
            raise TemplateError(f"The Resource Type ({type_name}) could not be found.")
        return match

    def hooks_for(self, resource_name: str, nested_path: Sequence[str] = ()) -> frozenset[str]:
        """Every hook set on ``resource_name`` (exact or wildcard patterns, all layers)."""
        found: set[str] = set()
        for node in self._overrides_for(resource_name, nested_path):
            found.update(node.hooks or ())
        return frozenset(found)

    def has_hook(self, resource_name: str, hook: str, nested_path: Sequence[str] = ()) -> bool:
        """Whether ``hook`` is set on ``resource_name``."""
        return hook in self.hooks_for(resource_name, nested_path)

    def restricted_actions_for(self, resource_name: str,
                               nested_path: Sequence[str] = ()) -> frozenset[str]:
        """Every restricted action (``update``, ``replace``) set on ``resource_name``."""
        found: set[str] = set()
        for node in self._overrides_for(resource_name, nested_path):
            found.update(node.restricted_actions or ())
        return frozenset(found)

    def entries(self) -> Iterator[RegistryEntry]:
        """Every type mapping, top layer first, per-resource ones included."""
        for layer in self._layers:
            yield from layer.root.entries()

    def provider_templates(self) -> set[str]:
        """The file names of every provider template the registry refers to."""
        return {e.value for e in self.entries() if e.kind is EntryKind.TEMPLATE}

    def as_dict(self) -> dict[str, Any]:
        """The top layer as a ``resource_registry`` mapping (unregistered entries dropped)."""
        return self._layers[0].root.root_dict()

    # -- internals -------------------------------------------------------------------------
    @staticmethod
    def _resources_view(root: _Node, nested_path: Sequence[str]) -> Mapping[str, _Node]:
        view: Mapping[str, _Node] = root.children
        for name in nested_path:
            view = _descend(view, name)
        return view

    def _overrides_for(self, resource_name: str,
                       nested_path: Sequence[str]) -> Iterator[_Node]:
        for layer in self._layers:
            for pattern, node in self._resources_view(layer.root, nested_path).items():
                if fnmatchcase(resource_name, pattern):
                    yield node

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResourceRegistry):
            return NotImplemented
        return [layer.root for layer in self._layers] == [layer.root for layer in other._layers]

    def __repr__(self) -> str:
        return f"ResourceRegistry({self.as_dict()!r})"


class _Resolver:
    """One lookup: candidate ordering, alias following, loop and fallback handling."""

    def __init__(self, views: Sequence[tuple[_Node, Mapping[str, _Node]]],
                 resource_name: str | None, is_known: Callable[[str], bool] | None) -> None:
        self._views = views
        self._resource_name = resource_name
        self._is_known = is_known
        self._failed: set[str] = set()

    def candidates(self, type_name: str) -> list[RegistryEntry]:
        """Entries matching ``type_name``, best first: higher layer, per-resource before
        top-level, exact before wildcard, longer wildcard prefix first."""
        ranked: list[tuple[tuple[int, int, int, int, str], RegistryEntry]] = []
        for rank, (root, resources) in enumerate(self._views):
            if self._resource_name is not None:
                node = resources.get(self._resource_name)
                if node is not None and type_name in node.types:
                    ranked.append(((rank, 0, 0, 0, ""), node.types[type_name]))
            for entry in root.types.values():
                if entry.matches(type_name):
                    glob = entry.kind is EntryKind.GLOB
                    ranked.append(((rank, 1, int(glob), -len(entry.prefix), entry.key), entry))
        ranked.sort(key=lambda item: item[0])
        return [entry for _, entry in ranked]

    def follow(self, requested: str, current: str, chain: tuple[RegistryEntry, ...],
               seen: tuple[str, ...]) -> RegistryMatch | None:
        if is_template_reference(current):
            return RegistryMatch(requested, current, True, chain)
        if current in self._failed:
            return None
        for entry in self.candidates(current):
            target = entry.target_for(current)
            if entry.kind is EntryKind.TEMPLATE:
                return RegistryMatch(requested, target, True, (*chain, entry))
            self._check_loop(entry, target, chain, seen)
            found = self.follow(requested, target, (*chain, entry), (*seen, target))
            if found is not None:
                return found
        if self._is_known is None or self._is_known(current):
            return RegistryMatch(requested, current, False, chain)
        self._failed.add(current)
        return None

    @staticmethod
    def _check_loop(entry: RegistryEntry, target: str, chain: tuple[RegistryEntry, ...],
                    seen: tuple[str, ...]) -> None:
        if target in seen:
            cycle = " -> ".join((*seen[seen.index(target):], target))
            raise _fail(f"resource type mapping loop: {cycle}", entry.location,
                        "ResourceTypeLoop")
        if len(chain) >= _MAX_CHAIN:
            raise _fail(f'resource type mapping of "{seen[0]}" does not terminate after '
                        f"{_MAX_CHAIN} steps ({seen[-1]} -> {target})", entry.location,
                        "ResourceTypeLoop")


# --------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSink:
    """An ``event_sinks`` item: stack events are posted to a Zaqar queue."""

    target: str
    ttl: int | None = None
    type: str = "zaqar-queue"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "target": self.target}
        if self.ttl is not None:
            out["ttl"] = self.ttl
        return out


@dataclass
class Environment:
    """A parsed environment (or several merged). ``name`` is only used in messages."""

    parameters: dict[str, Any] = field(default_factory=dict)
    parameter_defaults: dict[str, Any] = field(default_factory=dict)
    resource_registry: ResourceRegistry = field(default_factory=ResourceRegistry)
    event_sinks: list[EventSink] = field(default_factory=list)
    parameter_merge_strategies: dict[str, str] = field(default_factory=dict)
    encrypted_param_names: list[str] = field(default_factory=list)
    name: str = field(default="environment", compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The environment as a document :func:`parse_environment` reads back unchanged."""
        return {
            PARAMETERS: copy.deepcopy(self.parameters),
            PARAMETER_DEFAULTS: copy.deepcopy(self.parameter_defaults),
            RESOURCE_REGISTRY: self.resource_registry.as_dict(),
            EVENT_SINKS: [sink.as_dict() for sink in self.event_sinks],
            PARAMETER_MERGE_STRATEGIES: dict(self.parameter_merge_strategies),
            ENCRYPTED_PARAM_NAMES: list(self.encrypted_param_names),
        }


def _load_source(source: str | bytes | Mapping[str, Any], name: str,
                 limits: Limits) -> dict[str, Any]:
    label = _label(name)
    if isinstance(source, str | bytes):
        return load_mapping(source, limits=limits, what=label[0].upper() + label[1:])
    if not isinstance(source, Mapping):
        raise _fail(f"{label} must be a mapping, not {_type_name(source)}", ())
    check_structure(source, limits, label)
    return copy.deepcopy(dict(source))


def _check_sections(data: Mapping[str, Any], label: str) -> None:
    for section, value in data.items():
        if section not in SECTIONS:
            raise _fail(f'{label} has wrong section "{section}"', (str(section),))
        if value is None:
            raise _fail(f'{label} has empty section "{section}"', (section,))


def _parameters_section(data: Mapping[str, Any], section: str) -> dict[str, Any]:
    value = data.get(section, {})
    if not isinstance(value, Mapping):
        raise _fail(f"must be a mapping of parameter names to values, not "
                    f"{_type_name(value)}", (section,))
    for key in value:
        if not isinstance(key, str):
            raise _fail(f"parameter name {key!r} is not a string", (section, str(key)))
    return dict(value)


def _defaults_section(data: Mapping[str, Any]) -> dict[str, Any]:
    """``parameter_defaults``: Heat 27.0.1 accepts a key YAML read as a number, boolean or null
    (``1: x``) and ignores it like any default for a parameter the template lacks; it is kept
    under its JSON name (``"1"``), as Heat gives it back."""
    value = data.get(PARAMETER_DEFAULTS, {})
    if isinstance(value, Mapping) and not all(isinstance(k, str) for k in value):
        value = {json_key(k): v for k, v in value.items()}
        return _parameters_section({PARAMETER_DEFAULTS: value}, PARAMETER_DEFAULTS)
    return _parameters_section(data, PARAMETER_DEFAULTS)


def _strategies_section(data: Mapping[str, Any]) -> dict[str, str]:
    value = _parameters_section(data, PARAMETER_MERGE_STRATEGIES)
    for key, strategy in value.items():
        if strategy not in MERGE_STRATEGIES:
            raise _fail(f'Invalid merge strategy "{strategy}"; acceptable merge strategies '
                        f"are: {', '.join(MERGE_STRATEGIES)}",
                        (PARAMETER_MERGE_STRATEGIES, key), "InvalidMergeStrategy")
    return value


def _string_list_section(data: Mapping[str, Any], section: str) -> list[str]:
    value = data.get(section, [])
    if not isinstance(value, list):
        raise _fail(f"must be a list of strings, not {_type_name(value)}", (section,))
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _fail(f"must be a string, not {_type_name(item)}", (section, i))
    return list(value)


def _event_sink(item: Any, where: Path) -> EventSink:
    if not isinstance(item, Mapping):
        raise _fail(f"an event sink must be a mapping, not {_type_name(item)}", where)
    for key in item:
        if key not in ("type", "target", "ttl"):
            raise _fail(f'unknown event sink key "{key}"; allowed: type, target, ttl',
                        (*where, str(key)))
    if item.get("type") not in EVENT_SINK_TYPES:
        raise _fail(f'unsupported event sink type "{item.get("type")}"; the only sink type '
                    "is zaqar-queue", (*where, "type"))
    target = item.get("target")
    if not isinstance(target, str) or not target:
        raise _fail("the Zaqar queue name (target) must be a non-empty string",
                    (*where, "target"))
    ttl = item.get("ttl")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0):
        raise _fail(f"ttl must be a non-negative integer (seconds), not {ttl!r}",
                    (*where, "ttl"))
    return EventSink(target=target, ttl=ttl)


def _event_sinks_section(data: Mapping[str, Any]) -> list[EventSink]:
    value = data.get(EVENT_SINKS, [])
    if not isinstance(value, list):
        raise _fail(f"must be a list of event sinks, not {_type_name(value)}", (EVENT_SINKS,))
    return [_event_sink(item, (EVENT_SINKS, i)) for i, item in enumerate(value)]


def parse_environment(source: str | bytes | Mapping[str, Any], *, name: str = "environment",
                      limits: Limits = DEFAULT_LIMITS) -> Environment:
    """Parse and check one environment document (YAML/JSON text, or an already loaded mapping).

    Raises :class:`EnvironmentFormatError` (or the loader's syntax/limit errors) naming the
    section and path of the problem; ``name`` (e.g. the file name) goes into the messages.
    """
    data = _load_source(source, name, limits)
    _check_sections(data, _label(name))
    return Environment(
        parameters=_parameters_section(data, PARAMETERS),
        parameter_defaults=_defaults_section(data),
        resource_registry=ResourceRegistry(data.get(RESOURCE_REGISTRY, {})),
        event_sinks=_event_sinks_section(data),
        parameter_merge_strategies=_strategies_section(data),
        encrypted_param_names=_string_list_section(data, ENCRYPTED_PARAM_NAMES),
        name=name,
    )


# --------------------------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------------------------

_STRING, _NUMBER, _LIST, _JSON, _BOOLEAN = (
    "string", "number", "comma_delimited_list", "json", "boolean")
_TYPE_NAMES = {
    "string": _STRING, "number": _NUMBER, "comma_delimited_list": _LIST,
    "commadelimitedlist": _LIST, "list": _LIST, "json": _JSON, "map": _JSON,
    "boolean": _BOOLEAN,
}


def _normalise_type(declared: str | None, old: Any, new: Any) -> str:
    """The parameter type that decides how values merge: the declared one if known (HOT or
    CloudFormation spelling; other CFN types such as key names are strings), else guessed
    from the values."""
    if declared is not None:
        return _TYPE_NAMES.get(declared.lower(), _STRING)
    sample = old if old is not None else new
    if isinstance(sample, bool):
        return _BOOLEAN
    if isinstance(sample, int | float):
        return _NUMBER
    if isinstance(sample, list):
        return _LIST
    if isinstance(sample, Mapping):
        return _JSON
    return _STRING


def _as_json_object(value: Any, where: Path) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError as exc:
            raise _fail(f"Invalid parameter in environment: {exc}", where) from None
    if not isinstance(value, Mapping):
        raise _fail(f"a json parameter must be an object to be merged, not "
                    f"{_type_name(value)}", where)
    return dict(value)


def _as_number(value: Any, where: Path) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        for parse in (int, float):
            try:
                return parse(value.strip())
            except ValueError:
                continue
    raise _fail(f"cannot merge {value!r} into a number parameter", where)


def _as_string(value: Any, where: Path) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _fail(f"cannot merge {_type_name(value)} into a string parameter", where)


def _merge_delimited(old: Any, new: Any, where: Path) -> Any:
    """comma_delimited_list merge: strings join with a comma, lists extend."""
    if not old:
        return copy.deepcopy(new)
    if isinstance(old, str) and isinstance(new, str):
        return f"{old},{new}"
    parts = []
    for value in (old, new):
        if isinstance(value, str):
            parts.extend(value.split(","))
        elif isinstance(value, list):
            parts.extend(copy.deepcopy(value))
        else:
            raise _fail(f"cannot merge {_type_name(value)} into a comma_delimited_list "
                        "parameter", where)
    return parts


def _merge_map(old: Mapping[str, Any], new: Mapping[str, Any], deep: bool) -> dict[str, Any]:
    """Heat's json merge: later keys win (nulls ignored); ``deep`` recurses into maps, extends
    lists and concatenates strings."""
    result = copy.deepcopy(dict(old))
    for key, value in new.items():
        if value is None:
            continue
        current = result.get(key)
        if not deep:
            result[key] = copy.deepcopy(value)
        elif isinstance(value, Mapping):
            result[key] = (_merge_map(current, value, True)
                           if isinstance(current, Mapping) and current else copy.deepcopy(value))
        elif isinstance(value, list):
            result[key] = ([*current, *copy.deepcopy(value)]
                           if isinstance(current, list) else copy.deepcopy(value))
        elif isinstance(value, str):
            result[key] = (current if isinstance(current, str) else "") + value
        else:
            result[key] = value
    return result


class _ParameterMerger:
    """Merges ``parameters`` / ``parameter_defaults`` sections file by file, keeping the merge
    strategy each parameter got from the first file that set it (environment_util.py)."""

    def __init__(self, param_types: Mapping[str, str]) -> None:
        self._types = param_types
        self.strategies: dict[str, str] = {}

    def _strategy(self, key: str, in_file: Mapping[str, str]) -> str:
        default = in_file.get("default", OVERWRITE)
        return in_file.get(key, self.strategies.get(key, default))

    def record(self, new: Mapping[str, Any], env: Environment) -> None:
        """Fix each parameter's strategy; a file asking for a different one is an error."""
        for key, value in new.items():
            if value is None:
                continue
            strategy = self._strategy(key, env.parameter_merge_strategies)
            recorded = self.strategies.setdefault(key, strategy)
            if recorded != strategy:
                raise _fail(f"Conflicting merge strategy '{strategy}' for parameter '{key}' "
                            f"in file '{env.name}' (an earlier file made it '{recorded}')",
                            (PARAMETER_MERGE_STRATEGIES, key),
                            "ConflictingMergeStrategyForParam")

    def merge(self, old: dict[str, Any], new: Mapping[str, Any], env: Environment,
              section: str) -> dict[str, Any]:
        if not new:
            return old
        self.record(new, env)
        if not old:
            return copy.deepcopy(dict(new))
        result = dict(old)
        for key, value in new.items():
            if value is not None:
                result[key] = self._merge_value(key, result.get(key), value, (section, key))
        return result

    def _merge_value(self, key: str, old: Any, new: Any, where: Path) -> Any:
        strategy = self.strategies[key]
        if strategy == OVERWRITE:
            return copy.deepcopy(new)
        kind = _normalise_type(self._types.get(key), old, new)
        if kind == _JSON:
            base = _as_json_object(old, where) if old is not None else {}
            return _merge_map(base, _as_json_object(new, where), strategy == DEEP_MERGE)
        if kind == _LIST:
            return _merge_delimited(old, new, where)
        if kind == _STRING:
            return (_as_string(old, where) if old is not None else "") + _as_string(new, where)
        if kind == _NUMBER:
            return (_as_number(old, where) if old is not None else 0) + _as_number(new, where)
        raise _fail(f"Invalid merge strategy '{strategy}' for parameter '{key}': boolean "
                    "parameters can only be overwritten", where, "InvalidMergeStrategyForParam")


def merge_environments(envs: Sequence[Environment],
                       param_types: Mapping[str, str] | None = None) -> Environment:
    """Merge environments in order, as Heat merges a stack's environment files.

    ``parameters`` and ``parameter_defaults``: the first file to set a parameter fixes its
    merge strategy (its own per-parameter entry, else its ``default``, else ``overwrite``); a
    later file naming a different strategy for it is an error. ``overwrite`` lets the later
    value win; ``merge`` concatenates strings, adds numbers, extends comma_delimited_lists
    (strings joined with ``,``) and shallow-updates json; ``deep_merge`` also recurses into
    json; booleans cannot be merged. Later null values are ignored. ``param_types`` maps
    parameter names to their declared types (ideally of every template in the stack); for
    other parameters the type is guessed from the values.

    ``resource_registry``: later entries override earlier ones, nulls unregister and
    per-resource maps combine. ``event_sinks`` and ``encrypted_param_names`` accumulate.
    The result's ``parameter_merge_strategies`` holds the effective non-overwrite strategies.
    """
    merger = _ParameterMerger(param_types or {})
    result = Environment(name="merged environment")
    for index, env in enumerate(envs):
        result.parameters = merger.merge(result.parameters, env.parameters, env, PARAMETERS)
        result.parameter_defaults = merger.merge(
            result.parameter_defaults, env.parameter_defaults, env, PARAMETER_DEFAULTS)
        result.resource_registry = (env.resource_registry if index == 0 else
                                    result.resource_registry.merged(env.resource_registry))
        result.event_sinks.extend(env.event_sinks)
        result.encrypted_param_names.extend(
            n for n in env.encrypted_param_names if n not in result.encrypted_param_names)
    result.parameter_merge_strategies = {
        k: v for k, v in merger.strategies.items() if v != OVERWRITE}
    if len(envs) == 1:
        result.name = envs[0].name
    return result


__all__ = [
    "DEEP_MERGE",
    "EVENT_SINK_TYPES",
    "HOOK_TYPES",
    "MERGE",
    "MERGE_STRATEGIES",
    "OVERWRITE",
    "RESTRICTED_ACTIONS",
    "SECTIONS",
    "TEMPLATE_SUFFIXES",
    "EntryKind",
    "Environment",
    "EventSink",
    "RegistryEntry",
    "RegistryMatch",
    "ResourceRegistry",
    "is_template_reference",
    "merge_environments",
    "parse_environment",
]
