"""JobQueue on Redis (arq): the API enqueues, `axon worker` processes run the jobs.

The job record (state, progress, result, errors) lives in the DocumentStore, as
with the in-process queue; Redis only carries "run job <id>". That keeps
`GET /api/v1/jobs/{id}` answerable from any replica, and makes redelivery
harmless: a worker that picks up a job another worker already finished skips it.

Redis may lose its queue (a restart without persistence, a flush) while the store
still says "queued": `recover_jobs` queues such a job again once its lease
(AXON_JOB_LEASE_SECONDS) has passed, at most `MAX_REQUEUES` times, then fails it;
it also fails running jobs whose process is gone. The API and every worker run it
at start-up, workers again every lease and after each reconnect. `run_worker`
keeps a worker alive through Redis outages: it waits for Redis with backoff and
starts again instead of exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Collection, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from arq.connections import ArqRedis
from arq.cron import cron
from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus
from arq.worker import Worker, func
from redis.asyncio import Redis
from redis.exceptions import RedisError

from axon.errors import InvalidInput, ServiceUnavailable
from axon.jobs import is_lost, job_kinds, jobs_in_state, run_job
from axon.models import Job, JobState, new_id, utcnow

if TYPE_CHECKING:
    from axon.services import Services

QUEUE_NAME = "axon:queue"
TERMINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
MAX_REQUEUES = 3
RECONNECT_DELAYS = (0.2, 5.0)  # first and longest wait between reconnection attempts
STOP_RETRY_SECONDS = 0.5  # a stopping worker cancels what still runs this often
_REDIS_DOWN = (RedisError, OSError, TimeoutError)
log = logging.getLogger("axon.jobs")


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def _loads(raw: bytes) -> Any:
    return json.loads(raw)


def arq_redis(client: Redis) -> ArqRedis:
    """An arq handle over the client's pool (one blocking pool per process)."""
    return ArqRedis(
        client.connection_pool,
        job_serializer=_dumps,
        job_deserializer=_loads,
        default_queue_name=QUEUE_NAME,
    )


