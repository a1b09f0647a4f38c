"""VectorIndex and LexicalIndex on Qdrant: one point per context in one collection.

Each point (id = uuid5 of the context id) carries a dense cosine vector
(`dense`) and a sparse BM25-style vector (`lexical`) whose IDF Qdrant applies
itself (the IDF modifier), plus payload for filtering (workspaceId, partition,
tier, type, with payload indexes) and for entity look-ups (symbol keys, path
suffixes) and reconcile (contentHash). Hybrid search runs inside Qdrant:
both lists as prefetches of one query whose formula fuses them with the same
weights and normalisation the retriever applies to the embedded indexes, so the
ranking does not depend on the backend.

QDRANT_URL is an http(s) URL for a server, or `:memory:` / `path:<dir>` for
qdrant-client's local mode (tests, single machine) through the same code.
"""

from __future__ import annotations

import hashlib
import math
import uuid
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from qdrant_client import AsyncQdrantClient
from qdrant_client import models as qm

from axon.errors import ServiceUnavailable
from axon.ports import FusedHit, IndexFilter, LexicalDoc, VectorItem
from axon.retrieval.tokenize import symbol_keys

DENSE = "dense"
LEXICAL = "lexical"
# Payload field: the content hash the dense vector was computed from (stale when it
# differs from the lexical half's `contentHash`).
DENSE_HASH = "denseHash"
_NAMESPACE = uuid.UUID("6f1c1c52-3c1e-4f0a-9d4e-0a7c0b1e5a11")
K1 = 1.2
B = 0.75
# BM25 length normalisation needs an average length; Qdrant keeps no such statistic, so
# a typical chunk's term count stands in for it (the embedded index uses the real one:
# with the same value both rank identically, see tests/test_qdrant_index.py).
AVG_DOC_TERMS = 100.0
_PAGE = 1000
PAYLOAD_INDEXES = ("workspaceId", "partition", "tier", "type", "symbolKeys", "pathSuffixes")


def point_id(context_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, context_id))


def term_index(term: str) -> int:
    """A stable 31-bit id per term; collisions at this width are negligible for BM25."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest()) & 0x7FFFFFFF


def _sparse(weights: dict[int, float]) -> qm.SparseVector:
    keys = sorted(weights)
    return qm.SparseVector(indices=keys, values=[weights[k] for k in keys])


def doc_vector(terms: dict[str, int], avg_doc_terms: float = AVG_DOC_TERMS) -> qm.SparseVector:
    """BM25 term-frequency saturation per term; Qdrant multiplies in the IDF."""
    length = sum(terms.values())
    norm = K1 * (1 - B + B * length / avg_doc_terms)
    weights: dict[int, float] = {}
    for term, tf in terms.items():
        key = term_index(term)
        weights[key] = weights.get(key, 0.0) + tf * (K1 + 1) / (tf + norm)
    return _sparse(weights)


def query_vector(terms: Sequence[str]) -> qm.SparseVector:
    counts: dict[str, int] = {}
    for term in terms:
        counts[term] = counts.get(term, 0) + 1
    weights: dict[int, float] = {}
    for term, qtf in counts.items():
        key = term_index(term)
        # Repeating a word in a long query raises its weight, with saturation.
        weights[key] = weights.get(key, 0.0) + 1.0 + math.log(qtf)
    return _sparse(weights)


def _rooted(path: str) -> str:
    return "/" + path.strip("/")


def path_suffixes(path: str) -> list[str]:
    """`/a/b/c.py` -> ["/a/b/c.py", "/b/c.py", "/c.py"]: what a path entity may name."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[i:]) for i in range(len(parts))]


def _match(key: str, value: str) -> qm.FieldCondition:
    return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))


def _any(key: str, values: Sequence[str]) -> qm.FieldCondition:
    return qm.FieldCondition(key=key, match=qm.MatchAny(any=list(values)))


def _filter(partition: str, flt: IndexFilter | None, *extra: qm.Condition) -> qm.Filter:
    must: list[qm.Condition] = [_match("partition", partition), *extra]
    if flt is not None and flt.tiers:
        must.append(_any("tier", [str(t) for t in flt.tiers]))
    if flt is not None and flt.types:
        must.append(_any("type", [str(t) for t in flt.types]))
    return qm.Filter(must=must)


def _client(url: str) -> AsyncQdrantClient:
    if url == ":memory:":
        return AsyncQdrantClient(location=":memory:")
    if url.startswith("path:"):
        return AsyncQdrantClient(path=url.removeprefix("path:"))
    # `open` checks reachability itself, with an error naming QDRANT_URL.
    return AsyncQdrantClient(url=url, timeout=10, check_compatibility=False)


