"""Indexing benchmark: first index, no-change re-index and memory.

    python bench/indexing.py                 # sphinx first index + re-index, 10k-file RSS
    python bench/indexing.py --skip-rss      # only the sphinx figures
    python bench/indexing.py --embedder local  # sphinx first index WITH local embeddings
    python bench/indexing.py --progressive     # flask and sphinx: first search vs all embedded
    python bench/indexing.py --skip-rss --history  # sphinx as a git checkout with history

Figures:
- first index of sphinx at a fixed commit (2,059 files in the tree), files per second
  over every file the scan looked at, and over the files actually indexed;
- no-change re-index (median of 5 runs) and a one-file-changed re-index;
- peak RSS of a child process indexing a >= 10,000-file tree built from the mirrored
  repositories (sphinx twice, pylint, pytest, xarray, seaborn, flask, requests).
- with --embedder local instead: wall time, CPU time and peak RSS of a child process
  that indexes sphinx from nothing with the local embedding model, in a fresh data
  dir, so every context is embedded and the ONNX graph is built from the weights once
  (the worst case: a first start of a fresh install).
- with --progressive instead: `axon index` of flask and of sphinx in a child process
  with the local embedder (fresh data dir, the ONNX graph already built), while this
  process watches `search.db` and searches lexically every 0.2 s: seconds until the
  first search answers, until every context is lexically searchable, until every
  context has its vector, and until the command returned.
Without --embedder local or --progressive, nothing is embedded (AXON_EMBEDDER=none).
A baseline measured in the same run (read + sha256 of every file the scan lists) shows
what the machine's I/O and hashing alone cost.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import checkout, git_checkout

MIRRORS = Path("/work/.mirror")
FLASK = ("pallets+flask", "2ac89889f4cc330eabd50f295dcef02828522c69")
# What the watching process searches for while the child indexes (lexically).
PROGRESSIVE_QUERIES = {"flask": "where are blueprints registered", "sphinx": "add_config_value"}
SPHINX = ("sphinx-doc+sphinx", "e44a40eb2f810558ccd9da1425421270ccb81351")
RSS_TREE = [
    SPHINX,
    ("pylint-dev+pylint", "3a99b2d728d0c8ff5267e0c38ebad4f5ba228dac"),
    ("pytest-dev+pytest", "df87db7b0462fb764ef73fa00561adf8ad047572"),
    ("pydata+xarray", "b1c1dc549b62bdfc8de0bdded24f56464cf0db1a"),
    ("mwaskom+seaborn", "f04b6cd5484267a0885d1fed068e99dff3a1b226"),
    ("pallets+flask", "2ac89889f4cc330eabd50f295dcef02828522c69"),
    ("psf+requests", "1f6589ec3a1ee910f9a65cc3ceac60b26677bc0e"),
    SPHINX,  # a second copy, under another folder, takes the tree past 10,000 files
]


def _environment(data_dir: str, embedder: str = "none") -> None:
    os.environ["AXON_DATA_DIR"] = data_dir
    os.environ["AXON_EMBEDDER"] = embedder
    for name in ("MONGODB_URI", "REDIS_URL", "QDRANT_URL"):
        os.environ.pop(name, None)


async def _index(path: Path, workspace_id: str, runs: int) -> list[dict[str, Any]]:
    from axon.config import load_settings
    from axon.indexing import index_workspace
    from axon.models import Workspace, WorkspaceType
    from axon.services import build_services

    services = await build_services(load_settings())
    try:
        workspace = Workspace(
            id=workspace_id, name=workspace_id, type=WorkspaceType.CODING, path=str(path)
        )
        await services.store.create_workspace(workspace)
        out = []
        for run in range(runs):
            if run == runs - 1 and runs > 2:
                # The last run follows an edit to one file.
                target = path / "sphinx" / "util" / "typing.py"
                target.write_text(
                    target.read_text() + "\n\ndef bench_added() -> int:\n    return 1\n"
                )
            started, cpu = time.perf_counter(), time.process_time()
            [report] = await index_workspace(
                services.store,
                services.search_index,
                workspace,
                max_file_bytes=services.settings.index_max_file_bytes,
                git_max_commits=services.settings.git_max_commits,
                git_commit_contexts=services.settings.git_commit_contexts,
            )
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu  # all threads of this process
            out.append({"seconds": seconds, "cpuSeconds": cpu_seconds, **report.counts()})
            if run == 0 and workspace_id == "sphinx":
                out[0]["spotCheck"] = await _spot_check(services.store)
        return out
    finally:
        await services.close()


async def _spot_check(store: Any) -> dict[str, Any]:
    """A few symbols and facts a reader of sphinx would expect to find."""
    from axon.indexing.facts import FACTS_PATH
    from axon.ports import ContextFilter

    app = [
        c.symbol
        async for c in store.iter_contexts(
            ContextFilter(workspace_id="sphinx", path="sphinx/application.py")
        )
    ]
    facts = {
        c.symbol: c.metadata
        async for c in store.iter_contexts(ContextFilter(workspace_id="sphinx", path=FACTS_PATH))
    }
    return {
        "Sphinx.add_config_value": "Sphinx.add_config_value" in app,
        "Sphinx.connect": "Sphinx.connect" in app,
        "primaryLanguage": facts["languages"]["primary"],
        "testRunners": facts["stack"]["testRunners"],
        "linters": facts["stack"]["linters"],
    }


def _baseline(path: Path) -> float:
    from axon.indexing.scanner import scan

    started = time.perf_counter()
    for file in scan(str(path)).files:
        hashlib.sha256(Path(file.abs_path).read_bytes()).hexdigest()
    return time.perf_counter() - started


def _tree_files(path: Path) -> int:
    """Files in the tree, git's own folder left out (a --history checkout has one)."""
    total = 0
    for _, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d != ".git"]
        total += len(files)
    return total


