"""Votes move confidence the right way, by bounded amounts, on either store."""

from __future__ import annotations

import pytest

from axon.evolution.confidence import CONFIRM_WEIGHT, confirm, vote_weights
from axon.models import Context, ContextType, Evidence, EvidenceSource, content_hash
from axon.pipeline.feedback import vote_on_contexts
from axon.services import Services


def indexed(cid: str, source: EvidenceSource | None = None) -> Context:
    text = f"def {cid}():\n    return 1\n"
    return Context(
        id=cid,
        workspace_id="ws",
        type=ContextType.SYMBOL,
        path="a.py",
        content=text,
        content_hash=content_hash(text),
        **({"evidence": Evidence.prior(source)} if source else {}),
    )


async def test_a_helpful_vote_never_lowers_even_a_fresh_indexed_context(
    services: Services,
) -> None:
    fresh = indexed("fresh")
    assert fresh.evidence.source is EvidenceSource.INDEXED
    await services.store.put_contexts([fresh])
    before = fresh.confidence
    for _ in range(3):
        after = (await vote_on_contexts(services.store, ["fresh"], 1.0))["fresh"]
        assert after > before  # the old rule pulled 1.0 down to its 0.99 ceiling
        before = after


async def test_one_vote_is_bounded_and_unhelpful_lowers(services: Services) -> None:
    captured = indexed("cap", EvidenceSource.CAPTURED)
    await services.store.put_contexts([captured])
    prior = captured.evidence
    down = (await vote_on_contexts(services.store, ["cap"], 0.0))["cap"]
    assert prior.mean - down == pytest.approx(prior.mean / (prior.strength + 1), abs=1e-4)
    assert prior.mean - down <= 1 / (prior.strength + 1)
    neutral = (await vote_on_contexts(services.store, ["cap"], 0.5))["cap"]  # three stars
    assert neutral == down
    stored = await services.store.get_context("cap")
    assert stored is not None and stored.evidence.votes == 1 and stored.usage_count == 2


async def test_captured_knowledge_rises_when_confirmed(services: Services) -> None:
    ctx = indexed("guess", EvidenceSource.CAPTURED)
    await services.store.put_contexts([ctx])
    assert ctx.confidence == pytest.approx(0.3)
    [confirmed] = await confirm(services.store, ["guess"])
    strength = ctx.evidence.strength
    assert confirmed.confidence == pytest.approx((0.3 * strength + CONFIRM_WEIGHT) / (strength + 2))
    assert confirmed.evidence.confirmed_at is not None


def test_vote_weights() -> None:
    assert vote_weights(1.0) == (1.0, 0.0) and vote_weights(0.0) == (0.0, 1.0)
    assert vote_weights(0.75) == (0.5, 0.0) and vote_weights(0.5) == (0.0, 0.0)
    assert vote_weights(7.0) == (1.0, 0.0)  # clamped
