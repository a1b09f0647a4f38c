"""The confidence model: a Beta posterior per context, moved by evidence.

Each context starts from its source's prior (`axon.models.PRIORS`: indexed code firm
and high, hand-written high, captured low and easily moved) and gathers evidence:

- a vote on a 0..1 scale is helpful above 0.5 (weight 2 x (s - 0.5)), unhelpful
  below (weight 2 x (0.5 - s)) and neutral at 0.5, so a helpful vote never lowers
  confidence and an unhelpful one always lowers it;
- one vote adds at most weight 1, so it moves the mean by at most 1 / (strength + 1)
  of the way to 0 or 1: with the weakest prior (4) by 0.2, a fresh indexed chunk by
  under 0.05, and less as evidence accumulates;
- a confirmation (`axon memory confirm`) is worth CONFIRM_WEIGHT helpful votes and
  clears a stale mark.

`Context.confidence` stays the posterior's mean (ranking and the stores' queries read
it); the store applies evidence atomically (`DocumentStore.add_evidence`).
"""

from __future__ import annotations

from collections.abc import Sequence

from axon.evolution import links
from axon.models import Context, Evidence, utcnow
from axon.ports import DocumentStore

CONFIRM_WEIGHT = 2.0


def vote_weights(signal: float) -> tuple[float, float]:
    """(helpful, unhelpful) evidence of one vote on a 0..1 scale (0.5 is neutral)."""
    signal = min(max(signal, 0.0), 1.0)
    if signal > 0.5:
        return 2 * (signal - 0.5), 0.0
    return 0.0, 2 * (0.5 - signal)


def updated(evidence: Evidence, helpful: float, unhelpful: float) -> Evidence:
    """The posterior after the evidence (what the store computes, for previews)."""
    return evidence.model_copy(
        update={
            "alpha": evidence.alpha + helpful,
            "beta": evidence.beta + unhelpful,
            "helpful": evidence.helpful + helpful,
            "unhelpful": evidence.unhelpful + unhelpful,
            "votes": evidence.votes + 1,
        }
    )


def recentred(evidence: Evidence, mean: float) -> Evidence:
    """The same strength around a confidence someone stated (a PATCH of `confidence`)."""
    mean = min(max(mean, 0.0), 1.0)
    strength = evidence.strength
    return evidence.model_copy(update={"alpha": mean * strength, "beta": (1 - mean) * strength})


async def vote(store: DocumentStore, context_ids: Sequence[str], signal: float) -> dict[str, float]:
    """Apply one vote to each context (also counted as a use); returns the new means."""
    contexts = await store.get_contexts(context_ids)
    ids = [c.id for c in contexts]
    if not ids:
        return {}
    await store.record_usage(dict.fromkeys(ids, 1))
    helpful, unhelpful = vote_weights(signal)
    if helpful or unhelpful:
        await store.add_evidence(ids, helpful, unhelpful)
    return await _confidences(store, ids)


async def confirm(store: DocumentStore, context_ids: Sequence[str]) -> list[Context]:
    """A person vouches for the contexts: strong helpful evidence, stale mark cleared,
    links to code re-based on the code as it is now."""
    found = [c.id for c in await store.get_contexts(context_ids)]
    if found:
        await store.add_evidence(found, CONFIRM_WEIGHT, 0.0, confirmed_at=utcnow())
    return await links.rebase(store, await store.get_contexts(found))


async def _confidences(store: DocumentStore, ids: Sequence[str]) -> dict[str, float]:
    return {c.id: round(c.confidence, 4) for c in await store.get_contexts(ids)}
