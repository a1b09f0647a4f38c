"""Memory benchmark: current-state questions after a scripted project timeline.

A project's memory is built event by event, one simulated day apart: decisions made,
reversed and refined on 40 subjects (in varied wording, some with an explicit
`supersedes`, some stated in conversation and captured by the post-processor), and
code changing beside them (indexed contexts rewritten). Then every subject is asked
about three ways ("which X do we use?"); an answer is right when the top memory
result states the subject's current value.

The same timeline is stored twice in the same run, in two fresh data folders:

- evolution: the real layer (supersede by id and by subject, consolidation, decay);
- baseline: the same contexts with the layer off (plain `add_context`, captures
  without supersede or consolidation, every kind on the old 90-day freshness).

Figures: top-1 and top-3 accuracy, and the superseded-first rate (the top result
states an older value of the subject). Goal: top-1 >= 0.9, superseded-first <= 0.05.

    .venv/bin/python bench/memory.py [--embedder local|none]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from axon.config import load_settings
from axon.models import Context, ContextType, Tier, Workspace, WorkspaceType, content_hash, utcnow
from axon.pipeline.postprocess import PostProcessor, store_captures
from axon.ports import SearchRequest
from axon.services import Services, build_services
from axon.workspaces import ContextCreate, add_context

WORKSPACE = "bench-memory"
MEMORY_TYPES = [ContextType.DECISION, ContextType.PATTERN]

# (subject as written, subject as asked, successive values: the last one holds)
SUBJECTS: list[tuple[str, str, list[str]]] = [
    ("the primary database", "primary database", ["PostgreSQL", "MySQL", "CockroachDB"]),
    ("the analytics warehouse", "analytics warehouse", ["BigQuery", "Snowflake", "ClickHouse"]),
    ("the cache layer", "cache", ["Redis", "Memcached", "Dragonfly"]),
    ("the message broker", "message broker", ["RabbitMQ", "Kafka", "NATS"]),
    ("the background job runner", "background job runner", ["Celery", "arq", "Dramatiq"]),
    ("the web framework of the API", "API framework", ["Flask", "FastAPI", "Litestar"]),
    ("the frontend framework", "frontend framework", ["React", "Vue", "Svelte"]),
    ("the CSS approach", "CSS approach", ["Sass modules", "Tailwind", "vanilla-extract"]),
    ("unit testing", "unit test runner", ["unittest", "pytest"]),
    ("end-to-end tests", "end-to-end test tool", ["Selenium", "Cypress", "Playwright"]),
    ("the linter", "linter", ["flake8", "pylint", "Ruff"]),
    ("code formatting", "code formatter", ["autopep8", "Black", "ruff format"]),
    ("type checking", "type checker", ["pyright", "mypy"]),
    ("continuous integration", "CI system", ["Jenkins", "GitLab CI", "GitHub Actions"]),
    ("container orchestration", "container orchestration", ["Docker Swarm", "Nomad", "Kubernetes"]),
    (
        "infrastructure as code",
        "infrastructure-as-code tool",
        ["CloudFormation", "Terraform", "Pulumi"],
    ),
    ("the cloud provider", "cloud provider", ["AWS", "GCP", "Azure"]),
    ("error tracking", "error tracking service", ["Rollbar", "Sentry", "Bugsnag"]),
    ("metrics collection", "metrics system", ["StatsD", "Prometheus", "VictoriaMetrics"]),
    ("distributed tracing", "tracing system", ["Zipkin", "Jaeger", "OpenTelemetry with Tempo"]),
    ("log shipping", "log shipper", ["Logstash", "Fluent Bit", "Vector"]),
    (
        "API authentication",
        "API authentication scheme",
        ["API keys in headers", "JWT bearer tokens", "PASETO tokens"],
    ),
    ("single sign-on", "single sign-on provider", ["Okta", "Auth0", "Keycloak"]),
    (
        "secrets management",
        "secrets store",
        ["environment files", "AWS Secrets Manager", "HashiCorp Vault"],
    ),
    ("the package manager of the frontend", "frontend package manager", ["npm", "yarn", "pnpm"]),
    ("Python dependency management", "Python dependency tool", ["pip-tools", "Poetry", "uv"]),
    (
        "the release cadence",
        "release cadence",
        ["monthly releases", "releases every two weeks", "weekly releases on Tuesday"],
    ),
    (
        "the branching model",
        "branching model",
        ["git-flow", "GitHub flow", "trunk-based development"],
    ),
    (
        "code review",
        "code review rule",
        ["one approval per pull request", "two approvals per pull request"],
    ),
    ("the versioning scheme", "versioning scheme", ["calendar versioning", "semantic versioning"]),
    ("the search engine", "search engine", ["Elasticsearch", "OpenSearch", "Meilisearch"]),
    ("file storage", "file storage", ["local disk", "Amazon S3", "Cloudflare R2"]),
    ("payments", "payment provider", ["PayPal", "Stripe", "Adyen"]),
    ("transactional email", "email provider", ["SendGrid", "Mailgun", "Postmark"]),
    (
        "feature flags",
        "feature flag system",
        ["LaunchDarkly", "Unleash", "a flags table in PostgreSQL"],
    ),
    ("the mobile app stack", "mobile framework", ["Cordova", "React Native", "Flutter"]),
    ("the ORM", "ORM", ["Django ORM", "SQLAlchemy", "Peewee"]),
    ("database migrations", "migration tool", ["South", "Alembic", "Atlas"]),
    ("the documentation site", "documentation tool", ["Sphinx", "MkDocs", "Docusaurus"]),
    ("the API style", "API style", ["SOAP", "REST with JSON", "gRPC"]),
]

MADE = [
    "We decided to use {v} for {s}.",
    "Let's use {v} for {s}.",
    "The team agreed to use {v} for {s}.",
]
CHANGED = [
    "We decided to switch {s} to {v}.",
    "From now on {s} uses {v} instead.",
    "We are going with {v} for {s} now.",
    "Decision: {s} moves to {v}.",
]
REFINED = "For {s} we settled on {v}, pinned to the current major version."
CHATTER = [
    "How do I debug {s} locally? Should we switch it to something else?",
    "What if {s} went down during the release?",
    "Can you explain how {s} is configured?",
]
ASKED = [
    "Which {q} do we use?",
    "What is our current {q}?",
    "What did we settle on for the {q}?",
]


@dataclass
class Timeline:
    events: list[tuple[str, int, str, str | None]] = field(default_factory=list)
    # (kind, subject index, text, value) kinds: decide, explicit, converse (a decision
    # stated in a conversation, captured), refine, chat (a turn that decides nothing), code


def script(seed: int = 15) -> Timeline:
    rng = random.Random(seed)
    timeline = Timeline()
    steps: list[tuple[int, int]] = []  # (subject, value index), interleaved across subjects
    for s, (_, _, values) in enumerate(SUBJECTS):
        steps += [(s, i) for i in range(len(values))]
    # Each subject's values stay in order; subjects interleave at random.
    queues = {s: [i for t, i in steps if t == s] for s in range(len(SUBJECTS))}
    while any(queues.values()):
        s = rng.choice([k for k, q in queues.items() if q])
        i = queues[s].pop(0)
        written, _, values = SUBJECTS[s]
        value = values[i]
        if i == 0:
            kind, text = "decide", rng.choice(MADE).format(s=written, v=value)
        else:
            roll = rng.random()
            kind = "explicit" if roll < 0.2 else "converse" if roll < 0.4 else "decide"
            text = rng.choice(CHANGED).format(s=written, v=value)
        timeline.events.append((kind, s, text, value))
        if i == len(values) - 1 and rng.random() < 0.3:  # a refinement restating the value
            timeline.events.append(("refine", s, REFINED.format(s=written, v=value), value))
        if rng.random() < 0.25:  # a conversation turn that decides nothing
            question = rng.choice(CHATTER).format(s=written)
            timeline.events.append(("chat", s, question, None))
        if rng.random() < 0.5:  # code keeps changing beside the decisions
            n = len(timeline.events)
            body = f"def handler_{n % 12}(request):\n    return render(request, {n})\n"
            timeline.events.append(("code", s, body, None))
    return timeline


async def replay(services: Services, timeline: Timeline, evolution: bool) -> dict[str, int]:
    """Store the timeline; returns how often the layer closed another subject's memory."""
    store = services.store
    await store.create_workspace(Workspace(id=WORKSPACE, name=WORKSPACE, type=WorkspaceType.CODING))
    start = utcnow() - timedelta(days=len(timeline.events))
    latest: dict[int, str] = {}  # subject -> id of the last stored statement
    subject_of: dict[str, int] = {}
    supersession = services.supersession if evolution else None
    consolidator = services.consolidator if evolution else None
    processor = PostProcessor()
    for n, (kind, s, text, _) in enumerate(timeline.events):
        at = start + timedelta(days=n)
        ids: list[str] = []
        if kind == "code":
            path = f"src/app/handler_{n % 12}.py"
            context = Context(
                id=content_hash(f"{WORKSPACE}:{path}")[:32],
                workspace_id=WORKSPACE,
                type=ContextType.SYMBOL,
                path=path,
                symbol=f"handler_{n % 12}",
                content=text,
                content_hash=content_hash(text),
            )
            await store.put_contexts([context])
            await services.search_index.index([context])
            ids = [context.id]
        elif kind == "chat":
            ids = await store_captures(
                store,
                services.search_index,
                WORKSPACE,
                f"int_bench_{n}",
                processor.captures(text),
                consolidator,
                supersession,
            )
        elif kind == "converse":
            prompt = f"{text} What do we need to change first?"
            if os.environ.get("BENCH_MEMORY_VERBOSE") and not processor.captures(prompt):
                print(f"  not captured: {text!r}")
            ids = await store_captures(
                store,
                services.search_index,
                WORKSPACE,
                f"int_bench_{n}",
                processor.captures(prompt),
                consolidator,
                supersession,
            )
        else:
            previous = await store.get_context(latest[s]) if s in latest else None
            explicit = (
                [previous.id]
                if kind == "explicit" and evolution and previous is not None and previous.current
                else []
            )
            data = ContextCreate(
                workspace_id=WORKSPACE,
                type=ContextType.DECISION,
                content=text,
                supersedes=explicit,
            )
            created = await add_context(
                store, data, services.search_index, supersession=supersession
            )
            ids = [created.id]
        for cid in ids:
            # Backdate to the timeline's day (what the stores would hold had it happened).
            await store.update_context(cid, {"created_at": at, "updated_at": at, "valid_from": at})
            if kind != "code":
                latest[s] = cid
                subject_of[cid] = s
    wrong = right = 0
    for cid, s in subject_of.items():
        context = await store.get_context(cid)
        if context is None or context.superseded_by is None:
            continue
        if subject_of.get(context.superseded_by) == s:
            right += 1
        else:
            wrong += 1
            if os.environ.get("BENCH_MEMORY_VERBOSE"):
                newer = await store.get_context(context.superseded_by)
                print(f"  wrong close: {context.content!r} by {newer.content if newer else '?'!r}")
    return {"closed by its own subject": right, "closed by another subject": wrong}


