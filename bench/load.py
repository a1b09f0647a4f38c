"""Load: 50 concurrent clients for 60 s on POST /api/v1/prompts/process, beside the
pipeline benchmark's 16-client figure measured in the same run on the same server.

Indexes flask (the mirrored repository, HEAD) with the local embedder into a fresh
data dir, starts `axon serve` on loopback (context-only: no LLM; rate limits off;
the caches of whole rankings and analyses off, since the prompts repeat), warms it,
then runs 16 clients (`bench/pipeline.py`'s HTTP load) and 50 clients, each for its
own duration. Prints requests/s, errors and p50/p95/p99 latency for both, and the
load average (the machine is shared).

    python bench/load.py [--clients 50] [--seconds 60] [--baseline-seconds 20]
        [--workers 1] [--out bench/results/load.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _corpus import checkout
from pipeline import PROMPTS, over_http, start_server

FLASK = Path("/work/.mirror/pallets+flask/repo")
WORKSPACE = "flask"


def index_flask(data_dir: Path) -> tuple[str, float]:
    commit = subprocess.run(
        ["git", "--git-dir", str(FLASK), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = {**os.environ, "AXON_DATA_DIR": str(data_dir), "AXON_EMBEDDER": "local"}
    axon = str(Path(sys.executable).with_name("axon"))
    with checkout(FLASK, commit) as tree:
        started = time.monotonic()
        subprocess.run(
            [axon, "index", str(tree), "--workspace", WORKSPACE],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return commit[:12], time.monotonic() - started


def line(name: str, result: dict[str, object]) -> str:
    return (
        f"| {name} | {result['rps']:.1f} | {result['errors']} of {result['requests']} | "
        f"{result['p50']:.1f} | {result['p95']:.1f} | {result['p99']:.1f} |"
    )


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--baseline-clients", type=int, default=16)
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    for name in ("MONGODB_URI", "REDIS_URL", "QDRANT_URL", "OPENAI_API_KEY", "LLM_PROVIDER"):
        os.environ.pop(name, None)
    os.environ |= {"AXON_CACHE_TTL_QUERY_RESULTS": "0", "AXON_CACHE_TTL_ANALYSES": "0"}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="axon-load-") as tmp:
        data_dir = Path(tmp)
        commit, took = index_flask(data_dir)
        process, url = start_server(data_dir, "local", args.workers)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=120) as warm:
                for prompt in PROMPTS[: 20 * args.workers]:
                    body = {"prompt": prompt, "workspaceId": WORKSPACE}
                    response = await warm.post("/api/v1/prompts/process", json=body)
                    assert response.status_code == 200, response.text
                    assert response.json()["mode"] == "context_only"
            baseline = await over_http(url, args.baseline_seconds, args.baseline_clients, WORKSPACE)
            loaded = await over_http(url, args.seconds, args.clients, WORKSPACE)
        finally:
            process.terminate()
            process.wait(15)
    load_after = os.getloadavg()
    lines = [
        f"load benchmark: flask {commit} indexed with the local embedder in {took:.1f} s; "
        f"context-only; {args.workers} worker(s); {os.cpu_count()} cpus",
        "",
        "| clients | req/s | errors | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|",
        line(
            f"{args.baseline_clients} (pipeline bench's load), {args.baseline_seconds:g} s",
            baseline,
        ),
        line(f"{args.clients}, {args.seconds:g} s", loaded),
        "",
        f"statuses at {args.clients} clients: {loaded['statuses']}, "
        f"requests without an answer: {loaded['failures'] or 'none'}",
        f"load average (1/5/15 min) before {' '.join(f'{x:.2f}' for x in load_before)}, "
        f"after {' '.join(f'{x:.2f}' for x in load_after)}",
    ]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
