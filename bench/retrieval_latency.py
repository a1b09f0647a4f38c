"""Search latency on a 100,000-chunk workspace, query embedding included.

The workspace is built from real code: the non-test files of the mirrored
repositories at one commit each, chunked by Axon's indexer, repeated under
`copyN/` prefixes until it holds --chunks contexts. Stored vectors are random
unit vectors (exact search costs the same whatever the values, and embedding
100k chunks would take an hour on 2 cores); the query is embedded for real by
the local model. Queries: the first line (title) and the full text of each issue
of the development set.

    python bench/retrieval_latency.py [--chunks 100000] [--mirrors /work/.mirror]
        [--out bench/results/retrieval_latency.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import checkout, chunk_files, read_files

DATASET = Path("/work/shared/bench/swebench_lite_dev.json")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def run(args: argparse.Namespace) -> str:
    data_dir = Path(tempfile.mkdtemp(prefix="axon-latency-"))
    os.environ["AXON_DATA_DIR"] = str(data_dir)
    os.environ["AXON_EMBEDDER"] = "none"  # indexing: random vectors are written below
    from axon.config import load_settings
    from axon.embeddings import build_embedder
    from axon.embeddings.pieces import QUERY_PIECES, query_embedding_text
    from axon.models import Workspace, WorkspaceType
    from axon.ports import SearchRequest, VectorItem
    from axon.retrieval import HybridRetriever, RankingWeights, partition_of
    from axon.services import build_search, build_services

    settings = load_settings()
    services = await build_services(settings)
    search = await build_search(settings, services.store, None)
    await services.store.create_workspace(
        Workspace(id="big", name="big", type=WorkspaceType.CODING)
    )
    instances = list(args.instances)
    first_commit: dict[str, str] = {}
    for inst in instances:
        first_commit.setdefault(inst["repo"], inst["base_commit"])
    files: dict[str, str] = {}
    for repo, commit in sorted(first_commit.items()):
        mirror = Path(args.mirrors) / repo.replace("/", "+") / "repo"
        with checkout(mirror, commit) as root:
            files |= {f"{repo}/{path}": text for path, text in read_files(root).items()}
    base = chunk_files("big", files)
    rng = np.random.default_rng(0)
    index, vectors = search.index, search.index.vectors
    started = time.perf_counter()
    total = 0
    copy = 0
    while total < args.chunks:
        batch = [
            c.model_copy(update={"id": f"{c.id}-{copy}", "path": f"copy{copy}/{c.path}"})
            for c in base[: args.chunks - total]
        ]
        await services.store.put_contexts(batch)
        await index.index(batch)
        random = rng.standard_normal((len(batch), 384)).astype(np.float32)
        random /= np.linalg.norm(random, axis=1, keepdims=True)
        await vectors.upsert(
            partition_of(batch[0]),
            [
                VectorItem(c.id, c.workspace_id, c.tier, c.type, v)
                for c, v in zip(batch, random, strict=True)
            ],
        )
        total += len(batch)
        copy += 1
    load_seconds = time.perf_counter() - started

    embedder = build_embedder(load_settings(embedder="local"))
    retriever = HybridRetriever(
        services.store, index.lexical, vectors, embedder, RankingWeights.from_settings(settings)
    )
    started = time.perf_counter()
    await retriever.search(SearchRequest("warm up the arrays", "big"))
    build_seconds = time.perf_counter() - started
    # What a second process (another worker, the CLI) pays on its first search: it finds
    # the lexical snapshot and the vector matrix on disk.
    second = await build_search(settings, services.store, None)
    started = time.perf_counter()
    await HybridRetriever(
        services.store,
        second.index.lexical,
        second.index.vectors,
        embedder,
        RankingWeights.from_settings(settings),
    ).search(SearchRequest("warm up the arrays", "big"))
    reload_seconds = time.perf_counter() - started
    await second.close()

    report = [
        f"workspace: {total} chunks ({len(base)} distinct chunks from {len(files)} files, "
        f"{copy} copies); stored in {load_seconds:.0f}s; arrays built on first search in "
        f"{build_seconds:.1f}s; a second process's first search {reload_seconds:.1f}s",
        "",
        f"query embedding: the first {QUERY_PIECES} word pieces of the query "
        "(the lexical side reads all of it)",
        "",
        f"{'queries':<28} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'embed p50':>10}",
    ]
    titles = [i["problem_statement"].split("\n")[0] for i in instances]
    texts = [i["problem_statement"] for i in instances]
    # Diagnostic, not the target: the same search without the query embedding and the
    # dense side, i.e. what the lexical side and ranking cost on their own.
    lexical_only = HybridRetriever(
        services.store, index.lexical, vectors, None, RankingWeights.from_settings(settings)
    )
    for name, queries, searcher in (
        ("issue titles (limit 10)", titles, retriever),
        ("full issue texts (limit 10)", texts, retriever),
        ("full texts, no embedder", texts, lexical_only),
    ):
        totals: list[float] = []
        embeds: list[float] = []
        for query in queries * args.repeat:
            t0 = time.perf_counter()
            await embedder.embed([query_embedding_text(query)])  # what search embeds
            embeds.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await searcher.search(SearchRequest(query, "big", limit=10))
            totals.append(time.perf_counter() - t0)
        report.append(
            f"{name:<28} {len(totals):>4} {statistics.median(totals) * 1000:>8.1f} "
            f"{percentile(totals, 0.95) * 1000:>8.1f} {statistics.median(embeds) * 1000:>10.1f}"
        )
    await search.close()
    await services.close()
    shutil.rmtree(data_dir, ignore_errors=True)
    return "\n".join(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(DATASET))
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--mirrors", default="/work/.mirror")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    args.instances = json.loads(Path(args.dataset).read_text())
    report = asyncio.run(run(args))
    print(report)
    if args.out:
        args.out.write_text(report + "\n")


if __name__ == "__main__":
    main()
