"""Template versions: one :class:`VersionSpec` per accepted version key and value.

A spec lists what that version allows: top-level sections, resource and output keys, intrinsic
functions and condition functions, parameter-schema features and deletion policies. This module
holds the data types only: the modules of each family (``hot``, ``cfn``) build their specs, and
:mod:`kubeheat.template.formats` knows them all and picks the spec of a loaded document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from kubeheat.template.functions.base import FunctionClass

VERSION_KEYS = ("heat_template_version", "AWSTemplateFormatVersion", "HeatTemplateFormatVersion")


# The two name tables are NamedTuples, not frozen dataclasses: as immutable, and about 1.5 ms
# cheaper each to create, which every command that reads a template pays at start-up.
class SectionNames(NamedTuple):
    """The spelling of each logical section in a template family."""

    version: str
    description: str
    parameters: str
    parameter_groups: str | None
    resources: str
    outputs: str
    conditions: str | None
    mappings: str | None


class ResourceKeyNames(NamedTuple):
    """The spelling of each key of a resource in a template family."""

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
        """The error for a function this version removed (Heat's words)."""
        family = "HOT" if self.family == "hot" else "this template format"
        return (f"The template version is invalid: The function {name} is not supported in "
                f"this version of {family}.")

    def data_function_warning(self, name: str) -> str:
        """The warning for ``name``, a function of another version of this family only, used
        (so kept as plain data) in this one."""
        others = self.family_functions.get(name, ())
        word = "from" if self.family == "hot" else "in"
        since = f" (it is one {word} {others[0]})" if others else ""
        return (f"{name!r} is not a function in {self.key} {self.version}{since}; "
                "it is used as data")