class QdrantCollection:
    """The shared client and collection both indexes use; created idempotently."""

    def __init__(self, url: str, name: str, dimension: int) -> None:
        self.url = url
        self.name = name
        self.dimension = dimension
        self.client = _client(url)

    async def open(self) -> None:
        try:
            exists = await self.client.collection_exists(self.name)
        except Exception as exc:  # the client raises transport-specific errors
            raise ServiceUnavailable(f"Qdrant at QDRANT_URL is unreachable: {exc}") from None
        if not exists:
            await self.client.create_collection(
                self.name,
                vectors_config={
                    DENSE: qm.VectorParams(size=self.dimension, distance=qm.Distance.COSINE)
                },
                sparse_vectors_config={LEXICAL: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
            )
        else:
            await self._check_dimension()
        with warnings.catch_warnings():
            # Local mode ignores payload indexes (and says so); a server builds them.
            warnings.simplefilter("ignore", UserWarning)
            for field in PAYLOAD_INDEXES:
                await self.client.create_payload_index(
                    self.name, field, qm.PayloadSchemaType.KEYWORD
                )

    async def _check_dimension(self) -> None:
        info = await self.client.get_collection(self.name)
        vectors = info.config.params.vectors
        size = vectors[DENSE].size if isinstance(vectors, dict) and DENSE in vectors else None
        if size != self.dimension:
            raise ServiceUnavailable(
                f"Qdrant collection '{self.name}' holds {size}-d vectors but the embedder "
                f"makes {self.dimension}-d ones; use another QDRANT_COLLECTION or re-index"
            )

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> bool:
        try:
            await self.client.collection_exists(self.name)
        except Exception:
            return False
        return True

    async def existing(self, context_ids: Sequence[str]) -> set[str]:
        """Which of these contexts already have a point."""
        if not context_ids:
            return set()
        found = await self.client.retrieve(
            self.name,
            [point_id(c) for c in context_ids],
            with_payload=["contextId"],
            with_vectors=False,
        )
        return {str((p.payload or {})["contextId"]) for p in found}

    async def scroll(
        self, flt: qm.Filter, fields: Sequence[str], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Payloads of every point matching `flt` (at most `limit`)."""
        out: list[dict[str, Any]] = []
        offset: Any = None
        while limit is None or len(out) < limit:
            page, offset = await self.client.scroll(
                self.name,
                scroll_filter=flt,
                limit=_PAGE,
                offset=offset,
                with_payload=list(fields),
                with_vectors=False,
            )
            out += [dict(p.payload or {}) for p in page]
            if offset is None:
                break
        return out if limit is None else out[:limit]

    async def delete_points(self, context_ids: Iterable[str]) -> None:
        ids = [point_id(c) for c in context_ids]
        for start in range(0, len(ids), _PAGE):
            await self.client.delete(
                self.name, qm.PointIdsList(points=ids[start : start + _PAGE]), wait=True
            )

    async def delete_workspace(self, workspace_id: str) -> None:
        await self.client.delete(
            self.name,
            qm.FilterSelector(filter=qm.Filter(must=[_match("workspaceId", workspace_id)])),
            wait=True,
        )

    async def query(
        self, query: Any, using: str, flt: qm.Filter, k: int
    ) -> list[tuple[str, float]]:
        result = await self.client.query_points(
            self.name,
            query=query,
            using=using,
            query_filter=flt,
            limit=k,
            with_payload=["contextId"],
        )
        return [(str((p.payload or {})["contextId"]), float(p.score)) for p in result.points]


def _base_payload(
    context_id: str, workspace_id: str, partition: str, tier: str, type_: str
) -> dict[str, Any]:
    return {
        "contextId": context_id,
        "workspaceId": workspace_id,
        "partition": partition,
        "tier": tier,
        "type": type_,
    }


class QdrantVectorIndex:
    """The dense half. Points it creates carry no `contentHash`, so a point whose lexical
    half never arrived shows up as drift in `reconcile`."""

    def __init__(self, collection: QdrantCollection) -> None:
        self.col = collection

    async def upsert(self, partition: str, items: Sequence[VectorItem]) -> None:
        for start in range(0, len(items), _PAGE):
            batch = items[start : start + _PAGE]
            have = await self.col.existing([it.id for it in batch])
            # An existing point gets its vector and the hash of the content it was
            # computed from, in one batch of operations.
            updates: list[qm.UpdateOperation] = []
            for it in batch:
                if it.id not in have:
                    continue
                pid = point_id(it.id)
                updates.append(
                    qm.UpdateVectorsOperation(
                        update_vectors=qm.UpdateVectors(
                            points=[qm.PointVectors(id=pid, vector={DENSE: _floats(it.vector)})]
                        )
                    )
                )
                updates.append(
                    qm.SetPayloadOperation(
                        set_payload=qm.SetPayload(
                            payload={DENSE_HASH: it.content_hash}, points=[pid]
                        )
                    )
                )
            if updates:
                await self.col.client.batch_update_points(self.col.name, updates, wait=True)
            fresh = [
                qm.PointStruct(
                    id=point_id(it.id),
                    vector={DENSE: _floats(it.vector)},
                    payload=_base_payload(
                        it.id, it.workspace_id, partition, str(it.tier), str(it.type)
                    )
                    | {DENSE_HASH: it.content_hash},
                )
                for it in batch
                if it.id not in have
            ]
            if fresh:
                await self.col.client.upsert(self.col.name, fresh, wait=True)

    async def delete(self, context_ids: Sequence[str]) -> None:
        # Only points still there: the lexical half usually deleted them already.
        have = await self.col.existing(context_ids)
        if have:
            await self.col.client.delete_vectors(
                self.col.name, [DENSE], [point_id(c) for c in have], wait=True
            )

    async def delete_workspace(self, workspace_id: str) -> None:
        await self.col.delete_workspace(workspace_id)

    async def fingerprints(self, workspace_id: str) -> dict[str, str]:
        flt = qm.Filter(
            must=[_match("workspaceId", workspace_id), qm.HasVectorCondition(has_vector=DENSE)]
        )
        rows = await self.col.scroll(flt, ["contextId", DENSE_HASH])
        return {str(p["contextId"]): str(p.get(DENSE_HASH) or "") for p in rows}

    async def search(
        self, partition: str, vector: NDArray[np.float32], k: int, filters: IndexFilter | None
    ) -> list[tuple[str, float]]:
        if vector.shape[0] != self.col.dimension:
            return []
        return await self.col.query(_floats(vector), DENSE, _filter(partition, filters), k)

    async def hybrid_search(
        self,
        partition: str,
        terms: Sequence[str],
        vector: NDArray[np.float32],
        asks: Sequence[tuple[int, IndexFilter | None]],
        lexical_weight: float,
    ) -> list[list[FusedHit]]:
        """Both lists and their fusion inside Qdrant, for each (k, filters) ask, in two
        round trips: the best score of each list under every ask (fusion normalises by
        the best over all asks, as the retriever does for the embedded indexes), then one
        batch of formula queries over the same two prefetches (top k of each list): the
        fused score, and each raw score for the score breakdown."""
        if vector.shape[0] != self.col.dimension:
            return [[] for _ in asks]
        filters = [_filter(partition, flt) for _, flt in asks]
        sources = [(qm.NearestQuery(nearest=_floats(vector)), DENSE)]
        if terms:
            sources.insert(0, (qm.NearestQuery(nearest=query_vector(terms)), LEXICAL))
        tops = await self.col.client.query_batch_points(
            self.col.name,
            [
                qm.QueryRequest(query=q, using=using, filter=flt, limit=1)
                for flt in filters
                for q, using in sources
            ],
        )
        best = [max((p.score for p in r.points), default=0.0) for r in tops]
        width = len(sources)
        lexical_best = max(best[0::width]) if terms else 0.0
        dense_best = max(best[width - 1 :: width])
        # `$score[i]` is the score in prefetch i (0 when the point is not in that list).
        lexical_var = "$score[0]" if terms else None
        dense_var = f"$score[{width - 1}]"
        parts: list[qm.Expression] = []
        if lexical_var and lexical_best > 0:
            parts.append(qm.MultExpression(mult=[lexical_weight / lexical_best, lexical_var]))
        if dense_best > 0:
            positive = qm.MaxExpression(max=[dense_var, 0.0])
            parts.append(qm.MultExpression(mult=[(1 - lexical_weight) / dense_best, positive]))
        formulas: list[qm.Expression] = [qm.SumExpression(sum=[*parts, 0.0]), dense_var]
        if lexical_var:
            formulas.append(lexical_var)
        defaults = {f"$score[{i}]": 0.0 for i in range(width)}
        requests = [
            qm.QueryRequest(
                prefetch=[
                    qm.Prefetch(query=q, using=using, filter=flt, limit=k) for q, using in sources
                ],
                query=qm.FormulaQuery(formula=formula, defaults=defaults),
                limit=k * width,
                with_payload=["contextId"],
            )
            for (k, _), flt in zip(asks, filters, strict=True)
            for formula in formulas
        ]
        responses = await self.col.client.query_batch_points(self.col.name, requests)
        scores = [
            {str((p.payload or {})["contextId"]): float(p.score) for p in r.points}
            for r in responses
        ]
        found: list[list[FusedHit]] = []
        for at in range(0, len(scores), len(formulas)):
            fused, dense, *lexical = scores[at : at + len(formulas)]
            lexical_scores = lexical[0] if lexical else {}
            found.append(
                [
                    FusedHit(cid, lexical_scores.get(cid, 0.0), dense.get(cid, 0.0), score)
                    for cid, score in fused.items()
                ]
            )
        return found


def _floats(vector: NDArray[np.float32]) -> list[float]:
    return [float(x) for x in np.asarray(vector, dtype=np.float32)]


class QdrantLexicalIndex:
    """The sparse half, and the payload entity look-ups and reconcile read."""

    def __init__(self, collection: QdrantCollection, avg_doc_terms: float = AVG_DOC_TERMS) -> None:
        self.col = collection
        self.avg_doc_terms = avg_doc_terms

    async def upsert(self, partition: str, docs: Sequence[LexicalDoc]) -> None:
        for start in range(0, len(docs), _PAGE):
            batch = docs[start : start + _PAGE]
            # Keep a dense vector already there (same id): upsert replaces whole points.
            previous = await self.col.client.retrieve(
                self.col.name,
                [point_id(d.id) for d in batch],
                with_payload=["contextId", DENSE_HASH],
                with_vectors=[DENSE],
            )
            dense = {
                str((p.payload or {})["contextId"]): (
                    p.vector[DENSE],
                    str((p.payload or {}).get(DENSE_HASH) or ""),
                )
                for p in previous
                if isinstance(p.vector, dict) and DENSE in p.vector
            }
            points = []
            for d in batch:
                payload = _base_payload(d.id, d.workspace_id, partition, str(d.tier), str(d.type))
                payload |= {
                    "path": d.path,
                    "rootedPath": _rooted(d.path) if d.path else None,
                    "pathSuffixes": path_suffixes(d.path) if d.path else [],
                    "symbolKeys": sorted(symbol_keys(d.symbol)),
                    "contentHash": d.content_hash,
                }
                vector: dict[str, Any] = {LEXICAL: doc_vector(d.terms, self.avg_doc_terms)}
                if d.id in dense:
                    vector[DENSE], payload[DENSE_HASH] = dense[d.id]
                points.append(qm.PointStruct(id=point_id(d.id), vector=vector, payload=payload))
            await self.col.client.upsert(self.col.name, points, wait=True)

    async def delete(self, context_ids: Sequence[str]) -> None:
        await self.col.delete_points(context_ids)

    async def delete_workspace(self, workspace_id: str) -> None:
        await self.col.delete_workspace(workspace_id)

    async def fingerprints(self, workspace_id: str) -> dict[str, str]:
        flt = qm.Filter(must=[_match("workspaceId", workspace_id)])
        rows = await self.col.scroll(flt, ["contextId", "contentHash"])
        return {str(r["contextId"]): str(r["contentHash"]) for r in rows if r.get("contentHash")}

    async def search(
        self, partition: str, terms: Sequence[str], k: int, filters: IndexFilter | None
    ) -> list[tuple[str, float]]:
        if not terms:
            return []
        hits = await self.col.query(query_vector(terms), LEXICAL, _filter(partition, filters), k)
        return [(cid, score) for cid, score in hits if score > 0]

    async def match_entities(
        self,
        partition: str,
        symbols: Sequence[str],
        paths: Sequence[str],
        filters: IndexFilter | None,
    ) -> dict[str, list[str]]:
        wanted = [(p, _rooted(p)) for p in paths if p.strip("/")]
        should: list[qm.Condition] = []
        if symbols:
            should.append(_any("symbolKeys", [s.lower() for s in symbols]))
        if wanted:
            should.append(_any("pathSuffixes", [suffix for _, suffix in wanted]))
            longer = sorted({s for _, suffix in wanted for s in path_suffixes(suffix)})
            should.append(_any("rootedPath", longer))
        if not should:
            return {}
        flt = _filter(partition, filters, qm.Filter(should=should))
        rows = await self.col.scroll(flt, ["contextId", "symbolKeys", "rootedPath"], _PAGE)
        found: dict[str, list[str]] = {}
        for row in rows:
            keys = set(row.get("symbolKeys") or [])
            names = [s for s in symbols if s.lower() in keys]
            rooted = row.get("rootedPath")
            if rooted:
                # Either may be the longer one: `models.py` names `pkg/models.py`, and a
                # trace's `/home/me/pkg/models.py` names it too.
                names += [
                    entity
                    for entity, suffix in wanted
                    if rooted.endswith(suffix) or suffix.endswith(rooted)
                ]
            if names:
                found[str(row["contextId"])] = names
        return found
