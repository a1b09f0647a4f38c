"""Developer questions about a real repository (bench/flask_questions.json): does the
search find the lines a good answer needs?

The repository is checked out at the suite's commit and indexed whole, tests and docs
included, as a developer's workspace is. Each question is searched as it is written.
A result answers a question when its path is a target's and its lines overlap the
target's; per question kind the report gives hit@1 and hit@5 over the results in rank
order ("lines"), the same over distinct files ("file"), plain BM25 over whole files in
the same run ("BM25 file"), and whether a target is inside the context the prompt
pipeline assembles within the default 8,000-token budget ("in ctx").

    python bench/flask_questions.py [--suite bench/flask_questions.json]
        [--mirrors /work/.mirror] [--embedder local|none] [--cache-dir DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import checkout, index_tree, plain_bm25, read_files

SUITE = Path(__file__).resolve().parent / "flask_questions.json"


def answers(path: str | None, start: int | None, end: int | None, targets: list[Any]) -> bool:
    if path is None:
        return False
    for target in targets:
        if path != target["path"]:
            continue
        if start is None or end is None or (start <= target["end"] and end >= target["start"]):
            return True
    return False


def first_rank(found: list[bool]) -> int | None:
    return next((i + 1 for i, ok in enumerate(found) if ok), None)


async def run(args: argparse.Namespace) -> str:
    os.environ["AXON_DATA_DIR"] = str(args.cache_dir)
    os.environ["AXON_EMBEDDER"] = args.embedder
    os.environ["AXON_CACHE_TTL_QUERY_RESULTS"] = "0"
    os.environ["AXON_CACHE_TTL_ANALYSES"] = "0"
    from axon.config import load_settings
    from axon.pipeline.collector import PromptRequest
    from axon.ports import SearchRequest
    from axon.services import build_services

    suite = json.loads(args.suite.read_text())
    mirror = Path(args.mirrors) / suite["repo"].replace("/", "+") / "repo"
    services = await build_services(load_settings())
    workspace_id = f"questions-{os.getpid()}"
    rows: dict[str, dict[str, list[int | None]]] = defaultdict(lambda: defaultdict(list))
    lines: list[str] = []
    try:
        with checkout(mirror, suite["commit"]) as root:
            files = read_files(root, tests=True)
            report = await index_tree(services, workspace_id, root)
            for q in suite["questions"]:
                targets = q["targets"]
                hits = await services.retriever.search(
                    SearchRequest(q["question"], workspace_id, limit=20)
                )
                spans = [(h.context.path, h.context.start_line, h.context.end_line) for h in hits]
                by_lines = first_rank([answers(p, s, e, targets) for p, s, e in spans])
                files_ranked = list(dict.fromkeys(p for p, _, _ in spans if p))
                by_file = first_rank([answers(p, None, None, targets) for p in files_ranked])
                bm25 = first_rank(
                    [answers(p, None, None, targets) for p in plain_bm25(files, q["question"])]
                )
                prepared = await services.pipeline.prepare(
                    PromptRequest(prompt=q["question"], workspace_id=workspace_id)
                )
                in_ctx = any(
                    answers(i.path, i.start_line, i.end_line, targets)
                    for i in prepared.context.items
                )
                for kind in (q["kind"], "all"):
                    rows[kind]["lines"].append(by_lines)
                    rows[kind]["file"].append(by_file)
                    rows[kind]["bm25"].append(bm25)
                    rows[kind]["ctx"].append(1 if in_ctx else None)
                top = f"{spans[0][0]}:{spans[0][1]}-{spans[0][2]}" if spans else "-"
                line = (
                    f"{q['id']:<22} {q['kind']:<10} lines={by_lines or '-':>3} "
                    f"file={by_file or '-':>3} bm25={bm25 or '-':>3} "
                    f"ctx={'yes' if in_ctx else '-':>3}  top: {top}"
                )
                lines.append(line)
                print(line, flush=True)
    finally:
        await services.store.delete_workspace(workspace_id)
        await services.search_index.remove_workspace(workspace_id)
        await services.close()

    def share(ranks: list[int | None], k: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)

    out = [
        f"suite: {args.suite.name}  repo: {suite['repo']}@{suite['commit'][:12]}  "
        f"questions: {len(suite['questions'])}  embedder: {args.embedder}  "
        f"contexts indexed: {report.contexts_written}",
        "",
        f"{'kind':<11} {'n':>3} {'lines@1':>8} {'lines@5':>8} {'file@1':>7} {'file@5':>7} "
        f"{'BM25 file@1':>11} {'BM25 file@5':>11} {'in ctx':>7}",
    ]
    for kind in sorted(rows, key=lambda k: (k == "all", k)):
        r = rows[kind]
        out.append(
            f"{kind:<11} {len(r['lines']):>3} {share(r['lines'], 1):8.3f} "
            f"{share(r['lines'], 5):8.3f} {share(r['file'], 1):7.3f} {share(r['file'], 5):7.3f} "
            f"{share(r['bm25'], 1):11.3f} {share(r['bm25'], 5):11.3f} {share(r['ctx'], 1):7.3f}"
        )
    out += ["", "per question (rank of the first answering result; top: the first result):"]
    return "\n".join(out + lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=SUITE)
    parser.add_argument("--mirrors", default="/work/.mirror")
    parser.add_argument("--embedder", default="local", choices=["local", "none"])
    parser.add_argument("--cache-dir", default="/tmp/axon-bench-cache", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(report)
    if args.out:
        args.out.write_text(report + "\n")


if __name__ == "__main__":
    main()
