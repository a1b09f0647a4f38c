"""Validity in time: a newer context supersedes older ones, which stay readable.

A context is valid from `validFrom` (its creation) until `validTo`; superseding sets
the old one's `validTo` and `supersededBy`, and the new one lists it in `supersedes`.
Search leaves superseded contexts out unless asked (`includeSuperseded`); `history`
walks the chain both ways.

Which older decisions a new one supersedes is said explicitly (`supersedes`), or
found by subject: the same stated `subject`, or, when neither states one, wording
about the same thing (dense similarity of the texts without their decision phrasing
at least `threshold`; `evolution.similarity`). Near-identical texts are left to consolidation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from axon.errors import Conflict, InvalidInput, NotFound
from axon.evolution.similarity import similarities, usable
from axon.models import Context, ContextType, Tier, utcnow
from axon.ports import DocumentStore, Embedder, Retriever, SearchIndex, SearchRequest

MAX_SUPERSEDES = 20
MAX_HISTORY = 100
CANDIDATES = 8  # decisions of the workspace compared with a new one
# Phrasing that says "this is a decision" or "this changes", rather than what it is
# about: who decided, and the verbs of choosing and switching.
_DECISION_PHRASING = re.compile(
    r"\b(?:we|i|the team)\s+(?:have\s+)?(?:now\s+)?"
    r"(?:decided|agreed|chose|will|are going|settled)(?:\s+(?:to|with|on))?\b"
    r"|^\s*(?:decision|adr|update|change)\s*:|\blet'?s\b|\bfrom now on\b|\bgoing forward\b"
    r"|\binstead\b|\bno longer\b|\banymore\b|\bnow\b"
    r"|\b(?:use[sd]?|using|adopt(?:s|ed)?|go(?:es|ing)?\s+with|pick(?:s|ed)?)\b"
    r"|\b(?:switch(?:es|ed)?|move[sd]?|migrate[sd]?|change[sd]?)(?:\s+to)?\b"
    r"|\bto\b(?=\s+\S+\W*$)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+")


def normalise_subject(subject: str) -> str:
    return " ".join(_WORD.findall(subject.lower()))


_STOP_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "as",
        "is",
        "are",
        "be",
        "our",
        "we",
        "it",
        "its",
        "this",
        "that",
        "all",
        "any",
        "each",
        "every",
        "our",
        "their",
        "your",
    ]
)


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _STOP_WORDS}


def subject_text(context: Context) -> str:
    """What a decision is about: its stated subject, or its text without the phrasing."""
    if context.subject:
        return context.subject
    return " ".join(_DECISION_PHRASING.sub(" ", context.content).split())


class Supersession:
    """Closes contexts that a newer one replaces, and reads their history."""

    def __init__(
        self,
        store: DocumentStore,
        search_index: SearchIndex,
        retriever: Retriever,
        embedder: Embedder | None,
        threshold: float,
    ) -> None:
        self.store = store
        self.search_index = search_index
        self.retriever = retriever
        self.embedder = usable(embedder)
        self.threshold = threshold

    async def resolve(self, workspace_id: str, ids: Sequence[str]) -> list[Context]:
        """The contexts a request names in `supersedes`, checked before anything is
        written: each must exist in the same workspace and still be current."""
        if len(ids) > MAX_SUPERSEDES:
            raise InvalidInput.field("supersedes", f"at most {MAX_SUPERSEDES} contexts")
        found = {c.id: c for c in await self.store.get_contexts(ids)}
        olds: list[Context] = []
        for index, cid in enumerate(dict.fromkeys(ids)):
            old = found.get(cid)
            if old is None or old.workspace_id != workspace_id:
                raise NotFound(
                    f"context '{cid}' not found in workspace '{workspace_id}'",
                    code="CONTEXT_NOT_FOUND",
                    details=[{"field": f"supersedes.{index}", "message": "no such context"}],
                )
            if not old.current:
                raise Conflict(
                    f"context '{cid}' is already superseded by '{old.superseded_by}'",
                    code="CONTEXT_SUPERSEDED",
                    details=[{"field": f"supersedes.{index}", "message": "already superseded"}],
                )
            olds.append(old)
        return olds

    async def detect(self, new: Context) -> list[Context]:
        """Current decisions of the workspace on the same subject as `new` (a decision)."""
        if new.type is not ContextType.DECISION:
            return []
        hits = await self.retriever.search(
            SearchRequest(
                query=subject_text(new),
                workspace_id=new.workspace_id,
                tiers=[Tier.WORKSPACE, Tier.HYBRID],
                types=[ContextType.DECISION],
                limit=CANDIDATES,
            )
        )
        candidates = [
            h.context
            for h in hits
            if h.context.id != new.id and h.context.workspace_id == new.workspace_id
        ]
        stated = [c for c in candidates if new.subject and c.subject]
        same = [
            c
            for c in stated
            if normalise_subject(c.subject or "") == normalise_subject(new.subject or "")
        ]
        unstated = [c for c in candidates if not (new.subject and c.subject)]
        return same + await self._similar(new, unstated)

    async def _similar(self, new: Context, candidates: list[Context]) -> list[Context]:
        # Wording alone can be close across subjects ("X for the frontend framework" and
        # "Y for the web framework"): the texts must also share a word of substance.
        subject = subject_text(new)
        words = content_words(subject)
        sharing = [c for c in candidates if words & content_words(subject_text(c))]
        scores = await similarities(self.embedder, subject, [subject_text(c) for c in sharing])
        return [c for c, score in zip(sharing, scores, strict=True) if score >= self.threshold]

    async def close(self, olds: Sequence[Context], new: Context) -> list[Context]:
        """Mark each of `olds` superseded by `new` (already stored). Re-indexing them
        makes every process's caches forget the copies that were still current."""
        now = utcnow()
        closed: list[Context] = []
        for old in olds:
            if old.id == new.id:
                continue
            updated = await self.store.update_context(
                old.id, {"valid_to": now, "superseded_by": new.id}
            )
            if updated is not None:
                closed.append(updated)
        if closed:
            await self.search_index.index(closed)
        return closed

    async def supersede(self, old_id: str, new_id: str) -> list[Context]:
        """`axon memory supersede OLD NEW` between two stored contexts."""
        new = await self.store.get_context(new_id)
        if new is None:
            raise NotFound(f"context '{new_id}' not found", code="CONTEXT_NOT_FOUND")
        if old_id == new_id:
            raise InvalidInput.field("supersedes", "a context cannot supersede itself")
        if not new.current:
            raise Conflict(
                f"context '{new_id}' is itself superseded by '{new.superseded_by}'",
                code="CONTEXT_SUPERSEDED",
            )
        olds = await self.resolve(new.workspace_id, [old_id])
        if old_id not in new.supersedes:
            await self.store.update_context(new.id, {"supersedes": [*new.supersedes, old_id]})
        await self.close(olds, new)
        return await self.history(new_id)

    async def history(self, context_id: str) -> list[Context]:
        """Every version of the context's chain, oldest first (by validity start)."""
        start = await self.store.get_context(context_id)
        if start is None:
            raise NotFound(f"context '{context_id}' not found", code="CONTEXT_NOT_FOUND")
        seen: dict[str, Context] = {start.id: start}
        frontier = [start]
        while frontier and len(seen) < MAX_HISTORY:
            wanted = {
                cid
                for c in frontier
                for cid in [*c.supersedes, *([c.superseded_by] if c.superseded_by else [])]
                if cid not in seen
            }
            frontier = await self.store.get_contexts(sorted(wanted))
            seen.update((c.id, c) for c in frontier)
        return sorted(seen.values(), key=lambda c: (c.valid_from or c.created_at, c.id))
