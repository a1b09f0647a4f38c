"""Synthesizer: fits candidate context into a token budget for the task.

The budget is split across context kinds by task type (a bug fix wants
errors and code, documentation wants docs). Candidates go best first: an item
that does not fit its kind's share is compressed (signatures and query lines
kept) before it is dropped, and shares that a kind does not use flow to a
common pool in a second pass. Exact duplicates and line ranges another item
already covers are dropped. Every candidate ends up in the context report.
"""

from __future__ import annotations

from collections.abc import Sequence

from axon.evolution.links import STALE_WARNING
from axon.indexing.git_history import WorkingDiff
from axon.models import Context, ContextType, content_hash
from axon.pipeline.collector import PromptRequest
from axon.pipeline.compress import compress
from axon.pipeline.types import (
    Analysis,
    Candidate,
    ContextKind,
    ContextReport,
    ItemStatus,
    ReportEntry,
    SynthesizedContext,
    TaskType,
)
from axon.ports import SearchHit
from axon.tokens import count_tokens

K = ContextKind
KIND_OF_TYPE: dict[ContextType, ContextKind] = {
    ContextType.FILE: K.CODE,
    ContextType.SYMBOL: K.CODE,
    ContextType.DEPENDENCY: K.CODE,
    ContextType.DOCUMENTATION: K.DOCS,
    ContextType.NOTE: K.DOCS,
    ContextType.CONVERSATION: K.CONVERSATION,
    ContextType.ERROR: K.ERRORS,
    ContextType.ARCHITECTURE: K.ARCHITECTURE,
    ContextType.DECISION: K.ARCHITECTURE,
    ContextType.PATTERN: K.ARCHITECTURE,
    ContextType.COMMIT: K.DOCS,  # what changed, in prose: history's share is the docs'
}


def _split(code: float, docs: float, conv: float, errors: float, arch: float) -> dict[K, float]:
    return {
        K.CODE: code,
        K.DOCS: docs,
        K.CONVERSATION: conv,
        K.ERRORS: errors,
        K.ARCHITECTURE: arch,
    }


_NOTES = _split(0.0, 0.7, 0.2, 0.0, 0.1)
SPLITS: dict[TaskType, dict[K, float]] = {
    TaskType.BUG_FIX: _split(0.45, 0.05, 0.10, 0.30, 0.10),
    TaskType.FEATURE_ADD: _split(0.45, 0.15, 0.10, 0.05, 0.25),
    TaskType.REFACTOR: _split(0.60, 0.10, 0.10, 0.00, 0.20),
    TaskType.CODE_REVIEW: _split(0.60, 0.10, 0.10, 0.00, 0.20),
    TaskType.EXPLAIN: _split(0.40, 0.30, 0.10, 0.00, 0.20),
    TaskType.TEST: _split(0.60, 0.10, 0.10, 0.10, 0.10),
    TaskType.DOCUMENTATION: _split(0.35, 0.40, 0.10, 0.00, 0.15),
    TaskType.DEPLOYMENT: _split(0.20, 0.30, 0.10, 0.05, 0.35),
    TaskType.PERFORMANCE: _split(0.55, 0.10, 0.10, 0.10, 0.15),
    TaskType.SECURITY: _split(0.55, 0.15, 0.10, 0.05, 0.15),
    TaskType.GENERAL_QUERY: _split(0.30, 0.35, 0.15, 0.00, 0.20),
    TaskType.NOTE_SUMMARIZE: _NOTES,
    TaskType.NOTE_LINK: _NOTES,
    TaskType.NOTE_SEARCH: _NOTES,
    TaskType.NOTE_WRITE: _NOTES,
}


def budgeted_non_code_types(task: TaskType) -> list[ContextType]:
    """Context types of the non-code kinds that `task` gives a share of the budget."""
    kinds = {k for k, share in SPLITS[task].items() if share > 0} - {K.CODE, K.CONVERSATION}
    return [t for t, k in KIND_OF_TYPE.items() if k in kinds]


MAX_ITEM_SHARE = 0.5  # no single item may take more than half the budget
# A class (trait, impl, ...) context is the container's own code with member bodies
# elided; a large one (a framework's central class: long docstring, config tables) would
# crowd out the methods a question is about, so it gets a smaller share, compressed to
# its signatures and the lines matching the query.
CONTAINER_SHARE = 0.1
CONTAINER_KINDS = frozenset({"class", "interface", "trait", "impl", "enum", "record"})
MIN_COMPRESSED = 48  # below this many tokens a compressed item is not worth sending
# What the user is looking at outranks what search found.
_ORIGIN_RANK = {
    "selection": 0,
    "diagnostics": 1,
    "conversation": 2,
    "memory": 2,
    "recentEdit": 3,
    "workingDiff": 3,
    "retrieval": 4,
}


