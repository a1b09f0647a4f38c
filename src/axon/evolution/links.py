"""Memories linked to code: a decision that names files or symbols notices their change.

When a decision, convention or note is written, the paths and symbols it names
(`retrieval.entities`) are looked up among the workspace's indexed contexts and kept
as `links`, each with the content hash it had. After indexing (and in the evolution
job) `mark_stale` compares the hashes: a linked context that changed or disappeared
marks the memory `stale` with the reason; the ranking then weighs it down
(`ranking.STALE_FACTOR`) and the context report says "linked code changed since this
was written". A confirmation re-bases the links on the code as it is now and clears
the mark.
"""

from __future__ import annotations

from collections.abc import Sequence

from axon.models import CodeLink, Context, ContextType, StaleMark, Tier
from axon.ports import ContextFilter, DocumentStore, Retriever, SearchIndex, SearchRequest

LINKED_KINDS = (ContextType.DECISION, ContextType.PATTERN, ContextType.NOTE)
CODE_TYPES = (ContextType.SYMBOL, ContextType.FILE)
MAX_LINKS = 10
STALE_WARNING = "linked code changed since this was written"


def _defines(context: Context, symbols: set[str], paths: list[str]) -> bool:
    if context.symbol and context.symbol.rsplit(".", 1)[-1].lower() in symbols:
        return True
    path = context.path or ""
    return context.type is ContextType.FILE and any(
        path == p or path.endswith("/" + p) for p in paths
    )


async def find_links(retriever: Retriever, context: Context) -> list[CodeLink]:
    """The indexed code `context` names, as links with today's content hashes."""
    # Imported here: axon.retrieval imports axon.workspaces, which imports this package.
    from axon.retrieval.entities import extract_entities

    if context.type not in LINKED_KINDS:
        return []
    entities = extract_entities(context.content)
    symbols = {s.rsplit(".", 1)[-1].lower() for s in entities.symbols}
    paths = list(entities.paths)
    if not symbols and not paths:
        return []
    hits = await retriever.search(
        SearchRequest(
            query=" ".join([*entities.symbols, *paths]),
            workspace_id=context.workspace_id,
            tiers=[Tier.WORKSPACE],
            types=list(CODE_TYPES),
            limit=MAX_LINKS,
        )
    )
    return [
        CodeLink(
            context_id=h.context.id,
            path=h.context.path,
            symbol=h.context.symbol,
            content_hash=h.context.content_hash,
        )
        for h in hits
        if h.matched_entities and _defines(h.context, symbols, paths)
    ]


def _changes(links: Sequence[CodeLink], now: dict[str, Context]) -> list[str]:
    changed: list[str] = []
    for link in links:
        where = " ".join(part for part in (link.path, link.symbol) if part) or link.context_id
        current = now.get(link.context_id)
        if current is None:
            changed.append(f"{where} is gone")
        elif current.content_hash != link.content_hash:
            changed.append(f"{where} changed")
    return changed


async def mark_stale(store: DocumentStore, search_index: SearchIndex, workspace_id: str) -> int:
    """Mark the workspace's memories whose linked code changed; returns how many were
    newly marked (idempotent: marked ones are left as they are)."""
    marked: list[Context] = []
    flt = ContextFilter(workspace_id=workspace_id, types=list(LINKED_KINDS))
    async for memory in store.iter_contexts(flt):
        if not memory.links or memory.stale is not None:
            continue
        now = {c.id: c for c in await store.get_contexts([x.context_id for x in memory.links])}
        changes = _changes(memory.links, now)
        if not changes:
            continue
        reason = f"{STALE_WARNING}: {'; '.join(changes)}"
        updated = await store.update_context(memory.id, {"stale": StaleMark(reason=reason)})
        if updated is not None:
            marked.append(updated)
    if marked:
        await search_index.index(marked)  # other processes' caches forget the unmarked copies
    return len(marked)


async def rebase(store: DocumentStore, memories: Sequence[Context]) -> list[Context]:
    """Links re-based on the code as it is now (a confirmation): changed ones take the
    current hash, vanished ones are dropped."""
    rebased: list[Context] = []
    for memory in memories:
        if not memory.links:
            rebased.append(memory)
            continue
        now = {c.id: c for c in await store.get_contexts([x.context_id for x in memory.links])}
        links = [
            link.model_copy(update={"content_hash": now[link.context_id].content_hash})
            for link in memory.links
            if link.context_id in now
        ]
        updated = await store.update_context(memory.id, {"links": links, "stale": None})
        rebased.append(updated or memory)
    return rebased
