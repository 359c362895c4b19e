"""Keys that look like functions but are data in the template's version.

In Heat a one-key mapping is a function only when its key is a function of the template's own
version; a function of a later version (``list_concat`` in ``heat_template_version: 2016-10-14``)
is a plain mapping, passed through as it is. That is rarely what the author meant, so
``kubeheat validate`` warns about each one: :func:`data_function_warnings` finds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeheat.template.errors import Path, format_path
from kubeheat.template.functions.base import data_function_keys

if TYPE_CHECKING:
    from kubeheat.template.stack import Template


def data_function_warnings(template: Template) -> list[str]:
    """``<path>: '<key>' is not a function in <version> (it is one from <first>); it is used as
    data``, for each such key in the resources, outputs and conditions of ``template``."""
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
