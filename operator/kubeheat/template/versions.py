"""Template versions: one :class:`VersionSpec` per accepted version key and value.

A spec lists what that version allows: top-level sections, resource and output keys, intrinsic
functions and condition functions, parameter-schema features and deletion policies. Specs are
registered by the modules that define each family (``hot``, ``cfn``); :func:`detect` picks the
spec for a loaded document. The CLI's ``kubeheat template versions|functions`` read the same
tables the parser uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kubeheat.template.errors import TemplateVersionError
from kubeheat.template.functions.base import FunctionClass

VERSION_KEYS = ("heat_template_version", "AWSTemplateFormatVersion", "HeatTemplateFormatVersion")


@dataclass(frozen=True)
class SectionNames:
    """The spelling of each logical section in a template family."""

    version: str
    description: str
    parameters: str
    parameter_groups: str | None
    resources: str
    outputs: str
    conditions: str | None
    mappings: str | None


@dataclass(frozen=True)
class ResourceKeyNames:
    type: str
    properties: str
    metadata: str
    depends_on: str
    deletion_policy: str
    update_policy: str
    description: str
    condition: str | None
    external_id: str | None


@dataclass(frozen=True)
class VersionSpec:
    """Everything that differs between template versions."""

    family: Literal["hot", "cfn"]
    key: str                      # the top-level key carrying the version
    version: str                  # canonical value, e.g. "2016-10-14"
    aliases: tuple[str, ...]      # release names accepted as the value, e.g. ("newton",)
    sections: SectionNames
    resource_keys: ResourceKeyNames
    output_keys: frozenset[str]
    functions: Mapping[str, FunctionClass]
    condition_functions: Mapping[str, FunctionClass]
    #: names this version removed: using one is "not supported in this version"
    removed_functions: frozenset[str] = frozenset()
    #: parameter-schema features: "modulo" (2017-02-24+), "tags" (2018-03-02+)
    param_features: frozenset[str] = frozenset()
    deletion_policies: frozenset[str] = frozenset({"Delete", "Retain", "Snapshot"})
    #: whether unknown keys inside a resource are an error (HOT yes, CFN no)
    strict_resource_keys: bool = True
    pseudo_parameters: tuple[str, ...] = ()
    #: every function name known to this family in any version -> versions that have it
    family_functions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.key}: {self.version}"

    @property
    def allowed_sections(self) -> frozenset[str]:
        s = self.sections
        names = [s.version, s.description, s.parameters, s.parameter_groups, s.resources,
                 s.outputs, s.conditions, s.mappings]
        return frozenset(n for n in names if n)

    @property
    def allowed_resource_keys(self) -> frozenset[str]:
        k = self.resource_keys
        names = [k.type, k.properties, k.metadata, k.depends_on, k.deletion_policy,
                 k.update_policy, k.description, k.condition, k.external_id]
        return frozenset(n for n in names if n)

    def knows_function(self, name: str) -> bool:
        """True when ``name`` is a function of this family in some other version."""
        return name in self.family_functions and name not in self.functions

    def unsupported_message(self, name: str) -> str:
        family = "HOT" if self.family == "hot" else "this template format"
        msg = f'The function "{name}" is not supported in {family} version {self.version}'
        others = self.family_functions.get(name, ())
        if others and name not in self.removed_functions:
            msg += f" (it is available from {others[0]})"
        return msg


_REGISTRY: dict[tuple[str, str], VersionSpec] = {}


def register(spec: VersionSpec) -> VersionSpec:
    _REGISTRY[(spec.key, spec.version)] = spec
    for alias in spec.aliases:
        _REGISTRY[(spec.key, alias)] = spec
    return spec


def all_versions() -> list[VersionSpec]:
    """Every registered spec once, in key then version order."""
    _load_families()
    seen: dict[int, VersionSpec] = {}
    for spec in _REGISTRY.values():
        seen.setdefault(id(spec), spec)
    return sorted(seen.values(), key=lambda s: (VERSION_KEYS.index(s.key), s.version))


def lookup(key: str, value: str) -> VersionSpec | None:
    _load_families()
    return _REGISTRY.get((key, value))


def detect(document: Mapping[str, Any]) -> VersionSpec:
    """Pick the spec for ``document`` as Heat does: exactly one version key with a string value."""
    _load_families()
    found = [(k, document[k]) for k in VERSION_KEYS if k in document]
    if not found:
        raise TemplateVersionError(
            "Template version was not provided; add one of: "
            + ", ".join(VERSION_KEYS), ())
    if len(found) > 1:
        raise TemplateVersionError(
            "Ambiguous versions ({}); only one is allowed".format(
                ", ".join(k for k, _ in found)), ())
    key, value = found[0]
    if not isinstance(value, str):
        raise TemplateVersionError(
            f'The template version is invalid: "{value!r}" is not a string', (key,))
    spec = _REGISTRY.get((key, value))
    if spec is None:
        valid = sorted(v for (k, v) in _REGISTRY if k == key)
        raise TemplateVersionError(
            f'The template version is invalid: "{key}: {value}". '
            f"{key} should be one of: {', '.join(valid)}", (key,))
    return spec


_loaded = False


def _load_families() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    # Imported for their registration side effect.
    from kubeheat.template import cfn, hot  # noqa: F401