class RedisJobQueue:
    def __init__(
        self,
        services: Services,
        client: Redis,
        poll_interval: float = 0.1,
        timeout: float = 1.0,
    ) -> None:
        self.services = services
        self._arq = arq_redis(client)
        self._poll = poll_interval
        self._timeout = timeout  # a hung Redis refuses the job like a dead one

    async def submit(
        self, kind: str, params: dict[str, Any], workspace_id: str | None = None
    ) -> Job:
        if kind not in job_kinds():
            raise InvalidInput.field("kind", f"unknown job kind '{kind}'")
        job = Job(id=new_id("job"), kind=kind, workspace_id=workspace_id, params=params)
        await self.services.store.create_job(job)
        try:
            await asyncio.wait_for(
                self._arq.enqueue_job("run_axon_job", job.id, _job_id=job.id), self._timeout
            )
        except (RedisError, OSError, TimeoutError) as exc:
            reason = str(exc) or f"no answer within {self._timeout:g}s"
            # Never leave a queued job nobody will run.
            await self.services.store.update_job(
                job.id,
                {
                    "state": JobState.FAILED,
                    "finished_at": utcnow(),
                    "errors": [f"could not enqueue: Redis unreachable ({reason})"],
                },
            )
            raise ServiceUnavailable("the job queue (Redis) is unreachable; retry later") from None
        return job

    async def start(self) -> None:
        try:
            await recover_jobs(self.services, self._arq)
        except _REDIS_DOWN as exc:
            log.warning("job recovery skipped, Redis unreachable: %s", exc)

    async def stop(self) -> None:
        return None

    async def wait(self, job_id: str, within: float) -> Job | None:
        """Poll the store until the job finishes or `within` seconds pass."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            job = await self.services.store.get_job(job_id)
            if job is None or job.state in TERMINAL or loop.time() >= deadline:
                return job
            await asyncio.sleep(min(self._poll, max(0.0, deadline - loop.time())))


async def recover_jobs(
    services: Services, arq: ArqRedis, running_here: Collection[str] = ()
) -> None:
    """Queue again the queued jobs Redis lost; fail the running jobs whose process is gone
    (`running_here`: the jobs this process is running now, which are not)."""
    store = services.store
    lease = timedelta(seconds=services.settings.job_lease_seconds)
    async for job in jobs_in_state(services, JobState.QUEUED):
        # Within the lease the submitter may still be enqueueing it.
        if utcnow() - job.updated_at < lease:
            continue
        status = await ArqJob(job.id, arq, _queue_name=QUEUE_NAME).status()
        if status is not JobStatus.not_found:
            continue
        if job.requeues >= MAX_REQUEUES:
            note = f"its queue entry was lost {job.requeues + 1} times; submit it again"
            await store.update_job(
                job.id,
                {"state": JobState.FAILED, "finished_at": utcnow(), "errors": [*job.errors, note]},
            )
            log.warning("job %s failed: %s", job.id, note)
            continue
        await arq.enqueue_job("run_axon_job", job.id, _job_id=job.id)
        await store.update_job(job.id, {"requeues": job.requeues + 1})
        log.warning("job %s lost its queue entry (Redis restarted, flushed); queued again", job.id)
    async for job in jobs_in_state(services, JobState.RUNNING):
        if job.id not in running_here and is_lost(job):
            note = "interrupted: its process stopped during the job"
            await store.update_job(
                job.id,
                {"state": JobState.FAILED, "finished_at": utcnow(), "errors": [*job.errors, note]},
            )


async def run_axon_job(ctx: dict[str, Any], job_id: str) -> str:
    """arq entry point: run the stored job unless it already finished."""
    services: Services = ctx["services"]
    job = await services.store.get_job(job_id)
    if job is None:
        log.warning("job %s was enqueued but is not in the store; skipped", job_id)
        return "missing"
    if job.state in TERMINAL:
        return str(job.state)
    finished = await run_job(services, job)
    return str(finished.state)


def cron_times(interval: float) -> dict[str, Any]:
    """arq cron fields for "every `interval` seconds", rounded to whole minutes or hours
    (arq's cron fires on wall-clock fields; every worker knows the same schedule and arq
    lets one of them run each firing)."""
    minutes = max(1, round(interval / 60))
    if minutes < 60:
        return {"minute": set(range(0, 60, minutes)), "second": 0}
    hours = max(1, min(24, round(minutes / 60)))
    return {"hour": set(range(0, 24, hours)), "minute": 0, "second": 0}


async def run_evolution(ctx: dict[str, Any]) -> str:
    """arq cron entry point: record an evolution job and run it here."""
    from axon.evolution.job import EVOLUTION_JOB

    services: Services = ctx["services"]
    job = Job(id=new_id("job"), kind=EVOLUTION_JOB, params={})
    await services.store.create_job(job)
    return str((await run_job(services, job)).state)


def build_worker(
    services: Services,
    client: Redis,
    *,
    concurrency: int,
    burst: bool = False,
    job_timeout: float = 6 * 3600,
) -> Worker:
    interval = services.settings.evolution_interval_seconds
    crons = [cron(run_evolution, name="evolution", **cron_times(interval))] if interval else []
    return Worker(
        functions=[func(run_axon_job, name="run_axon_job", max_tries=3)],
        cron_jobs=crons,
        queue_name=QUEUE_NAME,
        redis_pool=arq_redis(client),
        job_serializer=_dumps,
        job_deserializer=_loads,
        burst=burst,
        max_jobs=concurrency,
        job_timeout=job_timeout,
        keep_result=3600,
        poll_delay=0.2,
        ctx={"services": services},
        handle_signals=False,  # run_worker's caller owns the signals: a worker is replaced
    )


async def run_worker(
    services: Services,
    client: Redis,
    *,
    concurrency: int,
    burst: bool = False,
    stop: asyncio.Event | None = None,
) -> None:
    """Run jobs until `stop` is set or the task is cancelled (or, with `burst`, until
    the queue is empty), riding out Redis outages: a lost connection means waiting for
    Redis with backoff, recovering the jobs it lost, and starting a new arq worker."""
    stop = stop or asyncio.Event()
    arq = arq_redis(client)
    workers: list[Worker] = []

    def running_here() -> set[str]:
        # arq's job ids are ours (`_job_id=job.id`).
        return {i for w in workers for i, t in w.job_tasks.items() if not t.done()}

    try:
        while not stop.is_set():
            with contextlib.suppress(*_REDIS_DOWN):
                await recover_jobs(services, arq, running_here())
            worker = build_worker(services, client, concurrency=concurrency, burst=burst)
            workers.append(worker)
            sweeper = asyncio.create_task(_sweep(services, arq, running_here))
            try:
                await _unless_stopped(worker.async_run(), stop)
                return  # the burst is done, or the worker was told to stop
            except _REDIS_DOWN as exc:
                log.warning("worker lost Redis (%s); reconnecting", exc or type(exc).__name__)
            finally:
                sweeper.cancel()
            if await _unless_stopped(_reconnect(client), stop):
                log.warning("worker reconnected to Redis")
    finally:
        await _stop_workers(workers, services.settings.worker_stop_seconds)


async def _unless_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run `work` until it ends (True; its error is raised) or `stop` is set (False;
    `work` is cancelled, and `_stop_workers` sees to what it started)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
            task.add_done_callback(_retrieve)
    if task.done() and not task.cancelled():
        task.result()
        return True
    return False


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Take a stopped task's outcome: its error was already reported or is moot, and
    asyncio would otherwise log it with a traceback when the task is collected."""
    if not task.cancelled():
        task.exception()