def sphinx_figures(history: bool = False) -> dict[str, Any]:
    with ExitStack() as stack:
        tree_of = git_checkout if history else checkout
        tree = stack.enter_context(tree_of(MIRRORS / SPHINX[0] / "repo", SPHINX[1]))
        data = stack.enter_context(tempfile.TemporaryDirectory(prefix="axon-bench-data-"))
        _environment(data)
        files = _tree_files(tree)
        baseline = _baseline(tree)
        runs = asyncio.run(_index(tree, "sphinx", 7))
    first, rest, edited = runs[0], runs[1:-1], runs[-1]
    return {
        "commit": SPHINX[1],
        "tree": "git checkout with history" if history else "git archive (no history)",
        "gitMaxCommits": int(os.environ.get("AXON_GIT_MAX_COMMITS", "1000")),
        "treeFiles": files,
        "baselineReadHashSeconds": round(baseline, 3),
        "first": first,
        "firstFilesPerSecond": round(files / first["seconds"], 1),
        "firstIndexedFilesPerSecond": round(first["indexed"] / first["seconds"], 1),
        "firstVsBaseline": round(first["seconds"] / baseline, 1),
        "firstCpuSeconds": round(first["cpuSeconds"], 2),
        "firstFilesPerCpuSecond": round(files / first["cpuSeconds"], 1),
        "reindexSeconds": [round(r["seconds"], 3) for r in rest],
        "reindexMedianSeconds": round(statistics.median(r["seconds"] for r in rest), 3),
        "oneFileChangedSeconds": round(edited["seconds"], 3),
        "oneFileChanged": {k: edited[k] for k in ("indexed", "unchanged", "contextsWritten")},
    }


def rss_child(path: str, embedder: str) -> None:
    """Runs in a child process: index `path` once and print the peak RSS."""
    with tempfile.TemporaryDirectory(prefix="axon-bench-data-") as data:
        _environment(data, embedder)
        [run] = asyncio.run(_index(Path(path), "big", 1))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peakRssMB": round(peak_kb / 1024, 1), **run}))


