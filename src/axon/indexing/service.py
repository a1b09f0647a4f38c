"""Index a workspace of any type: coding, pkm, or a root of several projects."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from axon.errors import InvalidInput
from axon.evolution.links import mark_stale
from axon.indexing.chunking import to_contexts
from axon.indexing.chunks import Chunk
from axon.indexing.git_history import DEFAULT_MAX_COMMITS
from axon.indexing.history import DEFAULT_COMMIT_CONTEXTS
from axon.indexing.ignore import VIRTUAL_DIR
from axon.indexing.indexer import Indexer, ProgressFn
from axon.indexing.report import IndexReport
from axon.indexing.roots import SubProject, find_subprojects, sync_children
from axon.models import Context, ContextType, Workspace, WorkspaceType
from axon.ports import DocumentStore, SearchIndex
from axon.tokens import count_tokens

SUBPROJECTS_PATH = f"{VIRTUAL_DIR}/sub-projects"
ReportsFn = Callable[[list[IndexReport]], Awaitable[None]]


async def index_workspace(
    store: DocumentStore,
    search_index: SearchIndex,
    workspace: Workspace,
    *,
    max_file_bytes: int,
    full: bool = False,
    progress: ReportsFn | None = None,
    git_max_commits: int = DEFAULT_MAX_COMMITS,
    git_commit_contexts: int = DEFAULT_COMMIT_CONTEXTS,
) -> list[IndexReport]:
    """Index `workspace` (and, for a root, each sub-project); one report per workspace."""
    if not workspace.path:
        raise InvalidInput.field("path", f"workspace '{workspace.id}' has no folder to index")
    reports: list[IndexReport] = []

    def tracker() -> ProgressFn:
        async def on_progress(report: IndexReport) -> None:
            if progress is not None:
                await progress([*reports, report])

        return on_progress

    def indexer(ws: Workspace, excludes: list[str] | None = None) -> Indexer:
        return Indexer(
            store,
            search_index,
            ws,
            max_file_bytes=max_file_bytes,
            full=full,
            extra_excludes=excludes or [],
            progress=tracker(),
            git_max_commits=git_max_commits,
            git_commit_contexts=git_commit_contexts,
        )

    if workspace.type is not WorkspaceType.ROOT:
        reports.append(await indexer(workspace).run())
        await mark_stale(store, search_index, workspace.id)
        return reports
    projects = await asyncio.to_thread(find_subprojects, workspace.path)
    children, stale = await sync_children(store, workspace, projects)
    for wid in stale:
        await store.delete_workspace(wid)
        await search_index.remove_workspace(wid)
    for child in children:
        reports.append(await indexer(child).run())
    root_indexer = indexer(workspace, [p.path for p in projects])
    root_report = await root_indexer.run()
    await root_indexer.write_virtual(
        SUBPROJECTS_PATH, _subprojects_contexts(workspace.id, projects, children)
    )
    reports.append(root_report)
    for report in reports:  # memories whose linked code this run changed
        await mark_stale(store, search_index, report.workspace_id)
    return reports


def _subprojects_contexts(
    root_id: str, projects: list[SubProject], children: list[Workspace]
) -> list[Context]:
    lines = [f"{len(projects)} sub-projects:"]
    entries = []
    for project, child in zip(projects, children, strict=True):
        lines.append(
            f"- {project.path} ({project.type}, workspace {child.id}, found by "
            f"{', '.join(project.markers)})"
        )
        entries.append({"path": project.path, "workspaceId": child.id, "type": project.type})
    content = "Sub-projects of this folder\n\n" + "\n".join(lines) + "\n"
    chunk = Chunk(
        ContextType.ARCHITECTURE,
        content,
        1,
        1,
        symbol="sub-projects",
        symbol_kind="fact",
        title="Sub-projects",
        metadata={"subProjects": entries},
    )
    return to_contexts(root_id, SUBPROJECTS_PATH, None, [chunk], [count_tokens(content)])
