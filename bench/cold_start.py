"""First search after `axon serve` starts, beside the searches that follow.

    python bench/cold_start.py            # flask, local embedder, 3 server starts

flask at a fixed commit is indexed once (local embedder, vectors complete) into a
data dir; then, per round, a fresh `axon serve` process starts on it and the
client waits until it may send traffic: until `/health/ready` answers 200 (a
server that has no warm-up answers at once). It then times the first
`POST /api/v1/contexts/search` and 10 more (other queries, so no result cache
answers them), and prints the first beside the median of the rest. Round i serves on
port `--port` + i (default 4690).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import checkout

MIRRORS = Path("/work/.mirror")
FLASK = ("pallets+flask", "2ac89889f4cc330eabd50f295dcef02828522c69")
PORT = 4690
QUERIES = [
    "where are blueprints registered",
    "how does the app context get pushed",
    "url_for building with blueprints",
    "json provider default encoder",
    "session cookie signing secret key",
    "before_request hooks order",
    "test client follow redirects",
    "config from_pyfile loading",
    "send_file static folder caching",
    "error handler registration for exceptions",
    "template rendering context processors",
]


def _axon(*args: str) -> list[str]:
    return [sys.executable, "-c", "from axon.cli import main; main()", *args]


def _index(tree: Path, env: dict[str, str]) -> None:
    subprocess.run(
        _axon("index", str(tree), "--workspace", "flask", "--wait-embeddings"),
        env=env,
        check=False,  # an older axon has no --wait-embeddings: it always waits
        capture_output=True,
    )
    subprocess.run(_axon("index", str(tree), "--workspace", "flask"), env=env, check=True)


def _round(env: dict[str, str], port: int) -> dict[str, Any]:
    started = time.perf_counter()
    server = subprocess.Popen(
        _axon("serve", "--port", str(port)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            while True:
                try:
                    if http.get("/health/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
            ready = time.perf_counter() - started
            seconds = []
            for query in QUERIES:
                began = time.perf_counter()
                response = http.post(
                    "/api/v1/contexts/search",
                    json={"query": query, "workspaceId": "flask", "limit": 10},
                )
                response.raise_for_status()
                seconds.append(time.perf_counter() - began)
                assert response.json()["results"], query
    finally:
        server.terminate()
        server.wait(30)
    return {
        "readySeconds": round(ready, 2),
        "firstSearchMs": round(seconds[0] * 1000, 1),
        "laterMedianMs": round(statistics.median(seconds[1:]) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=PORT, help="first round's port")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with (
        checkout(MIRRORS / FLASK[0] / "repo", FLASK[1]) as tree,
        tempfile.TemporaryDirectory(prefix="axon-bench-data-") as data,
    ):
        env = {**os.environ, "AXON_DATA_DIR": data, "AXON_EMBEDDER": "local"}
        env["AXON_CACHE_TTL_QUERY_RESULTS"] = "0"
        for name in ("MONGODB_URI", "REDIS_URL", "QDRANT_URL"):
            env.pop(name, None)
        _index(tree, env)
        rounds = [_round(env, args.port + i) for i in range(args.rounds)]
    first = statistics.median(r["firstSearchMs"] for r in rounds)
    later = statistics.median(r["laterMedianMs"] for r in rounds)
    print(
        f"flask, {args.rounds} server starts: ready after "
        f"{statistics.median(r['readySeconds'] for r in rounds):.2f}s (median); first search "
        f"{first:.0f} ms, later searches {later:.0f} ms (medians) = {first / later:.1f}x"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(json.dumps(rounds, indent=2))


if __name__ == "__main__":
    main()
