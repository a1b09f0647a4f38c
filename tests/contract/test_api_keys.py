"""API keys and job counts: behaviour every DocumentStore adapter must share."""

from __future__ import annotations

from datetime import timedelta

import pytest

from axon.errors import Conflict
from axon.models import ApiScope, Job, JobState, utcnow
from axon.ports import DocumentStore
from axon.security.keys import new_api_key
from axon.security.principal import Principal
from tests.contract.conftest import RawWriter


async def test_api_key_roundtrip_and_revoke(store: DocumentStore) -> None:
    record, token = new_api_key("ci", [ApiScope.WRITE, ApiScope.READ])
    await store.create_api_key(record)
    got = await store.get_api_key(record.id)
    assert got == record
    assert token not in got.model_dump_json()  # only the hash is stored
    with pytest.raises(Conflict):
        await store.create_api_key(record)

    at = utcnow()
    revoked = await store.revoke_api_key(record.id, at)
    assert revoked is not None and revoked.revoked_at == at
    again = await store.revoke_api_key(record.id, at + timedelta(hours=1))
    assert again is not None and again.revoked_at == at  # first revocation time is kept
    stored = await store.get_api_key(record.id)
    assert stored is not None and stored.revoked_at == at
    assert await store.revoke_api_key("0000000000000000", at) is None
    assert await store.get_api_key("0000000000000000") is None


async def test_api_keys_paginate(store: DocumentStore) -> None:
    created = [new_api_key(f"k{i}", [ApiScope.READ])[0] for i in range(5)]
    for record in created:
        await store.create_api_key(record)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_api_keys(2, cursor)
        assert len(page.items) <= 2
        seen += [k.id for k in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(k.id for k in created)


async def test_count_jobs_by_state(store: DocumentStore) -> None:
    assert await store.count_jobs() == {}
    for i, state in enumerate([JobState.QUEUED, JobState.QUEUED, JobState.FAILED]):
        await store.create_job(Job(id=f"job_{i}", kind="index", state=state))
    assert await store.count_jobs() == {JobState.QUEUED: 2, JobState.FAILED: 1}


async def test_restrictions_roundtrip(store: DocumentStore) -> None:
    record, _ = new_api_key(
        "tenant-ci",
        [ApiScope.READ],
        workspaces=["b", "a"],
        tenant="acme",
        budget_usd=1.5,
        rpm=60,
    )
    await store.create_api_key(record)
    got = await store.get_api_key(record.id)
    assert got == record
    assert (got.workspaces, got.tenant, got.budget_usd, got.rpm) == (["a", "b"], "acme", 1.5, 60)
    revoked = await store.revoke_api_key(record.id, utcnow())
    assert revoked is not None and revoked.workspaces == ["a", "b"]  # revoking keeps them


async def test_keys_stored_before_restrictions_read_as_unrestricted(
    store: DocumentStore, stored_raw: RawWriter
) -> None:
    record, _ = new_api_key("old", [ApiScope.WRITE])
    # The record exactly as versions without restrictions wrote it.
    doc = record.model_dump(
        mode="json", by_alias=True, exclude={"workspaces", "tenant", "budget_usd", "rpm"}
    )
    await stored_raw("api_keys", record.id, doc)
    got = await store.get_api_key(record.id)
    assert got is not None and got.key_hash == record.key_hash
    assert (got.workspaces, got.tenant, got.budget_usd, got.rpm) == (None, None, None, None)
    assert Principal.of(got).can_access("any-workspace")
