"""Heap reports (GET /admin/heapdump) that never stall the server.

Taking a tracemalloc snapshot and grouping it is CPU work over every traced
allocation, holding the GIL: on a big heap it took minutes, and on the event
loop it froze the server, liveness probes included. So a forked child makes the
report: it has a copy-on-write image of this process's heap, tracing tables
included, takes the snapshot, groups it and writes the text to a pipe, while the
server goes on serving. The child is killed when it exceeds the time limit, and
one report runs at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import traceback
import tracemalloc
from datetime import UTC, datetime

from axon.errors import Conflict, ServiceUnavailable

TRACE_FRAMES = 10
_running = asyncio.Lock()


def start_heap_tracing() -> None:
    if not tracemalloc.is_tracing():
        tracemalloc.start(TRACE_FRAMES)


def format_report(snapshot: tracemalloc.Snapshot, top: int, group_by: str) -> str:
    snapshot = snapshot.filter_traces(
        (
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        )
    )
    stats = snapshot.statistics(group_by)
    current, peak = tracemalloc.get_traced_memory()
    lines = [
        f"# axon heap snapshot {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"# traced: {current} bytes now, {peak} bytes peak; {len(stats)} {group_by} groups",
        "# size_bytes\tcount\tlocation",
    ]
    for stat in stats[:top]:
        frame = stat.traceback[0]
        lines.append(f"{stat.size}\t{stat.count}\t{frame.filename}:{frame.lineno}")
        if group_by == "traceback":
            lines += [f"\t\t  {f.filename}:{f.lineno}" for f in stat.traceback[1:]]
    return "\n".join(lines) + "\n"


def _report_in_child(write_fd: int, top: int, group_by: str) -> None:
    """Runs in the forked child only: never returns."""
    code = 1
    try:
        # The child's own allocations would be traced into the tables being read.
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        data = format_report(snapshot, top, group_by).encode()
        while data:
            data = data[os.write(write_fd, data) :]
        code = 0
    except BaseException:
        traceback.print_exc()  # to the server's stderr
    finally:
        os._exit(code)


def _read_all(read_fd: int) -> bytes:
    chunks = []
    while chunk := os.read(read_fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


async def heap_report(top: int, group_by: str, timeout_seconds: float) -> str:
    """The report of this process's heap, made by a child within the time limit."""
    if _running.locked():
        raise Conflict(
            "a heap report is already being made; retry when it is done",
            code="HEAPDUMP_IN_PROGRESS",
        )
    async with _running:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _report_in_child(write_fd, top, group_by)
        os.close(write_fd)
        reading = asyncio.ensure_future(asyncio.to_thread(_read_all, read_fd))
        finished = False
        try:
            # shield: on a timeout the reader thread ends by itself once the child dies.
            data = await asyncio.wait_for(asyncio.shield(reading), timeout_seconds)
            finished = True
        except TimeoutError:
            raise ServiceUnavailable(
                f"the heap report took longer than {timeout_seconds:g}s "
                "(AXON_HEAPDUMP_TIMEOUT); try groupBy=filename",
                code="HEAPDUMP_TIMEOUT",
            ) from None
        finally:
            if not finished:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _, status = await asyncio.to_thread(os.waitpid, pid, 0)
            with contextlib.suppress(Exception):
                await reading
            os.close(read_fd)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise ServiceUnavailable(
            "the heap report failed; see the server's stderr", code="HEAPDUMP_FAILED"
        )
    return data.decode()
