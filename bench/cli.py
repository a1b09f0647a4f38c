"""CLI start-up benchmark: how long `axon` commands take, beside ripgrep on the same tree.

    python bench/cli.py                  # index flask (local model) and sphinx, then measure
    python bench/cli.py --runs 20 --port 4701

Figures, medians of --runs wall-clock runs of the real `axon` entry point, each in a
fresh process, interleaved with the baseline so both see the same machine load:
- `axon --help`;
- `axon search "where are blueprints registered" -w flask` on flask indexed with the
  local embedding model: standalone (the CLI loads the store, the arrays and the
  model itself), then with `axon serve` running for the same data folder (the CLI
  asks it, see axon/local_server.py);
- a no-change `axon index` of sphinx (2,059 files in the tree; lexical-only data
  folder, AXON_EMBEDDER=none: nothing is embedded on a no-change run either way).
Baseline: `rg -n blueprint` over the flask tree and `rg -n autodoc` over sphinx (ripgrep,
Debian's `ripgrep` package), the time a search tool that loads nothing takes here.
Goals (#16-9): --help <= 0.3 s, search <= 0.5 s standalone and <= 0.15 s with a server,
no-change index <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import checkout

MIRRORS = Path("/work/.mirror")
FLASK = ("pallets+flask", "2ac89889f4cc330eabd50f295dcef02828522c69")
SPHINX = ("sphinx-doc+sphinx", "e44a40eb2f810558ccd9da1425421270ccb81351")
QUERY = "where are blueprints registered"
AXON = str(Path(sys.executable).with_name("axon"))


def _env(data_dir: Path, embedder: str | None) -> dict[str, str]:
    # Embedded backends; and bytecode caching on, as in an installed Axon (pip compiles
    # at install): PYTHONDONTWRITEBYTECODE would make every run compile changed sources.
    skip = {"MONGODB_URI", "REDIS_URL", "QDRANT_URL", "AXON_EMBEDDER", "PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env["AXON_DATA_DIR"] = str(data_dir)
    if embedder is not None:
        env["AXON_EMBEDDER"] = embedder
    return env


def _wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-2000:]}")
    return elapsed


def _medians(
    runs: int, measured: Callable[[], float], baseline: Callable[[], float]
) -> tuple[float, float]:
    """Median seconds of `measured` and of `baseline`, run alternately."""
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):
        ours.append(measured())
        theirs.append(baseline())
    return statistics.median(ours), statistics.median(theirs)


def _serve(env: dict[str, str], port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [AXON, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not (data_dir / "server.json").exists():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("axon serve did not start")
        time.sleep(0.2)
    # The first search warms the server (model, arrays); the figures are for later ones.
    for _ in range(3):
        _wall([AXON, "search", QUERY, "-w", "flask"], env)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--port", type=int, default=4701, help="for the axon serve run")
    args = parser.parse_args()
    if shutil.which("rg") is None:
        raise SystemExit("ripgrep is the baseline: apt-get install -y ripgrep")
    rows: list[tuple[str, float, float, float]] = []
    with ExitStack() as stack:
        flask = stack.enter_context(checkout(MIRRORS / FLASK[0] / "repo", FLASK[1]))
        sphinx = stack.enter_context(checkout(MIRRORS / SPHINX[0] / "repo", SPHINX[1]))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="axon-bench-cli-")))
        flask_env = _env(tmp / "flask-data", None)  # the default embedder: the local model
        sphinx_env = _env(tmp / "sphinx-data", "none")
        print("indexing flask (with embeddings) and sphinx (lexical) ...", flush=True)
        _wall([AXON, "index", str(flask), "-w", "flask"], flask_env)
        _wall([AXON, "index", str(sphinx), "-w", "sphinx"], sphinx_env)

        def rg_flask() -> float:
            return _wall(["rg", "-n", "blueprint", str(flask)], flask_env)

        def rg_sphinx() -> float:
            return _wall(["rg", "-n", "autodoc", str(sphinx)], sphinx_env)

        def search() -> float:
            return _wall([AXON, "search", QUERY, "-w", "flask"], flask_env)

        help_s, rg_s = _medians(args.runs, lambda: _wall([AXON, "--help"], flask_env), rg_flask)
        rows.append(("axon --help", help_s, rg_s, 0.3))
        alone, rg_s = _medians(args.runs, search, rg_flask)
        rows.append(("axon search, standalone", alone, rg_s, 0.5))
        server = _serve(flask_env, args.port, tmp / "flask-data")
        try:
            served, rg_s = _medians(args.runs, search, rg_flask)
        finally:
            server.terminate()
            server.wait(30)
        rows.append(("axon search, axon serve running", served, rg_s, 0.15))
        index_s, rg_s = _medians(
            args.runs,
            lambda: _wall([AXON, "index", str(sphinx), "-w", "sphinx"], sphinx_env),
            rg_sphinx,
        )
        rows.append(("axon index sphinx, no change", index_s, rg_s, 1.0))
    print(f"\nmedians of {args.runs} runs; load average {os.getloadavg()[0]:.1f}")
    print(f"{'command':36} {'axon s':>8} {'rg s':>8} {'ratio':>7} {'goal s':>7}")
    for name, ours, theirs, goal in rows:
        print(f"{name:36} {ours:8.3f} {theirs:8.3f} {ours / theirs:6.1f}x {goal:7.2f}")
    print(json.dumps({name: round(ours, 3) for name, ours, _, _ in rows}))


if __name__ == "__main__":
    main()
