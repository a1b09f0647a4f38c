"""Consolidation: near-duplicate memories of a workspace become one.

Two captured or hand-written contexts of the same kind, tier and workspace merge when their
texts are near-identical (similarity at least `threshold`, `evolution.similarity`)
and no stated subjects differ. The survivor (the older one) keeps its id and text and
gains the other's provenance (its id, original text, interaction and source, plus
whatever it had merged before), usage count and evidence (its votes, plus one helpful
observation for being stated again); the other is removed from the store and the
index. The survivor is written first, so a crash in between leaves a duplicate whose
provenance the next run does not add twice.

Runs when something is captured (`absorb`) and as a job over a workspace (`run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from axon.evolution.similarity import matrix, similarities, usable
from axon.evolution.supersede import normalise_subject
from axon.models import Context, ContextType, EvidenceSource, Provenance, Tier
from axon.ports import ContextFilter, DocumentStore, Embedder, Retriever, SearchIndex, SearchRequest

KINDS = (ContextType.DECISION, ContextType.PATTERN, ContextType.NOTE)
RESTATED_WEIGHT = 1.0  # helpful evidence of a statement made again
CANDIDATES = 5
MAX_PER_RUN = 2000  # memories compared per workspace and job run (one similarity matrix)


@dataclass(frozen=True, slots=True)
class Merge:
    survivor: str
    merged: list[str]


def mergeable(a: Context, b: Context) -> bool:
    if a.type is not b.type or a.workspace_id != b.workspace_id or a.id == b.id:
        return False
    if a.tier is not b.tier:  # a promoted global copy is not a duplicate of its source
        return False
    if EvidenceSource.INDEXED in (a.evidence.source, b.evidence.source):
        return False
    if not (a.current and b.current):
        return False
    stated = a.subject and b.subject
    return not stated or normalise_subject(a.subject or "") == normalise_subject(b.subject or "")


def provenance_of(context: Context) -> list[Provenance]:
    own = Provenance(
        context_id=context.id,
        text=context.content,
        interaction_id=context.metadata.get("interactionId"),
        source=context.evidence.source,
        created_at=context.created_at,
    )
    return [own, *context.provenance]


class Consolidator:
    def __init__(
        self,
        store: DocumentStore,
        search_index: SearchIndex,
        retriever: Retriever,
        embedder: Embedder | None,
        threshold: float,
    ) -> None:
        self.store = store
        self.search_index = search_index
        self.retriever = retriever
        self.embedder = usable(embedder)
        self.threshold = threshold

    async def twin(self, new: Context) -> Context | None:
        """A stored memory `new` (not stored yet) would merge into, if any."""
        if new.type not in KINDS:
            return None
        hits = await self.retriever.search(
            SearchRequest(
                query=new.content,
                workspace_id=new.workspace_id,
                tiers=[Tier.WORKSPACE, Tier.HYBRID],
                types=[new.type],
                limit=CANDIDATES,
            )
        )
        candidates = [h.context for h in hits if mergeable(h.context, new)]
        scores = await similarities(self.embedder, new.content, [c.content for c in candidates])
        best = max(zip(scores, candidates, strict=True), default=None, key=lambda p: p[0])
        return best[1] if best is not None and best[0] >= self.threshold else None

    async def merge(self, survivor: Context, others: Sequence[Context]) -> Context:
        """Fold `others` into `survivor` (stored or not), then remove the stored others."""
        known = {p.context_id for p in survivor.provenance} | {survivor.id}
        provenance = list(survivor.provenance)
        if not provenance:
            provenance = provenance_of(survivor)[:1]
        alpha, beta = survivor.evidence.alpha, survivor.evidence.beta
        helpful, unhelpful = survivor.evidence.helpful, survivor.evidence.unhelpful
        votes, usage = survivor.evidence.votes, survivor.usage_count
        for other in others:
            fresh = [p for p in provenance_of(other) if p.context_id not in known]
            if not fresh:
                continue  # merged before (a run interrupted after writing the survivor)
            known.update(p.context_id for p in fresh)
            provenance += fresh
            alpha += other.evidence.helpful + RESTATED_WEIGHT
            beta += other.evidence.unhelpful
            helpful += other.evidence.helpful + RESTATED_WEIGHT
            unhelpful += other.evidence.unhelpful
            votes += other.evidence.votes
            usage += other.usage_count
        evidence = survivor.evidence.model_copy(
            update={
                "alpha": alpha,
                "beta": beta,
                "helpful": helpful,
                "unhelpful": unhelpful,
                "votes": votes,
            }
        )
        merged = survivor.model_copy(
            update={
                "provenance": provenance,
                "evidence": evidence,
                "confidence": evidence.mean,
                "usage_count": usage,
            }
        )
        await self.store.put_contexts([merged])
        await self.search_index.index([merged])
        gone = [o.id for o in others if o.id != survivor.id]
        if gone:
            await self.store.delete_contexts(gone)
            await self.search_index.remove(gone)
        return merged

    async def run(self, workspace_id: str) -> list[Merge]:
        """Merge every group of near-duplicate memories of the workspace (idempotent)."""
        merges: list[Merge] = []
        for kind in KINDS:
            flt = ContextFilter(workspace_id=workspace_id, types=[kind])
            memories: list[Context] = []
            async for context in self.store.iter_contexts(flt):
                if context.current and context.evidence.source is not EvidenceSource.INDEXED:
                    memories.append(context)
                if len(memories) >= MAX_PER_RUN:
                    break
            if len(memories) < 2:
                continue
            memories.sort(key=lambda c: (c.created_at, c.id))  # the oldest survives
            similar = await matrix(self.embedder, [c.content for c in memories])
            taken: set[int] = set()
            for i, survivor in enumerate(memories):
                if i in taken:
                    continue
                group = [
                    j
                    for j in np.flatnonzero(similar[i] >= self.threshold).tolist()
                    if j > i and j not in taken and mergeable(survivor, memories[j])
                ]
                if not group:
                    continue
                taken.update(group)
                await self.merge(survivor, [memories[j] for j in group])
                merges.append(Merge(survivor.id, [memories[j].id for j in group]))
        return merges
