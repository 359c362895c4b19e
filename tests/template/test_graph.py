"""The dependency graph: ordering, layers, cycles named, critical path."""

from __future__ import annotations

import pytest

from kubeheat.template import DependencyGraph
from kubeheat.template.errors import DependencyCycleError, ReferenceError_


def test_layers_and_order() -> None:
    g = DependencyGraph.build({"net": [], "subnet": ["net"], "port": ["subnet", "net"],
                               "server": ["port"], "sg": []})
    assert g.layers() == [["net", "sg"], ["subnet"], ["port"], ["server"]]
    order = g.order()
    for name, deps in g.requires.items():
        assert all(order.index(d) < order.index(name) for d in deps)


def test_required_by_is_reverse() -> None:
    g = DependencyGraph.build({"a": [], "b": ["a"], "c": ["a"]})
    assert g.required_by() == {"a": frozenset({"b", "c"}), "b": frozenset(), "c": frozenset()}


@pytest.mark.parametrize(("edges", "cycle"), [
    ({"a": ["a"]}, "a -> a"),
    ({"a": ["b"], "b": ["a"]}, "a -> b -> a"),
    ({"a": ["b"], "b": ["c"], "c": ["a"]}, "a -> b -> c -> a"),
    ({"x": [], "a": ["x", "b"], "b": ["c"], "c": ["a"]}, "a -> b -> c -> a"),
])
def test_cycles_are_named(edges: dict[str, list[str]], cycle: str) -> None:
    with pytest.raises(DependencyCycleError) as info:
        DependencyGraph.build(edges)
    assert str(info.value).endswith(f"Circular Dependency Found: {cycle}")


def test_unknown_target() -> None:
    with pytest.raises(ReferenceError_, match='"ghost"'):
        DependencyGraph.build({"a": ["ghost"]})


def test_critical_path_unweighted_and_weighted() -> None:
    g = DependencyGraph.build({"a": [], "b": ["a"], "c": ["b"], "d": ["a"], "e": ["c", "d"]})
    assert g.critical_path() == (["a", "b", "c", "e"], 4.0)
    assert g.critical_path({"a": 1, "b": 1, "c": 1, "d": 10, "e": 1}) == (["a", "d", "e"], 12.0)
    assert DependencyGraph.build({}).critical_path() == ([], 0.0)


def test_large_chain_is_not_recursive() -> None:
    n = 5000
    g = DependencyGraph.build({f"r{i}": [f"r{i - 1}"] if i else [] for i in range(n)})
    assert len(g.layers()) == n
    assert g.critical_path()[1] == n
    chain = {f"r{i}": [f"r{(i + 1) % n}"] for i in range(n)}
    with pytest.raises(DependencyCycleError):
        DependencyGraph.build(chain)
