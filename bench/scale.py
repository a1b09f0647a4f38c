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


# Beyond this many requests in flight the client itself stalls (and the server is
# already minutes behind), so further requests are counted as skipped, not sent.
MAX_IN_FLIGHT = 300


@dataclass
class _Load:
    latencies: list[float]
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    degraded: int = 0
    skipped: int = 0


async def _load(http: httpx.AsyncClient, rate: float, duration: float) -> _Load:
    """Open loop: request i starts at i / rate seconds whatever the earlier ones do."""
    out = _Load([])
    in_flight = 0

    async def one(i: int) -> None:
        nonlocal in_flight
        body = {"prompt": PROMPTS[i % len(PROMPTS)], "workspaceId": "sphinx"}
        t0 = time.perf_counter()
        kind = None
        try:
            response = await http.post("/api/v1/prompts/process", json=body)
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
        else:
            kind = None if response.status_code == 200 else f"HTTP {response.status_code}"
            out.degraded += response.status_code == 200 and bool(response.json().get("degraded"))
        finally:
            in_flight -= 1
        if kind is not None:
            out.errors += 1
            out.error_kinds[kind] = out.error_kinds.get(kind, 0) + 1
        out.latencies.append(time.perf_counter() - t0)

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for i in range(int(rate * duration)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if in_flight >= MAX_IN_FLIGHT:
            out.skipped += 1
            continue
        in_flight += 1
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return out


async def _measure(
    mode: str, url: str, root: Path, rates: list[float], duration: float
) -> list[Result]:
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=100)
    results: list[Result] = []
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        index_seconds, contexts = await _index(http, root)
        await _load(http, min(rates), 5.0)  # warm caches and connection pools
        for rate in rates:
            run = await _load(http, rate, duration)
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
