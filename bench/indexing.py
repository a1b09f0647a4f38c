"""Indexing benchmark: first index, no-change re-index and memory.

    python bench/indexing.py                 # sphinx first index + re-index, 10k-file RSS
    python bench/indexing.py --skip-rss      # only the sphinx figures
    python bench/indexing.py --embedder local  # sphinx first index WITH local embeddings

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
Without --embedder local, nothing is embedded (AXON_EMBEDDER=none).
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
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import checkout

MIRRORS = Path("/work/.mirror")
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
    return sum(len(files) for _, _, files in os.walk(path))


def sphinx_figures() -> dict[str, Any]:
    with ExitStack() as stack:
        tree = stack.enter_context(checkout(MIRRORS / SPHINX[0] / "repo", SPHINX[1]))
        data = stack.enter_context(tempfile.TemporaryDirectory(prefix="axon-bench-data-"))
        _environment(data)
        files = _tree_files(tree)
        baseline = _baseline(tree)
        runs = asyncio.run(_index(tree, "sphinx", 7))
    first, rest, edited = runs[0], runs[1:-1], runs[-1]
    return {
        "commit": SPHINX[1],
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--embedder", choices=["none", "local"], default="none")
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.embedder)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
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
    figures: dict[str, Any] = {"sphinx": sphinx_figures()}
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
