"""Background jobs: indexing (scan, embed), quality gates and memory evolution.

Handlers register by kind (`register_job`). The JobQueue port's adapters are in
`axon.stores`: the embedded default runs jobs on the server's own event loop
(`memory_queue.InProcessJobQueue`); production runs them in `axon worker`
processes fed from Redis (`redis_queue.RedisJobQueue`). Either way a job's state, progress
counts and errors live in the DocumentStore, so `GET /api/v1/jobs/{id}`
answers from any replica and a job outlives the request that started it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from axon.logs import request_id_var
from axon.models import Job, JobState, utcnow

if TYPE_CHECKING:
    from axon.services import Services

log = logging.getLogger("axon.jobs")


@dataclass
class JobContext:
    """What a handler gets: the job, the services, and a way to report progress."""

    job: Job
    services: Services

    async def progress(self, **counts: Any) -> None:
        self.job.progress.update(counts)
        await self.services.store.update_job(self.job.id, {"progress": dict(self.job.progress)})


JobHandler = Callable[[JobContext], Awaitable[dict[str, Any]]]
_HANDLERS: dict[str, JobHandler] = {}


def register_job(kind: str, handler: JobHandler) -> None:
    _HANDLERS[kind] = handler


def job_kinds() -> list[str]:
    return sorted(_HANDLERS)


# A running job of another machine that has not reported progress for this long is
# taken for lost with its process (running jobs report after every batch of files).
STALE_AFTER = timedelta(minutes=15)


async def jobs_in_state(services: Services, state: JobState) -> AsyncIterator[Job]:
    """Every stored job in `state`, page by page."""
    cursor: str | None = None
    while True:
        page = await services.store.list_jobs(state, 200, cursor)
        for job in page.items:
            yield job
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def fail_lost_jobs(services: Services) -> None:
    """Fail the jobs whose process is gone: a running job cannot be resumed mid-way, and
    a job queued in a process's memory died with it."""
    notes = {
        JobState.RUNNING: "interrupted: its process stopped during the job",
        JobState.QUEUED: "interrupted: its process stopped before the job ran; submit it again",
    }
    for state, note in notes.items():
        async for job in jobs_in_state(services, state):
            if not is_lost(job):
                continue
            await services.store.update_job(
                job.id,
                {"state": JobState.FAILED, "finished_at": utcnow(), "errors": [*job.errors, note]},
            )


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def is_lost(job: Job) -> bool:
    """Whether a job recorded as running has no process running it any more. Several
    server processes share one store (`--workers`, replicas), so a process starting up
    must leave the others' jobs alone."""
    host, _, pid = (job.runner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return utcnow() - job.updated_at > STALE_AFTER
    if int(pid) == os.getpid():
        return True  # an earlier process that had this pid
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


async def run_job(services: Services, job: Job) -> Job:
    """Run one job to completion, recording state, result and errors."""
    handler = _HANDLERS.get(job.kind)
    token = request_id_var.set(f"job:{job.id}")
    try:
        started = await services.store.update_job(
            job.id, {"state": JobState.RUNNING, "started_at": utcnow(), "runner": runner_id()}
        )
        job = started or job
        if handler is None:
            raise RuntimeError(f"no handler for job kind '{job.kind}'")
        result = await handler(JobContext(job, services))
        changes: dict[str, Any] = {"state": JobState.SUCCEEDED, "result": result}
    except asyncio.CancelledError:
        await services.store.update_job(
            job.id, {"state": JobState.CANCELLED, "finished_at": utcnow()}
        )
        raise
    except Exception as exc:
        log.error("job %s (%s) failed: %s", job.id, job.kind, exc, exc_info=exc)
        changes = {"state": JobState.FAILED, "errors": [*job.errors, str(exc)]}
    finally:
        request_id_var.reset(token)
    changes["finished_at"] = utcnow()
    return await services.store.update_job(job.id, changes) or job


class JobQueue(Protocol):
    async def submit(
        self, kind: str, params: dict[str, Any], workspace_id: str | None = None
    ) -> Job: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def wait(self, job_id: str, within: float) -> Job | None: ...
