"""/metrics: Prometheus text with every Axon metric, labelled by route template."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from axon import metrics
from axon.models import Job, JobState
from axon.services import Services
from tests import servers

EXPECTED = {
    "axon_requests": "counter",
    "axon_errors": "counter",
    "axon_request_duration_seconds": "histogram",
    "axon_llm_duration_seconds": "histogram",
    "axon_context_retrieval_duration_seconds": "histogram",
    "axon_active_connections": "gauge",
    "axon_cache_hits": "counter",
    "axon_cache_misses": "counter",
    "axon_jobs": "gauge",
    "axon_pool_max_size": "gauge",
    "axon_pool_connections_open": "gauge",
    "axon_pool_connections_in_use": "gauge",
    "axon_pool_exhausted": "counter",
}


def _sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


async def test_metrics_expose_every_metric(client: httpx.AsyncClient, services: Services) -> None:
    await services.store.create_job(Job(id="job_m1", kind="index", state=JobState.FAILED))
    before = await client.get("/metrics")
    base = _sample(
        before.text,
        "axon_requests_total",
        method="GET",
        route="/api/v1/workspaces/{workspace_id}",
        status="404",
    )
    for _ in range(3):
        assert (await client.get("/api/v1/workspaces/nope")).status_code == 404
    await client.get("/health")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    families = {f.name: f.type for f in text_string_to_metric_families(r.text)}
    for name, kind in EXPECTED.items():
        assert families.get(name) == kind, name
    # The route template, never the raw path, labels the request.
    after = _sample(
        r.text,
        "axon_requests_total",
        method="GET",
        route="/api/v1/workspaces/{workspace_id}",
        status="404",
    )
    assert after == (base or 0) + 3
    assert "/api/v1/workspaces/nope" not in r.text
    assert _sample(r.text, "axon_jobs", state="failed") == 1
    assert _sample(r.text, "axon_jobs", state="running") == 0
    count = _sample(r.text, "axon_request_duration_seconds_count", method="GET", route="/health")
    assert count is not None and count >= 1
    # The scrape itself is in flight while it renders.
    assert (_sample(r.text, "axon_active_connections") or 0) >= 1


async def test_unmatched_paths_share_one_label(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await client.get(f"/random/{i}")
    text = (await client.get("/metrics")).text
    assert "/random/" not in text
    assert _sample(text, "axon_requests_total", route="unmatched", status="404")


def test_pool_helpers_log_connection_pool_events(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="axon.pool"):
        metrics.pool_opened("testdb", 7)
        metrics.pool_connection_opened("testdb")
        metrics.pool_checked_out("testdb")
        metrics.pool_exhausted("testdb", 7, 1.5)
        metrics.pool_checked_in("testdb")
        metrics.pool_closed("testdb")
    lines = [r.getMessage() for r in caplog.records]
    assert all("connection pool" in line for line in lines)
    assert any("exhausted" in line for line in lines)
    assert any(r.levelname == "ERROR" for r in caplog.records)
    text = metrics.render()[0].decode()
    assert _sample(text, "axon_pool_exhausted_total", backend="testdb") == 1
    assert _sample(text, "axon_pool_max_size", backend="testdb") == 0
    assert re.search(r'axon_pool_connections_in_use\{backend="testdb"\} 0', text)


async def test_prompt_processing_records_retrieval_time(client: httpx.AsyncClient) -> None:
    def count(text: str) -> float:
        return _sample(text, "axon_context_retrieval_duration_seconds_count") or 0

    before = count((await client.get("/metrics")).text)
    r = await client.post(
        "/api/v1/prompts/process",
        json={
            "prompt": "What is this project about?",
            "workspaceId": "test-workspace",  # created on first use
            "source": "api",
        },
    )
    assert r.status_code == 200, r.text
    assert count((await client.get("/metrics")).text) == before + 1


def _listeners(port: int) -> int:
    """Listening TCP sockets on `port` (Linux /proc/net/tcp: state 0A is LISTEN)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1 for row in rows if row.split()[3] == "0A" and row.split()[1].endswith(f":{port:04X}")
    )


def test_worker_processes_share_their_counts(tmp_path: Path) -> None:
    """`axon serve --workers 2`: whichever worker answers the scrape reports the total."""
    port = servers.free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MONGODB_URI", "REDIS_URL", "QDRANT_URL", "PROMETHEUS_MULTIPROC_DIR"}
    }
    env |= {"AXON_DATA_DIR": str(tmp_path), "AXON_EMBEDDER": "none", "LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("axon")),
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        servers.wait_for_port(port, timeout=60)
        # Each worker listens on a socket of its own (SO_REUSEPORT), so the kernel
        # spreads connections; the supervisor's bound socket never listens.
        deadline = time.monotonic() + 30
        while _listeners(port) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _listeners(port) == 2
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(30):
                # Fresh connections, so both workers take some of the requests.
                assert httpx.get(f"http://127.0.0.1:{port}/health/live").status_code == 200
            totals = {
                _sample(
                    http.get("/metrics", headers={"Connection": "close"}).text,
                    "axon_requests_total",
                    route="/health/live",
                    status="200",
                )
                for _ in range(6)
            }
        assert totals == {30.0}
        assert list((tmp_path / "prometheus-multiproc").glob("*.db"))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def test_mongo_pool_events_reach_metrics_and_logs(
    mongo_server: servers.RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    from axon.stores.mongo import MongoDocumentStore

    store = MongoDocumentStore(
        f"mongodb://127.0.0.1:{mongo_server.port}/axon_pool_test", max_pool_size=7
    )
    with caplog.at_level(logging.INFO, logger="axon.pool"):
        await store.open()
        try:
            assert await store.ping()
            text = metrics.render()[0].decode()
            assert _sample(text, "axon_pool_max_size", backend="mongodb") == 7
            assert (_sample(text, "axon_pool_connections_open", backend="mongodb") or 0) >= 1
            assert _sample(text, "axon_pool_connections_in_use", backend="mongodb") == 0
        finally:
            await store.close()
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("mongodb connection pool opened") for m in messages)
    assert any(m.startswith("mongodb connection pool closed") for m in messages)


async def test_redis_pool_events_reach_metrics_and_logs(
    redis_server: servers.RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    from axon.stores.redis_client import close_redis, open_redis

    with caplog.at_level(logging.INFO, logger="axon.pool"):
        client = await open_redis(f"redis://127.0.0.1:{redis_server.port}/9", 5)
        try:
            assert await client.ping()
            text = metrics.render()[0].decode()
            assert _sample(text, "axon_pool_max_size", backend="redis") == 5
        finally:
            await close_redis(client)
    assert _sample(metrics.render()[0].decode(), "axon_pool_max_size", backend="redis") == 0
    messages = [r.getMessage() for r in caplog.records]
    assert "redis connection pool opened (max 5)" in messages
    assert "redis connection pool closed" in messages
