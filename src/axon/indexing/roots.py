"""Root folders: each sub-project found by its manifests becomes a child workspace.

A child's id is the root's id and the sub-project's folder, `<root>.<folder>`
(`work.api`, `work.services-billing` for services/billing), so it reads well, is
the same on every run, and `--workspace api` finds it by its short name. Children
indexed under the former hashed ids (`work--api-1a2b3c`) are no longer wanted on
the next run, so that run removes them and indexes the new ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from axon.indexing.ignore import builtin_reason
from axon.indexing.manifests import PARSERS
from axon.indexing.walk import Folder, Next, walk
from axon.kinds import CHILD_SEPARATOR
from axon.models import Workspace, WorkspaceType
from axon.ports import DocumentStore
from axon.workspaces import children_of, slugify

PROJECT_MARKERS = frozenset({*PARSERS, "setup.py", "requirements.txt", ".git"})
VAULT_MARKERS = frozenset({".obsidian", ".logseq", ".foam"})
MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class SubProject:
    path: str  # relative to the root, forward slashes
    abs_path: str
    type: WorkspaceType
    markers: tuple[str, ...]


def find_subprojects(root: str) -> list[SubProject]:
    """Folders below `root` holding a manifest (coding) or a vault marker (pkm);
    the search stops at the first project on each branch."""
    found: list[SubProject] = []

    def folder_of(folder: Folder[int]) -> list[Next[int]]:
        rel, depth, entries = folder.rel, folder.state, folder.entries
        if entries is None:
            return []
        names = {e.name for e in entries}
        if rel:
            vault = sorted(names & VAULT_MARKERS)
            markers = sorted(names & PROJECT_MARKERS)
            if vault or markers:
                kind = WorkspaceType.PKM if vault else WorkspaceType.CODING
                found.append(SubProject(rel, folder.path, kind, tuple(vault or markers)))
                return []
        if depth >= MAX_DEPTH:
            return []
        subfolders: list[Next[int]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            hidden = entry.name.startswith(".")
            if is_dir and not hidden and builtin_reason(entry.name, is_dir=True) is None:
                child_rel = f"{rel}/{entry.name}" if rel else entry.name
                subfolders.append((entry.path, child_rel, depth + 1))
        return subfolders

    walk(root, 0, folder_of)
    return sorted(found, key=lambda p: p.path)


def child_ids(root_id: str, projects: list[SubProject]) -> list[str]:
    """One readable id per sub-project, in order; folders whose names slug the same
    (`a/b` and `a-b`) keep the first as is and tell the others apart by a short hash."""
    ids: list[str] = []
    for project in projects:
        name = slugify(project.path.replace("/", "-"))
        if f"{root_id}{CHILD_SEPARATOR}{name}" in ids:
            digest = hashlib.sha256(project.path.encode("utf-8", "surrogatepass")).hexdigest()
            name = f"{name[:57]}-{digest[:6]}"
        ids.append(f"{root_id}{CHILD_SEPARATOR}{name}")
    return ids


async def sync_children(
    store: DocumentStore, root: Workspace, projects: list[SubProject]
) -> tuple[list[Workspace], list[str]]:
    """Create or update a child workspace per sub-project of `root`; return (children,
    ids of former children whose folder is no longer a sub-project)."""
    children: list[Workspace] = []
    for project, wid in zip(projects, child_ids(root.id, projects), strict=True):
        existing = await store.get_workspace(wid)
        if existing is None:
            existing = await store.create_workspace(
                Workspace(
                    id=wid,
                    name=project.path,
                    type=project.type,
                    path=project.abs_path,
                    parent_id=root.id,
                    settings={"markers": list(project.markers)},
                )
            )
        elif existing.type != project.type:
            existing = await store.update_workspace(wid, {"type": project.type}) or existing
        children.append(existing)
    wanted = {c.id for c in children}
    stale = [w.id for w in await children_of(store, root.id) if w.id not in wanted]
    return children, stale