@dataclass
class Score:
    top1: int = 0
    top3: int = 0
    superseded_first: int = 0
    asked: int = 0

    def row(self, name: str) -> str:
        return (
            f"{name:10} questions {self.asked}  top-1 {self.top1 / self.asked:.3f}  "
            f"top-3 {self.top3 / self.asked:.3f}  "
            f"superseded-first {self.superseded_first / self.asked:.3f}"
        )


def _states(content: str, value: str) -> bool:
    return value.lower() in content.lower()


async def ask(services: Services, verbose: bool = False) -> Score:
    score = Score()
    for _written, asked, values in SUBJECTS:
        current, older = values[-1], values[:-1]
        for template in ASKED:
            hits = await services.retriever.search(
                SearchRequest(
                    query=template.format(q=asked),
                    workspace_id=WORKSPACE,
                    tiers=[Tier.WORKSPACE, Tier.HYBRID],
                    types=MEMORY_TYPES,
                    limit=3,
                )
            )
            contents = [h.context.content for h in hits]
            score.asked += 1
            # The current value names itself; an older one counts only if the current is
            # not also named (a refinement may mention both).
            right = [_states(c, current) for c in contents]
            stale = [
                any(_states(c, v) for v in older) and not _states(c, current) for c in contents
            ]
            score.top1 += bool(right[:1] and right[0])
            score.top3 += any(right[:3])
            score.superseded_first += bool(stale[:1] and stale[0])
            if verbose and not (right[:1] and right[0]):
                print(f"  miss: {template.format(q=asked)!r} want {current!r}, got {contents[:1]}")
    return score


