"""A function of a later template version, used in an earlier one, is data all the way through a
stack create: the ``OS::Heat::Value`` holding it is created and its ``value`` attribute is the
snippet unchanged, as real Heat 27.0.1 answered (issue 12; the per-function cases are in
tests/template/test_fidelity_functions.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from engine_plugins import bounded, builtin_engine

from kubeheat.engine import StackRequest

#: (version, snippet): Heat 27.0.1 gave each snippet back unchanged, CREATE_COMPLETE
CASES: list[tuple[str, dict[str, Any]]] = [
    ("2016-10-14", {"filter": [[None], [1, None]]}),
    ("2017-02-24", {"list_concat": [[1], [2]]}),
    ("newton", {"contains": ["a", ["a"]]}),
    ("2014-10-16", {"repeat": {"for_each": {"x": [1]}, "template": "x"}}),
]


@pytest.mark.parametrize(("version", "snippet"), CASES)
def test_value_resource_keeps_the_snippet_as_data(version: str, snippet: dict[str, Any]) -> None:
    doc = {"heat_template_version": version,
           "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": snippet}}},
           "outputs": {"o": {"value": snippet}, "r": {"value": {"get_attr": ["v", "value"]}}}}
    engine, _, _ = builtin_engine()
    state = asyncio.run(bounded(engine.create(StackRequest("fidelity", doc))))
    assert state.state == "CREATE_COMPLETE"
    assert state.outputs == {"o": snippet, "r": snippet}