def candidates_from_request(request: PromptRequest) -> list[Candidate]:
    """Context the request carries itself: selection, diagnostics, edits, conversation."""
    meta = request.metadata
    found: list[Candidate] = []
    if meta.selected_code:
        found.append(
            _candidate(
                "selection",
                K.CODE,
                "selection",
                meta.selected_code,
                1.0,
                path=meta.file,
                language=meta.language,
                start=meta.cursor.line if meta.cursor else None,
            )
        )
    if meta.diagnostics:
        text = "\n".join(
            f"{d.severity.value}"
            + (f" {d.file}:{d.line}" if d.file and d.line else f" {d.file}" if d.file else "")
            + (f" [{d.source}{' ' + d.code if d.code else ''}]" if d.source else "")
            + f": {d.message}"
            for d in meta.diagnostics
        )
        found.append(_candidate("diagnostics", K.ERRORS, "diagnostics", text, 1.0))
    for index, edit in enumerate(meta.recent_edits):
        found.append(
            _candidate(f"edit-{index}", K.CODE, "recentEdit", edit.diff, 0.5, path=edit.file)
        )
    turns = request.conversation
    for index, turn in enumerate(turns):
        # Recent turns matter more: score falls with age.
        score = 1.0 - (len(turns) - 1 - index) / (len(turns) + 1)
        found.append(
            _candidate(
                f"turn-{index}",
                K.CONVERSATION,
                "conversation",
                turn.content,
                score,
                title=turn.role,
            )
        )
    return found


WORKING_DIFF_ID = "working-diff"


def diff_candidate(diff: WorkingDiff) -> Candidate:
    """The workspace's uncommitted changes (`git diff HEAD`), for a code review."""
    shown = ", ".join(diff.files[:10]) + (
        f" and {len(diff.files) - 10} more" if len(diff.files) > 10 else ""
    )
    title = f"git diff HEAD: uncommitted changes to {shown}" + (" (cut)" if diff.truncated else "")
    return _candidate(
        WORKING_DIFF_ID, K.CODE, "workingDiff", diff.text, 1.0, language="diff", title=title
    )


def _candidate(
    item_id: str,
    kind: K,
    origin: str,
    text: str,
    score: float,
    *,
    path: str | None = None,
    language: str | None = None,
    title: str | None = None,
    start: int | None = None,
) -> Candidate:
    return Candidate(
        id=item_id,
        kind=kind,
        origin=origin,
        content=text,
        tokens=count_tokens(text),
        score=score,
        path=path,
        language=language,
        title=title,
        start_line=start,
        content_hash=content_hash(text),
    )


def candidates_from_memory(memory: Sequence[Context]) -> list[Candidate]:
    """A conversation's stored turns (its summary first, then oldest first): recent
    turns score higher, the summary as an old turn."""
    found: list[Candidate] = []
    for index, context in enumerate(memory):
        score = 1.0 - (len(memory) - 1 - index) / (len(memory) + 1)
        found.append(
            Candidate.model_construct(
                id=context.id,
                kind=K.CONVERSATION,
                origin="memory",
                content=context.content,
                tokens=context.token_count or count_tokens(context.content),
                score=round(score, 6),
                title=context.title,
                tier=context.tier.value,
                content_hash=context.content_hash,
            )
        )
    return found


def candidates_from_hits(hits: Sequence[SearchHit]) -> list[Candidate]:
    # Built from already-validated contexts, a few dozen per prompt: not re-validated.
    found: list[Candidate] = []
    for hit in hits:
        ctx = hit.context
        found.append(
            Candidate.model_construct(
                id=ctx.id,
                kind=KIND_OF_TYPE.get(ctx.type, K.DOCS),
                origin="retrieval",
                content=ctx.content,
                tokens=ctx.token_count or count_tokens(ctx.content),
                score=round(hit.score, 6),
                title=ctx.title or ctx.symbol,
                path=ctx.path,
                start_line=ctx.start_line,
                end_line=ctx.end_line,
                language=ctx.language,
                tier=ctx.tier.value,
                content_hash=ctx.content_hash,
                symbol_kind=ctx.symbol_kind,
                warning=STALE_WARNING if ctx.stale is not None else None,
            )
        )
    return found


