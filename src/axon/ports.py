"""Ports: the small interfaces the core talks to.

Adapters live in `axon.stores` (and later packages); the core imports only
these Protocols. Every DocumentStore adapter passes tests/contract/.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from axon.kinds import TaskType
from axon.models import (
    ApiKey,
    Context,
    ContextType,
    Feedback,
    Interaction,
    Job,
    JobState,
    LlmUsage,
    LlmUsageDay,
    Page,
    Tier,
    Workspace,
)
from axon.security.principal import FULL_ACCESS, Principal


@dataclass(frozen=True, slots=True)
class ContextFilter:
    workspace_id: str | None = None
    tiers: Sequence[Tier] | None = None
    types: Sequence[ContextType] | None = None
    path: str | None = None
    # Memory of one conversation (axon.evolution.conversation): metadata.conversationId.
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class FileState:
    """What the indexer remembers about one indexed file."""

    path: str
    content_hash: str
    size: int
    mtime_ns: int
    context_count: int = -1  # contexts stored with the file when it was indexed; -1: unknown
    # The chunking rules the file was chunked under (indexing.chunking.CHUNKING_RULES);
    # 0: before versions were recorded. An older one makes the next run re-chunk it.
    rules_version: int = 0


class SymbolRole(StrEnum):
    DEFINITION = "definition"
    REFERENCE = "reference"


class CodeSymbol(NamedTuple):
    """One edge end of the code graph: a name defined or used at a line of a file (a
    tuple: indexing makes tens of thousands of them per thousand files)."""

    path: str
    name: str  # the plain name it is looked up by: `run` for `Flask.run`
    role: SymbolRole
    kind: str  # definitions: function, class, variable...; references: call, import...
    line: int
    # A definition's qualified name in its file (`Flask.run`); for a reference, the
    # definition it sits in (None: module level).
    scope: str | None
    target: str | None = None  # a reference's resolved dotted name (`pkg.mod.Flask.run`)


def first_symbols(files: Sequence[tuple[str, str]], name: str, limit: int) -> list[CodeSymbol]:
    """The symbols named `name` in stored files ((path, JSON list of the file's symbols
    without their path)), in the order `DocumentStore.find_symbols` promises."""
    found = [
        CodeSymbol(path, row[0], SymbolRole(row[1]), *row[2:])
        for path, stored in files
        for row in json.loads(stored)
        if row[0] == name
    ]
    found.sort(key=lambda s: (s.role is not SymbolRole.DEFINITION, s.path, s.line))
    return found[:limit]


class DocumentStore(Protocol):
    """Workspaces, contexts, interactions, feedback, jobs and indexed-file state.

    Writes that touch several records (deleting a workspace, replacing a file's
    contexts) are atomic: readers see the old state or the new one.
    """

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...

    # workspaces
    async def create_workspace(self, workspace: Workspace) -> Workspace: ...
    async def get_workspace(self, workspace_id: str) -> Workspace | None: ...
    async def list_workspaces(self, limit: int, cursor: str | None = None) -> Page[Workspace]: ...
    async def update_workspace(
        self, workspace_id: str, changes: dict[str, Any]
    ) -> Workspace | None: ...
    async def delete_workspace(self, workspace_id: str) -> bool: ...

    # contexts
    async def put_contexts(self, contexts: Sequence[Context]) -> None: ...
    async def get_context(self, context_id: str) -> Context | None: ...
    async def get_contexts(self, context_ids: Sequence[str]) -> list[Context]: ...
    async def list_contexts(
        self, flt: ContextFilter, limit: int, cursor: str | None = None
    ) -> Page[Context]: ...
    def iter_contexts(
        self, flt: ContextFilter, batch_size: int = 1000
    ) -> AsyncIterator[Context]: ...
    async def count_contexts(self, flt: ContextFilter) -> int: ...
    async def update_context(self, context_id: str, changes: dict[str, Any]) -> Context | None: ...
    async def delete_contexts(self, context_ids: Sequence[str]) -> int: ...
    async def record_usage(self, uses: Mapping[str, int]) -> None:
        """Add each count to its context's usageCount; unknown ids are ignored."""
        ...

    async def add_evidence(
        self,
        context_ids: Sequence[str],
        helpful: float,
        unhelpful: float,
        confirmed_at: datetime | None = None,
    ) -> None:
        """Add `helpful` to each context's evidence alpha and `unhelpful` to its beta (one
        more vote), and set `confidence` to the new mean, atomically per context. With
        `confirmed_at` it is also a confirmation: `confirmedAt` is set, `stale` cleared.
        Unknown ids are ignored (axon.evolution.confidence decides the weights)."""
        ...

    async def find_expired_contexts(
        self, created_before: datetime, usage_below: int
    ) -> list[str]: ...

    # indexed files: replacing a file's contexts is one atomic step
    async def get_file_states(self, workspace_id: str) -> dict[str, FileState]: ...
    async def context_counts(self, workspace_id: str) -> dict[str, int]:
        """Workspace-tier contexts per path now. Retention clean-up (ours or the
        runbook's direct deletes) may leave an indexed file with fewer than it had."""
        ...

    async def replace_file(
        self,
        workspace_id: str,
        state: FileState,
        contexts: Sequence[Context],
        symbols: Sequence[CodeSymbol] | None = None,
    ) -> list[str]:
        """Store `contexts` as the file's contexts, and `symbols` (unless None: keep
        them) as its part of the code graph; return the context ids replaced."""
        ...

    async def remove_file(self, workspace_id: str, path: str) -> list[str]:
        """Forget the file, its contexts and its symbols; return the removed context ids."""
        ...

    async def find_symbols(self, workspace_id: str, name: str, limit: int) -> list[CodeSymbol]:
        """Up to `limit` symbols named `name`: definitions first, then by path and line."""
        ...

    async def workspace_symbols(self, workspace_id: str) -> list[tuple[str, str]]:
        """The whole code graph of a workspace: (path, JSON list of the file's symbols
        without their path) per file, as `first_symbols` reads them."""
        ...

    # interactions and feedback
    async def add_interaction(self, interaction: Interaction) -> None: ...
    async def get_interaction(self, interaction_id: str) -> Interaction | None: ...
    async def list_interactions(
        self, workspace_id: str | None, limit: int, cursor: str | None = None
    ) -> Page[Interaction]: ...
    async def delete_interactions_before(self, before: datetime) -> int: ...
    async def count_interactions_before(self, before: datetime) -> int: ...
    async def add_feedback(self, feedback: Feedback) -> None: ...

    # jobs
    async def create_job(self, job: Job) -> None: ...
    async def get_job(self, job_id: str) -> Job | None: ...
    async def update_job(self, job_id: str, changes: dict[str, Any]) -> Job | None: ...
    async def list_jobs(
        self, state: JobState | None, limit: int, cursor: str | None = None
    ) -> Page[Job]: ...
    async def count_jobs(self) -> dict[JobState, int]:
        """Number of jobs in each state (states without jobs may be absent)."""
        ...

    # API keys: only the sha256 of a key is stored, never the key itself
    async def create_api_key(self, key: ApiKey) -> None: ...
    async def get_api_key(self, key_id: str) -> ApiKey | None: ...
    async def list_api_keys(self, limit: int, cursor: str | None = None) -> Page[ApiKey]: ...
    async def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey | None:
        """Set `revoked_at` (kept if already revoked); None when the key does not exist."""
        ...

    # LLM usage totals per (workspace, API key, provider, model)
    async def add_llm_usage(self, usage: LlmUsage) -> None:
        """Add every counter of `usage` to the stored totals atomically (creating them)."""
        ...

    async def list_llm_usage(
        self, workspace_id: str | None = None, api_key_id: str | None = None
    ) -> list[LlmUsage]:
        """Totals of one workspace and/or API key, or of all (unattributed ones included),
        ordered by workspace, provider, model and key."""
        ...

    async def list_llm_usage_days(
        self, since: date, workspace_id: str | None = None, api_key_id: str | None = None
    ) -> list[LlmUsageDay]:
        """The same totals per UTC day from `since` on (`add_llm_usage` counts each
        increment on its `updated_at` day), ordered by day, then as `list_llm_usage`."""
        ...


