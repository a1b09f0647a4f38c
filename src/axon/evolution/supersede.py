"""Validity in time: a newer context supersedes older ones, which stay readable.

A context is valid from `validFrom` (its creation) until `validTo`; superseding sets
the old one's `validTo` and `supersededBy`, and the new one lists it in `supersedes`.
Search leaves superseded contexts out unless asked (`includeSuperseded`); `history`
walks the chain both ways.

Which older decisions a new one supersedes is said explicitly (`supersedes`), or
found by subject: the same stated `subject`; the subjects both name in a form of deciding
("use V for S", "switch S to V", `stated_subject`); or, failing both, wording
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


# How statements of a decision name what they are about ("use V for S", "for S we
# settled on V", "switch S to V", "S moves to V", "S uses V"); grammar of deciding,
# read over words (a linear scan, no pattern that could backtrack).
_TOKEN = re.compile(r"[a-z0-9]+|,")
_SWITCHING = frozenset(
    [
        "switch",
        "switches",
        "switched",
        "move",
        "moves",
        "moved",
        "migrate",
        "migrates",
        "migrated",
        "change",
        "changes",
        "changed",
    ]
)
_CHOOSING = frozenset(
    [
        "use",
        "uses",
        "using",
        "adopt",
        "adopts",
        "adopted",
        "pick",
        "picked",
        "chose",
        "choose",
        "with",
        "on",
    ]
)
_MARKERS = frozenset(["for", "as"])
_WHO = frozenset(["we", "i", "they", "team"])
_TRAILING = frozenset(["now", "instead", "anymore", "today", "too"])
SUBJECT_OVERLAP = 0.5  # word overlap (Jaccard) at which two stated subjects are one
SUBJECT_SIMILARITY = 0.8  # or the dense similarity of the two subject phrases
_MAX_SENTENCE = 300


def stated_subject(text: str) -> str | None:
    """The subject a decision's first sentence names, or None when it names none in a
    form read here (the caller then compares whole texts)."""
    sentence = text.strip().split("\n", 1)[0].split(". ", 1)[0][:_MAX_SENTENCE].lower()
    words = _TOKEN.findall(sentence)
    if words[:1] == ["decision"]:
        words = words[1:]
    if words[:3] == ["from", "now", "on"]:
        words = words[3:]
    phrase: list[str] = []
    switch = next((i for i, w in enumerate(words) if w in _SWITCHING), None)
    if words[:1] == ["for"]:
        stop = next((i for i, w in enumerate(words) if w == "," or w in _WHO), len(words))
        phrase = words[1:stop]
    elif switch is not None:
        tos = [i for i, w in enumerate(words) if w == "to" and i > switch]
        if tos and tos[0] == switch + 1:
            phrase = words[:switch]  # "S moves to V"
        elif tos:
            phrase = words[switch + 1 : tos[-1]]  # "switch S to V"
    elif "uses" in words:
        phrase = words[: words.index("uses")]  # "S uses V"
    else:
        chosen = next((i for i, w in enumerate(words) if w in _CHOOSING), None)
        marker = next(
            (i for i, w in enumerate(words) if w in _MARKERS and chosen is not None and i > chosen),
            None,
        )
        if marker is not None:
            rest = words[marker + 1 :]
            phrase = rest[: rest.index(",")] if "," in rest else rest
    while phrase and phrase[-1] in _TRAILING:
        phrase = phrase[:-1]
    found = [w for w in phrase if w != ","]
    return " ".join(found) if content_words(" ".join(found)) else None


def subject_text(context: Context) -> str:
    """What a decision is about: its stated subject, or its text without the phrasing."""
    if context.subject:
        return context.subject
    return " ".join(_DECISION_PHRASING.sub(" ", context.content).split())


def _overlap(a: str, b: str) -> float:
    left, right = content_words(a), content_words(b)
    return len(left & right) / len(left | right) if left | right else 0.0


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
        # Where both name their subject, the subjects are compared, not the whole texts
        # (whose values differ by design and whose phrasing may be shared boilerplate).
        mine = stated_subject(new.content)
        theirs = {c.id: stated_subject(c.content) for c in sharing} if mine else {}
        named = [c for c in sharing if theirs.get(c.id)]
        unnamed = [c for c in sharing if not theirs.get(c.id)]
        found = [c for c in named if _overlap(mine or "", theirs[c.id] or "") >= SUBJECT_OVERLAP]
        rest = [c for c in named if c not in found]
        if mine and rest:
            phrases = [theirs[c.id] or "" for c in rest]
            scores = await similarities(self.embedder, mine, phrases)
            found += [c for c, s in zip(rest, scores, strict=True) if s >= SUBJECT_SIMILARITY]
        scores = await similarities(self.embedder, subject, [subject_text(c) for c in unnamed])
        found += [c for c, s in zip(unnamed, scores, strict=True) if s >= self.threshold]
        return found

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