class Synthesizer:
    def synthesize(
        self,
        analysis: Analysis,
        candidates: Sequence[Candidate],
        budget: int,
        *,
        model: str,
        window: int,
    ) -> SynthesizedContext:
        report = ContextReport(model=model, context_window=window, budget=max(0, budget))
        split = SPLITS[analysis.task_type]
        ordered = sorted(candidates, key=lambda c: (_ORIGIN_RANK.get(c.origin, 9), -c.score))
        unique, duplicates = _dedupe(ordered)
        present = {c.kind for c in unique}
        shares = {k: int(report.budget * split[k]) if k in present else 0 for k in K}
        report.budget_by_kind = {k.value: v for k, v in shares.items()}
        remaining = dict(shares)
        terms = [*analysis.entities.all_terms(), *analysis.keywords]
        item_cap = max(MIN_COMPRESSED, int(report.budget * MAX_ITEM_SHARE))
        container_cap = max(MIN_COMPRESSED, int(report.budget * CONTAINER_SHARE))

        def cap(item: Candidate) -> int:
            return container_cap if item.symbol_kind in CONTAINER_KINDS else item_cap

        chosen: dict[str, tuple[Candidate, ReportEntry]] = {}
        deferred: list[Candidate] = []
        for item in unique:  # pass 1: each kind within its own share
            placed = self._place(item, min(remaining[item.kind], cap(item)), terms)
            if placed is None:
                deferred.append(item)
                continue
            remaining[item.kind] -= placed[1].tokens
            chosen[item.id] = placed
        pool = report.budget - sum(e.tokens for _, e in chosen.values())
        for item in deferred:  # pass 2: what the other kinds left unused
            placed = self._place(item, min(pool, cap(item)), terms) if pool > 0 else None
            if placed is None:
                reason = "no budget left" if pool <= 0 else f"does not fit the {pool} tokens left"
                chosen[item.id] = (item, _entry(item, ItemStatus.DROPPED, reason, 0))
                continue
            pool -= placed[1].tokens
            chosen[item.id] = placed
        report.entries = [chosen[c.id][1] for c in unique] + duplicates
        items = [c for c, e in (chosen[u.id] for u in unique) if e.status is not ItemStatus.DROPPED]
        report.used_tokens = sum(e.tokens for e in report.entries)
        return SynthesizedContext(items=items, report=report)

    def _place(
        self, item: Candidate, room: int, terms: list[str]
    ) -> tuple[Candidate, ReportEntry] | None:
        if item.tokens <= room:
            return item, _entry(item, ItemStatus.INCLUDED, "fits the budget", item.tokens)
        if room < MIN_COMPRESSED:
            return None
        text, tokens = compress(item.content, room, terms)
        if tokens > room or tokens < 1:
            return None
        smaller = item.model_copy(update={"content": text, "tokens": tokens})
        reason = f"compressed from {item.tokens} to {tokens} tokens to fit"
        return smaller, _entry(item, ItemStatus.TRUNCATED, reason, tokens)


def _entry(item: Candidate, status: ItemStatus, reason: str, tokens: int) -> ReportEntry:
    # From a candidate's own (validated) fields: not re-validated.
    return ReportEntry.model_construct(
        id=item.id,
        kind=item.kind,
        origin=item.origin,
        path=item.path,
        start_line=item.start_line,
        end_line=item.end_line,
        status=status,
        reason=reason,
        tokens=tokens,
        original_tokens=item.tokens,
        score=item.score,
        warning=item.warning,
    )


def _dedupe(ordered: Sequence[Candidate]) -> tuple[list[Candidate], list[ReportEntry]]:
    """Drop exact copies and items whose lines a better item already covers."""
    kept: list[Candidate] = []
    dropped: list[ReportEntry] = []
    by_hash: dict[str, str] = {}
    for item in ordered:
        digest = item.content_hash or content_hash(item.content)
        twin = by_hash.get(digest) or _covering(item, kept)
        if twin is not None:
            dropped.append(_entry(item, ItemStatus.DROPPED, f"duplicate of {twin}", 0))
            continue
        by_hash[digest] = item.id
        kept.append(item)
    return kept, dropped


def _covering(item: Candidate, kept: Sequence[Candidate]) -> str | None:
    """A kept item from the same file whose lines span this one and whose text holds it.

    Spans alone are not enough: a class context elides its methods' bodies, and
    project facts share one virtual path, so the text itself must be contained.
    """
    if item.path is None or item.start_line is None or item.end_line is None:
        return None
    body = item.content.strip()
    for other in kept:
        if (
            other.path == item.path
            and other.start_line is not None
            and other.end_line is not None
            and other.start_line <= item.start_line
            and item.end_line <= other.end_line
            and body in other.content
        ):
            return other.id
    return None
