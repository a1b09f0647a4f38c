"""The in-process JobQueue: the embedded default, jobs run as tasks on the server's own
event loop. Production's twin, fed from Redis to `axon worker`, is `redis_queue.py`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from axon.errors import InvalidInput
from axon.jobs import fail_lost_jobs, job_kinds, run_job, runner_id
from axon.models import Job, new_id

if TYPE_CHECKING:
    from axon.services import Services


class InProcessJobQueue:
    """Runs jobs as asyncio tasks in this process, at most `concurrency` at once."""

    def __init__(self, services: Services, concurrency: int = 2) -> None:
        self.services = services
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, asyncio.Task[Job]] = {}

    async def submit(
        self, kind: str, params: dict[str, Any], workspace_id: str | None = None
    ) -> Job:
        if kind not in job_kinds():
            raise InvalidInput.field("kind", f"unknown job kind '{kind}'")
        # Queued in this process's memory: its runner from the start, so a restart can
        # tell the job will never run.
        job = Job(
            id=new_id("job"),
            kind=kind,
            workspace_id=workspace_id,
            params=params,
            runner=runner_id(),
        )
        await self.services.store.create_job(job)
        self._tasks[job.id] = asyncio.create_task(self._run(job), name=f"axon-job-{job.id}")
        return job

    async def _run(self, job: Job) -> Job:
        try:
            async with self._slots:
                return await run_job(self.services, job)
        finally:
            self._tasks.pop(job.id, None)

    async def start(self) -> None:
        await fail_lost_jobs(self.services)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait(self, job_id: str, within: float) -> Job | None:
        """Wait up to `within` seconds for a job to finish; return its latest state."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.wait({task}, timeout=within)
        return await self.services.store.get_job(job_id)
