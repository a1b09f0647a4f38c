"""Embeddings cached by (model name, content hash): unchanged text is never re-embedded."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from axon.models import content_hash
from axon.ports import Embedder
from axon.stores.embedded_search.db import SearchDB, chunks


class CachedEmbedder:
    """An Embedder in front of another, keeping every vector it computes in search.db."""

    def __init__(self, embedder: Embedder, db: SearchDB, batch_size: int = 256) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.db = db
        self.batch_size = batch_size

    async def _lookup(self, hashes: list[str]) -> dict[str, NDArray[np.float32]]:
        model = self.embedder.name

        def read(conn: sqlite3.Connection) -> dict[str, NDArray[np.float32]]:
            found: dict[str, NDArray[np.float32]] = {}
            for part in chunks(hashes):
                marks = ",".join("?" * len(part))
                rows = conn.execute(
                    "SELECT content_hash, vector FROM embeddings "
                    f"WHERE model = ? AND content_hash IN ({marks})",
                    [model, *part],
                )
                for digest, blob in rows:
                    found[digest] = np.frombuffer(blob, dtype=np.float32)
            return found

        return await self.db.run(read)

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Vectors for `texts`, computing only those not cached for this model."""
        dim = self.embedder.dimension
        out = np.zeros((len(texts), dim), dtype=np.float32)
        if not texts or dim == 0:
            return out
        hashes = [content_hash(t) for t in texts]
        cached = await self._lookup(sorted(set(hashes)))
        missing: dict[str, str] = {}
        for text, digest in zip(texts, hashes, strict=True):
            if digest not in cached:
                missing.setdefault(digest, text)
        # Similar lengths in a batch waste less padding.
        todo = sorted(missing.items(), key=lambda item: len(item[1]))
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            vectors = await self.embedder.embed([text for _, text in batch])
            rows = [
                (self.embedder.name, digest, np.asarray(vec, dtype=np.float32).tobytes())
                for (digest, _), vec in zip(batch, vectors, strict=True)
            ]

            def write(conn: sqlite3.Connection, rows: list[tuple[str, str, bytes]] = rows) -> None:
                conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?,?,?)", rows)

            await self.db.write(write)
            for (digest, _), vec in zip(batch, vectors, strict=True):
                cached[digest] = np.asarray(vec, dtype=np.float32)
        for i, digest in enumerate(hashes):
            out[i] = cached[digest]
        return out
