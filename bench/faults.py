"""Fault injection: crashes, a refused and a hung Redis, a failing and a hanging LLM.

Prints one table row per fault. Everything runs on loopback, in temporary data dirs:

1. indexer kill -9 at N random points of `axon index` (flask's `src/` by default, the
   local embedder on),
   then one plain `axon index`: SQLite integrity of both databases, and how many of
   the reference run's contexts have their lexical row and their vector;
2. server kill -9 under 8 concurrent writers (POST /api/v1/contexts): acknowledged
   writes missing after a restart (must be 0), integrity;
3. Redis refused (process stopped) and Redis hung (SIGSTOP), each for `--outage`
   seconds, under API load with rate limits on and an `axon worker` running: API
   latency and errors during the outage, time for readiness to flip and to recover,
   whether the worker lived and ran a scan afterwards, jobs left non-terminal;
4. the LLM failing (HTTP 500) and hanging (no answer), via tests/fakes/llm_server.py:
   status and latency of prompts, liveness latency meanwhile.

    python bench/faults.py [--kills 10] [--outage 20] [--seed 7] [--out bench/results/faults.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import servers
from tests.fakes.llm_server import FakeLLMServer, Step

from _corpus import checkout

AXON = str(Path(sys.executable).with_name("axon"))
FLASK = Path("/work/.mirror/pallets+flask/repo")
ROWS: list[tuple[str, str, str]] = []  # fault, measured, verdict


def row(fault: str, measured: str, ok: bool) -> None:
    ROWS.append((fault, measured, "ok" if ok else "FAIL"))
    print(f"  {fault}: {measured} -> {'ok' if ok else 'FAIL'}", flush=True)


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AXON_", "LLM_"))}
    for name in ("MONGODB_URI", "REDIS_URL", "QDRANT_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        env.pop(name, None)
    env |= {"AXON_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "AXON_AUTH": "off"}
    return env | extra


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def integrity(db: Path) -> str:
    if not db.exists():
        return "missing"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _ids(db: Path, table: str, workspace: str) -> set[str]:
    """Ids in `table`; none when a killed run had not created the database or the table
    yet (and looking never creates the file the next run will find)."""
    if not db.exists():
        return set()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        if exists is None:
            return set()
        query = f"SELECT id FROM {table} WHERE workspace_id = ?"
        return {r[0] for r in conn.execute(query, (workspace,))}


def index_state(data_dir: Path, workspace: str) -> tuple[set[str], set[str], set[str]]:
    """Context ids in the store, and those with a lexical row / a vector."""
    return (
        _ids(data_dir / "axon.db", "contexts", workspace),
        _ids(data_dir / "search.db", "lex_docs", workspace),
        _ids(data_dir / "search.db", "vec_items", workspace),
    )


# -- 1. the indexer killed mid-run --------------------------------------------------


def index_once(tree: Path, data_dir: Path, kill_after: float | None = None) -> float:
    env = base_env(data_dir, AXON_EMBEDDER="local")
    started = time.monotonic()
    proc = subprocess.Popen(
        [AXON, "index", str(tree), "--workspace", "flask"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if kill_after is None:
        assert proc.wait() == 0, "the reference index failed"
    else:
        try:
            proc.wait(kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    return time.monotonic() - started


def indexer_kills(kills: int, rng: random.Random, subdir: str) -> None:
    print(f"1. indexer kill -9 at {kills} random points (flask/{subdir}, local embedder)")
    commit = subprocess.run(
        ["git", "--git-dir", str(FLASK), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    with checkout(FLASK, commit) as whole, tempfile.TemporaryDirectory() as tmp:
        tree = whole / subdir
        reference_dir = Path(tmp) / "reference"
        full = index_once(tree, reference_dir)
        expected, _, _ = index_state(reference_dir, "flask")
        print(f"  reference: {len(expected)} contexts in {full:.1f} s", flush=True)
        results = []
        for n in range(kills):
            data_dir = Path(tmp) / f"kill-{n}"
            at = rng.uniform(0.5, full * 0.9)
            index_once(tree, data_dir, kill_after=at)
            checks = {db: integrity(data_dir / db) for db in ("axon.db", "search.db")}
            _, lex_killed, vec_killed = index_state(data_dir, "flask")
            index_once(tree, data_dir)  # the next plain run
            contexts, lexical, vectors = index_state(data_dir, "flask")
            after = {db: integrity(data_dir / db) for db in ("axon.db", "search.db")}
            results.append(
                {
                    "at": at,
                    # Killed before it made a database: nothing to check at the kill.
                    "ok_db": all(v in ("ok", "missing") for v in checks.values())
                    and all(v == "ok" for v in after.values()),
                    "lex_at_kill": len(lex_killed),
                    "vec_at_kill": len(vec_killed),
                    "contexts": len(contexts & expected),
                    "lexical": len(lexical & expected),
                    "vectors": len(vectors & expected),
                }
            )
            r = results[-1]
            print(
                f"  kill at {at:5.1f} s: lexical {r['lex_at_kill']}, vectors {r['vec_at_kill']} "
                f"at the kill; after the next run contexts {r['contexts']}/{len(expected)}, "
                f"lexical {r['lexical']}, vectors {r['vectors']}; integrity "
                f"{'ok' if r['ok_db'] else (checks, after)}",
                flush=True,
            )
        whole = len(expected)
        complete = sum(1 for r in results if r["contexts"] == r["lexical"] == r["vectors"] == whole)
        row(
            f"indexer kill -9 x{kills}",
            f"integrity ok {sum(r['ok_db'] for r in results)}/{kills}; complete after the next "
            f"plain run (contexts, lexical rows and vectors all {whole}) {complete}/{kills}; "
            f"fewest vectors after a run {min(r['vectors'] for r in results)}",
            complete == kills and all(r["ok_db"] for r in results),
        )


# -- 2. the server killed under writers ---------------------------------------------


@contextmanager
def axon_server(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = servers.free_port()
    env = env | {"PORT": str(port)}
    proc = subprocess.Popen([AXON, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env)
    try:
        servers.wait_for_port(port, 300)  # a loaded machine starts slowly
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def server_kill_under_writers() -> None:
    print("2. server kill -9 under 8 concurrent writers", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        env = base_env(data_dir, AXON_EMBEDDER="none")
        acknowledged: list[str] = []
        statuses: dict[int, int] = {}
        enough = asyncio.Event()
        failed = 0
        with axon_server(env) as (proc, url):
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                created = await http.post("/api/v1/workspaces", json={"id": "w", "name": "w"})
                assert created.status_code == 201, created.text

                async def writer(n: int) -> None:
                    nonlocal failed
                    i = 0
                    while True:
                        body = {
                            "workspaceId": "w",
                            "type": "documentation",
                            "content": f"writer {n} note {i}: the retry budget is {i * 7}",
                        }
                        i += 1
                        try:
                            resp = await http.post("/api/v1/contexts", json=body)
                        except httpx.HTTPError:
                            failed += 1
                            return
                        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
                        if resp.status_code == 201:
                            acknowledged.append(resp.json()["id"])
                            if len(acknowledged) >= 300:
                                enough.set()

                writers = [asyncio.create_task(writer(n)) for n in range(8)]
                # Kill mid-stream: after a few hundred acknowledged writes (or 30 s).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(enough.wait(), 30)
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                await asyncio.gather(*writers, return_exceptions=True)
        checks = {db: integrity(data_dir / db) for db in ("axon.db", "search.db")}
        with axon_server(env) as (_, url):
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                lost = 0
                for context_id in acknowledged:
                    if (await http.get(f"/api/v1/contexts/{context_id}")).status_code != 200:
                        lost += 1
        row(
            "server kill -9, 8 writers",
            f"{len(acknowledged)} writes acknowledged, {lost} lost, {failed} in flight cut "
            f"(statuses {statuses}); "
            f"integrity {checks}",
            lost == 0 and len(acknowledged) > 0 and all(v == "ok" for v in checks.values()),
        )


# -- 3. Redis refused and hung ------------------------------------------------------


async def redis_outage(kind: str, outage: float) -> None:
    print(f"3. Redis {kind} for {outage:g} s (rate limits on, a worker running)", flush=True)
    with servers.redis_server() as redis, tempfile.TemporaryDirectory() as tmp:
        assert redis is not None, "redis-server is not installed"
        data_dir = Path(tmp)
        tree = Path(tmp) / "tree"
        tree.mkdir()
        (tree / "app.py").write_text("def handler(event):\n    return event['body']\n")
        env = base_env(
            data_dir,
            AXON_EMBEDDER="none",
            REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
            AXON_RATE_LIMITS="on",
            AXON_RATE_LIMIT="1000000/1m",
            AXON_JOB_LEASE_SECONDS="5",
        )
        # The workspace is registered with the CLI (trusted, not subject to API roots).
        add = [AXON, "workspace", "add", str(tree), "--id", "ws"]
        await asyncio.to_thread(subprocess.run, add, env=env, check=True, capture_output=True)
        worker = await asyncio.create_subprocess_exec(
            AXON, "worker", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        with axon_server(env) as (_, url):
            async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                samples: list[tuple[float, float, int]] = []  # (start, latency, status)
                ready: list[tuple[float, int]] = []
                stop = asyncio.Event()

                async def load() -> None:
                    while not stop.is_set():
                        began = time.monotonic()
                        try:
                            status = (await http.get("/api/v1/workspaces")).status_code
                        except httpx.HTTPError:
                            status = 0
                        samples.append((began, time.monotonic() - began, status))

                async def probe() -> None:
                    while not stop.is_set():
                        status = (await http.get("/health/ready")).status_code
                        ready.append((time.monotonic(), status))
                        await asyncio.sleep(0.05)

                tasks = [asyncio.create_task(load()) for _ in range(4)]
                tasks.append(asyncio.create_task(probe()))
                await asyncio.sleep(2)
                queued = await http.post("/api/v1/workspaces/ws/scan")
                began = time.monotonic()
                if kind == "refused":
                    redis.stop()  # the queue is lost with it (no persistence)
                else:
                    redis.pause()
                await asyncio.sleep(outage)
                ended = time.monotonic()
                if kind == "refused":
                    redis.start()
                else:
                    redis.resume()
                # The scan queued before the outage finishes (queued again from the store
                # when Redis lost it, after the lease), then a new one is taken.
                first = await finish(http, queued, 60)
                first_done = time.monotonic() - ended
                second = await finish(http, await http.post("/api/v1/workspaces/ws/scan"), 60)
                states = [first, second]
                stop.set()
                await asyncio.gather(*tasks)
        worker_alive = worker.returncode is None
        worker.terminate()
        await asyncio.wait_for(worker.wait(), 30)
        before = [lat for start, lat, _ in samples if start < began]
        during = [lat for start, lat, _ in samples if began <= start < ended]
        errors = sum(1 for start, _, status in samples if began <= start and status != 200)
        flipped = next((t - began for t, s in ready if t >= began and s == 503), float("nan"))
        back = next((t - ended for t, s in ready if t >= ended and s == 200), float("nan"))
        stuck = sum(1 for s in states if s not in TERMINAL)
        row(
            f"Redis {kind} {outage:g} s",
            f"{len(during)} requests during it: p50 {statistics.median(during) * 1000:.0f} ms, "
            f"p99 {percentile(during, 0.99) * 1000:.0f} ms, max {max(during) * 1000:.0f} ms, "
            f"{errors} errors (before it: p50 {statistics.median(before) * 1000:.0f} ms, "
            f"max {max(before) * 1000:.0f} ms); ready 503 after {flipped:.2f} s, "
            f"200 again {back:.2f} s after; "
            f"worker alive {worker_alive}; the scan queued before it {states[0]} "
            f"{first_done:.1f} s after it, a new scan {states[1]} ({stuck} stuck)",
            max(during) < 1.0
            and errors == 0
            and worker_alive
            and stuck == 0
            and states == ["succeeded", "succeeded"],
        )


TERMINAL = {"succeeded", "failed", "cancelled"}


async def finish(http: httpx.AsyncClient, submitted: httpx.Response, within: float) -> str:
    """The submitted job's state once terminal, or its last state after `within` seconds;
    a refused submission as its status and error."""
    if submitted.status_code != 202:
        return f"refused {submitted.status_code} {submitted.text[:200]}"
    job_id = submitted.json()["jobId"]
    deadline = time.monotonic() + within
    while True:
        state = str((await http.get(f"/api/v1/jobs/{job_id}")).json().get("state", "?"))
        if state in TERMINAL or time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.2)


# -- 4. the LLM failing and hanging -------------------------------------------------


async def liveness(http: httpx.AsyncClient, latencies: list[float], done: asyncio.Event) -> None:
    while not done.is_set():
        began = time.monotonic()
        await http.get("/health/live")
        latencies.append(time.monotonic() - began)
        await asyncio.sleep(0.05)


async def llm_faults() -> None:
    print("4. LLM failing (HTTP 500) and hanging", flush=True)
    fake = FakeLLMServer(port=servers.free_port()).start()
    with tempfile.TemporaryDirectory() as tmp:
        env = base_env(
            Path(tmp),
            AXON_EMBEDDER="none",
            OPENAI_API_KEY="sk-fake",
            OPENAI_BASE_URL=f"{fake.url}/v1",
            DEFAULT_MODEL="gpt-4o-mini",
            LLM_TIMEOUT="2",
            LLM_MAX_RETRIES="1",
        )
        body = {"prompt": "Why does the retry loop stop early?", "workspaceId": "w"}
        for mode, step in (("failing", Step(status=500)), ("hanging", Step(delay=30))):
            # A server per mode: the breaker the first opens would answer the second.
            with axon_server(env) as (_, url):
                async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                    fake.reset()
                    warm = await http.post("/api/v1/prompts/process", json=body)
                    assert warm.status_code == 200, warm.text  # the model answers: warm
                    fake.script("openai", *[step] * 200)
                    live: list[float] = []
                    done = asyncio.Event()
                    watcher = asyncio.create_task(liveness(http, live, done))
                    results: list[tuple[int, float, str]] = []
                    for _ in range(6):
                        began = time.monotonic()
                        resp = await http.post("/api/v1/prompts/process", json=body)
                        error = resp.json().get("error", {}) if resp.status_code >= 400 else {}
                        code = str(error.get("code", ""))
                        results.append((resp.status_code, time.monotonic() - began, code))
                    done.set()
                    await watcher
            statuses = [f"{s} {c}".strip() for s, _, c in results]
            row(
                f"LLM {mode}",
                f"6 prompts in a row answered {statuses}, latency max "
                f"{max(t for _, t, _ in results):.2f} s; liveness meanwhile max "
                f"{max(live) * 1000:.0f} ms",
                all(s in {502, 503, 504} for s, _, _ in results) and max(live) < 1.0,
            )
    fake.stop()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--outage", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=7)
    # A part of flask keeps 2 x N index runs (with embeddings) within minutes.
    parser.add_argument("--subdir", default="src", help="the part of flask to index")
    parser.add_argument("--only", choices=("index", "server", "redis", "llm"), action="append")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    only = set(args.only or ("index", "server", "redis", "llm"))
    print(f"load average before: {os.getloadavg()}", flush=True)
    if "index" in only:
        indexer_kills(args.kills, random.Random(args.seed), args.subdir)
    if "server" in only:
        await server_kill_under_writers()
    if "redis" in only:
        await redis_outage("refused", args.outage)
        await redis_outage("hung", args.outage)
    if "llm" in only:
        await llm_faults()
    lines = [
        f"load average after: {os.getloadavg()}",
        "",
        "| fault | measured | verdict |",
        "|---|---|---|",
        *[f"| {f} | {m} | {v} |" for f, m, v in ROWS],
    ]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
