"""Resolve note links across a workspace and store backlinks on the targets.

Each markdown section keeps its links as written (`outlinks`); this pass
resolves them against the workspace's markdown files (`linksTo`) and writes,
on every section of a linked note, the notes that link to it (`backlinks`).
Only sections whose values actually change are rewritten.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote

from axon.models import Context, ContextType
from axon.ports import ContextFilter, DocumentStore, SearchIndex

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")


class LinkResolver:
    """Wiki links resolve by note name (or a path suffix), markdown links by relative path."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = {p for p in paths if p.lower().endswith(MARKDOWN_SUFFIXES)}
        self.by_stem: dict[str, list[str]] = defaultdict(list)
        for path in sorted(self.paths, key=lambda p: (p.count("/"), p)):
            self.by_stem[PurePosixPath(path).stem.lower()].append(path)

    def resolve(self, source: str, link: dict[str, Any]) -> str | None:
        target = str(link.get("target", "")).strip()
        if not target:
            return None
        if link.get("kind") == "wiki":
            return self._wiki(source, target)
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(source), unquote(target)))
        if joined.startswith("../") or joined == "..":
            return None
        for candidate in (joined, joined + ".md"):
            if candidate in self.paths:
                return candidate
        return None

    def _wiki(self, source: str, target: str) -> str | None:
        name = target.removesuffix(".md").strip("/")
        if "/" in name:
            wanted = name.lower() + ".md"
            matches = [
                p for p in self.paths if p.lower() == wanted or p.lower().endswith("/" + wanted)
            ]
            return min(matches, key=len) if matches else None
        found = self.by_stem.get(name.lower(), [])
        if not found:
            return None
        # Several notes share the name: prefer the one beside the linking note.
        here = posixpath.dirname(source)
        same_folder = [p for p in found if posixpath.dirname(p) == here]
        return (same_folder or found)[0]


_NOTE_TYPES = (ContextType.NOTE, ContextType.DOCUMENTATION)


async def update_backlinks(
    store: DocumentStore,
    search_index: SearchIndex,
    workspace_id: str,
    paths: Iterable[str],
) -> int:
    """Recompute links and backlinks for the workspace; return the contexts rewritten."""
    resolver = LinkResolver(paths)
    sections: list[tuple[str, str, dict[str, Any]]] = []  # (id, path, metadata)
    flt = ContextFilter(workspace_id=workspace_id, types=_NOTE_TYPES)
    async for ctx in store.iter_contexts(flt):
        if ctx.symbol_kind == "section" and ctx.path is not None:
            sections.append((ctx.id, ctx.path, ctx.metadata))
    links_to: dict[str, list[str]] = {}
    backlinks: dict[str, set[str]] = defaultdict(set)
    for cid, path, meta in sections:
        targets = sorted(
            {
                t
                for link in meta.get("outlinks", [])
                if isinstance(link, dict)
                and (t := resolver.resolve(path, link)) is not None
                and t != path
            }
        )
        links_to[cid] = targets
        for target in targets:
            backlinks[target].add(path)
    changed: list[str] = []
    wanted: dict[str, dict[str, Any]] = {}
    for cid, path, meta in sections:
        new = {**meta, "linksTo": links_to[cid], "backlinks": sorted(backlinks.get(path, ()))}
        if new != meta:
            changed.append(cid)
            wanted[cid] = new
    updated: list[Context] = []
    for cid in changed:
        stored = await store.update_context(cid, {"metadata": wanted[cid]})
        if stored is not None:
            updated.append(stored)
    if updated:
        await search_index.index(updated)
    return len(updated)
