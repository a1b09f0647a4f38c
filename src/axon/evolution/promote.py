"""Promotion: a convention that recurs across workspaces becomes a global context.

Conventions and patterns (`pattern` contexts people wrote or exchanges taught) of
different workspaces are compared; a group of similar ones (similarity at least
`threshold`) spread over at least `min_workspaces` workspaces of one tenant becomes
one global context: the oldest member's text, `provenance` listing every member,
`metadata.promoted: true`. Global contexts reach every workspace's searches (of that
tenant). A group already covered by a global context (promoted, pinned or demoted
before) is left alone, so runs are idempotent.

People steer it: `pin` keeps a promoted context whatever its sources do; `demote`
closes it (it leaves search and is never promoted again: the demoted record stays as
the marker); `unpin` lets the job demote it again when its sources fall below the
minimum (superseded or deleted).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from axon.errors import InvalidInput
from axon.evolution.consolidate import provenance_of
from axon.evolution.similarity import matrix, usable
from axon.models import Context, ContextType, EvidenceSource, Tier, new_id, utcnow
from axon.ports import ContextFilter, DocumentStore, Embedder, SearchIndex

MAX_CANDIDATES = 2000  # conventions compared per run (one similarity matrix)


def is_promoted(context: Context) -> bool:
    return context.tier is Tier.GLOBAL and bool(context.metadata.get("promoted"))


class Promoter:
    def __init__(
        self,
        store: DocumentStore,
        search_index: SearchIndex,
        embedder: Embedder | None,
        threshold: float,
        min_workspaces: int,
    ) -> None:
        self.store = store
        self.search_index = search_index
        self.embedder = usable(embedder)
        self.threshold = threshold
        self.min_workspaces = min_workspaces

    async def run(self) -> dict[str, int]:
        """Promote recurring conventions and demote unpinned promotions whose sources
        fell below the minimum; returns the counts."""
        local: list[Context] = []
        promoted: list[Context] = []
        async for context in self.store.iter_contexts(ContextFilter(types=[ContextType.PATTERN])):
            if is_promoted(context):
                promoted.append(context)
            elif (
                context.tier is not Tier.GLOBAL
                and context.current
                and context.evidence.source is not EvidenceSource.INDEXED
                and len(local) < MAX_CANDIDATES
            ):
                local.append(context)
        demoted = await self._demote_orphans(promoted, {c.id for c in local})
        created = 0
        by_tenant: dict[str | None, list[Context]] = defaultdict(list)
        for context in local:
            by_tenant[context.tenant].append(context)
        for tenant, members in by_tenant.items():
            covered = {p.context_id for g in promoted if g.tenant == tenant for p in g.provenance}
            created += await self._promote([c for c in members if c.id not in covered], tenant)
        return {"promoted": created, "demoted": demoted}

    async def _promote(self, members: list[Context], tenant: str | None) -> int:
        if len({c.workspace_id for c in members}) < self.min_workspaces:
            return 0
        members.sort(key=lambda c: (c.created_at, c.id))
        similar = await matrix(self.embedder, [c.content for c in members])
        taken: set[int] = set()
        created: list[Context] = []
        for i, first in enumerate(members):
            if i in taken:
                continue
            group = [
                j for j in np.flatnonzero(similar[i] >= self.threshold).tolist() if j not in taken
            ]
            if len({members[j].workspace_id for j in group}) < self.min_workspaces:
                continue
            taken.update(group)
            provenance = [p for j in group for p in provenance_of(members[j])[:1]]
            created.append(
                first.model_copy(
                    update={
                        "id": new_id("glb"),
                        "tier": Tier.GLOBAL,
                        "tenant": tenant,
                        "provenance": provenance,
                        "metadata": {"promoted": True, "pinned": False},
                        "supersedes": [],
                        "links": [],
                        "usage_count": sum(members[j].usage_count for j in group),
                        "created_at": utcnow(),
                        "updated_at": utcnow(),
                        "valid_from": utcnow(),
                    }
                )
            )
        if created:
            await self.store.put_contexts(created)
            await self.search_index.index(created)
        return len(created)

    async def _demote_orphans(self, promoted: list[Context], live: set[str]) -> int:
        demoted = 0
        for context in promoted:
            if not context.current or context.metadata.get("pinned"):
                continue
            alive = sorted(p.context_id for p in context.provenance if p.context_id in live)
            sources = await self.store.get_contexts(alive)
            if len({c.workspace_id for c in sources}) < self.min_workspaces:
                await self.demote(context.id)
                demoted += 1
        return demoted

    async def _promoted(self, context_id: str) -> Context:
        context = await self.store.get_context(context_id)
        if context is None or not is_promoted(context):
            raise InvalidInput.field("id", f"'{context_id}' is not a promoted global context")
        return context

    async def pin(self, context_id: str, pinned: bool = True) -> Context:
        context = await self._promoted(context_id)
        updated = await self.store.update_context(
            context.id, {"metadata": {**context.metadata, "pinned": pinned}}
        )
        assert updated is not None
        return updated

    async def demote(self, context_id: str) -> Context:
        """Close a promoted context: out of search, kept as the marker that its group
        is not to be promoted again."""
        context = await self._promoted(context_id)
        changes = {"valid_to": utcnow(), "metadata": {**context.metadata, "demoted": True}}
        updated = await self.store.update_context(context.id, changes)
        assert updated is not None
        await self.search_index.index([updated])
        return updated
