"""Retention clean-up (`axon maintenance cleanup`); backups of the embedded store are
`axon.stores.sqlite_backup`.

Clean-up follows the runbook: contexts older than 90 days used fewer than 5
times, and interactions older than 30 days (all three numbers configurable). The
turns Axon remembered of a conversation (axon.evolution.conversation) go with the
interactions they came from: after 30 days, however often they were used.
Contexts leave the search index before the document store, so a crash in
between leaves stored-but-unindexed contexts that the next run deletes again,
never vectors pointing at nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from axon.config import Settings
from axon.evolution.conversation import CONVERSATION_SOURCE
from axon.models import ContextType, utcnow
from axon.ports import ContextFilter, DocumentStore, SearchIndex

_BATCH = 500


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    context_days: float
    context_min_usage: int
    interaction_days: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            settings.context_retention_days,
            settings.context_min_usage,
            settings.interaction_retention_days,
        )


@dataclass(frozen=True, slots=True)
class CleanupReport:
    contexts: int
    interactions: int
    dry_run: bool
    contexts_before: datetime
    interactions_before: datetime


async def cleanup(
    store: DocumentStore,
    index: SearchIndex,
    policy: RetentionPolicy,
    *,
    dry_run: bool,
    now: datetime | None = None,
) -> CleanupReport:
    now = now or utcnow()
    contexts_before = now - timedelta(days=policy.context_days)
    interactions_before = now - timedelta(days=policy.interaction_days)
    expired = await store.find_expired_contexts(contexts_before, policy.context_min_usage)
    expired = sorted({*expired, *await _expired_turns(store, interactions_before)})
    if dry_run:
        interactions = await store.count_interactions_before(interactions_before)
    else:
        for start in range(0, len(expired), _BATCH):
            batch = expired[start : start + _BATCH]
            await index.remove(batch)
            await store.delete_contexts(batch)
        interactions = await store.delete_interactions_before(interactions_before)
    return CleanupReport(len(expired), interactions, dry_run, contexts_before, interactions_before)


async def _expired_turns(store: DocumentStore, before: datetime) -> list[str]:
    turns = store.iter_contexts(ContextFilter(types=[ContextType.CONVERSATION]))
    return [
        c.id
        async for c in turns
        if c.metadata.get("source") == CONVERSATION_SOURCE and c.created_at < before
    ]