# -- retrieval -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchRequest:
    query: str
    workspace_id: str
    tiers: Sequence[Tier] | None = None  # None: workspace, hybrid and global, in that order
    types: Sequence[ContextType] | None = None
    limit: int = 10
    filters: dict[str, Any] | None = None  # e.g. {"pathPrefix": "src/", "language": "python"}
    # Besides the `limit` best hits of any type, up to `reserve_limit` more of
    # `reserve_types` ranked in the same pass (the pipeline keeps room for docs,
    # architecture and errors, which code outscores in a plain search).
    reserve_types: Sequence[ContextType] | None = None
    reserve_limit: int = 0
    # The workspace's record when the caller has just read it (the pipeline's
    # collector): saves the retriever a second look-up. Ignored if another id.
    workspace: Workspace | None = None
    # Who asks: the workspace must be theirs, and relatives' hybrid and tenants'
    # global contexts are searched only as far as they may see them.
    principal: Principal = FULL_ACCESS
    # The task the prompt analyzer found, if any: with the query's own shape it decides
    # how much tests, docs and examples count next to the implementation.
    task_type: TaskType | None = None
    # Superseded contexts (no longer valid) are left out unless asked for.
    include_superseded: bool = False


@dataclass(frozen=True, slots=True)
class ScoreBreakdown:
    lexical: float = 0.0
    dense: float = 0.0
    boosts: float = 0.0
    freshness: float = 0.0
    usage: float = 0.0
    confidence: float = 0.0
    final: float = 0.0
    role: float = 1.0  # the factor the context's role got for the query's intent
    graph: float = 0.0  # relevance from the code graph's walk from the query's symbols
    change: float = 0.0  # relevance from its file's change frequency (git history)
    cochange: float = 0.0  # relevance from changing with the best hits' files (git history)


