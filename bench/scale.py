"""Scale benchmark: the embedded default against MongoDB + Redis, on one machine.

For each mode it starts `axon serve --workers 2` (plus, in production mode, one
`axon worker` and the backends), indexes the sphinx repository through the API
(`POST /workspaces/{id}/scan`, so production indexing runs in the worker), then
sends context-only prompts (`POST /api/v1/prompts/process`, no LLM configured)
open-loop at a fixed rate and reports errors and latency percentiles.

    python bench/scale.py                       # 100 req/s for 60 s, both modes
    python bench/scale.py --rate 100 20 --duration 30 --modes production --logs /tmp/scale

Production mode uses the MongoDB wire-protocol test server (secantus) and a
local redis-server, as the tests do; the search index stays embedded (one
search.db per machine, shared by the two API workers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the test suite's server helpers start the real backends
from bench._corpus import checkout  # noqa: E402
from tests.servers import free_port, mongo_server, redis_server, wait_for_port  # noqa: E402

AXON = str(Path(sys.executable).with_name("axon"))
SPHINX = Path("/work/.mirror/sphinx-doc+sphinx/repo")
PROMPTS = [
    "How does autodoc import the module of a documented class?",
    "Where are cross-references between documents resolved?",
    "Explain how the HTML builder writes the search index",
    "What happens when a config value in conf.py has the wrong type?",
    "How are intersphinx inventories fetched and cached?",
    "Fix: napoleon does not parse the Returns section of a Google docstring",
    "Which class represents a build environment and how is it pickled?",
    "How does the linkcheck builder retry broken links?",
    "Where is the toctree directive implemented?",
    "How do I add a new translation catalog for a theme?",
    "Why is my extension's event handler for source-read not called?",
    "How does sphinx decide which files are outdated for an incremental build?",
]


@dataclass
class Result:
    mode: str
    rate: float
    index_seconds: float
    contexts: int
    requests: int
    errors: int  # no 200 (timeouts included)
    error_kinds: dict[str, int]
    degraded: int  # 200 without context: retrieval failed or timed out
    skipped: int  # not sent: MAX_IN_FLIGHT requests were already waiting
    achieved_rps: float  # 200s with context per second of load
    p50_ms: float
    p95_ms: float
    p99_ms: float
    load_avg: float  # 1-minute load average at the end of the run: other work on the box


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


async def _index(http: httpx.AsyncClient, root: Path) -> tuple[float, int]:
    created = await http.post(
        "/api/v1/workspaces", json={"id": "sphinx", "name": "sphinx", "path": str(root)}
    )
    created.raise_for_status()
    started = time.perf_counter()
    job = (await http.post("/api/v1/workspaces/sphinx/scan", json={})).json()
    while True:
        state = (await http.get(f"/api/v1/jobs/{job['jobId']}")).json()
        if state["state"] in {"succeeded", "failed", "cancelled"}:
            break
        await asyncio.sleep(0.5)
    if state["state"] != "succeeded":
        raise RuntimeError(f"indexing failed: {state}")
    return time.perf_counter() - started, int(state["result"]["contextsWritten"])


# Beyond this many requests waiting the server is already far behind: further ones are
# counted as skipped, not sent.
MAX_IN_FLIGHT = 300
# Keep-alive connections the load generator spreads requests over.
CONNECTIONS = 32


@dataclass
class _Load:
    latencies: list[float]
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    degraded: int = 0
    skipped: int = 0


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for a
    JSON POST: a load generator several times cheaper per request than httpx, so the
    client does not eat the CPU the two server workers share with it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            reader, writer = await self._open()
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            status_line = await reader.readline()
            if not status_line and attempt == 1:
                # The server closed this idle keep-alive connection just before the
                # request reached it: nothing was processed, so send it again.
                self.close()
                continue
            if not status_line:
                raise ConnectionError("the server closed the connection")
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and "close" in value.lower():
                    close = True
            payload = await reader.readexactly(length)
            if close:
                self.close()
            return int(status_line.split()[1]), payload
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _load(url: str, rate: float, duration: float) -> _Load:
    """Open loop: request i is due at i / rate seconds whatever the earlier ones do, and
    its latency counts from then (waiting for a free connection included)."""
    out = _Load([])
    parsed = httpx.URL(url)
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(_Connection(parsed.host, parsed.port or 80))
    bodies = [
        json.dumps({"prompt": prompt, "workspaceId": "sphinx"}).encode() for prompt in PROMPTS
    ]
    waiting = 0

    async def one(i: int, due: float) -> None:
        nonlocal waiting
        connection = await pool.get()
        kind = None
        try:
            status, payload = await connection.post(
                "/api/v1/prompts/process", bodies[i % len(bodies)]
            )
        except (OSError, asyncio.IncompleteReadError) as exc:
            connection.close()
            kind = type(exc).__name__
        else:
            kind = None if status == 200 else f"HTTP {status}"
            out.degraded += status == 200 and bool(json.loads(payload).get("degraded"))
        finally:
            pool.put_nowait(connection)
            waiting -= 1
        if kind is not None:
            out.errors += 1
            out.error_kinds[kind] = out.error_kinds.get(kind, 0) + 1
        out.latencies.append(time.perf_counter() - due)

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for i in range(int(rate * duration)):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if waiting >= MAX_IN_FLIGHT:
            out.skipped += 1
            continue
        waiting += 1
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().close()
    return out


async def _measure(
    mode: str, url: str, root: Path, rates: list[float], duration: float
) -> list[Result]:
    results: list[Result] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        index_seconds, contexts = await _index(http, root)
        await _load(url, min(rates), 5.0)  # warm caches and connection pools
        for rate in rates:
            run = await _load(url, rate, duration)
            ms = [x * 1000 for x in run.latencies] or [float("nan")]
            good = len(run.latencies) - run.errors - run.degraded
            results.append(
                Result(
                    mode=mode,
                    rate=rate,
                    index_seconds=round(index_seconds, 1),
                    contexts=contexts,
                    requests=len(run.latencies),
                    errors=run.errors,
                    error_kinds=run.error_kinds,
                    degraded=run.degraded,
                    skipped=run.skipped,
                    achieved_rps=round(good / duration, 1),
                    p50_ms=round(statistics.median(ms), 1),
                    p95_ms=round(_percentile(ms, 0.95), 1),
                    p99_ms=round(_percentile(ms, 0.99), 1),
                    load_avg=round(os.getloadavg()[0], 1),
                )
            )
            print(json.dumps(asdict(results[-1])), flush=True)
    return results


def _wait_ready(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout}s")


def run_mode(mode: str, root: Path, args: argparse.Namespace, work: Path) -> list[Result]:
    port = free_port()
    env = {
        **os.environ,
        "AXON_DATA_DIR": str(work / mode),
        "AXON_AUTH": "off",
        "AXON_RATE_LIMITS": "off",
        "AXON_EMBEDDER": args.embedder,
        # The prompts repeat: caches of whole search results and analyses would answer
        # most requests without work. Off, so every request runs the whole pipeline.
        "AXON_CACHE_TTL_QUERY_RESULTS": "0",
        "AXON_CACHE_TTL_ANALYSES": "0",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("MONGODB_URI", "REDIS_URL", "QDRANT_URL"):
        env.pop(name, None)
    with ExitStack() as stack:
        if mode == "production":
            mongo = stack.enter_context(mongo_server())
            redis = stack.enter_context(redis_server())
            if mongo is None or redis is None:
                raise SystemExit("production mode needs secantusdb and redis-server installed")
            env["MONGODB_URI"] = f"mongodb://127.0.0.1:{mongo.port}/axon"
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis.port}/0"
        serve = [AXON, "serve", "--workers", "2", "--port", str(port)]
        stack.enter_context(_process(serve, env, work / f"{mode}-serve.log"))
        if mode == "production":
            worker = [AXON, "worker", "--concurrency", "1"]
            stack.enter_context(_process(worker, env, work / f"{mode}-worker.log"))
        wait_for_port(port, 60)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url)
        return asyncio.run(_measure(mode, url, root, args.rate, args.duration))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rate", type=float, nargs="+", default=[100.0], help="requests per second (each)"
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--modes", nargs="+", default=["embedded", "production"])
    parser.add_argument("--embedder", default="none", choices=["none", "local"])
    parser.add_argument("--mirror", type=Path, default=SPHINX)
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--out", type=Path, help="also write the results as JSON")
    parser.add_argument("--logs", type=Path, help="keep data and server logs here")
    args = parser.parse_args()
    results: list[Result] = []
    with checkout(args.mirror, args.commit) as root, tempfile.TemporaryDirectory() as tmp:
        work = args.logs or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for mode in args.modes:
            results += run_mode(mode, root, args, work)
    print(
        f"\n{args.duration:g} s per rate, context-only prompts, embedder {args.embedder}, "
        "2 API workers; ok/s = answers with context per second"
    )
    header = f"{'mode':<11} {'rate':>5} {'index s':>8} {'contexts':>9} {'sent':>6} {'errors':>7}"
    header += f" {'no ctx':>7} {'skipped':>8}"
    print(header + f" {'ok/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'load':>5}")
    for r in results:
        print(
            f"{r.mode:<11} {r.rate:>5g} {r.index_seconds:>8} {r.contexts:>9} {r.requests:>6} "
            f"{r.errors:>7} {r.degraded:>7} {r.skipped:>8} "
            f"{r.achieved_rps:>7} {r.p50_ms:>8} {r.p95_ms:>8} {r.p99_ms:>8} {r.load_avg:>5}"
        )
    if args.out:
        args.out.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")


if __name__ == "__main__":
    main()
