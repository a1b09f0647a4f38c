"""The evolution job: idempotent steps, metrics, the embedded timer and the worker cron."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client import REGISTRY

from axon.evolution.job import EVOLUTION_JOB, EvolutionTimer
from axon.models import JobState
from axon.services import Services
from axon.stores.redis_queue import cron_times
from tests.evolution.conftest import remember, workspace


def _sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


async def test_the_job_merges_repairs_and_counts(
    client: httpx.AsyncClient, services: Services
) -> None:
    wid = await workspace(client)
    await remember(client, wid, "Pull requests need one approval.", type="pattern")
    await remember(client, wid, "Pull requests need one approval!", type="pattern")
    old = await remember(client, wid, "Staging deploys from develop.", subject="staging branch")
    # A crash after storing the new decision and before closing the old one:
    new = await remember(client, wid, "Staging deploys from main.", subject="staging")
    await services.store.update_context(new["id"], {"supersedes": [old["id"]]})
    runs, merged = (
        _sample("axon_evolution_runs_total", {"outcome": "ok"}),
        _sample("axon_evolution_merged_total"),
    )

    job = await services.jobs.submit(EVOLUTION_JOB, {"workspaceIds": [wid]})
    done = await services.jobs.wait(job.id, 60)
    assert done is not None and done.state is JobState.SUCCEEDED, done
    assert done.result == {
        "workspaces": 1,
        "merged": 1,
        "repaired": 1,
        "stale": 0,
        "faded": 0,
        "promoted": 0,
        "demoted": 0,
    }
    closed = await services.store.get_context(old["id"])
    assert closed is not None and closed.superseded_by == new["id"]
    assert _sample("axon_evolution_runs_total", {"outcome": "ok"}) == runs + 1
    assert _sample("axon_evolution_merged_total") == merged + 1

    again = await services.jobs.submit(EVOLUTION_JOB, {})
    second = await services.jobs.wait(again.id, 60)
    assert second is not None and second.result is not None
    assert (second.result["merged"], second.result["repaired"]) == (0, 0)  # idempotent


async def test_the_embedded_timer_submits_the_job(services: Services) -> None:
    timer = EvolutionTimer(0.05)
    timer.start(services)
    try:
        for _ in range(200):
            page = await services.store.list_jobs(JobState.SUCCEEDED, 10)
            if any(j.kind == EVOLUTION_JOB for j in page.items):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no evolution job ran")
    finally:
        await timer.stop()


def test_cron_times() -> None:
    assert cron_times(3600) == {"hour": set(range(24)), "minute": 0, "second": 0}
    assert cron_times(6 * 3600)["hour"] == {0, 6, 12, 18}
    assert cron_times(900) == {"minute": {0, 15, 30, 45}, "second": 0}
    assert cron_times(5)["minute"] == set(range(60))  # at most once a minute
