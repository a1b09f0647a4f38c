"""Decay lowers unused knowledge in the ranking and deletes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx

from axon.models import Context, ContextType, Evidence, EvidenceSource, content_hash, utcnow
from axon.ports import ContextFilter, SearchRequest
from axon.retrieval.ranking import RankingWeights, freshness
from axon.services import Services
from tests.evolution.conftest import workspace


def note(cid: str, text: str, days_ago: float) -> Context:
    at = utcnow() - timedelta(days=days_ago)
    return Context(
        id=cid,
        workspace_id="proj",
        type=ContextType.DECISION,
        content=text,
        content_hash=content_hash(text),
        created_at=at,
        updated_at=at,
        evidence=Evidence.prior(EvidenceSource.MANUAL),
    )


async def test_unused_decisions_sink_but_stay(
    services: Services, client: httpx.AsyncClient
) -> None:
    await workspace(client)
    old = note("old", "Invoices are rounded half up to the cent.", days_ago=720)
    new = note("new", "Invoices are rounded half even to the cent.", days_ago=1)
    await services.store.put_contexts([old, new])
    await services.search_index.index([old, new])
    hits = await services.retriever.search(
        SearchRequest(query="how are invoices rounded", workspace_id="proj")
    )
    by_id = {h.context.id: h for h in hits}
    assert [h.context.id for h in hits] == ["new", "old"]
    # Two years at the decision half-life (180 days): 1/16 of its salience left.
    assert by_id["old"].breakdown.freshness < 0.07 < 0.99 < by_id["new"].breakdown.freshness
    assert await services.store.count_contexts(ContextFilter(workspace_id="proj")) == 2


async def test_indexed_code_does_not_decay_by_disuse(services: Services) -> None:
    """A source-backed context is as fresh as its content (the file's last change)."""
    old_code = note("code", "def round_invoice(total):\n    return total", days_ago=720)
    old_code = old_code.model_copy(update={"evidence": Evidence.prior(EvidenceSource.INDEXED)})
    weights = RankingWeights(half_life_days=10_000)
    assert freshness(old_code, utcnow(), weights) > 0.95
    old_note = note("n", "x", days_ago=720)
    assert freshness(old_note, utcnow(), weights) < 0.07
