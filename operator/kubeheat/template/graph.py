"""The resource dependency graph: ordering, cycles, layers and the critical path.

Nodes are logical resource names; an edge ``a -> b`` means *a requires b* (b must exist first).
The engine uses :meth:`DependencyGraph.layers` for ordering and :meth:`critical_path` to know the
shortest possible duration of a stack action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kubeheat.template.errors import DependencyCycleError, ReferenceError_


@dataclass
class DependencyGraph:
    """``requires[name]`` is the set of resources ``name`` depends on."""

    requires: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, edges: Mapping[str, Iterable[str]]) -> DependencyGraph:
        """Build and check a graph; every target must be a node. Raises on cycles."""
        graph = cls({name: frozenset(deps) for name, deps in edges.items()})
        for name, deps in graph.requires.items():
            missing = sorted(d for d in deps if d not in graph.requires)
            if missing:
                raise ReferenceError_(
                    f'The specified reference "{missing[0]}" (in {name}) is incorrect.',
                    ("resources", name))
        graph.check_acyclic()
        return graph

    @property
    def nodes(self) -> list[str]:
        return list(self.requires)

    def required_by(self) -> dict[str, frozenset[str]]:
        """The reverse edges: who depends on each resource."""
        rev: dict[str, set[str]] = {name: set() for name in self.requires}
        for name, deps in self.requires.items():
            for dep in deps:
                rev[dep].add(name)
        return {name: frozenset(users) for name, users in rev.items()}

    def find_cycle(self) -> list[str] | None:
        """A cycle as ``[a, b, c, a]`` (a requires b requires c requires a), or None."""
        white, grey, black = 0, 1, 2
        colour = dict.fromkeys(self.requires, white)
        for root in sorted(self.requires):
            if colour[root] != white:
                continue
            stack: list[tuple[str, list[str]]] = [(root, sorted(self.requires[root]))]
            trail = [root]
            colour[root] = grey
            while stack:
                node, pending = stack[-1]
                if not pending:
                    colour[node] = black
                    stack.pop()
                    trail.pop()
                    continue
                nxt = pending.pop(0)
                if colour[nxt] == grey:
                    return [*trail[trail.index(nxt):], nxt]
                if colour[nxt] == white:
                    colour[nxt] = grey
                    trail.append(nxt)
                    stack.append((nxt, sorted(self.requires[nxt])))
        return None

    def check_acyclic(self) -> None:
        cycle = self.find_cycle()
        if cycle is not None:
            raise DependencyCycleError(
                "Circular Dependency Found: " + " -> ".join(cycle), ("resources", cycle[0]))

    def layers(self) -> list[list[str]]:
        """Kahn's layering: layer 0 needs nothing, layer n needs only earlier layers.
        Names within a layer are sorted, so the result is deterministic."""
        remaining = {name: set(deps) for name, deps in self.requires.items()}
        users = self.required_by()
        ready = sorted(name for name, deps in remaining.items() if not deps)
        out: list[list[str]] = []
        while ready:
            out.append(ready)
            nxt: set[str] = set()
            for name in ready:
                for user in users[name]:
                    remaining[user].discard(name)
                    if not remaining[user]:
                        nxt.add(user)
            ready = sorted(nxt)
        return out

    def order(self) -> list[str]:
        """A creation order (dependencies first)."""
        return [name for layer in self.layers() for name in layer]

    def critical_path(self, durations: Mapping[str, float] | None = None
                      ) -> tuple[list[str], float]:
        """The longest chain of dependencies, weighted by ``durations`` (default 1 per
        resource): the lower bound on how long creating the stack can take."""
        known: Mapping[str, float] = durations if durations is not None else {}

        def weight(node: str) -> float:
            return known.get(node, 1.0)

        finish: dict[str, float] = {}
        via: dict[str, str | None] = {}
        for name in self.order():
            best_dep: str | None = None
            start = 0.0
            for dep in self.requires[name]:
                if finish[dep] > start or (finish[dep] == start and best_dep is not None
                                           and dep < best_dep):
                    start, best_dep = finish[dep], dep
            finish[name] = start + weight(name)
            via[name] = best_dep
        if not finish:
            return [], 0.0
        end = max(sorted(finish), key=lambda n: finish[n])
        path = [end]
        while (prev := via[path[-1]]) is not None:
            path.append(prev)
        return list(reversed(path)), finish[end]