async def _stop_workers(workers: list[Worker], within: float) -> None:
    """Stop every arq worker of this process: no new job or cron firing, running jobs
    cancelled (recorded so by `run_job`). Cancellation is repeated until each task has
    ended, since one can be swallowed (a job finishing a write, asyncio.wait_for on
    Python 3.11 when its awaitable completes at that moment); after `within` seconds
    the rest is left to the process exit and to `recover_jobs` of the next worker."""
    for worker in workers:
        worker.allow_pick_jobs = False
        worker.cron_jobs = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within

    def unfinished() -> set[asyncio.Future[Any]]:
        # arq's task per job, the job itself (which arq's may stop waiting for), the loop.
        tasks: set[asyncio.Future[Any]] = {t for w in workers for t in w.tasks.values()}
        tasks |= {t for w in workers for t in w.job_tasks.values()}
        tasks |= {w.main_task for w in workers if w.main_task is not None}
        return {t for t in tasks if not t.done()}

    while (pending := unfinished()) and loop.time() < deadline:
        for task in pending:
            task.cancel()
            task.add_done_callback(_retrieve)
        await asyncio.wait(pending, timeout=min(STOP_RETRY_SECONDS, deadline - loop.time()))
    if pending := unfinished():
        log.warning("%d worker tasks did not stop within %gs; left running", len(pending), within)


async def _reconnect(client: Redis) -> None:
    delay, longest = RECONNECT_DELAYS
    while True:
        await asyncio.sleep(delay)
        try:
            await client.ping()
            return
        except _REDIS_DOWN:
            delay = min(longest, delay * 2)


async def _sweep(services: Services, arq: ArqRedis, running_here: Callable[[], set[str]]) -> None:
    """Recover lost jobs every lease while the worker is connected (a flush keeps the
    connection but loses the queue)."""
    while True:
        await asyncio.sleep(services.settings.job_lease_seconds)
        try:
            await recover_jobs(services, arq, running_here())
        except _REDIS_DOWN as exc:
            log.debug("job recovery skipped, Redis unreachable: %s", exc)
