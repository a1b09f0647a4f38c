"""Embedded LexicalIndex: BM25 over numpy arrays per partition, updated in place on writes.

Why not SQLite FTS5: issue-sized queries have hundreds of distinct terms, and
FTS5 ranks every row matching any of them in SQL, which is far slower at 100k
chunks than one `np.bincount` over the posting lists; FTS5 also cannot split
identifiers itself. So term counts are stored in `search.db` (durable, one
transaction per write) and each process keeps posting-list arrays per partition.

A partition's arrays are a base (all documents when it was built) plus a small
delta: each write logs the ids it changed (`lex_log`), and a search that finds the
partition's generation moved reads only those rows, masks their old base rows and
rebuilds the delta. Writes from other processes arrive the same way. When the delta
outgrows a share of the base, the partition is rebuilt whole, which also refreshes
the base's statistics (average length; document frequencies of masked rows).
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from axon.ports import IndexFilter, LexicalDoc
from axon.stores.embedded_search import snapshot
from axon.stores.embedded_search.db import SearchDB, bump, chunks, instance_id, workspace_partitions
from axon.stores.embedded_search.postings import DocRow, Postings

# In a large partition, terms in more than this share of the documents carry almost no
# signal and dominate the work for long queries; they are skipped.
MAX_DF_SHARE = 0.5
MIN_DOCS_FOR_DF_CUT = 1000
# A search reading more postings than this (a long query over a large partition) runs on
# a worker thread: the event loop stays free for other requests and for the dense side,
# which starts the moment the query's embedding is ready.
OFFLOAD_POSTINGS = 250_000
# A delta larger than this (documents) and than this share of the base is folded into a
# rebuilt base: deltas are rebuilt on every change, so they must stay small.
DELTA_MIN = 2000
DELTA_SHARE = 0.1
# The change log keeps this many newest entries; a process further behind rebuilds.
LOG_KEEP = 200_000
# Smaller partitions build in milliseconds: no snapshot files for them.
SNAPSHOT_MIN_DOCS = 1000
_ROW_COLUMNS = "id, tier, type, path, symbol, terms"
# Told the ids whose indexed rows changed (None: any may have), so caches of the
# contexts themselves can forget them.
ChangeListener = Callable[[Iterable[str] | None], None]


@dataclass
class _Segment:
    seq: int  # the newest `lex_log` entry reflected here
    gen: int
    base: Postings
    row_of: dict[str, int]  # base id -> row
    live: NDArray[np.bool_]  # base rows neither replaced nor deleted since it was built
    dead: int
    delta: Postings
    delta_rows: dict[str, DocRow]

    @classmethod
    def over(cls, seq: int, gen: int, base: Postings) -> _Segment:
        return cls(
            seq=seq,
            gen=gen,
            base=base,
            row_of={cid: i for i, cid in enumerate(base.ids)},
            live=np.ones(len(base.ids), dtype=bool),
            dead=0,
            delta=Postings.build([], avgdl=base.avgdl),
            delta_rows={},
        )

    def updated(self, seq: int, gen: int, changes: dict[str, DocRow | None]) -> _Segment:
        """A new segment with `changes` (id -> current row, None when deleted) applied;
        this one stays valid for searches already using it."""
        live = self.live.copy()
        delta_rows = dict(self.delta_rows)
        for cid, row in changes.items():
            i = self.row_of.get(cid)
            if i is not None:
                live[i] = False
            delta_rows.pop(cid, None)
            if row is not None:
                delta_rows[cid] = row
        return _Segment(
            seq=seq,
            gen=gen,
            base=self.base,
            row_of=self.row_of,
            live=live,
            dead=len(live) - int(np.count_nonzero(live)),
            delta=Postings.build(list(delta_rows.values()), avgdl=self.base.avgdl),
            delta_rows=delta_rows,
        )

    @property
    def size(self) -> int:
        return len(self.base.ids) - self.dead + len(self.delta.ids)

    def postings_read(self, terms: Sequence[str]) -> int:
        """How many postings a search for `terms` reads (its cost, before it runs)."""
        return sum(self.base.doc_freq(t) + self.delta.doc_freq(t) for t in set(terms))

    def _allowed(self, postings: Postings, flt: IndexFilter | None) -> NDArray[np.bool_] | None:
        mask = postings.codes.mask(flt)
        if postings is self.base and self.dead:
            mask = self.live if mask is None else mask & self.live
        return mask

    def search(
        self, terms: Sequence[str], k: int, flt: IndexFilter | None
    ) -> list[tuple[str, float]]:
        return self.search_many(terms, [(k, flt)])[0]

    def search_many(
        self, terms: Sequence[str], asks: Sequence[tuple[int, IndexFilter | None]]
    ) -> list[list[tuple[str, float]]]:
        """The top k under each (k, filter) of one query: the query's weights and the
        documents' scores are computed once (a filter changes no score)."""
        query = self._query(terms)
        if not query:
            return [[] for _ in asks]
        raw = [(p, p.scores(query)) for p in (self.base, self.delta) if p.ids]
        found = []
        for k, flt in asks:
            parts = []
            for postings, scores in raw:
                mask = self._allowed(postings, flt)
                parts.append(scores if mask is None else np.where(mask, scores, 0.0))
            found.append(self._top(parts[0] if len(parts) == 1 else np.concatenate(parts), k))
        return found

    def containing_all(
        self, terms: Sequence[str], flt: IndexFilter | None, limit: int
    ) -> list[str]:
        """Ids of up to `limit` documents holding every term, best BM25 on those terms
        first."""
        query = {t: 1.0 for t in terms}
        found: list[tuple[float, str]] = []
        for postings in (self.base, self.delta):
            if not postings.ids:
                continue
            rows = postings.containing_all(terms)
            mask = self._allowed(postings, flt)
            if mask is not None and len(rows):
                rows = rows[mask[rows]]
            if not len(rows):
                continue
            scores = postings.scores(query)[rows]
            found += [(-score, postings.ids[i]) for score, i in zip(scores, rows, strict=True)]
        found.sort()
        return [cid for _, cid in found[:limit]]

    def _query(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25 query weights: IDF of each known term, raised by its repetitions."""
        n = self.size
        max_df = MAX_DF_SHARE * n if n >= MIN_DOCS_FOR_DF_CUT else n
        query: dict[str, float] = {}
        for term, qtf in Counter(terms).items():
            df = self.base.doc_freq(term) + self.delta.doc_freq(term)
            if 0 < df <= max_df:
                idf = math.log1p((n - df + 0.5) / (df + 0.5))
                # Repeating a word in a long issue text raises its weight, with saturation.
                query[term] = idf * (1.0 + math.log(qtf))
        return query

    def _top(self, scores: NDArray[np.float64], k: int) -> list[tuple[str, float]]:
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        base_ids, delta_ids, n_base = self.base.ids, self.delta.ids, len(self.base.ids)
        return [
            (base_ids[i] if i < n_base else delta_ids[i - n_base], value)
            for i, value in zip(top.tolist(), scores[top].tolist(), strict=True)
        ]

    def match(
        self, symbols: Sequence[str], paths: Sequence[str], flt: IndexFilter | None
    ) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for postings in (self.base, self.delta):
            matched = postings.match(symbols, paths, flt)
            live = self.live if postings is self.base and self.dead else None
            for i, names in matched.items():
                if live is None or live[i]:
                    found.setdefault(postings.ids[i], []).extend(names)
        return found


def _log(conn: sqlite3.Connection, pairs: Sequence[tuple[str, str]]) -> None:
    """Record (partition, id) pairs a write changed, and forget entries beyond LOG_KEEP."""
    conn.executemany("INSERT INTO lex_log (partition, id) VALUES (?, ?)", pairs)
    conn.execute("DELETE FROM lex_log WHERE seq <= (SELECT MAX(seq) FROM lex_log) - ?", (LOG_KEEP,))


def _partitions_by_id(conn: sqlite3.Connection, ids: Sequence[str]) -> list[tuple[str, str]]:
    """(id, partition) of those of `ids` that are indexed."""
    found: list[tuple[str, str]] = []
    for part in chunks(ids):
        marks = ",".join("?" * len(part))
        found += conn.execute(
            f"SELECT id, partition FROM lex_docs WHERE id IN ({marks})", list(part)
        ).fetchall()
    return found


def _newest_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT MAX(seq) FROM lex_log").fetchone()
    return int(row[0] or 0)


def _changes_since(
    conn: sqlite3.Connection, partition: str, seq: int, limit: int
) -> dict[str, DocRow | None] | None:
    """The current rows (None: deleted) of the ids logged for `partition` after `seq`,
    or None when there are more than `limit` or the log no longer reaches back."""
    oldest = conn.execute("SELECT MIN(seq) FROM lex_log").fetchone()[0]
    if oldest is not None and oldest > seq + 1:
        return None
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT id FROM lex_log WHERE partition = ? AND seq > ?", (partition, seq)
        )
    ]
    if len(ids) > limit:
        return None
    changes: dict[str, DocRow | None] = dict.fromkeys(ids)
    for part in chunks(ids):
        marks = ",".join("?" * len(part))
        for row in conn.execute(
            f"SELECT {_ROW_COLUMNS} FROM lex_docs WHERE partition = ? AND id IN ({marks})",
            [partition, *part],
        ):
            changes[row[0]] = row
    return changes


class NumpyLexicalIndex:
    """`directory`, when given, keeps snapshots of partitions' base arrays."""

    def __init__(self, db: SearchDB, directory: Path | None = None) -> None:
        self.db = db
        self.directory = directory
        self._segments: dict[str, _Segment] = {}
        self._instance: str | None = None
        self._loading: dict[str, asyncio.Lock] = {}
        self._listeners: list[ChangeListener] = []

    def listen(self, listener: ChangeListener) -> None:
        """Call `listener` with the ids of every change this index learns of: its own
        writes as they land, other processes' when a search reads the change log."""
        self._listeners.append(listener)

    def _changed(self, ids: Iterable[str] | None) -> None:
        for listener in self._listeners:
            listener(ids)

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
            moved = _partitions_by_id(conn, [d.id for d in docs])
            conn.executemany("INSERT OR REPLACE INTO lex_docs VALUES (?,?,?,?,?,?,?,?,?)", rows)
            # A context that moved partition (tier change) leaves the old one too.
            left = [(p, cid) for cid, p in moved if p != partition]
            _log(conn, [(partition, d.id) for d in docs] + left)
            bump(conn, [self._gen_name(p) for p in {partition, *(p for _, p in moved)}])

        try:
            await self.db.write(write)
        finally:
            self._changed([d.id for d in docs])

    async def delete(self, context_ids: Sequence[str]) -> None:
        ids = list(context_ids)

        def write(conn: sqlite3.Connection) -> None:
            gone = _partitions_by_id(conn, ids)
            for part in chunks(ids):
                marks = ",".join("?" * len(part))
                conn.execute(f"DELETE FROM lex_docs WHERE id IN ({marks})", list(part))
            _log(conn, [(p, i) for i, p in gone])
            bump(conn, [self._gen_name(p) for p in {p for _, p in gone}])

        if ids:
            try:
                await self.db.write(write)
            finally:
                self._changed(ids)

    async def delete_workspace(self, workspace_id: str) -> None:
        def write(conn: sqlite3.Connection) -> list[str]:
            touched = workspace_partitions(conn, "lex_docs", workspace_id)
            gone = conn.execute(
                "SELECT partition, id FROM lex_docs WHERE workspace_id = ?", (workspace_id,)
            ).fetchall()
            conn.execute("DELETE FROM lex_docs WHERE workspace_id = ?", (workspace_id,))
            _log(conn, gone)
            bump(conn, [self._gen_name(p) for p in touched])
            return [cid for _, cid in gone]

        gone: list[str] | None = None
        try:
            gone = await self.db.write(write)
        finally:
            self._changed(gone)

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
        # Concurrent searches of a stale partition wait for one load instead of each
        # building the same arrays.
        async with self._loading.setdefault(partition, asyncio.Lock()):
            cached = self._segments.get(partition)
            if cached is not None and cached.gen == gen:
                return cached
            return await self._load(partition, cached, gen)

    async def _load(self, partition: str, cached: _Segment | None, gen: int) -> _Segment:
        changed: list[list[str] | None] = []  # what to tell listeners, back on the loop

        def load(conn: sqlite3.Connection) -> _Segment:
            if self.directory is not None and self._instance is None:
                self._instance = instance_id(conn)
            conn.execute("BEGIN")  # one snapshot: the rows and the log position agree
            try:
                seq = _newest_seq(conn)
                current = cached or self._from_snapshot(partition, seq, gen)
                if current is not None:
                    limit = max(DELTA_MIN, int(DELTA_SHARE * len(current.base.ids)))
                    changes = _changes_since(conn, partition, current.seq, limit)
                    if changes is not None and len(current.delta_rows) + len(changes) <= limit:
                        changed.append(list(changes))
                        return current.updated(seq, gen, changes)
                rows = conn.execute(
                    f"SELECT {_ROW_COLUMNS} FROM lex_docs WHERE partition = ? ORDER BY id",
                    (partition,),
                ).fetchall()
            finally:
                conn.execute("COMMIT")
            if cached is not None:  # rebuilt without knowing what changed
                changed.append(None)
            built = _Segment.over(seq, gen, Postings.build(rows))
            self._save_snapshot(partition, built)
            return built

        built = await self.db.run(load)
        self._segments[partition] = built
        for ids in changed:
            self._changed(ids)
        return built

    def _from_snapshot(self, partition: str, newest: int, gen: int) -> _Segment | None:
        if self.directory is None or self._instance is None:
            return None
        found = snapshot.load(self.directory, partition, self._instance, newest)
        return _Segment.over(found[0], gen, found[1]) if found else None

    def _save_snapshot(self, partition: str, segment: _Segment) -> None:
        if self.directory is None or self._instance is None:
            return
        if len(segment.base.ids) >= SNAPSHOT_MIN_DOCS:
            snapshot.save(self.directory, partition, self._instance, segment.seq, segment.base)
        elif self.directory.exists():
            snapshot.discard(self.directory, partition, self._instance)

    async def search(
        self, partition: str, terms: Sequence[str], k: int, filters: IndexFilter | None
    ) -> list[tuple[str, float]]:
        return (await self._segment(partition)).search(terms, k, filters)

    async def search_many(
        self, partition: str, terms: Sequence[str], asks: Sequence[tuple[int, IndexFilter | None]]
    ) -> list[list[tuple[str, float]]]:
        """`search` under several (k, filters) at the cost of about one."""
        segment = await self._segment(partition)
        if segment.postings_read(terms) > OFFLOAD_POSTINGS:
            return await asyncio.to_thread(segment.search_many, terms, asks)
        return segment.search_many(terms, asks)

    async def containing_all(
        self, partition: str, terms: Sequence[str], filters: IndexFilter | None, limit: int
    ) -> list[str]:
        """Ids of up to `limit` contexts holding every one of `terms` (the exact-match
        channel verifies the literal text itself)."""
        if not terms:
            return []
        return (await self._segment(partition)).containing_all(terms, filters, limit)

    async def match_entities(
        self,
        partition: str,
        symbols: Sequence[str],
        paths: Sequence[str],
        filters: IndexFilter | None,
    ) -> dict[str, list[str]]:
        if not symbols and not paths:
            return {}
        return (await self._segment(partition)).match(symbols, paths, filters)
