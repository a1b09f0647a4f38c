"""Embedded LexicalIndex: BM25 over numpy arrays, rebuilt per partition when stale.

Why not SQLite FTS5: issue-sized queries have hundreds of distinct terms, and
FTS5 ranks every row matching any of them in SQL, which is far slower at 100k
chunks than one `np.bincount` over the posting lists; FTS5 also cannot split
identifiers itself. So term counts are stored in `search.db` (durable, one
transaction per write) and each process keeps a compressed posting-list array
per partition, rebuilt when the partition's generation moves.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from axon.models import ContextType, Tier
from axon.ports import IndexFilter, LexicalDoc
from axon.retrieval._db import SearchDB, bump, chunks, partitions_of
from axon.retrieval._masks import TIER_CODES, TYPE_CODES, filter_mask

K1 = 1.2
B = 0.75
# In a large partition, terms in more than this share of the documents carry almost no
# signal and dominate the work for long queries; they are skipped.
MAX_DF_SHARE = 0.5
MIN_DOCS_FOR_DF_CUT = 1000


@dataclass
class _Segment:
    gen: int
    ids: list[str]
    tiers: NDArray[np.int8]
    types: NDArray[np.int8]
    vocab: dict[str, int]
    idf: NDArray[np.float32]
    df: NDArray[np.int32]
    ptr: NDArray[np.int64]
    docs: NDArray[np.int32]
    weights: NDArray[np.float32]
    symbols: dict[str, list[int]]
    path_docs: dict[str, list[int]]
    _suffixes: dict[str, list[str]] | None = None

    def _paths_matching(self, entity: str) -> list[str]:
        """Indexed paths that end with `entity`, or that `entity` ends with (a stack
        trace's absolute path names a workspace-relative one), at a `/` boundary."""
        entity = entity.strip("/")
        if not entity:
            return []
        if self._suffixes is None:
            self._suffixes = {}
            for path in self.path_docs:
                parts = path.strip("/").split("/")
                for start in range(len(parts)):
                    self._suffixes.setdefault("/".join(parts[start:]), []).append(path)
        found = list(self._suffixes.get(entity, ()))
        parts = entity.split("/")
        for start in range(1, len(parts)):
            tail = "/".join(parts[start:])
            found += [p for p in self._suffixes.get(tail, ()) if p.strip("/") == tail]
        return list(dict.fromkeys(found))

    @classmethod
    def build(
        cls, gen: int, rows: list[tuple[str, str, str, str | None, str | None, str]]
    ) -> _Segment:
        vocab: dict[str, int] = {}
        doc_col: list[int] = []
        term_col: list[int] = []
        tf_col: list[int] = []
        lengths = np.zeros(len(rows), dtype=np.float32)
        symbols: dict[str, list[int]] = {}
        path_docs: dict[str, list[int]] = {}
        for i, (_, _, _, _, symbol, terms_json) in enumerate(rows):
            terms: dict[str, int] = json.loads(terms_json)
            for term, count in terms.items():
                term_col.append(vocab.setdefault(term, len(vocab)))
                tf_col.append(count)
            doc_col.extend([i] * len(terms))
            lengths[i] = sum(terms.values())
            for name in _symbol_keys(symbol):
                symbols.setdefault(name, []).append(i)
            path = rows[i][3]
            if path:
                path_docs.setdefault(path, []).append(i)
        n = len(rows)
        doc_arr = np.asarray(doc_col, dtype=np.int32)
        term_arr = np.asarray(term_col, dtype=np.int32)
        tf = np.asarray(tf_col, dtype=np.float32)
        order = np.argsort(term_arr, kind="stable")
        doc_arr, term_arr, tf = doc_arr[order], term_arr[order], tf[order]
        df = np.bincount(term_arr, minlength=len(vocab)).astype(np.int32)
        ptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(df, out=ptr[1:])
        avgdl = float(lengths.mean()) if n else 1.0
        norm = K1 * (1 - B + B * lengths / max(avgdl, 1.0))
        weights = (tf * (K1 + 1) / (tf + norm[doc_arr])).astype(np.float32)
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        return cls(
            gen=gen,
            ids=[r[0] for r in rows],
            tiers=np.asarray([TIER_CODES[Tier(r[1])] for r in rows], dtype=np.int8),
            types=np.asarray([TYPE_CODES[ContextType(r[2])] for r in rows], dtype=np.int8),
            vocab=vocab,
            idf=idf,
            df=df,
            ptr=ptr,
            docs=doc_arr,
            weights=weights,
            symbols=symbols,
            path_docs=path_docs,
        )

    def search(
        self, terms: Sequence[str], k: int, flt: IndexFilter | None
    ) -> list[tuple[str, float]]:
        n = len(self.ids)
        if n == 0:
            return []
        max_df = MAX_DF_SHARE * n if n >= MIN_DOCS_FOR_DF_CUT else n
        counts: dict[int, int] = {}
        for term in terms:
            tid = self.vocab.get(term)
            if tid is not None and self.df[tid] <= max_df:
                counts[tid] = counts.get(tid, 0) + 1
        if not counts:
            return []
        doc_parts = []
        weight_parts = []
        for tid, qtf in counts.items():
            lo, hi = self.ptr[tid], self.ptr[tid + 1]
            doc_parts.append(self.docs[lo:hi])
            # Repeating a word in a long issue text raises its weight, with saturation.
            weight_parts.append(self.weights[lo:hi] * (self.idf[tid] * (1.0 + math.log(qtf))))
        scores = np.bincount(np.concatenate(doc_parts), np.concatenate(weight_parts), minlength=n)
        mask = filter_mask(self.tiers, self.types, flt)
        if mask is not None:
            scores[~mask] = 0.0
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top]

    def match(
        self, symbols: Sequence[str], paths: Sequence[str], flt: IndexFilter | None
    ) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for name in symbols:
            for i in self.symbols.get(name.lower(), ()):
                found.setdefault(i, []).append(name)
        for entity in paths:
            for path in self._paths_matching(entity):
                for i in self.path_docs[path]:
                    found.setdefault(i, []).append(entity)
        mask = filter_mask(self.tiers, self.types, flt)
        if mask is not None:
            found = {i: names for i, names in found.items() if mask[i]}
        return found