@dataclass(frozen=True, slots=True)
class SearchHit:
    context: Context
    score: float
    breakdown: ScoreBreakdown
    matched_entities: tuple[str, ...] = ()


class Retriever(Protocol):
    """Ranked, tiered, de-duplicated context search (implemented in axon.retrieval)."""

    async def search(self, request: SearchRequest) -> list[SearchHit]: ...


@dataclass(frozen=True, slots=True)
class EmbeddingStatus:
    """How many of a workspace's indexed contexts have their vector (`done`) and how many
    wait for it (`pending`: no vector, or one computed from older content)."""

    done: int = 0
    pending: int = 0

    def dump(self) -> dict[str, int]:
        return {"done": self.done, "pending": self.pending, "total": self.done + self.pending}


EmbeddingProgressFn = Callable[[str, EmbeddingStatus], Awaitable[None]]


class SearchIndex(Protocol):
    """Keeps the lexical and vector indexes in step with the document store.

    `index` writes the lexical rows and, unless `embed=False`, the vectors. The indexer
    passes `embed=False`: its contexts are searchable lexically at once and wait for their
    vectors, which `complete_embeddings` computes later. What waits is not a separate
    queue but the difference between the lexical rows and the vectors (by content hash),
    so it survives any crash. Every write is an idempotent upsert by id.
    """

    # The latest embedding status of each workspace this process embedded (for /health).
    progress: dict[str, EmbeddingStatus]

    async def index(self, contexts: Sequence[Context], *, embed: bool = True) -> None: ...
    async def remove(self, context_ids: Sequence[str]) -> None: ...
    async def remove_workspace(self, workspace_id: str) -> None: ...
    async def embedding_status(self, workspace_id: str) -> EmbeddingStatus: ...
    async def complete_embeddings(
        self, workspace_id: str, progress: EmbeddingProgressFn | None = None
    ) -> EmbeddingStatus:
        """Embed every context of the workspace that waits for its vector; returns the
        status at the end (`pending` > 0 only for contexts the store no longer agrees
        with, which the next index run or `reconcile` repairs)."""
        ...

    async def reconcile(
        self, workspace_id: str, *, dry_run: bool = False, embed: bool = True
    ) -> dict[str, int]:
        """Compare the store's ids and hashes with the index and fix any drift (or only
        count it; `embed=False` leaves missing vectors to `complete_embeddings`); returns
        counts (`indexed`, `removed`, `unchanged`, `vectorsMissing`)."""
        ...


