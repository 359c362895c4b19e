"""Keys that look like functions but are data in the template's version.

In Heat a one-key mapping is a function only when its key is a function of the template's own
version; a function of a later version (``list_concat`` in ``heat_template_version: 2016-10-14``)
is a plain mapping, passed through as it is. That is rarely what the author meant, so
``kubeheat validate`` warns about each one: :func:`data_function_warnings` finds them, in the
template and in every template of its files map (provider templates, nested stacks' templates),
naming the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from kubeheat.errors import KubeheatError
from kubeheat.template.errors import Path, format_path
from kubeheat.template.functions.base import data_function_keys

if TYPE_CHECKING:
    from kubeheat.template.stack import Template


_VERSION_KEYS = ("heat_template_version", "HeatTemplateFormatVersion",
                 "AWSTemplateFormatVersion")


def _file_label(name: str) -> str:
    """How a warning names a file of the files map: a ``file://`` URL by its path."""
    parts = urlsplit(name)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        return unquote(parts.path)
    return name


def data_function_warnings(template: Template) -> list[str]:
    """``<path>: '<key>' is not a function in <version> (it is one from <first>); it is used as
    data``, for each such key in the resources, outputs and conditions of ``template``; then
    the same, prefixed with ``<file>: ``, for each template in its files map (a file that does
    not load as a template is left to the errors of validation)."""
    from kubeheat.template.stack import Template as Loaded

    found = _own_warnings(template)
    for name, text in template.files.items():
        if not any(key in text for key in _VERSION_KEYS):
            continue
        try:
            nested = Loaded.load(text, files=template.files, limits=template.limits)
        except KubeheatError:
            continue
        if nested.document == template.document:   # the template itself (it names itself)
            continue
        found.extend(f"{_file_label(name)}: {warning}" for warning in _own_warnings(nested))
    return found


def _own_warnings(template: Template) -> list[str]:
    spec = template.version
    sections = spec.sections
    keys = spec.resource_keys
    found: list[tuple[Path, str]] = []
    for name, snippet in template.resource_snippets.items():
        if not isinstance(snippet, dict):
            continue
        for key, value in snippet.items():
            if key == keys.type:
                continue
            found.extend(data_function_keys(spec, value, (sections.resources, name, key),
                                            condition=key == keys.condition))
    for name, snippet in template.output_snippets.items():
        if not isinstance(snippet, dict):
            continue
        for key, value in snippet.items():
            found.extend(data_function_keys(spec, value, (sections.outputs, name, key),
                                            condition=key == "condition" or key == "Condition"))
    if sections.conditions is not None:
        for name, snippet in template.condition_snippets.items():
            found.extend(data_function_keys(spec, snippet, (sections.conditions, name),
                                            condition=True))
    return [f"{format_path(path)}: {spec.data_function_warning(key)}" for path, key in found]