def rss_figures() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="axon-bench-big-") as big, ExitStack() as stack:
        for number, (mirror, commit) in enumerate(RSS_TREE):
            source = stack.enter_context(checkout(MIRRORS / mirror / "repo", commit))
            os.rename(source, Path(big) / f"{number}-{mirror}")
            (Path(source)).mkdir()  # leave the temporary folder something to delete
        files = _tree_files(Path(big))
        child = subprocess.run(
            [sys.executable, __file__, "--rss-child", big, "--embedder", "none"],
            check=True,
            capture_output=True,
            text=True,
        )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return {"treeFiles": files, **result}


def embedded_figures() -> dict[str, Any]:
    """sphinx indexed from nothing with local embeddings, in a child process."""
    with checkout(MIRRORS / SPHINX[0] / "repo", SPHINX[1]) as tree:
        files = _tree_files(tree)
        child = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(tree), "--embedder", "local"],
            check=True,
            capture_output=True,
            text=True,
        )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return {"commit": SPHINX[1], "treeFiles": files, **result}


def _graph_dir() -> Path:
    """A data dir whose `models/` holds the built ONNX graph, so that children start warm."""
    warm = Path(tempfile.gettempdir()) / "axon-bench-warm-models"
    warm.mkdir(exist_ok=True)
    env = {**os.environ, "AXON_DATA_DIR": str(warm), "AXON_EMBEDDER": "local"}
    code = (
        "import asyncio\n"
        "from axon.config import load_settings\n"
        "from axon.embeddings import build_embedder\n"
        "asyncio.run(build_embedder(load_settings()).embed(['warm']))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return warm / "models"


def _counts(db: Path, workspace_id: str) -> tuple[int, int]:
    """(lexical rows, vectors) of a workspace, read without locking the writer out."""
    import sqlite3

    if not db.exists():
        return 0, 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        lex = conn.execute(
            "SELECT count(*) FROM lex_docs WHERE workspace_id = ?", (workspace_id,)
        ).fetchone()[0]
        vec = conn.execute(
            "SELECT count(*) FROM vec_items WHERE workspace_id = ?", (workspace_id,)
        ).fetchone()[0]
        return int(lex), int(vec)
    except sqlite3.OperationalError:  # tables not created yet
        return 0, 0
    finally:
        conn.close()


async def _watch_index(tree: Path, data: str, workspace_id: str, models: Path) -> dict[str, Any]:
    from axon.config import load_settings
    from axon.ports import SearchRequest
    from axon.services import build_services

    shutil.copytree(models, Path(data) / "models")
    env = {**os.environ, "AXON_DATA_DIR": data, "AXON_EMBEDDER": "local"}
    command = [sys.executable, "-c", "from axon.cli import main; main()"]
    command += ["index", str(tree), "--workspace", workspace_id]
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    # The watcher searches lexically (no model of its own) on the same data dir.
    _environment(data)
    services = None
    series: list[tuple[float, int, int]] = []
    first_answer: float | None = None
    returned: float | None = None
    output = b""
    try:
        while True:
            now = time.perf_counter() - started
            lex, vec = _counts(Path(data) / "search.db", workspace_id)
            series.append((now, lex, vec))
            if first_answer is None and lex:
                services = services or await build_services(load_settings())
                request = SearchRequest(
                    query=PROGRESSIVE_QUERIES[workspace_id], workspace_id=workspace_id, limit=5
                )
                if await services.retriever.search(request):
                    first_answer = time.perf_counter() - started
            if returned is None and child.returncode is not None:
                returned = now
                output = await child.stdout.read() if child.stdout else b""
            if returned is not None and (not lex or vec >= lex):
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(child.wait(), 0.2)
    finally:
        if services is not None:
            await services.close()
    lex_final, vec_final = series[-1][1], series[-1][2]
    lexical_done = next(t for t, lex, _ in series if lex >= lex_final)
    vectors_done = next(t for t, _, vec in series if vec >= vec_final)
    return {
        "contexts": lex_final,
        "vectors": vec_final,
        "firstSearchSeconds": round(first_answer or float("nan"), 2),
        "lexicalCompleteSeconds": round(lexical_done, 2),
        "embeddingsCompleteSeconds": round(vectors_done, 2),
        "commandReturnedSeconds": round(returned or float("nan"), 2),
        "exitCode": child.returncode,
        "lastOutput": output.decode(errors="replace").strip().splitlines()[-3:],
    }


def progressive_figures() -> dict[str, Any]:
    models = _graph_dir()
    out: dict[str, Any] = {}
    for name, (mirror, commit) in (("flask", FLASK), ("sphinx", SPHINX)):
        with (
            checkout(MIRRORS / mirror / "repo", commit) as tree,
            tempfile.TemporaryDirectory(prefix="axon-bench-data-") as data,
        ):
            out[name] = {"commit": commit, **asyncio.run(_watch_index(tree, data, name, models))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--embedder", choices=["none", "local"], default="none")
    parser.add_argument("--progressive", action="store_true")
    parser.add_argument(
        "--history",
        action="store_true",
        help="sphinx as a git checkout with its history (AXON_GIT_MAX_COMMITS=0 for the "
        "same tree with git off)",
    )
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.embedder)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if args.progressive:
        p = progressive_figures()
        for name, f in p.items():
            print(
                f"{name}: {f['contexts']} contexts; first search answered after "
                f"{f['firstSearchSeconds']}s, all lexically searchable after "
                f"{f['lexicalCompleteSeconds']}s, all embedded after "
                f"{f['embeddingsCompleteSeconds']}s; `axon index` returned after "
                f"{f['commandReturnedSeconds']}s (exit {f['exitCode']})"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print(json.dumps(p, indent=2, default=str))
        return
    if args.embedder == "local":
        e = embedded_figures()
        print(
            f"sphinx first index with local embeddings: {e['seconds']:.1f}s wall, "
            f"CPU {e['cpuSeconds']:.1f}s, for {e['treeFiles']} files in the tree "
            f"({e['indexed']} indexed, {e['contextsWritten']} contexts written and embedded "
            f"= {e['contextsWritten'] / e['seconds']:.1f} contexts/s); "
            f"peak RSS {e['peakRssMB']} MB (graph build included)"
        )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print(json.dumps(e, indent=2, default=str))
        return
    figures: dict[str, Any] = {"sphinx": sphinx_figures(args.history)}
    s = figures["sphinx"]
    print(
        f"sphinx first index: {s['first']['seconds']:.2f}s for {s['treeFiles']} files in the tree "
        f"= {s['firstFilesPerSecond']} files/s ({s['first']['indexed']} indexed, "
        f"{s['firstIndexedFilesPerSecond']} indexed files/s, "
        f"{s['first']['contextsWritten']} contexts; skipped {s['first']['skipped']}); "
        f"{s['firstVsBaseline']}x the read+hash baseline ({s['baselineReadHashSeconds']}s); "
        f"CPU {s['firstCpuSeconds']}s = {s['firstFilesPerCpuSecond']} files per CPU-second; "
        f"{s['first']['searchIndexSeconds']}s of it in SearchIndex.index/remove"
    )
    print(f"spot check: {s['first']['spotCheck']}")
    print(
        f"sphinx no-change re-index: median {s['reindexMedianSeconds']}s "
        f"(runs {s['reindexSeconds']}); one file changed: {s['oneFileChangedSeconds']}s "
        f"{s['oneFileChanged']}"
    )
    if not args.skip_rss:
        figures["rss"] = rss_figures()
        r = figures["rss"]
        print(
            f"10k tree: {r['treeFiles']} files, indexed {r['indexed']} in {r['seconds']:.1f}s, "
            f"peak RSS {r['peakRssMB']} MB"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