async def run_one(
    data_dir: Path, embedder: str, evolution: bool, timeline: Timeline, verbose: bool = False
) -> tuple[Score, dict[str, int]]:
    os.environ["AXON_DATA_DIR"] = str(data_dir)
    os.environ["AXON_EMBEDDER"] = embedder
    os.environ["AXON_CONTEXT_CACHE_SECONDS"] = "0"
    os.environ["AXON_CACHE_TTL_QUERY_RESULTS"] = "0"
    if evolution:
        os.environ.pop("AXON_DECAY_HALF_LIFE_DAYS", None)
    else:  # the old ranking: every kind on the 90-day freshness of its last change
        os.environ["AXON_DECAY_HALF_LIFE_DAYS"] = json.dumps({str(k): 90 for k in ContextType})
    services = await build_services(load_settings())
    try:
        closed = await replay(services, timeline, evolution)
        return await ask(services, verbose), closed
    finally:
        await services.close()


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedder", default="local", choices=["local", "none"])
    parser.add_argument("--verbose", action="store_true", help="print the evolution misses")
    args = parser.parse_args(argv)
    for name in ("MONGODB_URI", "REDIS_URL", "QDRANT_URL"):
        os.environ.pop(name, None)
    timeline = script()
    counts: dict[str, int] = {}
    for kind, *_ in timeline.events:
        counts[kind] = counts.get(kind, 0) + 1
    print(f"timeline: {len(timeline.events)} events {counts}, {len(SUBJECTS)} subjects")
    with tempfile.TemporaryDirectory(prefix="axon-bench-memory-") as tmp:
        evolved, closed = await run_one(
            Path(tmp) / "evolution", args.embedder, True, timeline, args.verbose
        )
        baseline, _ = await run_one(Path(tmp) / "baseline", args.embedder, False, timeline)
    print(evolved.row("evolution"))
    print(baseline.row("baseline"))
    print(f"supersedes made by the layer: {closed}")


if __name__ == "__main__":
    asyncio.run(main())
