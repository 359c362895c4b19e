"""Which template formats and versions exist: every HOT and CloudFormation
:class:`~kubeheat.template.versions.VersionSpec`, looked up by version key and value.

The families define their specs (:data:`kubeheat.template.hot.SPECS`,
:data:`kubeheat.template.cfn.SPECS`); this module is the one that knows them all. The parser
(:func:`detect`) and the CLI's ``kubeheat template versions|functions`` read the same tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeheat.template import cfn, hot
from kubeheat.template.errors import TemplateVersionError
from kubeheat.template.versions import VERSION_KEYS, VersionSpec

__all__ = ["VERSION_KEYS", "all_versions", "detect", "find_version", "lookup"]


def _index(specs: list[VersionSpec]) -> dict[tuple[str, str], VersionSpec]:
    index: dict[tuple[str, str], VersionSpec] = {}
    for spec in specs:
        for value in (spec.version, *spec.aliases):
            index[(spec.key, value)] = spec
    return index


#: every spec, in key then version order
_SPECS: list[VersionSpec] = sorted([*hot.SPECS.values(), *cfn.SPECS.values()],
                                   key=lambda s: (VERSION_KEYS.index(s.key), s.version))
#: (version key, version or alias) -> spec
_BY_KEY: dict[tuple[str, str], VersionSpec] = _index(_SPECS)


def all_versions() -> list[VersionSpec]:
    """Every spec once, in key then version order."""
    return list(_SPECS)


def lookup(key: str, value: str) -> VersionSpec | None:
    """The spec of ``key: value`` (a version or a release-name alias)."""
    return _BY_KEY.get((key, value))


def find_version(value: str) -> VersionSpec | None:
    """The spec whose version or alias is ``value``, under any version key."""
    for key in VERSION_KEYS:
        spec = lookup(key, value)
        if spec is not None:
            return spec
    return None


def detect(document: Mapping[str, Any]) -> VersionSpec:
    """Pick the spec for ``document`` as Heat does: exactly one version key with a string value
    (a key whose value is not a string, such as an unquoted ``2018``, counts as absent)."""
    found = [(k, document[k]) for k in VERSION_KEYS if isinstance(document.get(k), str)]
    if not found:
        for key in VERSION_KEYS:
            if key in document:
                raise TemplateVersionError(
                    "The template version is invalid: Template version was not provided "
                    f"({key}: {document[key]!r} is not a string; quote it)", (key,))
        raise TemplateVersionError(
            "Template not in valid format: Template format version not found. Add one of: "
            + ", ".join(VERSION_KEYS), ())
    if len(found) > 1:
        raise TemplateVersionError(
            "Ambiguous versions ({}); only one is allowed".format(
                ", ".join(k for k, _ in found)), ())
    key, value = found[0]
    spec = _BY_KEY.get((key, value))
    if spec is None:
        valid = sorted(v for (k, v) in _BY_KEY if k == key)
        raise TemplateVersionError(
            f'The template version is invalid: "{key}: {value}". '
            f"\"{key}\" should be one of: {', '.join(valid)}", (key,))
    return spec
