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
    import asyncio
    import signal

    import axon.api.app  # noqa: F401
    from axon.config import load_settings
    from axon.services import build_services
    from axon.stores.redis_client import close_redis, open_redis
    from axon.stores.redis_queue import run_worker

    settings = load_settings()
    assert settings.redis_url is not None
    services = await build_services(settings)
    try:
        client = await open_redis(
            settings.redis_url, max(2, concurrency + 2), settings.redis_timeout
        )
    except BaseException:
        await services.close()
        raise
    # SIGTERM / SIGINT stop the worker: no new job or cron firing, running jobs cancelled
    # and recorded so. A flag rather than cancelling this task: the stop is then
    # driven by run_worker, and no library catching one cancellation can lose it.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started (concurrency %d)", concurrency)
    try:
        await run_worker(services, client, concurrency=concurrency, burst=burst, stop=stop)
        log.info("worker stopped")
    finally:
        await close_redis(client)
        await services.close()


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="jobs run at the same time")] = 2,
    burst: Annotated[
        bool, typer.Option(help="exit once the queue is empty instead of waiting for jobs")
    ] = False,
) -> None:
    """Run background jobs (indexing, quality gates, memory evolution) from the Redis queue."""
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
