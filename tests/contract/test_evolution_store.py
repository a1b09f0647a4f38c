"""Evolution state every DocumentStore adapter keeps: evidence, validity, stale marks."""

from __future__ import annotations

import asyncio

import pytest

from axon.models import (
    PRIORS,
    Context,
    ContextType,
    Evidence,
    EvidenceSource,
    StaleMark,
    content_hash,
    utcnow,
)
from axon.ports import DocumentStore
from axon.stores.mongo import MongoDocumentStore
from axon.stores.sqlite import MIGRATIONS, SQLiteDocumentStore, _add_evidence
from tests.contract.conftest import RawWriter


def decision(cid: str, **kw: object) -> Context:
    text = f"We decided {cid}."
    return Context(
        id=cid,
        workspace_id="ws",
        type=ContextType.DECISION,
        content=text,
        content_hash=content_hash(text),
        **kw,
    )  # type: ignore[arg-type]


async def test_helpful_evidence_raises_and_unhelpful_lowers(store: DocumentStore) -> None:
    prior = Evidence.prior(EvidenceSource.CAPTURED)
    await store.put_contexts([decision("up", evidence=prior), decision("down", evidence=prior)])
    await store.add_evidence(["up"], 1.0, 0.0)
    await store.add_evidence(["down", "missing"], 0.0, 1.0)
    up, down = await store.get_contexts(["up", "down"])
    assert up.confidence == pytest.approx((prior.alpha + 1) / (prior.strength + 1))
    assert down.confidence == pytest.approx(prior.alpha / (prior.strength + 1))
    assert up.evidence.helpful == 1.0 and up.evidence.votes == 1
    assert down.evidence.unhelpful == 1.0 and down.evidence.strength == pytest.approx(5.0)
    assert up.confidence > prior.mean > down.confidence
    assert await store.get_context("missing") is None


async def test_concurrent_evidence_is_never_lost(store: DocumentStore) -> None:
    await store.put_contexts([decision("busy", evidence=Evidence.prior(EvidenceSource.MANUAL))])
    await asyncio.gather(*(store.add_evidence(["busy"], 1.0, 0.0) for _ in range(12)))
    busy = await store.get_context("busy")
    assert busy is not None and busy.evidence.votes == 12
    assert busy.evidence.alpha == pytest.approx(PRIORS[EvidenceSource.MANUAL][0] * 6 + 12)


async def test_confirmation_sets_time_and_clears_stale(store: DocumentStore) -> None:
    marked = decision("old", stale=StaleMark(reason="linked code changed: a.py f"))
    await store.put_contexts([marked])
    at = utcnow()
    await store.add_evidence(["old"], 2.0, 0.0, confirmed_at=at)
    found = await store.get_context("old")
    assert found is not None and found.stale is None and found.evidence.confirmed_at == at


async def test_validity_fields_round_trip(store: DocumentStore) -> None:
    now = utcnow()
    await store.put_contexts([decision("new", supersedes=["old"], subject="database")])
    await store.put_contexts([decision("old")])
    await store.update_context("old", {"valid_to": now, "superseded_by": "new"})
    old, new = await store.get_contexts(["old", "new"])
    assert not old.current and old.valid_to == now and old.superseded_by == "new"
    assert new.current and new.supersedes == ["old"] and new.subject == "database"
    assert new.valid_from == new.created_at


async def test_records_from_before_evidence_are_migrated(
    store: DocumentStore, stored_raw: RawWriter
) -> None:
    """A database of the previous version: contexts without evidence read with their
    source's prior centred on their confidence, and opening the store writes it."""
    old = decision("ctx_00112233aabbccdd", confidence=0.6).dump()
    captured = decision("cap_1", metadata={"source": "capture"}, confidence=0.3).dump()
    for doc in (old, captured):
        del doc["evidence"], doc["validFrom"], doc["supersedes"]
        await stored_raw("contexts", doc["id"], doc)
    manual, capture = await store.get_contexts([old["id"], "cap_1"])
    assert manual.evidence.source is EvidenceSource.MANUAL and manual.confidence == 0.6
    assert capture.evidence.source is EvidenceSource.CAPTURED
    assert capture.evidence.strength == PRIORS[EvidenceSource.CAPTURED][1]

    reopened = await _reopen_at_previous_version(store)
    try:
        await reopened.add_evidence([old["id"]], 1.0, 0.0)
        voted = await reopened.get_context(old["id"])
        strength = PRIORS[EvidenceSource.MANUAL][1]
        assert voted is not None
        assert voted.confidence == pytest.approx((0.6 * strength + 1) / (strength + 1))
    finally:
        await reopened.close()


async def _reopen_at_previous_version(store: DocumentStore) -> DocumentStore:
    """Another handle on the same data, opened as if the evidence migration (and those
    after it) had not run."""
    if isinstance(store, MongoDocumentStore):
        await store._col("schema").delete_many({})
        reopened: DocumentStore = MongoDocumentStore(store.uri)
    else:
        assert isinstance(store, SQLiteDocumentStore)
        evidence = MIGRATIONS.index(_add_evidence) + 1
        await store._write(
            lambda c: c.execute("DELETE FROM schema_version WHERE version >= ?", (evidence,))
        )
        reopened = SQLiteDocumentStore(store.path)
    await reopened.open()
    return reopened
