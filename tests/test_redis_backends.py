"""Redis adapters against a real redis-server: cache, shared rate limits, the job queue,
and how each behaves while Redis is away."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from asyncio.subprocess import PIPE, STDOUT
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from redis.exceptions import RedisError

from axon.config import Settings, load_settings
from axon.errors import InvalidInput, ServiceUnavailable
from axon.jobs import JobContext, register_job
from axon.models import Job, JobState, Workspace, WorkspaceType, utcnow
from axon.services import Services, build_services
from axon.stores.memory_ratelimit import InProcessRateLimiter
from axon.stores.redis_cache import RedisCache
from axon.stores.redis_client import RedisGuard, redis_client
from axon.stores.redis_queue import (
    MAX_REQUEUES,
    arq_redis,
    build_worker,
    recover_jobs,
    run_worker,
)
from axon.stores.redis_ratelimit import RedisRateLimiter
from tests import servers
from tests.conftest import LiveServer, poll_ready
from tests.servers import RunningServer, free_port


@pytest.fixture
def own_redis() -> Iterator[RunningServer]:
    """A redis-server for one test, free to be stopped without disturbing others."""
    with servers.redis_server() as server:
        if server is None:
            pytest.skip("redis-server is not installed")
        yield server


@pytest.fixture
async def client(own_redis: RunningServer) -> AsyncIterator[Redis]:
    redis = redis_client(f"redis://127.0.0.1:{own_redis.port}/0", 8)
    try:
        yield redis
    finally:
        await redis.aclose()


def _bypassed(operation: str) -> float:
    labels = {"backend": "redis", "operation": operation}
    return REGISTRY.get_sample_value("axon_backend_bypassed_total", labels) or 0.0


async def test_cache_keys_live_under_axon_cache_with_their_ttl(client: Redis) -> None:
    cache = RedisCache(client, RedisGuard())
    await cache.set("embeddings", "abc", b"\x00\x01", ttl_seconds=120)
    await cache.set("llm-responses", "q", b"answer", ttl_seconds=5)
    assert await cache.get("embeddings", "abc") == b"\x00\x01"
    assert await cache.get("embeddings", "other") is None
    keys = sorted([k.decode() async for k in client.scan_iter("*")])
    assert keys == ["axon:cache:embeddings:abc", "axon:cache:llm-responses:q"]
    assert 110_000 < await client.pttl("axon:cache:embeddings:abc") <= 120_000
    assert 0 < await client.pttl("axon:cache:llm-responses:q") <= 5000
    await cache.delete("embeddings", "abc")
    assert await cache.get("embeddings", "abc") is None


async def test_rate_limit_window_is_shared_by_replicas_and_slides(client: Redis) -> None:
    replica_a = RedisRateLimiter(client, RedisGuard(), InProcessRateLimiter())
    replica_b = RedisRateLimiter(client, RedisGuard(), InProcessRateLimiter())
    decisions = [
        await limiter.hit("ip:10.0.0.1", 3, 0.5)
        for limiter in (replica_a, replica_b, replica_a, replica_b)
    ]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert 0 < decisions[-1].reset_after <= 0.5
    assert (await replica_a.hit("ip:10.0.0.2", 3, 0.5)).allowed  # keys are independent
    assert [k.decode() async for k in client.scan_iter("axon:rl:*")] != []
    assert [k async for k in client.scan_iter("axon:cache:*")] == []
    await asyncio.sleep(decisions[-1].reset_after + 0.05)
    assert (await replica_b.hit("ip:10.0.0.1", 3, 0.5)).allowed


async def test_redis_outage_bypasses_cache_and_limits_per_process(
    own_redis: RunningServer, client: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    guard = RedisGuard(retry_after=0.2)
    cache = RedisCache(client, guard)
    limiter = RedisRateLimiter(client, guard, InProcessRateLimiter())
    await cache.set("analyses", "k", b"v", 60)
    before = _bypassed("cache_get")
    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="axon.redis"):
        assert await cache.get("analyses", "k") is None
        await cache.set("analyses", "k2", b"v", 60)  # no error
        local = [(await limiter.hit("ip:x", 2, 60)).allowed for _ in range(3)]
    assert local == [True, True, False]  # the per-process fallback still limits
    assert _bypassed("cache_get") == before + 1
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1  # one warning per outage, not per call
    own_redis.start()
    await asyncio.sleep(0.25)
    await cache.set("analyses", "k", b"back", 60)
    assert await cache.get("analyses", "k") == b"back"
    assert not guard.down


# -- the job queue --------------------------------------------------------------


async def _echo(ctx: JobContext) -> dict[str, Any]:
    await ctx.progress(seen=1)
    if ctx.job.params.get("fail"):
        raise RuntimeError("asked to fail")
    return {"echo": ctx.job.params["value"], "workspace": ctx.job.workspace_id}


register_job("test-echo", _echo)


async def _slow(ctx: JobContext) -> dict[str, Any]:
    await asyncio.sleep(float(ctx.job.params["seconds"]))
    return {"slept": ctx.job.params["seconds"]}


register_job("test-slow", _slow)


async def _stubborn(ctx: JobContext) -> dict[str, Any]:
    # Finishes what it was doing when cancelled and goes on: one cancellation is not
    # enough (asyncio.wait_for on Python 3.11 can swallow one the same way).
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(600)
    await asyncio.sleep(600)
    return {}


register_job("test-stubborn", _stubborn)


@pytest.fixture
def redis_settings(
    settings: Settings, own_redis: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{own_redis.port}/0")
    monkeypatch.setenv("REDIS_MAX_CONNECTIONS", "6")
    return load_settings()


@pytest.fixture
async def redis_services(redis_settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(redis_settings)
    try:
        yield built
    finally:
        await built.close()


async def test_services_use_redis_when_redis_url_is_set(redis_services: Services) -> None:
    assert type(redis_services.cache).__name__ == "RedisCache"
    assert type(redis_services.rate_limiter).__name__ == "RedisRateLimiter"
    assert type(redis_services.jobs).__name__ == "RedisJobQueue"
    assert (await redis_services.health.statuses())["redis"] == "connected"


async def test_api_enqueues_and_a_worker_runs_the_job(
    redis_services: Services, client: Redis
) -> None:
    ok = await redis_services.jobs.submit("test-echo", {"value": 7}, workspace_id="ws")
    bad = await redis_services.jobs.submit("test-echo", {"value": 1, "fail": True})
    # Nothing runs in the API process: the jobs wait in Redis for a worker.
    await asyncio.sleep(0.3)
    assert (await redis_services.store.get_job(ok.id)).state is JobState.QUEUED  # type: ignore[union-attr]
    worker = build_worker(redis_services, client, concurrency=2, burst=True)
    await worker.async_run()
    await worker.close()
    done = await redis_services.jobs.wait(ok.id, within=5)
    assert done is not None and done.state is JobState.SUCCEEDED
    assert done.result == {"echo": 7, "workspace": "ws"} and done.progress == {"seen": 1}
    failed = await redis_services.jobs.wait(bad.id, within=5)
    assert failed is not None and failed.state is JobState.FAILED
    assert "asked to fail" in failed.errors[-1]


async def test_unknown_job_kind_is_invalid_input(redis_services: Services) -> None:
    with pytest.raises(InvalidInput):
        await redis_services.jobs.submit("no-such-kind", {})


async def test_enqueue_while_redis_is_down_fails_cleanly(
    redis_services: Services, own_redis: RunningServer
) -> None:
    own_redis.stop()
    with pytest.raises(ServiceUnavailable):
        await redis_services.jobs.submit("test-echo", {"value": 1})
    page = await redis_services.store.list_jobs(None, 10)
    assert [j.state for j in page.items] == [JobState.FAILED]  # never left queued
    own_redis.start()


async def test_unreachable_redis_url_is_a_start_up_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(ServiceUnavailable, match="Redis at REDIS_URL is unreachable"):
        await build_services(load_settings())


# -- readiness under load --------------------------------------------------------


async def test_killing_redis_under_load_flips_readiness_and_requests_keep_succeeding(
    redis_settings: Settings, own_redis: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rate limits on, so every request goes through Redis.
    monkeypatch.setenv("AXON_AUTH", "off")
    monkeypatch.setenv("AXON_RATE_LIMITS", "on")
    monkeypatch.setenv("AXON_RATE_LIMIT", "1000000/1m")
    statuses: list[int] = []
    stop = asyncio.Event()
    with LiveServer(load_settings()) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:

            async def load() -> None:
                while not stop.is_set():
                    statuses.append((await http.get("/api/v1/workspaces")).status_code)
                    await asyncio.sleep(0.01)

            loader = asyncio.create_task(load())
            await poll_ready(http, 200, within=2)
            own_redis.stop()
            before_outage = len(statuses)
            body = await poll_ready(http, 503, within=2)
            assert "redis" in body["failing"] and body["services"]["redis"] == "disconnected"
            await asyncio.sleep(0.5)
            served_during_outage = len(statuses) - before_outage
            own_redis.start()
            body = await poll_ready(http, 200, within=2)
            assert body["services"]["redis"] == "connected"
            await asyncio.sleep(0.3)
            stop.set()
            await loader
    assert served_during_outage > 10
    assert set(statuses) == {200}


# -- a hung Redis (SIGSTOP): an outage like a refused one, within a second ----------


async def test_a_call_on_a_connection_due_for_its_health_check_ends_when_redis_hangs(
    own_redis: RunningServer,
) -> None:
    # redis-py reconnected with the old connection's expired health-check timer and
    # PINGed inside its own handshake, again and again: the call never returned.
    redis = redis_client(
        f"redis://127.0.0.1:{own_redis.port}/0", 2, timeout=0.3, health_check_interval=0.2
    )
    try:
        await redis.set("k", "v")
        await asyncio.sleep(0.3)  # idle past the health-check interval
        own_redis.pause()
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(RedisError):
            await asyncio.wait_for(redis.get("k"), 10)
        assert loop.time() - started < 1.5
        own_redis.resume()
        assert await redis.get("k") == b"v"
    finally:
        own_redis.resume()
        await redis.aclose()


async def test_guard_bounds_each_call_and_lets_one_probe_through(
    own_redis: RunningServer, client: Redis
) -> None:
    guard = RedisGuard(retry_after=0.3, timeout=0.2)
    limiter = RedisRateLimiter(client, guard, InProcessRateLimiter())
    assert (await limiter.hit("ip:a", 100, 60)).allowed
    own_redis.pause()
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        assert (await limiter.hit("ip:a", 100, 60)).allowed  # answered by the fallback
        assert 0.15 < loop.time() - started < 0.6 and guard.down
        await asyncio.sleep(0.35)  # the retry window has passed: one call probes
        started = loop.time()
        calls = [asyncio.create_task(limiter.hit("ip:a", 100, 60)) for _ in range(20)]
        done, _ = await asyncio.wait(calls, timeout=0.05)
        assert len(done) == 19  # everyone but the probe fell back at once
        await asyncio.gather(*calls)
        assert loop.time() - started < 0.6
    finally:
        own_redis.resume()
    await asyncio.sleep(0.35)
    assert (await limiter.hit("ip:a", 100, 60)).allowed and not guard.down


async def test_hung_redis_degrades_the_api_within_a_second_and_recovers(
    redis_settings: Settings,
    own_redis: RunningServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("AXON_AUTH", "off")
    monkeypatch.setenv("AXON_RATE_LIMITS", "on")
    monkeypatch.setenv("AXON_RATE_LIMIT", "1000000/1m")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "a.py").write_text("x = 1\n")
    latencies: list[float] = []
    statuses: list[int] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    services = await build_services(load_settings())
    try:
        await services.store.create_workspace(
            Workspace(id="ws", name="ws", type=WorkspaceType.CODING, path=str(tmp_path / "repo"))
        )
    finally:
        await services.close()
    with LiveServer(load_settings()) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

            async def load() -> None:
                while not stop.is_set():
                    started = loop.time()
                    statuses.append((await http.get("/api/v1/workspaces")).status_code)
                    latencies.append(loop.time() - started)

            loaders = [asyncio.create_task(load()) for _ in range(4)]
            await poll_ready(http, 200, within=2)
            own_redis.pause()
            try:
                outage_started = len(latencies)
                body = await poll_ready(http, 503, within=2)
                assert body["services"]["redis"] == "disconnected"
                started = loop.time()
                scan = await http.post("/api/v1/workspaces/ws/scan")
                assert loop.time() - started < 1.5
                assert scan.status_code == 503, scan.text
                await asyncio.sleep(2)
                during = latencies[outage_started:]
            finally:
                own_redis.resume()
            await poll_ready(http, 200, within=3)
            stop.set()
            await asyncio.gather(*loaders)
    assert set(statuses) == {200}
    assert len(during) > 20
    assert max(during) < 1.0, sorted(during)[-5:]


@pytest.mark.parametrize("command", ["serve", "worker"])
async def test_commands_name_an_unreachable_redis_in_one_line(
    settings: Settings, command: str, data_dir: Path
) -> None:
    env = {**os.environ, "AXON_DATA_DIR": str(data_dir), "AXON_AUTH": "off", "LOG_FORMAT": "text"}
    env["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    axon = Path(sys.executable).with_name("axon")
    done = await asyncio.create_subprocess_exec(
        str(axon), command, env={**env, "PORT": str(free_port())}, stdout=PIPE, stderr=STDOUT
    )
    output = (await asyncio.wait_for(done.communicate(), 60))[0].decode()
    assert done.returncode != 0
    assert "Traceback" not in output, output
    [line] = [ln for ln in output.splitlines() if "Redis at REDIS_URL is unreachable" in ln]
    assert "Connection refused" in line or "Connect call failed" in line


# -- the worker through Redis outages, and jobs Redis lost -------------------------


async def _until(predicate: Any, within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await predicate():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.05)


async def _state(services: Services, job_id: str) -> JobState:
    job = await services.store.get_job(job_id)
    assert job is not None
    return job.state


async def test_worker_rides_out_a_redis_restart(
    redis_services: Services, own_redis: RunningServer, client: Redis
) -> None:
    worker = asyncio.create_task(run_worker(redis_services, client, concurrency=2))
    try:
        first = await redis_services.jobs.submit("test-echo", {"value": 1})

        async def done(job_id: str) -> bool:
            return await _state(redis_services, job_id) is JobState.SUCCEEDED

        await _until(lambda: done(first.id), 10, "the first job did not run")
        own_redis.stop()
        await asyncio.sleep(1.5)
        assert not worker.done(), worker  # it used to exit with a traceback here
        own_redis.start()
        await asyncio.sleep(0.5)
        second = await redis_services.jobs.submit("test-echo", {"value": 2})
        await _until(lambda: done(second.id), 15, "the worker did not reconnect")
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def test_a_queued_job_redis_lost_is_queued_again_and_runs(
    redis_settings: Settings, client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AXON_JOB_LEASE_SECONDS", "0.3")
    services = await build_services(load_settings())
    try:
        job = await services.jobs.submit("test-echo", {"value": 5})
        await client.flushall()  # Redis lost its queue; the store still says queued
        await asyncio.sleep(0.4)  # past the lease
        # A worker (re)starting recovers it; the old one found an empty queue and left
        # the job queued forever.
        await run_worker(services, client, concurrency=1, burst=True)
        done = await services.store.get_job(job.id)
        assert done is not None and done.state is JobState.SUCCEEDED, done
        assert done.requeues == 1 and done.result == {"echo": 5, "workspace": None}
    finally:
        await services.close()


async def test_a_job_lost_too_often_fails_and_fresh_jobs_are_left_alone(
    redis_settings: Settings, client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AXON_JOB_LEASE_SECONDS", "30")
    services = await build_services(load_settings())
    try:
        long_ago = utcnow() - timedelta(minutes=5)
        worn = Job(id="job_worn", kind="test-echo", requeues=MAX_REQUEUES, updated_at=long_ago)
        await services.store.create_job(worn)
        fresh = await services.jobs.submit("test-echo", {"value": 1})
        await client.flushall()
        await recover_jobs(services, arq_redis(client))
        failed = await services.store.get_job("job_worn")
        assert failed is not None and failed.state is JobState.FAILED
        assert "lost 4 times" in failed.errors[-1]
        # Within its lease a job may still be on its way into the queue: untouched.
        assert await _state(services, fresh.id) is JobState.QUEUED
        assert [k async for k in client.scan_iter("*")] == []
    finally:
        await services.close()


async def test_axon_worker_process_survives_a_redis_restart_and_stops_cleanly(
    redis_settings: Settings, own_redis: RunningServer, data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "a.py").write_text("def handler():\n    return 1\n")
    # No embedder: the scan is about the worker, not about loading a model.
    env = {**os.environ, "AXON_DATA_DIR": str(data_dir), "LOG_FORMAT": "text"}
    env["AXON_EMBEDDER"] = "none"
    worker = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("axon")), "worker", env=env, stdout=PIPE, stderr=STDOUT
    )
    lines: list[str] = []

    async def read() -> None:
        assert worker.stdout is not None
        async for raw in worker.stdout:
            lines.append(raw.decode())

    reader = asyncio.create_task(read())

    async def logged(text: str) -> bool:
        return any(text in line for line in lines)

    try:
        await _until(lambda: logged("worker started"), 120, "the worker did not start")
        await asyncio.sleep(0.5)  # polling
        own_redis.stop()
        await _until(lambda: logged("worker lost Redis"), 30, "the worker missed the outage")
        assert worker.returncode is None, "the worker exited when Redis went away"
        own_redis.start()
        services = await build_services(redis_settings)
        try:
            await services.store.create_workspace(
                Workspace(
                    id="ws", name="ws", type=WorkspaceType.CODING, path=str(tmp_path / "repo")
                )
            )
            job = await services.jobs.submit("scan", {"full": False}, "ws")

            async def finished() -> bool:
                return await _state(services, job.id) is JobState.SUCCEEDED

            await _until(finished, 60, "the worker did not take the job after Redis returned")
        finally:
            await services.close()
    finally:
        if worker.returncode is None:
            worker.terminate()
        await asyncio.wait_for(worker.wait(), 30)
        await reader
    output = "".join(lines)
    assert worker.returncode == 0, output
    assert "Traceback" not in output, output
    assert "worker lost Redis" in output and "worker reconnected to Redis" in output


@pytest.mark.parametrize("how", ["stop", "cancel"])
async def test_a_stopping_worker_ends_a_job_that_outlives_one_cancellation(
    redis_services: Services, client: Redis, how: str
) -> None:
    # The worker used to cancel each job once and wait for it without end.
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(redis_services, client, concurrency=2, stop=stop))
    try:
        job = await redis_services.jobs.submit("test-stubborn", {})

        async def running() -> bool:
            return await _state(redis_services, job.id) is JobState.RUNNING

        await _until(running, 10, "the job did not start")
        stop.set() if how == "stop" else worker.cancel()
        await asyncio.wait({worker}, timeout=10)
        assert worker.done(), "the worker did not stop"
    finally:
        worker.cancel()
        await asyncio.wait({worker}, timeout=10)  # bounded: a regression fails, not hangs
    assert await _state(redis_services, job.id) is JobState.CANCELLED


async def test_a_job_running_through_a_reconnect_is_not_taken_for_lost(
    redis_services: Services, own_redis: RunningServer, client: Redis
) -> None:
    # Two slots: with one free the worker keeps polling Redis, so it sees the outage.
    worker = asyncio.create_task(run_worker(redis_services, client, concurrency=2))
    try:
        job = await redis_services.jobs.submit("test-slow", {"seconds": 4})

        async def running() -> bool:
            return await _state(redis_services, job.id) is JobState.RUNNING

        await _until(running, 10, "the job did not start")
        own_redis.stop()
        await asyncio.sleep(1)
        own_redis.start()  # the worker reconnects and recovers lost jobs: not this one

        async def finished() -> bool:
            return await _state(redis_services, job.id) in {JobState.SUCCEEDED, JobState.FAILED}

        await _until(finished, 20, "the job did not finish")
        done = await redis_services.store.get_job(job.id)
        assert done is not None and done.state is JobState.SUCCEEDED, done.errors
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
