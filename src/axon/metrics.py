"""Prometheus metrics: every metric object Axon exports, defined once, here.

Other modules import the objects (or the pool helpers) and record into them;
`render()` serves them at /metrics. With PROMETHEUS_MULTIPROC_DIR set before
start-up (`axon serve --workers N` sets it), each worker process writes its
samples to files in that directory and `render()` merges them, so counts are
correct whichever worker answers the scrape.
"""

from __future__ import annotations

import logging
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter(
    "axon_requests_total",
    "HTTP requests, by method, route template and status code.",
    ["method", "route", "status"],
)
ERRORS = Counter(
    "axon_errors_total",
    "HTTP requests answered with a 5xx status, by route template.",
    ["route"],
)
REQUEST_DURATION = Histogram(
    "axon_request_duration_seconds",
    "Time from request start to the end of the response, by method and route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
LLM_DURATION = Histogram(
    "axon_llm_duration_seconds",
    "Duration of LLM calls (whole completion or stream), by provider and outcome.",
    ["provider", "outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120),
)
RETRIEVAL_DURATION = Histogram(
    "axon_context_retrieval_duration_seconds",
    "Duration of context retrieval for one prompt (all tiers, fusion and re-ranking).",
    buckets=_LATENCY_BUCKETS,
)
ACTIVE_CONNECTIONS = Gauge(
    "axon_active_connections",
    "HTTP requests in flight (open streams included).",
    multiprocess_mode="livesum",
)
EVOLUTION_RUNS = Counter(
    "axon_evolution_runs_total", "Evolution job runs, by outcome (ok, error).", ["outcome"]
)
EVOLUTION_DURATION = Histogram(
    "axon_evolution_duration_seconds",
    "Duration of one evolution job run (every workspace it covers).",
    buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
)
EVOLUTION_MERGED = Counter(
    "axon_evolution_merged_total", "Near-duplicate memories merged into another by the job."
)
EVOLUTION_REPAIRED = Counter(
    "axon_evolution_supersede_repaired_total",
    "Superseded contexts the job closed because an interrupted write left them open.",
)
EVOLUTION_STALE = Counter(
    "axon_evolution_stale_total", "Memories marked stale by the job: their linked code changed."
)
EVOLUTION_PROMOTED = Counter(
    "axon_evolution_promoted_total",
    "Conventions promoted to global contexts because they recur across workspaces.",
)
EVOLUTION_FADED = Gauge(
    "axon_evolution_faded",
    "Memories whose decayed salience is below one half, as of the last job run.",
    multiprocess_mode="mostrecent",
)
CACHE_HITS = Counter("axon_cache_hits_total", "Cache lookups that found an entry.", ["cache"])
CACHE_MISSES = Counter("axon_cache_misses_total", "Cache lookups that found nothing.", ["cache"])
BACKEND_BYPASSED = Counter(
    "axon_backend_bypassed_total",
    "Operations that skipped an unreachable optional backend (cache bypassed, "
    "rate limit counted per process), by backend and operation.",
    ["backend", "operation"],
)
JOBS = Gauge(
    "axon_jobs",
    "Background jobs by state, read from the document store at scrape time.",
    ["state"],
    multiprocess_mode="mostrecent",
)
POOL_MAX_SIZE = Gauge(
    "axon_pool_max_size",
    "Configured maximum size of each database connection pool.",
    ["backend"],
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "axon_pool_connections_open",
    "Connections currently open in each pool.",
    ["backend"],
    multiprocess_mode="livesum",
)
POOL_IN_USE = Gauge(
    "axon_pool_connections_in_use",
    "Connections currently checked out of each pool.",
    ["backend"],
    multiprocess_mode="livesum",
)
POOL_EXHAUSTED = Counter(
    "axon_pool_exhausted_total",
    "Connection check-outs that failed because the pool was exhausted (wait timed out).",
    ["backend"],
)

# Every log message below contains "connection pool", which the runbook greps for.
pool_log = logging.getLogger("axon.pool")


def pool_opened(backend: str, max_size: int) -> None:
    POOL_MAX_SIZE.labels(backend).set(max_size)
    pool_log.info(
        "%s connection pool opened (max %d)",
        backend,
        max_size,
        extra={"backend": backend, "maxPoolSize": max_size},
    )


def pool_closed(backend: str) -> None:
    POOL_MAX_SIZE.labels(backend).set(0)
    POOL_OPEN.labels(backend).set(0)
    POOL_IN_USE.labels(backend).set(0)
    pool_log.info("%s connection pool closed", backend, extra={"backend": backend})


def pool_cleared(backend: str, reason: str) -> None:
    """The driver dropped every pooled connection (e.g. after a network error)."""
    pool_log.warning("%s connection pool cleared: %s", backend, reason, extra={"backend": backend})


def pool_connection_opened(backend: str) -> None:
    POOL_OPEN.labels(backend).inc()


def pool_connection_closed(backend: str) -> None:
    POOL_OPEN.labels(backend).dec()


def pool_checked_out(backend: str) -> None:
    POOL_IN_USE.labels(backend).inc()


def pool_checked_in(backend: str) -> None:
    POOL_IN_USE.labels(backend).dec()


def pool_exhausted(backend: str, max_size: int, waited_seconds: float) -> None:
    POOL_EXHAUSTED.labels(backend).inc()
    pool_log.error(
        "%s connection pool exhausted: no connection free after %.2fs (max %d); "
        "raise the pool size (e.g. MONGODB_MAX_POOL_SIZE) or look for leaked connections",
        backend,
        waited_seconds,
        max_size,
        extra={"backend": backend, "maxPoolSize": max_size, "waitedSeconds": waited_seconds},
    )


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
