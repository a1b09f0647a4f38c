"""Posting lists of a set of documents: BM25 term weights in CSR form, plus the symbol
and path look-ups for entity boosts. Immutable once built."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from axon.models import ContextType, Tier
from axon.ports import IndexFilter
from axon.retrieval.tokenize import symbol_keys
from axon.stores.embedded_search.masks import TIER_CODES, TYPE_CODES, RowCodes

K1 = 1.2
B = 0.75

# id, tier, type, path, symbol, terms (JSON): one row of `lex_docs`.
DocRow = tuple[str, str, str, str | None, str | None, str]


@dataclass
class Postings:
    ids: list[str]
    codes: RowCodes
    avgdl: float
    vocab: dict[str, int]
    df: NDArray[np.int32]
    ptr: NDArray[np.int64]  # postings of term t: docs/weights[ptr[t]:ptr[t + 1]]
    docs: NDArray[np.int32]
    weights: NDArray[np.float32]  # BM25 term-frequency part, length norm included
    row_paths: list[str | None]
    row_symbols: list[str | None]
    symbols: dict[str, tuple[int, ...]] = field(default_factory=dict)  # symbol key -> rows
    path_docs: dict[str, tuple[int, ...]] = field(default_factory=dict)  # path -> rows
    _suffixes: dict[str, tuple[str, ...]] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, rows: Sequence[DocRow], avgdl: float | None = None) -> Postings:
        """`avgdl` None uses these documents' own mean length; a delta over a larger
        base passes the base's, so both score on the same scale."""
        vocab: dict[str, int] = {}
        doc_col: list[int] = []
        term_col: list[int] = []
        tf_col: list[int] = []
        lengths = np.zeros(len(rows), dtype=np.float32)
        for i, (_, _, _, _, _, terms_json) in enumerate(rows):
            terms: dict[str, int] = json.loads(terms_json)
            for term, count in terms.items():
                term_col.append(vocab.setdefault(term, len(vocab)))
                tf_col.append(count)
            doc_col.extend([i] * len(terms))
            lengths[i] = sum(terms.values())
        doc_arr = np.asarray(doc_col, dtype=np.int32)
        term_arr = np.asarray(term_col, dtype=np.int32)
        tf = np.asarray(tf_col, dtype=np.float32)
        order = np.argsort(term_arr, kind="stable")
        doc_arr, term_arr, tf = doc_arr[order], term_arr[order], tf[order]
        df = np.bincount(term_arr, minlength=len(vocab)).astype(np.int32)
        ptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(df, out=ptr[1:])
        if avgdl is None:
            avgdl = float(lengths.mean()) if len(rows) else 1.0
        norm = K1 * (1 - B + B * lengths / max(avgdl, 1.0))
        weights = (tf * (K1 + 1) / (tf + norm[doc_arr])).astype(np.float32)
        return cls(
            ids=[r[0] for r in rows],
            codes=RowCodes(
                np.asarray([TIER_CODES[Tier(r[1])] for r in rows], dtype=np.int8),
                np.asarray([TYPE_CODES[ContextType(r[2])] for r in rows], dtype=np.int8),
            ),
            avgdl=avgdl,
            vocab=vocab,
            df=df,
            ptr=ptr,
            docs=doc_arr,
            weights=weights,
            row_paths=[r[3] for r in rows],
            row_symbols=[r[4] for r in rows],
        )

    def __post_init__(self) -> None:
        symbols: dict[str, list[int]] = {}
        path_docs: dict[str, list[int]] = {}
        for i, (path, symbol) in enumerate(zip(self.row_paths, self.row_symbols, strict=True)):
            for name in symbol_keys(symbol):
                symbols.setdefault(name, []).append(i)
            if path:
                path_docs.setdefault(path, []).append(i)
        # Tuples of ints are not tracked by the garbage collector; tens of thousands of
        # lists would be walked by every full collection of a serving process.
        self.symbols = {name: tuple(rows) for name, rows in symbols.items()}
        self.path_docs = {path: tuple(rows) for path, rows in path_docs.items()}

    def doc_freq(self, term: str) -> int:
        tid = self.vocab.get(term)
        return 0 if tid is None else int(self.df[tid])

    def containing_all(self, terms: Sequence[str]) -> NDArray[np.int32]:
        """Rows holding every one of `terms` (posting lists intersected, rarest first;
        each list is sorted by row)."""
        tids = [self.vocab.get(t) for t in terms]
        if not tids or any(t is None for t in tids):
            return np.zeros(0, dtype=np.int32)
        known = sorted((int(t) for t in tids if t is not None), key=lambda t: int(self.df[t]))
        rows = self.docs[self.ptr[known[0]] : self.ptr[known[0] + 1]]
        for tid in known[1:]:
            if not len(rows):
                break
            rows = np.intersect1d(
                rows, self.docs[self.ptr[tid] : self.ptr[tid + 1]], assume_unique=True
            )
        return rows

    def scores(self, query: dict[str, float]) -> NDArray[np.float64]:
        """Per-document sum of term weight x query weight, touching only the postings of
        the query's terms."""
        doc_parts: list[NDArray[np.int32]] = []
        weight_parts: list[NDArray[np.float32]] = []
        for term, factor in query.items():
            tid = self.vocab.get(term)
            if tid is None:
                continue
            lo, hi = self.ptr[tid], self.ptr[tid + 1]
            doc_parts.append(self.docs[lo:hi])
            weight_parts.append(self.weights[lo:hi] * np.float32(factor))
        if not doc_parts:
            return np.zeros(len(self.ids))
        return np.bincount(
            np.concatenate(doc_parts), np.concatenate(weight_parts), minlength=len(self.ids)
        ).astype(np.float64, copy=False)

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
        mask = self.codes.mask(flt)
        if mask is not None:
            found = {i: names for i, names in found.items() if mask[i]}
        return found

    def _paths_matching(self, entity: str) -> list[str]:
        """Indexed paths that end with `entity`, or that `entity` ends with (a stack
        trace's absolute path names a workspace-relative one), at a `/` boundary."""
        entity = entity.strip("/")
        if not entity:
            return []
        if self._suffixes is None:
            suffixes: dict[str, list[str]] = {}
            for path in self.path_docs:
                parts = path.strip("/").split("/")
                for start in range(len(parts)):
                    suffixes.setdefault("/".join(parts[start:]), []).append(path)
            self._suffixes = {tail: tuple(paths) for tail, paths in suffixes.items()}
        found = list(self._suffixes.get(entity, ()))
        parts = entity.split("/")
        for start in range(1, len(parts)):
            tail = "/".join(parts[start:])
            found += [p for p in self._suffixes.get(tail, ()) if p.strip("/") == tail]
        return list(dict.fromkeys(found))
