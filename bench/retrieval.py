"""Retrieval benchmark on real GitHub issues (SWE-bench Lite development or validation set).

For every instance: check out the repository at its base commit (or take the tree
`bench/val_trees.py` prepared), index it with Axon's indexer
(`axon.indexing.index_workspace`, vectors computed before searching), send the issue
text as the query, and score where the files and functions the fix changed land.

Two ways to treat test files (`--tests`):
- `excluded`: an `.axonignore` keeps them out of the index (comparable with published
  localisation results);
- `indexed`: they are indexed, as in a user's workspace, and compete for every rank;
  only the implementation files the fix changed count as gold, so a test ranked first
  is a miss at hit@1 (the report also counts how often a test comes first).

Figures, each beside plain BM25 computed in the same run over the same files:
- file level: hit@1/5/10, MRR, all-gold@10 over the distinct files of the ranking;
- function level: hit@5/10, a result among the first k whose path and symbol name a
  gold span (`Class.method`, `function` or `Class`); BM25 ranks the same symbol chunks;
- context: the share of instances whose gold files are all inside the context the
  prompt pipeline assembles within the default budget (`MAX_TOKEN_LIMIT`, 8,000
  tokens), and the mean share of gold files inside it.

    python bench/retrieval.py [--tests excluded|indexed] [--dataset FILE]
        [--mirrors /work/.mirror] [--mirror owner/name=PATH ...] [--trees MANIFEST]
        [--sample N --seed S] [--embedder local|none] [--cache-dir DIR] [--out FILE]

Embeddings are cached by content hash in --cache-dir's search.db, so a repository
seen at several commits (and any re-run) only embeds changed chunks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import (
    TEST_IGNORE,
    checkout,
    git_checkout,
    index_tree,
    is_test_path,
    plain_bm25,
    read_files,
)

DATASET = Path("/work/shared/bench/swebench_lite_dev.json")
FUNCTION_KS = (5, 10)


@dataclass
class Scores:
    ranks: list[int | None] = field(default_factory=list)  # rank of the first gold file
    all_gold_at_10: list[bool] = field(default_factory=list)
    fn_ranks: list[int | None] = field(default_factory=list)  # first gold span's rank
    test_first: list[bool] = field(default_factory=list)

    def add(self, ranked: list[str], gold: set[str]) -> int | None:
        positions = [i + 1 for i, path in enumerate(ranked) if path in gold]
        first = positions[0] if positions else None
        self.ranks.append(first)
        self.all_gold_at_10.append(gold <= set(ranked[:10]))
        self.test_first.append(bool(ranked) and is_test_path(ranked[0]))
        return first

    def add_spans(self, ranked: list[tuple[str, str | None]], spans: set[tuple[str, str]]) -> None:
        first = next((i + 1 for i, s in enumerate(ranked) if s in spans), None)
        self.fn_ranks.append(first)

    @staticmethod
    def _share(ranks: list[int | None], k: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= k) / max(len(ranks), 1)

    def hit(self, k: int) -> float:
        return self._share(self.ranks, k)

    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r is not None) / max(len(self.ranks), 1)

    def row(self, name: str) -> str:
        fn = " ".join(f"{self._share(self.fn_ranks, k):6.3f}" for k in FUNCTION_KS)
        return (
            f"{name:<14} {self.hit(1):6.3f} {self.hit(5):6.3f} {self.hit(10):6.3f} "
            f"{self.mrr():6.3f} {sum(self.all_gold_at_10) / max(len(self.ranks), 1):10.3f} "
            f"{fn} {sum(self.test_first) / max(len(self.ranks), 1):10.3f}"
        )


HEADER = (
    f"{'system':<14} {'hit@1':>6} {'hit@5':>6} {'hit@10':>6} {'MRR':>6} {'allgold@10':>10} "
    + " ".join(f"{'fn@' + str(k):>6}" for k in FUNCTION_KS)
    + f" {'test first':>10}"
)


def mirror_for(repo: str, args: argparse.Namespace) -> Path:
    explicit = dict(item.split("=", 1) for item in args.mirror)
    if repo in explicit:
        return Path(explicit[repo])
    return Path(args.mirrors) / repo.replace("/", "+") / "repo"


@contextmanager
def tree_for(inst: dict[str, Any], args: argparse.Namespace) -> Iterator[Path]:
    """A private copy of the instance's tree: a mirror's commit, or a prepared tree."""
    if args.trees_manifest is None:
        tree = git_checkout if args.history else checkout
        with tree(mirror_for(inst["repo"], args), inst["base_commit"]) as root:
            yield root
        return
    source = args.trees_manifest[inst["instance_id"]]["tree"]
    with tempfile.TemporaryDirectory(prefix="axon-bench-") as tmp:
        root = Path(tmp) / "tree"
        shutil.copytree(source, root, symlinks=True)
        yield root


def symbol_docs(files: dict[str, str]) -> dict[tuple[str, str | None], str]:
    """The symbol chunks Axon's chunkers make, keyed by (path, symbol): what the
    function-level BM25 baseline ranks."""
    from axon.indexing.chunking import chunk_file
    from axon.indexing.languages import detect_language
    from axon.models import ContextType, WorkspaceType

    docs: dict[tuple[str, str | None], str] = {}
    for path, text in files.items():
        for chunk in chunk_file(path, text, detect_language(path), WorkspaceType.CODING):
            if chunk.type is ContextType.SYMBOL:
                key = (path, chunk.symbol)
                docs[key] = docs.get(key, "") + chunk.content
    return docs


def pick(instances: list[dict[str, Any]], args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.only:
        instances = [i for i in instances if i["instance_id"] in set(args.only)]
    if args.trees_manifest is not None:
        instances = [i for i in instances if i["instance_id"] in args.trees_manifest]
    if args.sample:
        instances = random.Random(args.seed).sample(instances, min(args.sample, len(instances)))
    instances = instances[: args.limit] if args.limit else instances
    return sorted(instances, key=lambda i: (i["repo"], i["instance_id"]))


async def run(args: argparse.Namespace) -> str:
    os.environ["AXON_DATA_DIR"] = str(args.cache_dir)
    os.environ["AXON_EMBEDDER"] = args.embedder
    # Issues never repeat here, but the same text is searched twice (ranking, context).
    os.environ["AXON_CACHE_TTL_QUERY_RESULTS"] = "0"
    os.environ["AXON_CACHE_TTL_ANALYSES"] = "0"
    from axon.config import load_settings
    from axon.kinds import MAX_QUERY_CHARS
    from axon.pipeline.collector import PromptRequest
    from axon.ports import SearchRequest
    from axon.services import build_services

    with_tests = args.tests == "indexed"
    instances = pick(list(args.instances), args)
    services = await build_services(load_settings())
    # The product's retriever under other ranking weights, searched on the same index.
    inner: Any = getattr(services.retriever, "inner", services.retriever)
    weights = inner.weights
    variants = {name: replace(weights, **fields) for name, fields in args.variants}
    variant_scores = {name: Scores() for name in variants}
    axon_scores, bm25_scores = Scores(), Scores()
    in_context: list[bool] = []
    context_share: list[float] = []
    index_times: list[float] = []
    latencies: list[float] = []
    lines: list[str] = []
    chunks_total = 0
    try:
        for number, inst in enumerate(instances, 1):
            gold = {p for p in inst["gold_files"] if not is_test_path(p)}
            spans = {
                (path, span)
                for path, names in inst["gold_spans"].items()
                if path in gold
                for span in names
            }
            if not gold:
                continue  # a fix that only touched tests: nothing to localise
            # Per-process ids: runs sharing a --cache-dir (and its store) never collide.
            workspace_id = f"bench-{os.getpid()}-{number}"
            with tree_for(inst, args) as root:
                if not with_tests:
                    (root / ".axonignore").write_text(TEST_IGNORE)
                files = read_files(root, tests=with_tests)
                started = time.perf_counter()
                report = await index_tree(services, workspace_id, root)
                # The first search builds the in-memory arrays: count it as indexing.
                await services.retriever.search(SearchRequest("warm up", workspace_id, limit=1))
                index_times.append(time.perf_counter() - started)
            contexts = report.contexts_written
            chunks_total += contexts
            query = inst["problem_statement"][:MAX_QUERY_CHARS]

            started = time.perf_counter()
            hits = await services.retriever.search(SearchRequest(query, workspace_id, limit=100))
            latencies.append(time.perf_counter() - started)
            ranked = list(dict.fromkeys(h.context.path for h in hits if h.context.path))
            a = axon_scores.add(ranked, gold)
            axon_scores.add_spans([(h.context.path or "", h.context.symbol) for h in hits], spans)
            moved = ""
            for name, varied in variants.items():
                inner.weights = varied
                try:
                    other = await inner.search(SearchRequest(query, workspace_id, limit=100))
                finally:
                    inner.weights = weights
                scores = variant_scores[name]
                rank = scores.add(
                    list(dict.fromkeys(h.context.path for h in other if h.context.path)), gold
                )
                scores.add_spans([(h.context.path or "", h.context.symbol) for h in other], spans)
                moved += f" {name}={rank or '-'}"
            b = bm25_scores.add(plain_bm25(files, query), gold)
            bm25_scores.add_spans(plain_bm25(symbol_docs(files), query), spans)  # type: ignore[arg-type]

            prepared = await services.pipeline.prepare(
                PromptRequest(prompt=query, workspace_id=workspace_id)
            )
            included = {item.path for item in prepared.context.items if item.path}
            in_context.append(gold <= included)
            context_share.append(len(gold & included) / len(gold))
            line = (
                f"{inst['instance_id']:<34} axon={a or '-':>4} bm25={b or '-':>4} "
                f"fn={axon_scores.fn_ranks[-1] or '-':>4} "
                f"ctx={'all' if in_context[-1] else '-':>3} "
                f"files={len(files):>5} contexts={contexts:>6} "
                f"index={index_times[-1]:6.1f}s search={latencies[-1] * 1000:6.1f}ms{moved}"
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
        f"dataset: {Path(args.dataset).name}  instances: {len(lat)}  tests: {args.tests}  "
        f"embedder: {args.embedder}  contexts indexed: {chunks_total}  "
        f"trees: {'git checkouts with history' if args.history else 'git archive (no history)'}",
        "",
        HEADER,
        axon_scores.row("axon"),
        *(scores.row(f"axon, {name}") for name, scores in variant_scores.items()),
        bm25_scores.row("plain BM25"),
        "",
        f"gold files all inside the {services.settings.max_token_limit}-token context: "
        f"{sum(in_context) / len(in_context):.3f} of instances "
        f"(mean share of gold files inside: {statistics.mean(context_share):.3f})",
        f"index time per instance (scan, chunk, embed, index): median "
        f"{statistics.median(index_times):.1f}s, total {sum(index_times):.0f}s",
        f"search latency (issue text as query): p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms",
        "",
        "per instance (rank of the first gold file, of the first gold span; ctx=all: every",
        "gold file in the assembled context):",
        *lines,
    ]
    return "\n".join(report)


def _variant(text: str) -> tuple[str, dict[str, float]]:
    """`name:field=value,field=value` -> (name, {field: value})."""
    name, _, assignments = text.partition(":")
    fields = {}
    for item in assignments.split(","):
        key, _, value = item.partition("=")
        fields[key.strip()] = float(value)
    return name, fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(DATASET))
    parser.add_argument("--tests", default="excluded", choices=["excluded", "indexed"])
    parser.add_argument("--mirrors", default="/work/.mirror")
    parser.add_argument("--mirror", action="append", default=[], help="owner/name=PATH")
    parser.add_argument(
        "--trees", type=Path, help="manifest.json of bench/val_trees.py (instead of mirrors)"
    )
    parser.add_argument("--embedder", default="local", choices=["local", "none"])
    parser.add_argument("--cache-dir", default="/tmp/axon-bench-cache", type=Path)
    parser.add_argument("--sample", type=int, default=0, help="a seeded random sample of N")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--history",
        action="store_true",
        help="index git checkouts with their history (a shared clone at the base commit) "
        "instead of git archive trees",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:FIELD=VALUE,...",
        help="also rank with these RankingWeights fields changed (e.g. co:cochange=0.1)",
    )
    args = parser.parse_args()
    args.instances = json.loads(Path(args.dataset).read_text())
    args.variants = [_variant(item) for item in args.variant]
    args.trees_manifest = (
        json.loads(args.trees.read_text())["instances"] if args.trees is not None else None
    )
    report = asyncio.run(run(args))
    print(report)
    if args.out:
        args.out.write_text(report + "\n")


if __name__ == "__main__":
    main()
