"""A convention found in three workspaces becomes global and reaches a fourth."""

from __future__ import annotations

import httpx

from axon.evolution.job import EVOLUTION_JOB
from axon.models import JobState
from axon.services import Services
from tests.evolution.conftest import remember, search, workspace

CONVENTION = [
    "Commit messages are written in the imperative mood.",
    "Commit messages are written in the imperative mood!",
    "Commit messages are written in the imperative mood, always.",
]


async def _evolve(services: Services) -> dict[str, int]:
    job = await services.jobs.submit(EVOLUTION_JOB, {})
    done = await services.jobs.wait(job.id, 60)
    assert done is not None and done.state is JobState.SUCCEEDED and done.result is not None
    return done.result


async def test_a_convention_of_three_workspaces_reaches_a_fourth(
    client: httpx.AsyncClient, services: Services
) -> None:
    sources = []
    for n, text in enumerate(CONVENTION):
        wid = await workspace(client, f"team{n}")
        sources.append(await remember(client, wid, text, type="pattern"))
    await remember(client, "team0", "Branches are named after their ticket.", type="pattern")
    fourth = await workspace(client, "newcomer")
    assert await search(client, fourth, "how do we write commit messages") == []

    assert (await _evolve(services))["promoted"] == 1
    [hit] = await search(client, fourth, "how do we write commit messages")
    assert hit["tier"] == "global" and hit["content"] == CONVENTION[0]
    promoted = (await client.get(f"/api/v1/contexts/{hit['id']}")).json()
    assert {p["contextId"] for p in promoted["provenance"]} == {s["id"] for s in sources}
    assert (await _evolve(services))["promoted"] == 0  # idempotent

    pinned = await client.post(f"/api/v1/contexts/{hit['id']}/pin")
    assert pinned.status_code == 200 and pinned.json()["metadata"]["pinned"] is True
    await client.delete(f"/api/v1/contexts/{sources[0]['id']}")
    assert (await _evolve(services))["demoted"] == 0  # pinned: kept with two sources left
    await client.post(f"/api/v1/contexts/{hit['id']}/unpin")
    assert (await _evolve(services))["demoted"] == 1  # below three workspaces now
    assert await search(client, fourth, "how do we write commit messages") == []
    assert (await _evolve(services))["promoted"] == 0  # a demoted group stays demoted


async def test_only_promoted_contexts_can_be_pinned(client: httpx.AsyncClient) -> None:
    wid = await workspace(client)
    local = await remember(client, wid, "Tabs for indentation.", type="pattern")
    for action in ("pin", "unpin", "demote"):
        response = await client.post(f"/api/v1/contexts/{local['id']}/{action}")
        assert response.status_code == 422, response.text
    assert (await client.post("/api/v1/contexts/ctx_nope/pin")).status_code == 404
