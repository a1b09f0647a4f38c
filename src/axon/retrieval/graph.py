"""The code graph as a ranking signal: personalised PageRank over files.

The graph's nodes are a workspace's files; an edge joins a file that references a
name (a call, an import, a base class, an attribute) to each file that defines a
function, method or class of that name, weighted 1 / (number of files defining it),
both ways (callers and callees). A name defined in more than MAX_DEFINERS files
(`run`, `__init__`) says nothing about which one is meant and makes no edge.

A search seeds the walk with the files that define the symbols its query names
(each such name spreads one unit over its definers, the same bound) and ranks every
file by the stationary probability of a walk that returns to the seeds with
probability RESTART at each step, as Aider's repository map ranks symbols. A file
close to what the report names (the function's caller, the module it delegates to)
gains; the seeds keep most of the mass. Seeding with the first hits as well was
measured and dropped: it lifts the hubs the first hits use (bench/README.md).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from axon.ports import DocumentStore

MAX_DEFINERS = 5
DEFINING_KINDS = frozenset({"function", "method", "class"})
RESTART = 0.3
ITERATIONS = 20
CACHE_SECONDS = 30.0  # a graph read from the store serves the searches of this long
CACHE_WORKSPACES = 16


@dataclass(frozen=True, slots=True)
class FileGraph:
    files: dict[str, int]  # path -> node
    definers: dict[str, tuple[int, ...]]  # name -> the nodes defining it (<= MAX_DEFINERS)
    source: NDArray[np.int64]  # edges, both directions
    target: NDArray[np.int64]
    share: NDArray[np.float64]  # an edge's weight over its source's total

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str]]) -> FileGraph:
        """From (path, JSON symbol rows) as `DocumentStore.workspace_symbols` gives them."""
        files: dict[str, int] = {}
        defined: dict[str, set[int]] = {}
        used: list[tuple[int, set[str]]] = []
        for path, stored in rows:
            node = files.setdefault(path, len(files))
            names: set[str] = set()
            for name, role, kind, *_ in json.loads(stored):
                if role == "definition":
                    if kind in DEFINING_KINDS:
                        defined.setdefault(name, set()).add(node)
                else:
                    names.add(name)
            used.append((node, names))
        definers = {
            name: tuple(sorted(nodes))
            for name, nodes in defined.items()
            if len(nodes) <= MAX_DEFINERS
        }
        weights: dict[tuple[int, int], float] = {}
        for node, names in used:
            for name in names:
                for other in definers.get(name, ()):
                    if other != node:
                        w = 1.0 / len(definers[name])
                        for edge in ((node, other), (other, node)):
                            weights[edge] = weights.get(edge, 0.0) + w
        source = np.fromiter((a for a, _ in weights), dtype=np.int64, count=len(weights))
        target = np.fromiter((b for _, b in weights), dtype=np.int64, count=len(weights))
        weight = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
        total = np.bincount(source, weights=weight, minlength=len(files))
        share = weight / total[source] if len(weight) else weight
        return cls(files, definers, source, target, share)

    def seeds(self, names: Sequence[str]) -> dict[int, float]:
        """Each named symbol's unit spread over the files defining it."""
        mass: dict[int, float] = {}
        for name in names:
            nodes = self.definers.get(name, ())
            for node in nodes:
                mass[node] = mass.get(node, 0.0) + 1.0 / len(nodes)
        return mass

    def rank(self, seeds: dict[int, float]) -> dict[str, float]:
        """Personalised PageRank from the seeds, scaled so the best file has 1."""
        n = len(self.files)
        if not seeds or n == 0:
            return {}
        restart = np.zeros(n)
        for node, mass in seeds.items():
            restart[node] = mass
        restart /= restart.sum()
        rank = restart.copy()
        # A file without edges keeps its mass (no walk leaves it).
        stuck = np.bincount(self.source, minlength=n) == 0
        for _ in range(ITERATIONS):
            spread = np.bincount(self.target, weights=rank[self.source] * self.share, minlength=n)
            rank = (1 - RESTART) * (spread + rank * stuck) + RESTART * restart
        top = float(rank.max())
        return {path: float(rank[node]) / top for path, node in self.files.items() if rank[node]}


class GraphCache:
    """Each workspace's graph, read from the store at most every CACHE_SECONDS (a
    re-index shows in the ranking within that long)."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        self._graphs: dict[str, tuple[float, FileGraph]] = {}

    async def get(self, workspace_id: str) -> FileGraph:
        now = time.monotonic()
        cached = self._graphs.get(workspace_id)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        rows = await self.store.workspace_symbols(workspace_id)
        graph = await asyncio.to_thread(FileGraph.build, rows)  # JSON parsing: off the loop
        self._graphs.pop(workspace_id, None)
        self._graphs[workspace_id] = (now, graph)
        while len(self._graphs) > CACHE_WORKSPACES:
            self._graphs.pop(next(iter(self._graphs)))
        return graph
