"""CLI start-up benchmark: how long `axon` commands take, beside ripgrep on the same tree.

    python bench/cli.py                  # index flask (local model) and sphinx, then measure
    python bench/cli.py --runs 20 --port 4701
    python bench/cli.py --before /tmp/old    # also time the sources in /tmp/old/src
    python bench/cli.py --data /tmp/cli-bench  # keep the indexed data folders for next time

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
With --before SRC (a checkout, e.g. `git archive <commit>`), every axon command is
also run with PYTHONPATH=SRC/src, interleaved, against the same data: before/after
ratios from one run.
Goals (#16-9): --help <= 0.3 s, search <= 0.5 s standalone and <= 0.15 s with a server,
no-change index <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

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


def _tree(target: Path, mirror: str, commit: str) -> Path:
    """The tree of `commit` at `target` (kept: workspaces are registered by folder)."""
    if not target.is_dir():
        target.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "--git-dir", str(MIRRORS / mirror / "repo"), "archive", commit],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _older(env: dict[str, str], before: Path) -> dict[str, str]:
    """`env` running the sources under `before` (they shadow the installed package)."""
    return {**env, "PYTHONPATH": str(before / "src")}


def _wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-2000:]}")
    return elapsed


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as answer:
            return bool(answer.status == 200)
    except OSError:  # refused, or 503 while warming (HTTPError is an OSError)
        return False


def _serve(env: dict[str, str], port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [AXON, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    # Ready, not just listening: while the model loads the CLI would search on its own.
    while not (data_dir / "server.json").exists() or not _ready(port):
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("axon serve did not become ready")
        time.sleep(0.2)
    # The first search warms the server (model, arrays); the figures are for later ones.
    for _ in range(3):
        _wall([AXON, "search", QUERY, "-w", "flask"], env)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--port", type=int, default=4701, help="for the axon serve run")
    parser.add_argument("--before", type=Path, help="a checkout to time as well")
    parser.add_argument("--data", type=Path, help="data folders to keep (indexed if absent)")
    args = parser.parse_args()
    if shutil.which("rg") is None:
        raise SystemExit("ripgrep is the baseline: apt-get install -y ripgrep")
    rows: list[tuple[float, float, float | None]] = []  # now, rg, before
    with ExitStack() as stack:
        tmp = args.data or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="axon-cli-"))
        )
        flask = _tree(tmp / "flask", *FLASK)
        sphinx = _tree(tmp / "sphinx", *SPHINX)
        flask_env = _env(tmp / "flask-data", None)  # the default embedder: the local model
        sphinx_env = _env(tmp / "sphinx-data", "none")
        print("indexing flask (with embeddings) and sphinx (lexical) ...", flush=True)
        _wall([AXON, "index", str(flask), "-w", "flask"], flask_env)
        _wall([AXON, "index", str(sphinx), "-w", "sphinx"], sphinx_env)

        def timed(argv: list[str], env: dict[str, str], tree: Path, word: str) -> None:
            """One row: `argv` now (and before), and rg over `tree`, interleaved."""
            now: list[float] = []
            old: list[float] = []
            rg: list[float] = []
            for _ in range(args.runs):
                now.append(_wall(argv, env))
                if args.before:
                    old.append(_wall(argv, _older(env, args.before)))
                rg.append(_wall(["rg", "-n", word, str(tree)], env))
            before = statistics.median(old) if old else None
            rows.append((statistics.median(now), statistics.median(rg), before))

        search = [AXON, "search", QUERY, "-w", "flask"]
        timed([AXON, "--help"], flask_env, flask, "blueprint")
        timed(search, flask_env, flask, "blueprint")
        server = _serve(flask_env, args.port, tmp / "flask-data")
        try:
            timed(search, flask_env, flask, "blueprint")
        finally:
            server.terminate()
            server.wait(30)
        timed([AXON, "index", str(sphinx), "-w", "sphinx"], sphinx_env, sphinx, "autodoc")
    names = [
        "axon --help",
        "axon search, standalone",
        "axon search, server running",
        "axon index sphinx, no change",
    ]
    goals = [0.3, 0.5, 0.15, 1.0]
    print(f"\nmedians of {args.runs} runs; load average {os.getloadavg()[0]:.1f}")
    print(f"{'command':30} {'axon s':>8} {'before s':>9} {'rg s':>7} {'vs rg':>7} {'goal s':>7}")
    for name, goal, (ours, theirs, before) in zip(names, goals, rows, strict=True):
        old = f"{before:9.3f}" if before is not None else f"{'-':>9}"
        print(f"{name:30} {ours:8.3f} {old} {theirs:7.3f} {ours / theirs:6.1f}x {goal:7.2f}")


if __name__ == "__main__":
    main()
