"""The service container: builds every adapter from Settings, in one place.

The API, the worker and the CLI all get their adapters from `Services`, so
choosing between the embedded default and a production backend happens here
and nowhere else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from axon.config import Settings
from axon.jobs import InProcessJobQueue, JobQueue
from axon.llm import LLM, NoneLLM
from axon.ports import DocumentStore

ServiceStatus = Literal["connected", "disconnected", "embedded"]
BACKENDS = ("mongodb", "redis", "qdrant")


@dataclass
class HealthProbe:
    """Caches dependency pings briefly so probes stay cheap under load."""

    checks: dict[str, Callable[[], Awaitable[bool]]]
    ttl: float
    timeout: float = 1.0
    _cached: dict[str, ServiceStatus] = field(default_factory=dict)
    _at: float = float("-inf")
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def _check(self, check: Callable[[], Awaitable[bool]]) -> ServiceStatus:
        try:
            ok = await asyncio.wait_for(check(), self.timeout)
        except Exception:
            ok = False
        return "connected" if ok else "disconnected"

    async def statuses(self) -> dict[str, ServiceStatus]:
        async with self._lock:
            if time.monotonic() - self._at >= self.ttl:
                names = list(self.checks)
                results = await asyncio.gather(*(self._check(self.checks[n]) for n in names))
                self._cached = dict(zip(names, results, strict=True))
                self._at = time.monotonic()
            return {name: self._cached.get(name, "embedded") for name in BACKENDS}


@dataclass
class Services:
    settings: Settings
    store: DocumentStore
    health: HealthProbe
    llm: LLM
    jobs: JobQueue = field(init=False)
    started_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.jobs = InProcessJobQueue(self)

    async def close(self) -> None:
        await self.jobs.stop()
        await self.store.close()


async def build_services(settings: Settings) -> Services:
    """Create and open every adapter that `settings` selects."""
    from axon.stores.sqlite import SQLiteDocumentStore

    store: DocumentStore = SQLiteDocumentStore(settings.sqlite_path)
    await store.open()
    checks: dict[str, Callable[[], Awaitable[bool]]] = {}
    services = Services(
        settings=settings,
        store=store,
        health=HealthProbe(checks=checks, ttl=settings.health_cache_seconds),
        llm=NoneLLM(),
    )
    await services.jobs.start()
    return services
