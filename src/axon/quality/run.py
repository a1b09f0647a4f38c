"""Running one check's process: argument vector, own process group, limits.

Every check starts in a new session, so its process group holds the tool and
whatever it spawns. When the check ends (exit, timeout or cancellation) the
whole group is killed, so no test server or hung grandchild outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 64 * 1024
_DRAIN_SECONDS = 2.0  # after the group is killed, pipes close at once unless a process escaped it


@dataclass(frozen=True)
class ProcessOutcome:
    exit_code: int | None  # None when it never started or was killed by the gate
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    truncated: bool = False
    start_error: str | None = None


_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def limiter(limit: int) -> asyncio.Semaphore:
    """The process-wide cap on concurrently running checks (per event loop and limit)."""
    per_limit = _limiters.setdefault(asyncio.get_running_loop(), {})
    if limit not in per_limit:
        per_limit[limit] = asyncio.Semaphore(limit)
    return per_limit[limit]


async def _read_capped(stream: asyncio.StreamReader, limit: int) -> tuple[bytes, bool]:
    # Keep reading past the cap (and discard) so the tool never blocks on a full pipe.
    kept = bytearray()
    truncated = False
    while chunk := await stream.read(_CHUNK):
        room = limit - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > room:
            truncated = True
    return bytes(kept), truncated


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


async def run_process(
    argv: list[str], cwd: Path, env: dict[str, str], time_limit: float, output_limit: int
) -> ProcessOutcome:
    started = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        return ProcessOutcome(None, "", "", 0.0, start_error=f"command not found: {argv[0]}")
    except PermissionError:
        return ProcessOutcome(None, "", "", 0.0, start_error=f"not executable: {argv[0]}")
    except OSError as exc:
        return ProcessOutcome(None, "", "", 0.0, start_error=f"cannot start {argv[0]}: {exc}")
    assert proc.stdout is not None and proc.stderr is not None
    readers = asyncio.gather(
        _read_capped(proc.stdout, output_limit), _read_capped(proc.stderr, output_limit)
    )
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), time_limit)
    except TimeoutError:
        timed_out = True
    except BaseException:
        readers.cancel()  # cancelled (total limit, job cancel): nobody will read the pipes
        raise
    finally:
        # Also on cancellation (the gate's total timeout, a cancelled job).
        kill_group(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    await proc.wait()
    try:
        (out, out_cut), (err, err_cut) = await asyncio.wait_for(readers, _DRAIN_SECONDS)
    except TimeoutError:
        # A process that left the group (setsid) still holds the pipes: stop reading.
        readers.cancel()
        out, out_cut, err, err_cut = b"", True, b"", True
    return ProcessOutcome(
        exit_code=None if timed_out else proc.returncode,
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        duration=time.monotonic() - started,
        timed_out=timed_out,
        truncated=out_cut or err_cut,
    )