class Embedder(Protocol):
    """Text to unit-length vectors. `dimension` is 0 for the lexical-only `none` embedder."""

    name: str
    dimension: int

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Shape (len(texts), dimension), rows L2-normalised."""
        ...


# A partition is the unit an index searches: a workspace id for workspace-tier contexts,
# `hybrid:<workspace id>` and `global` for the shared tiers (axon.retrieval.partition_of).


@dataclass(frozen=True, slots=True)
class IndexFilter:
    tiers: Sequence[Tier] | None = None
    types: Sequence[ContextType] | None = None


@dataclass(frozen=True, slots=True)
class VectorItem:
    id: str
    workspace_id: str
    tier: Tier
    type: ContextType
    vector: NDArray[np.float32]  # L2-normalised
    # The content hash of the context this vector was computed from: a vector whose hash
    # differs from the lexical row's is stale, and the context waits for its embedding.
    content_hash: str = ""


class VectorIndex(Protocol):
    """Dense vectors by context id; `search` is cosine similarity, best first."""

    async def upsert(self, partition: str, items: Sequence[VectorItem]) -> None: ...
    async def delete(self, context_ids: Sequence[str]) -> None: ...
    async def delete_workspace(self, workspace_id: str) -> None: ...
    async def fingerprints(self, workspace_id: str) -> dict[str, str]:
        """Context id -> content hash its vector was computed from ("" if unknown)."""
        ...

    async def search(
        self, partition: str, vector: NDArray[np.float32], k: int, filters: IndexFilter | None
    ) -> list[tuple[str, float]]: ...


@dataclass(frozen=True, slots=True)
class FusedHit:
    """One candidate of a hybrid search: raw list scores (0 when absent from a list) and
    their fusion, `w * lexical / best lexical + (1 - w) * max(dense, 0) / best dense`."""

    id: str
    lexical: float
    dense: float
    fused: float


@runtime_checkable
class HybridSearch(Protocol):
    """A vector index that also holds the lexical vectors and fuses both lists itself
    (Qdrant: prefetch + formula). Same candidates and fusion as the retriever's own."""

    async def hybrid_search(
        self,
        partition: str,
        terms: Sequence[str],
        vector: NDArray[np.float32],
        asks: Sequence[tuple[int, IndexFilter | None]],
        lexical_weight: float,
    ) -> list[list[FusedHit]]:
        """The fused top k under each (k, filters), every list normalised by its best
        score over all asks."""
        ...


@dataclass(frozen=True, slots=True)
class LexicalDoc:
    id: str
    workspace_id: str
    tier: Tier
    type: ContextType
    path: str | None
    symbol: str | None
    content_hash: str
    terms: dict[str, int]  # code-aware token -> count (axon.retrieval.tokenize)


class LexicalIndex(Protocol):
    """BM25 over code-aware terms, plus exact symbol and path look-ups for entity boosts."""

    async def upsert(self, partition: str, docs: Sequence[LexicalDoc]) -> None: ...
    async def delete(self, context_ids: Sequence[str]) -> None: ...
    async def delete_workspace(self, workspace_id: str) -> None: ...
    async def fingerprints(self, workspace_id: str) -> dict[str, str]:
        """Context id -> content hash of everything indexed for the workspace."""
        ...

    async def search(
        self, partition: str, terms: Sequence[str], k: int, filters: IndexFilter | None
    ) -> list[tuple[str, float]]: ...
    async def match_entities(
        self,
        partition: str,
        symbols: Sequence[str],
        paths: Sequence[str],
        filters: IndexFilter | None,
    ) -> dict[str, list[str]]:
        """Context id -> the entities it defines: symbol name equal (case-insensitive,
        last dotted part too) or path equal / ending with the given path."""
        ...


# -- cache -------------------------------------------------------------------


class Cache(Protocol):
    """Key/value cache with per-entry TTL. Keys are namespaced by `kind`."""

    async def get(self, kind: str, key: str) -> bytes | None: ...
    async def set(self, kind: str, key: str, value: bytes, ttl_seconds: float) -> None: ...
    async def delete(self, kind: str, key: str) -> None: ...


# -- rate limiting -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: float  # seconds until the current window ends (Retry-After when refused)


class RateLimiter(Protocol):
    """Request counters per key, shared by every replica that uses the same adapter.

    `hit` counts one request against `key` and allows it while at most `limit`
    requests fell within the last `window_seconds`. The in-process adapter uses
    fixed windows (cheap, per process); the Redis adapter slides the window so
    replicas share one exact count. Keys are opaque (callers build e.g.
    "ip:1.2.3.4"); the Redis adapter stores them under `axon:rl:`.
    """

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision: ...
    async def close(self) -> None: ...
