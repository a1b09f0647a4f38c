"""SearchIndex: keeps the lexical and vector indexes in step with the document store."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Sequence

from axon.embeddings.pieces import DOCUMENT_PIECES, SCAN_CHARS_PER_PIECE, cut_to_pieces
from axon.models import Context
from axon.ports import (
    ContextFilter,
    DocumentStore,
    Embedder,
    EmbeddingProgressFn,
    EmbeddingStatus,
    LexicalDoc,
    LexicalIndex,
    VectorIndex,
    VectorItem,
)
from axon.retrieval.partitions import partition_of
from axon.retrieval.tokenize import tokenize


def lexical_terms(context: Context) -> dict[str, int]:
    """Content terms plus the path, symbol and title, which say what the chunk is about."""
    counts = Counter(tokenize(context.content))
    header = " ".join(filter(None, [context.path, context.symbol, context.title]))
    counts.update(tokenize(header))
    if context.symbol:
        counts.update(tokenize(context.symbol))  # a definition's own name counts double
    return dict(counts)


def lexical_docs(contexts: Sequence[Context]) -> list[LexicalDoc]:
    return [
        LexicalDoc(
            id=c.id,
            workspace_id=c.workspace_id,
            tier=c.tier,
            type=c.type,
            path=c.path,
            symbol=c.symbol,
            content_hash=c.content_hash,
            terms=lexical_terms(c),
        )
        for c in contexts
    ]


def _has_words(line: str) -> bool:
    return any(ch.isalnum() for ch in line)


def _embedding_source(context: Context) -> str:
    """Where the text lives and what it defines, then the text itself without lines
    that hold no word (closing brackets, rules): they cost pieces and say nothing."""
    header = " ".join(filter(None, [context.path, context.symbol])) or context.title or ""
    start = context.content[: DOCUMENT_PIECES * SCAN_CHARS_PER_PIECE]
    body = "\n".join(line for line in start.splitlines() if _has_words(line))
    return f"{header}\n{body}" if header else body


def embedding_texts(contexts: Sequence[Context]) -> list[str]:
    """What indexing embeds: each context's header and start, cut at DOCUMENT_PIECES
    word pieces (for code: the signature, docstring and first lines)."""
    return cut_to_pieces([_embedding_source(c) for c in contexts], DOCUMENT_PIECES)


EMBED_BATCH = 128  # contexts read, embedded and written per step of complete_embeddings


class HybridSearchIndex:
    """Writes every context to the lexical index and, with an embedder, the vector index.

    Both writes are idempotent upserts keyed by context id, so repeating them after a
    crash is safe. Contexts indexed with `embed=False` are searchable lexically at once;
    `complete_embeddings` gives them their vectors later. Which contexts wait is always
    derived from the two indexes (a lexical row without a vector of the same content
    hash), so no crash can lose that work; `reconcile` also repairs drift from the store.
    """

    def __init__(
        self,
        store: DocumentStore,
        lexical: LexicalIndex,
        vectors: VectorIndex,
        embedder: Embedder | None,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.vectors = vectors
        self.embedder = embedder if embedder is not None and embedder.dimension > 0 else None
        # One embedding pass per workspace at a time in this process (a scan's follow-up
        # and a start-up backfill would otherwise embed the same contexts twice).
        self._embedding: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # The latest status each pass of this process saw, for /health.
        self.progress: dict[str, EmbeddingStatus] = {}

    async def index(self, contexts: Sequence[Context], *, embed: bool = True) -> None:
        by_partition: dict[str, list[Context]] = defaultdict(list)
        for context in contexts:
            by_partition[partition_of(context)].append(context)
        for partition, group in by_partition.items():
            # Tokenising is pure CPU work: off the event loop, requests keep being served.
            docs = await asyncio.to_thread(lexical_docs, group)
            await self.lexical.upsert(partition, docs)
            if embed and self.embedder is not None:
                await self._embed(partition, group)

    async def _embed(self, partition: str, group: Sequence[Context]) -> None:
        assert self.embedder is not None
        texts = await asyncio.to_thread(embedding_texts, group)
        vectors = await self.embedder.embed(texts)
        await self.vectors.upsert(
            partition,
            [
                VectorItem(c.id, c.workspace_id, c.tier, c.type, vec, c.content_hash)
                for c, vec in zip(group, vectors, strict=True)
            ],
        )

    async def remove(self, context_ids: Sequence[str]) -> None:
        await self.lexical.delete(context_ids)
        await self.vectors.delete(context_ids)

    async def remove_workspace(self, workspace_id: str) -> None:
        await self.lexical.delete_workspace(workspace_id)
        await self.vectors.delete_workspace(workspace_id)
        self.progress.pop(workspace_id, None)

    async def _waiting(self, workspace_id: str) -> tuple[dict[str, str], list[str]]:
        """(lexical fingerprints, ids whose vector is missing or stale)."""
        indexed = await self.lexical.fingerprints(workspace_id)
        if self.embedder is None:
            return indexed, []
        vectors = await self.vectors.fingerprints(workspace_id)
        return indexed, sorted(cid for cid, h in indexed.items() if vectors.get(cid) != h)

    async def embedding_status(self, workspace_id: str) -> EmbeddingStatus:
        if self.embedder is None:  # lexical-only: no vector is ever waited for
            return EmbeddingStatus()
        indexed, waiting = await self._waiting(workspace_id)
        return EmbeddingStatus(done=len(indexed) - len(waiting), pending=len(waiting))

    async def complete_embeddings(
        self, workspace_id: str, progress: EmbeddingProgressFn | None = None
    ) -> EmbeddingStatus:
        if self.embedder is None:
            return EmbeddingStatus()
        async with self._embedding[workspace_id]:
            while True:
                indexed, waiting = await self._waiting(workspace_id)
                status = EmbeddingStatus(len(indexed) - len(waiting), len(waiting))
                await self._report(workspace_id, status, progress)
                if not waiting:
                    return status
                embedded = 0
                for start in range(0, len(waiting), EMBED_BATCH):
                    ids = waiting[start : start + EMBED_BATCH]
                    # Only what the store agrees with: a lexical row ahead of the store
                    # (a crash between the two writes) is the next index run's to redo.
                    fresh = [
                        c
                        for c in await self.store.get_contexts(ids)
                        if indexed.get(c.id) == c.content_hash
                    ]
                    by_partition: dict[str, list[Context]] = defaultdict(list)
                    for context in fresh:
                        by_partition[partition_of(context)].append(context)
                    for partition, group in by_partition.items():
                        await self._embed(partition, group)
                    embedded += len(fresh)
                    status = EmbeddingStatus(status.done + len(fresh), status.pending - len(fresh))
                    await self._report(workspace_id, status, progress)
                if embedded == 0:
                    return status  # nothing the store agrees with: leave it to reconcile

    async def _report(
        self, workspace_id: str, status: EmbeddingStatus, progress: EmbeddingProgressFn | None
    ) -> None:
        self.progress[workspace_id] = status
        if progress is not None:
            await progress(workspace_id, status)

    async def reconcile(
        self, workspace_id: str, *, dry_run: bool = False, embed: bool = True
    ) -> dict[str, int]:
        indexed = await self.lexical.fingerprints(workspace_id)
        vectors = await self.vectors.fingerprints(workspace_id) if self.embedder else {}
        stale: list[Context] = []
        seen: set[str] = set()
        vectors_missing = 0
        async for context in self.store.iter_contexts(ContextFilter(workspace_id=workspace_id)):
            seen.add(context.id)
            missing_vector = (
                self.embedder is not None and vectors.get(context.id) != context.content_hash
            )
            vectors_missing += missing_vector
            if indexed.get(context.id) != context.content_hash or missing_vector:
                stale.append(context)
        orphans = [cid for cid in (set(indexed) | set(vectors)) if cid not in seen]
        if not dry_run:
            if orphans:
                await self.remove(orphans)
            for start in range(0, len(stale), 500):
                await self.index(stale[start : start + 500], embed=embed)
        return {
            "indexed": len(stale),
            "removed": len(orphans),
            "unchanged": len(seen) - len(stale),
            "vectorsMissing": vectors_missing,
        }
