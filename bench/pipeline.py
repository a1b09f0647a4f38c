"""Prompt pipeline overhead: everything except the model call (`none` provider).

Builds (once, then reuses) a workspace of 50,000 contexts chunked from the mirrored
public repositories, then measures:

1. in-process: prepare + complete + finish per prompt (collect, analyze, retrieve,
   synthesize, inject, post-process, interaction write), p50/p95, per-stage medians,
   and retrieval alone on the same prompts as the in-run baseline;
2. over HTTP: `axon serve` on loopback, 16 concurrent httpx clients posting to
   /api/v1/prompts/process for a fixed time: requests/s and errors.

    python bench/pipeline.py [--contexts 50000] [--data-dir DIR] [--embedder none|local]
        [--requests 300] [--http-seconds 20] [--clients 16] [--out bench/results/pipeline.txt]

Targets (issue 5): in-process p50 <= 25 ms, p95 <= 60 ms; HTTP >= 150 req/s, 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import servers
from tests.pipeline.analyzer_table import HELD_OUT, LABELLED

from _corpus import checkout, chunk_files, read_files
from axon.api.prompt_result import prompt_result
from axon.config import load_settings
from axon.models import Workspace, WorkspaceType
from axon.pipeline import PromptRequest
from axon.ports import ContextFilter, SearchRequest
from axon.services import Services, build_services

WORKSPACE = "bench"
REPOS = (
    "pylint-dev+pylint",
    "sphinx-doc+sphinx",
    "pydata+xarray",
    "pytest-dev+pytest",
    "mwaskom+seaborn",
    "pallets+flask",
    "psf+requests",
)
PROMPTS = [p for p, *_ in LABELLED + HELD_OUT] + [
    "Why does the checker raise a false positive for unused-import in __init__.py?",
    "Explain how the autodoc extension documents class attributes",
    "How does xarray align coordinates before arithmetic?",
    "Fix the fixture teardown order bug in conftest handling",
    "Add a flag to the linter that skips generated files",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def build_workspace(services: Services, target: int, mirrors: Path) -> None:
    store = services.store
    if await store.get_workspace(WORKSPACE) is None:
        await store.create_workspace(
            Workspace(id=WORKSPACE, name=WORKSPACE, type=WorkspaceType.CODING)
        )
    have = await store.count_contexts(ContextFilter(workspace_id=WORKSPACE))
    if have >= target:
        return
    print(f"building a workspace of {target} contexts (have {have}) ...", flush=True)
    added = have
    copy = 0
    while added < target:
        for name in REPOS:
            mirror = mirrors / name / "repo"
            if not mirror.exists() or added >= target:
                continue
            with checkout(mirror, "HEAD") as root:
                files = read_files(root)
            prefix = f"{name.split('+')[1]}{'-' + str(copy) if copy else ''}/"
            contexts = chunk_files(WORKSPACE, {prefix + p: t for p, t in files.items()})
            contexts = contexts[: target - added]
            for start in range(0, len(contexts), 2000):
                batch = contexts[start : start + 2000]
                await store.put_contexts(batch)
                await services.search_index.index(batch)
            added += len(contexts)
            print(f"  {name}: +{len(contexts)} -> {added}", flush=True)
        copy += 1


async def in_process(services: Services, n: int) -> dict[str, Any]:
    pipeline = services.pipeline
    requests = [
        PromptRequest(prompt=PROMPTS[i % len(PROMPTS)], workspace_id=WORKSPACE) for i in range(n)
    ]
    # A server's first search loads the workspace's index; measure warm, as a server runs.
    await services.retriever.search(SearchRequest(query="warm up", workspace_id=WORKSPACE))
    for request in requests[:20]:  # warm caches, model and tokenizer
        await pipeline.finish(p := await pipeline.prepare(request), await pipeline.complete(p))
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    for request in requests:
        began = time.perf_counter()
        run = await pipeline.prepare(request)
        answer = await pipeline.complete(run)
        prompt_result(run, answer, await pipeline.finish(run, answer))  # as the API shapes it
        totals.append((time.perf_counter() - began) * 1000)
        for stage, ms in run.latency.items():
            stages.setdefault(stage, []).append(ms)
    await pipeline.drain()
    retrieval: list[float] = []
    for request in requests:
        began = time.perf_counter()
        await services.retriever.search(
            SearchRequest(query=request.prompt, workspace_id=WORKSPACE, limit=20)
        )
        retrieval.append((time.perf_counter() - began) * 1000)
    return {
        "p50": statistics.median(totals),
        "p95": percentile(totals, 0.95),
        "stages": {k: statistics.median(v) for k, v in stages.items()},
        "retrieval_p50": statistics.median(retrieval),
        "retrieval_p95": percentile(retrieval, 0.95),
    }


async def over_http(url: str, seconds: float, clients: int, workspace: str) -> dict[str, Any]:
    counts = {"ok": 0, "errors": 0}
    statuses: dict[int, int] = {}
    failures: dict[str, int] = {}
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker(index: int) -> None:
            n = index
            while time.monotonic() < deadline:
                body = {"prompt": PROMPTS[n % len(PROMPTS)], "workspaceId": workspace}
                n += clients
                began = time.perf_counter()
                try:
                    response = await client.post("/api/v1/prompts/process", json=body)
                except httpx.HTTPError as exc:  # no answer: named by kind (ReadTimeout, ...)
                    counts["errors"] += 1
                    failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                    continue
                latencies.append((time.perf_counter() - began) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                counts["ok" if response.status_code == 200 else "errors"] += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.monotonic() - started
    return {
        "rps": counts["ok"] / elapsed,
        "errors": counts["errors"],
        "requests": counts["ok"] + counts["errors"],
        "statuses": statuses,
        "failures": failures,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95) if latencies else float("nan"),
        "p99": percentile(latencies, 0.99) if latencies else float("nan"),
    }


def start_server(
    data_dir: Path, embedder: str, workers: int
) -> tuple[subprocess.Popen[bytes], str]:
    port = servers.free_port()
    env = {
        **os.environ,
        "AXON_DATA_DIR": str(data_dir),
        "AXON_EMBEDDER": embedder,
        "AXON_RATE_LIMITS": "off",
        "AXON_RETRIEVAL_TIMEOUT_SECONDS": "120",  # the warm-up request loads the index
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
    }
    for name in ("MONGODB_URI", "REDIS_URL", "QDRANT_URL", "OPENAI_API_KEY", "LLM_PROVIDER"):
        env.pop(name, None)
    axon = str(Path(sys.executable).with_name("axon"))
    argv = [axon, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(argv, env=env)
    servers.wait_for_port(port, 60)
    return process, f"http://127.0.0.1:{port}"


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contexts", type=int, default=50_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/axon-bench-pipeline"))
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--embedder", choices=("none", "local"), default="none")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--http-seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="`axon serve --workers`")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    data_dir = args.data_dir / args.embedder
    data_dir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    os.environ.update(
        {
            "AXON_DATA_DIR": str(data_dir),
            "AXON_EMBEDDER": args.embedder,
            # The prompts repeat: caches of whole search results and analyses would
            # answer most of them without work. Off, so every prompt runs the pipeline.
            "AXON_CACHE_TTL_QUERY_RESULTS": "0",
            "AXON_CACHE_TTL_ANALYSES": "0",
        }
    )
    os.environ.pop("LLM_PROVIDER", None)
    services = await build_services(load_settings())
    try:
        await build_workspace(services, args.contexts, args.mirrors)
        count = await services.store.count_contexts(ContextFilter(workspace_id=WORKSPACE))
        local = await in_process(services, args.requests)
    finally:
        await services.close()
    process, url = start_server(data_dir, args.embedder, args.workers)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60) as warm:
            for prompt in PROMPTS[: 20 * args.workers]:
                await warm.post(
                    "/api/v1/prompts/process", json={"prompt": prompt, "workspaceId": WORKSPACE}
                )
        http = await over_http(url, args.http_seconds, args.clients, WORKSPACE)
        # The same load on an empty workspace: what the HTTP stack and the pipeline's
        # own stages sustain when retrieval costs next to nothing.
        empty = await over_http(url, args.http_seconds, args.clients, "bench-empty")
    finally:
        process.terminate()
        process.wait(15)
    load_after = os.getloadavg()
    stages = ", ".join(f"{k} {v:.2f}" for k, v in local["stages"].items())
    lines = [
        f"pipeline benchmark: {count} contexts, embedder={args.embedder}, provider=none, "
        f"{os.cpu_count()} cpus",
        f"in-process ({args.requests} prompts): p50 {local['p50']:.2f} ms, "
        f"p95 {local['p95']:.2f} ms  (targets 25 / 60)",
        f"  stage medians (ms): {stages}",
        f"  baseline, retrieval alone: p50 {local['retrieval_p50']:.2f} ms, "
        f"p95 {local['retrieval_p95']:.2f} ms; pipeline/retrieval p50 ratio "
        f"{local['p50'] / local['retrieval_p50']:.2f}",
        f"HTTP ({args.clients} clients, {args.workers} worker(s), {args.http_seconds:.0f} s): "
        f"{http['rps']:.1f} req/s, "
        f"{http['errors']} errors of {http['requests']} (target >= 150 req/s, 0 errors), "
        f"latency p50 {http['p50']:.1f} ms, p95 {http['p95']:.1f} ms, statuses {http['statuses']}",
        f"  baseline, same load on an empty workspace: {empty['rps']:.1f} req/s, "
        f"{empty['errors']} errors of {empty['requests']}, latency p50 {empty['p50']:.1f} ms, "
        f"p95 {empty['p95']:.1f} ms",
        f"load average (1/5/15 min) before {' '.join(f'{x:.2f}' for x in load_before)}, "
        f"after {' '.join(f'{x:.2f}' for x in load_after)}",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
