"""Near-identical memories become one, keeping every provenance and the evidence."""

from __future__ import annotations

import httpx
import pytest

from axon.models import EvidenceSource
from axon.ports import ContextFilter
from axon.services import Services
from tests.evolution.conftest import remember, workspace

PROCESS = "/api/v1/prompts/process"


@pytest.mark.needs_model
async def test_two_near_identical_captures_become_one(
    client: httpx.AsyncClient, services: Services
) -> None:
    await workspace(client)
    first = await client.post(
        PROCESS,
        json={"workspaceId": "proj", "prompt": "We decided to use PostgreSQL for orders. Plan?"},
    )
    await services.pipeline.drain()
    second = await client.post(
        PROCESS,
        json={
            "workspaceId": "proj",
            "prompt": "We have decided to use PostgreSQL for orders! Next steps?",
        },
    )
    await services.pipeline.drain()
    page = await services.store.list_contexts(ContextFilter(workspace_id="proj"), 10)
    (merged,) = page.items
    assert {p.interaction_id for p in merged.provenance} == {
        first.json()["interactionId"],
        second.json()["interactionId"],
    }
    assert {p.text for p in merged.provenance} == {
        "We decided to use PostgreSQL for orders.",
        "We have decided to use PostgreSQL for orders!",
    }
    # Stated twice: one more helpful observation than a single capture.
    assert merged.evidence.source is EvidenceSource.CAPTURED
    assert merged.evidence.helpful == 1.0 and merged.confidence > 0.3


async def test_the_job_merges_hand_written_duplicates_once(
    client: httpx.AsyncClient, services: Services
) -> None:
    wid = await workspace(client)
    older = await remember(client, wid, "Every service logs JSON lines to stdout.", type="pattern")
    newer = await remember(client, wid, "Every service logs JSON lines to stdout!", type="pattern")
    other = await remember(client, wid, "Services expose /health and /metrics.", type="pattern")
    await services.store.record_usage({older["id"]: 2, newer["id"]: 3})
    merges = await services.consolidator.run(wid)
    assert [(m.survivor, m.merged) for m in merges] == [(older["id"], [newer["id"]])]
    survivor = await services.store.get_context(older["id"])
    assert survivor is not None and survivor.usage_count == 5
    assert [p.context_id for p in survivor.provenance] == [older["id"], newer["id"]]
    assert await services.store.get_context(newer["id"]) is None
    assert await services.store.get_context(other["id"]) is not None
    assert await services.consolidator.run(wid) == []  # idempotent
    search = await client.post(
        "/api/v1/contexts/search", json={"workspaceId": wid, "query": "service logs JSON"}
    )
    assert newer["id"] not in {h["id"] for h in search.json()["results"]}
