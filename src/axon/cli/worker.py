"""`axon worker`: runs background jobs from the Redis queue.

Without REDIS_URL there is no shared queue: `axon serve` runs jobs itself, so
a worker would have nothing to do and says so instead of idling.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from axon.cli._app import app, cli_errors, fail

log = logging.getLogger("axon.worker")


async def _work(concurrency: int, burst: bool) -> None:
    # The app registers every job kind the API can enqueue; the worker must know them all.
    import axon.api.app  # noqa: F401
    from axon.config import load_settings
    from axon.services import build_services
    from axon.stores.redis_client import open_redis
    from axon.stores.redis_queue import build_worker

    settings = load_settings()
    assert settings.redis_url is not None
    services = await build_services(settings)
    client = await open_redis(settings.redis_url, max(2, concurrency + 2))
    worker = build_worker(services, client, concurrency=concurrency, burst=burst)
    log.info("worker started (concurrency %d)", concurrency)
    try:
        await worker.async_run()
    finally:
        await worker.close()
        await client.aclose()
        await services.close()


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="jobs run at the same time")] = 2,
    burst: Annotated[
        bool, typer.Option(help="exit once the queue is empty instead of waiting for jobs")
    ] = False,
) -> None:
    """Run background jobs (indexing, quality gates, maintenance) from the Redis queue."""
    import asyncio

    from axon.config import load_settings
    from axon.logs import configure_logging

    with cli_errors():
        settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.redis_url:
        fail("axon worker needs REDIS_URL; without it `axon serve` runs jobs in-process", 2)
    with cli_errors():
        asyncio.run(_work(concurrency, burst))
