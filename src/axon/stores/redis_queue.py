"""JobQueue on Redis (arq): the API enqueues, `axon worker` processes run the jobs.

The job record (state, progress, result, errors) lives in the DocumentStore, as
with the in-process queue; Redis only carries "run job <id>". That keeps
`GET /api/v1/jobs/{id}` answerable from any replica, and makes redelivery
harmless: a worker that picks up a job another worker already finished skips it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from arq.connections import ArqRedis
from arq.worker import Worker, func
from redis.asyncio import Redis
from redis.exceptions import RedisError

from axon.errors import InvalidInput, ServiceUnavailable
from axon.jobs import job_kinds, run_job
from axon.models import Job, JobState, new_id, utcnow

if TYPE_CHECKING:
    from axon.services import Services

QUEUE_NAME = "axon:queue"
TERMINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
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
        # Running jobs belong to worker processes, which may live elsewhere: leave them.
        return None

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


def build_worker(
    services: Services,
    client: Redis,
    *,
    concurrency: int,
    burst: bool = False,
    job_timeout: float = 6 * 3600,
) -> Worker:
    return Worker(
        functions=[func(run_axon_job, name="run_axon_job", max_tries=3)],
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
        handle_signals=not burst,
    )
