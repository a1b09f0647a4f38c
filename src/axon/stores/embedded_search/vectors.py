"""Embedded VectorIndex: exact cosine over a memory-mapped float32 matrix per partition.

Vectors are stored durably in `search.db`; each partition's matrix is written
once per generation to `<data dir>/vectors/` and memory-mapped, so a fresh
process (the CLI, a second replica) opens it without reading SQLite and the OS
pages it in on demand. Exact search at 100k x 384 is one matrix-vector product.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from axon.models import ContextType, Tier
from axon.ports import IndexFilter, VectorItem
from axon.stores.embedded_search.db import (
    SearchDB,
    bump,
    chunks,
    partitions_of,
    workspace_partitions,
)
from axon.stores.embedded_search.masks import TIER_CODES, TYPE_CODES, RowCodes

# A large product reads the whole matrix (150 MB at 100k x 384): it is bound by memory
# bandwidth, which one core does not exhaust, so big matrices are split into row blocks
# multiplied on all cores at once (BLAS itself is held to one thread: see build_search).
PARALLEL_ROWS = 32_768
_CORES = max(1, min(os.cpu_count() or 1, 8))
_PRODUCTS = ThreadPoolExecutor(_CORES, thread_name_prefix="axon-dense")


def _product(matrix: NDArray[np.float32], vector: NDArray[np.float32]) -> NDArray[np.float32]:
    rows = matrix.shape[0]
    if rows < PARALLEL_ROWS or _CORES == 1:
        return np.asarray(matrix @ vector, dtype=np.float32)
    scores = np.empty(rows, dtype=np.float32)
    bounds = np.linspace(0, rows, _CORES + 1, dtype=np.int64)

    def block(i: int) -> None:
        start, end = int(bounds[i]), int(bounds[i + 1])
        np.dot(matrix[start:end], vector, out=scores[start:end])

    list(_PRODUCTS.map(block, range(_CORES)))
    return scores


@dataclass
class _Matrix:
    gen: int
    ids: list[str]
    codes: RowCodes
    vectors: NDArray[np.float32]

    def search(
        self, vector: NDArray[np.float32], k: int, flt: IndexFilter | None
    ) -> list[tuple[str, float]]:
        if not self.ids or self.vectors.shape[1] != vector.shape[0]:
            return []
        scores = _product(self.vectors, vector)
        mask = self.codes.mask(flt)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        k = min(k, len(self.ids) if mask is None else int(mask.sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top]


class NumpyVectorIndex:
    def __init__(self, db: SearchDB, directory: Path) -> None:
        self.db = db
        self.directory = directory
        self._matrices: dict[str, _Matrix] = {}

    @staticmethod
    def _gen_name(partition: str) -> str:
        return f"vec:{partition}"

    def _file(self, partition: str, gen: int) -> Path:
        digest = hashlib.sha256(partition.encode()).hexdigest()[:24]
        return self.directory / f"{digest}.{gen}.npy"

    async def upsert(self, partition: str, items: Sequence[VectorItem]) -> None:
        if not items:
            return
        rows = [
            (
                it.id,
                partition,
                it.workspace_id,
                str(it.tier),
                str(it.type),
                np.ascontiguousarray(it.vector, dtype=np.float32).tobytes(),
                it.content_hash,
            )
            for it in items
        ]

        def write(conn: sqlite3.Connection) -> None:
            touched = partitions_of(conn, "vec_items", [it.id for it in items]) | {partition}
            conn.executemany(
                "INSERT OR REPLACE INTO vec_items "
                "(id, partition, workspace_id, tier, type, vector, content_hash) "
                "VALUES (?,?,?,?,?,?,?)",
                rows,
            )
            bump(conn, [self._gen_name(p) for p in touched])

        await self.db.write(write)

    async def delete(self, context_ids: Sequence[str]) -> None:
        ids = list(context_ids)

        def write(conn: sqlite3.Connection) -> None:
            touched = partitions_of(conn, "vec_items", ids)
            for part in chunks(ids):
                marks = ",".join("?" * len(part))
                conn.execute(f"DELETE FROM vec_items WHERE id IN ({marks})", list(part))
            bump(conn, [self._gen_name(p) for p in touched])

        if ids:
            await self.db.write(write)

    async def delete_workspace(self, workspace_id: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            touched = workspace_partitions(conn, "vec_items", workspace_id)
            conn.execute("DELETE FROM vec_items WHERE workspace_id = ?", (workspace_id,))
            bump(conn, [self._gen_name(p) for p in touched])

        await self.db.write(write)

    async def fingerprints(self, workspace_id: str) -> dict[str, str]:
        def read(conn: sqlite3.Connection) -> dict[str, str]:
            rows = conn.execute(
                "SELECT id, content_hash FROM vec_items WHERE workspace_id = ?", (workspace_id,)
            )
            return {r[0]: r[1] for r in rows}

        return await self.db.run(read)

    def _materialise(self, conn: sqlite3.Connection, partition: str, gen: int) -> _Matrix:
        path = self._file(partition, gen)
        have_file = path.exists()
        # With this generation's matrix already on disk only the ids are read from SQLite.
        columns = "id, tier, type" + ("" if have_file else ", vector")
        rows = conn.execute(
            f"SELECT {columns} FROM vec_items WHERE partition = ? ORDER BY id", (partition,)
        ).fetchall()
        ids = [r[0] for r in rows]
        codes = RowCodes(
            np.asarray([TIER_CODES[Tier(r[1])] for r in rows], dtype=np.int8),
            np.asarray([TYPE_CODES[ContextType(r[2])] for r in rows], dtype=np.int8),
        )
        if not rows:
            return _Matrix(gen, ids, codes, np.zeros((0, 0), dtype=np.float32))
        if not have_file:
            matrix = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32)
            self.directory.mkdir(parents=True, exist_ok=True)
            # Write-then-rename: a reader never maps a half-written file.
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                np.save(fh, matrix.reshape(len(rows), -1))
            os.replace(tmp, path)
            prefix = path.name.split(".")[0]
            for stale in self.directory.glob(f"{prefix}.*.npy"):
                if stale != path:
                    stale.unlink(missing_ok=True)
        mapped: NDArray[np.float32] = np.load(path, mmap_mode="r")
        if mapped.shape[0] != len(ids):
            # Same generation number from a deleted-and-recreated database: rebuild.
            path.unlink(missing_ok=True)
            return self._materialise(conn, partition, gen)
        return _Matrix(gen, ids, codes, mapped)

    async def _matrix(self, partition: str) -> _Matrix:
        cached = self._matrices.get(partition)
        gen = await self.db.generation(self._gen_name(partition))
        if cached is not None and cached.gen == gen:
            return cached
        built = await self.db.run(lambda conn: self._materialise(conn, partition, gen))
        self._matrices[partition] = built
        return built

    async def search(
        self, partition: str, vector: NDArray[np.float32], k: int, filters: IndexFilter | None
    ) -> list[tuple[str, float]]:
        matrix = await self._matrix(partition)
        if not matrix.ids:
            return []
        # The product releases the GIL: on a worker thread it overlaps the lexical side
        # of this search and other requests instead of stalling the event loop.
        return await asyncio.to_thread(matrix.search, vector, k, filters)
