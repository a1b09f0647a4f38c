"""Start-up recovery of jobs left running or queued: only jobs whose process is gone are
failed, so one worker of `axon serve --workers N` starting late never fails another's job."""

from __future__ import annotations

import asyncio
import socket
import sys
from datetime import timedelta

from axon.config import Settings
from axon.models import Job, JobState, utcnow
from axon.services import build_services
from axon.stores.memory_queue import InProcessJobQueue


async def test_only_jobs_of_stopped_processes_are_failed(settings: Settings) -> None:
    host = socket.gethostname()
    alive = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(60)"
    )
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    long_ago = utcnow() - timedelta(hours=1)
    jobs = {
        "job_live_worker": (f"{host}:{alive.pid}", utcnow()),
        "job_dead_worker": (f"{host}:{gone.pid}", utcnow()),
        "job_other_host_busy": ("elsewhere:4242", utcnow()),
        "job_other_host_silent": ("elsewhere:4242", long_ago),
        # Queued in a process's memory: it dies with the process (and kept the scan 409).
        "job_queued_live": (f"{host}:{alive.pid}", utcnow()),
        "job_queued_dead": (f"{host}:{gone.pid}", utcnow()),
    }
    services = await build_services(settings)
    try:
        for job_id, (runner, updated) in jobs.items():
            await services.store.create_job(
                Job(
                    id=job_id,
                    kind="scan",
                    state=JobState.QUEUED if "queued" in job_id else JobState.RUNNING,
                    runner=runner,
                    updated_at=updated,
                )
            )
        await InProcessJobQueue(services).start()
        states = {}
        for job_id in jobs:
            job = await services.store.get_job(job_id)
            assert job is not None
            states[job_id] = job.state
            if job.state is JobState.FAILED and "queued" in job_id:
                assert job.errors == [
                    "interrupted: its process stopped before the job ran; submit it again"
                ]
            elif job.state is JobState.FAILED:
                assert job.errors == ["interrupted: its process stopped during the job"]
        assert states == {
            "job_live_worker": JobState.RUNNING,
            "job_dead_worker": JobState.FAILED,
            "job_other_host_busy": JobState.RUNNING,
            "job_other_host_silent": JobState.FAILED,
            "job_queued_live": JobState.QUEUED,
            "job_queued_dead": JobState.FAILED,
        }
    finally:
        alive.kill()
        await alive.wait()
        await services.close()