def _symbol_keys(symbol: str | None) -> set[str]:
    """`Request.register_hook` is found by its full name and by `register_hook`."""
    if not symbol:
        return set()
    low = symbol.lower()
    return {low, low.rsplit(".", 1)[-1]}


class NumpyLexicalIndex:
    def __init__(self, db: SearchDB) -> None:
        self.db = db
        self._segments: dict[str, _Segment] = {}

    @staticmethod
    def _gen_name(partition: str) -> str:
        return f"lex:{partition}"

    async def upsert(self, partition: str, docs: Sequence[LexicalDoc]) -> None:
        if not docs:
            return
        rows = [
            (
                d.id,
                partition,
                d.workspace_id,
                str(d.tier),
                str(d.type),
                d.path,
                d.symbol,
                d.content_hash,
                json.dumps(d.terms, separators=(",", ":")),
            )
            for d in docs
        ]

        def write(conn: sqlite3.Connection) -> None:
            # A context that moved partition (tier change) must leave the old one stale too.
            touched = partitions_of(conn, "lex_docs", [d.id for d in docs]) | {partition}
            conn.executemany("INSERT OR REPLACE INTO lex_docs VALUES (?,?,?,?,?,?,?,?,?)", rows)
            bump(conn, [self._gen_name(p) for p in touched])

        await self.db.write(write)

    async def delete(self, context_ids: Sequence[str]) -> None:
        ids = list(context_ids)

        def write(conn: sqlite3.Connection) -> None:
            touched = partitions_of(conn, "lex_docs", ids)
            for part in chunks(ids):
                marks = ",".join("?" * len(part))
                conn.execute(f"DELETE FROM lex_docs WHERE id IN ({marks})", list(part))
            bump(conn, [self._gen_name(p) for p in touched])

        if ids:
            await self.db.write(write)

    async def delete_workspace(self, workspace_id: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            touched = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT partition FROM lex_docs WHERE workspace_id = ?",
                    (workspace_id,),
                )
            ]
            conn.execute("DELETE FROM lex_docs WHERE workspace_id = ?", (workspace_id,))
            bump(conn, [self._gen_name(p) for p in touched])

        await self.db.write(write)

    async def fingerprints(self, workspace_id: str) -> dict[str, str]:
        def read(conn: sqlite3.Connection) -> dict[str, str]:
            return dict(
                conn.execute(
                    "SELECT id, content_hash FROM lex_docs WHERE workspace_id = ?",
                    (workspace_id,),
                ).fetchall()
            )

        return await self.db.run(read)

    async def _segment(self, partition: str) -> _Segment:
        cached = self._segments.get(partition)
        gen = await self.db.generation(self._gen_name(partition))
        if cached is not None and cached.gen == gen:
            return cached

        def load(conn: sqlite3.Connection) -> _Segment:
            rows = conn.execute(
                "SELECT id, tier, type, path, symbol, terms FROM lex_docs "
                "WHERE partition = ? ORDER BY id",
                (partition,),
            ).fetchall()
            return _Segment.build(gen, rows)

        built = await self.db.run(load)
        self._segments[partition] = built
        return built

    async def search(
        self, partition: str, terms: Sequence[str], k: int, filters: IndexFilter | None
    ) -> list[tuple[str, float]]:
        return (await self._segment(partition)).search(terms, k, filters)

    async def match_entities(
        self,
        partition: str,
        symbols: Sequence[str],
        paths: Sequence[str],
        filters: IndexFilter | None,
    ) -> dict[str, list[str]]:
        if not symbols and not paths:
            return {}
        segment = await self._segment(partition)
        return {
            segment.ids[i]: names for i, names in segment.match(symbols, paths, filters).items()
        }
