"""Retrieval benchmark on real GitHub issues (SWE-bench Lite development set).

For every instance: check out the repository at its base commit, index it with
Axon's indexer (`axon.indexing.index_workspace`; test files kept out by an
`.axonignore`, as they are not ranked), send the issue text as the query, and
score where the files the fix changed land (file level: hit@1/5/10, MRR,
all-gold@10). A plain BM25 over whole files (issue text as query, `\\w+` tokens)
is computed in the same run, over the same files and over the Python files only.

    python bench/retrieval.py [--mirrors /work/.mirror] [--mirror owner/name=PATH ...]
        [--embedder local|none] [--cache-dir DIR] [--out bench/results/retrieval.txt]

Embeddings are cached by content hash in --cache-dir's search.db, so a repository
seen at several commits (and any re-run) only embeds changed chunks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import TEST_IGNORE, checkout, is_test_path, read_files

DATASET = Path("/work/shared/bench/swebench_lite_dev.json")


@dataclass
class Scores:
    ranks: list[int | None] = field(default_factory=list)  # rank of the first gold file
    all_gold_at_10: list[bool] = field(default_factory=list)

    def add(self, ranked: list[str], gold: set[str]) -> int | None:
        positions = [i + 1 for i, path in enumerate(ranked) if path in gold]
        first = positions[0] if positions else None
        self.ranks.append(first)
        self.all_gold_at_10.append(gold <= set(ranked[:10]))
        return first

    def hit(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / len(self.ranks)

    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r is not None) / len(self.ranks)

    def row(self, name: str) -> str:
        return (
            f"{name:<14} {self.hit(1):6.3f} {self.hit(5):6.3f} {self.hit(10):6.3f} "
            f"{self.mrr():6.3f} {sum(self.all_gold_at_10) / len(self.ranks):8.3f}"
        )


_WORD = re.compile(r"\w+")


def plain_bm25(files: dict[str, str], query: str, k1: float = 1.2, b: float = 0.75) -> list[str]:
    """Whole-file BM25 with plain lower-case word tokens: the reference system."""
    paths = list(files)
    docs = [Counter(_WORD.findall(files[p].lower())) for p in paths]
    lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
    avgdl = lengths.mean() if len(docs) else 1.0
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    n = len(docs)
    scores = np.zeros(n)
    for term, qtf in Counter(_WORD.findall(query.lower())).items():
        if term not in df:
            continue
        idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
        tf = np.array([d.get(term, 0) for d in docs], dtype=np.float64)
        scores += qtf * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / avgdl))
    order = np.argsort(-scores, kind="stable")
    return [paths[i] for i in order if scores[i] > 0]


def mirror_for(repo: str, args: argparse.Namespace) -> Path:
    explicit = dict(item.split("=", 1) for item in args.mirror)
    if repo in explicit:
        return Path(explicit[repo])
    return Path(args.mirrors) / repo.replace("/", "+") / "repo"


async def run(args: argparse.Namespace) -> str:
    os.environ["AXON_DATA_DIR"] = str(args.cache_dir)
    os.environ["AXON_EMBEDDER"] = args.embedder
    from axon.config import load_settings
    from axon.indexing import index_workspace
    from axon.models import Workspace, WorkspaceType
    from axon.ports import SearchRequest
    from axon.services import build_services

    instances = list(args.instances)
    if args.only:
        instances = [i for i in instances if i["instance_id"] in set(args.only)]
    instances = instances[: args.limit] if args.limit else instances
    instances.sort(key=lambda i: (i["repo"], i["instance_id"]))
    services = await build_services(load_settings())
    axon_scores, bm25_scores, bm25_py_scores = Scores(), Scores(), Scores()
    index_times: list[float] = []
    latencies: list[float] = []
    lines: list[str] = []
    chunks_total = 0
    try:
        for number, inst in enumerate(instances, 1):
            gold = set(inst["gold_files"])
            # Per-process ids: runs sharing a --cache-dir (and its store) never collide.
            workspace_id = f"bench-{os.getpid()}-{number}"
            with checkout(mirror_for(inst["repo"], args), inst["base_commit"]) as root:
                (root / ".axonignore").write_text(TEST_IGNORE)
                files = read_files(root)
                workspace = Workspace(
                    id=workspace_id, name=workspace_id, type=WorkspaceType.CODING, path=str(root)
                )
                started = time.perf_counter()
                await services.store.create_workspace(workspace)
                [report] = await index_workspace(
                    services.store,
                    services.search_index,
                    workspace,
                    max_file_bytes=services.settings.index_max_file_bytes,
                )
                # The first search builds the in-memory arrays: count it as indexing.
                await services.retriever.search(SearchRequest("warm up", workspace_id, limit=1))
                index_times.append(time.perf_counter() - started)
            contexts = report.contexts_written
            chunks_total += contexts

            started = time.perf_counter()
            hits = await services.retriever.search(
                SearchRequest(inst["problem_statement"], workspace_id, limit=100)
            )
            latencies.append(time.perf_counter() - started)
            ranked = [
                p
                for p in dict.fromkeys(h.context.path for h in hits if h.context.path)
                if not is_test_path(p)
            ]
            baseline = plain_bm25(files, inst["problem_statement"])
            python_only = {p: t for p, t in files.items() if p.endswith(".py")}
            a = axon_scores.add(ranked, gold)
            b = bm25_scores.add(baseline, gold)
            bm25_py_scores.add(plain_bm25(python_only, inst["problem_statement"]), gold)
            line = (
                f"{inst['instance_id']:<34} axon={a or '-':>4} bm25={b or '-':>4} "
                f"files={len(files):>5} contexts={contexts:>6} "
                f"index={index_times[-1]:6.1f}s search={latencies[-1] * 1000:6.1f}ms"
            )
            lines.append(line)
            print(line, flush=True)
            await services.store.delete_workspace(workspace_id)
            await services.search_index.remove_workspace(workspace_id)
    finally:
        await services.close()

    lat = sorted(latencies)
    p95 = lat[min(len(lat) - 1, math.ceil(0.95 * len(lat)) - 1)]
    report = [
        f"instances: {len(instances)}  embedder: {args.embedder}  contexts indexed: {chunks_total}",
        "",
        f"{'system':<14} {'hit@1':>6} {'hit@5':>6} {'hit@10':>6} {'MRR':>6} {'allgold@10':>8}",
        axon_scores.row("axon"),
        bm25_scores.row("plain BM25"),
        bm25_py_scores.row("BM25 .py only"),
        "",
        f"index time per instance (scan, chunk, embed uncached, index): median "
        f"{statistics.median(index_times):.1f}s, total {sum(index_times):.0f}s",
        f"search latency (issue text as query): p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms",
        "",
        "per instance (rank of the first gold file):",
        *lines,
    ]
    return "\n".join(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(DATASET))
    parser.add_argument("--mirrors", default="/work/.mirror")
    parser.add_argument("--mirror", action="append", default=[], help="owner/name=PATH")
    parser.add_argument("--embedder", default="local", choices=["local", "none"])
    parser.add_argument("--cache-dir", default="/tmp/axon-bench-cache", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    args.instances = json.loads(Path(args.dataset).read_text())
    report = asyncio.run(run(args))
    print(report)
    if args.out:
        args.out.write_text(report + "\n")


if __name__ == "__main__":
    main()
