"""A workspace's page (index state, project facts, sub-projects, its contexts and files),
one context's page, and the re-index button."""

from __future__ import annotations

from collections.abc import Container
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from axon.api.deps import (
    ContextIdPath,
    CursorQuery,
    PrincipalDep,
    ServicesDep,
    WorkspaceIdPath,
    require_workspace,
)
from axon.api.routers import contexts as contexts_api
from axon.indexing.facts import FACTS_PATH
from axon.indexing.ignore import VIRTUAL_DIR
from axon.indexing.job import start_scan
from axon.models import Context, ContextType, Tier, Workspace
from axon.ports import ContextFilter
from axon.services import Services
from axon.ui.guard import CsrfChecked
from axon.ui.overview import workspace_row
from axon.ui.render import page
from axon.workspaces import children_of

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_SIZE = 50
# What a person remembers about a project (the Memory page edits these).
MEMORY_TYPES = (ContextType.DECISION, ContextType.PATTERN, ContextType.NOTE)
FILES_PAGE = 100


def _blank_none(value: str | None) -> str | None:
    """An empty select or text box in a GET form means 'any'."""
    return value if value else None


def indexed_from(files: Container[str], context: Context) -> bool:
    """Whether the indexer wrote this context (a re-index would overwrite an edit): it
    comes from an indexed file (`files`: the workspace's indexed paths) or from the
    indexer's own virtual paths (project facts, sub-project lists)."""
    if context.path is None:
        return False
    return context.path.startswith(VIRTUAL_DIR + "/") or context.path in files


async def is_indexed(services: Services, context: Context) -> bool:
    return indexed_from(await services.store.get_file_states(context.workspace_id), context)


@router.get("/workspaces/{workspace_id}")
async def workspace_page(
    request: Request,
    workspace_id: WorkspaceIdPath,
    services: ServicesDep,
    principal: PrincipalDep,
    type: Annotated[str | None, Query(max_length=32)] = None,
    tier: Annotated[str | None, Query(max_length=32)] = None,
    path: Annotated[str | None, Query(max_length=4096)] = None,
    cursor: CursorQuery = None,
) -> HTMLResponse:
    workspace = await require_workspace(services, principal, workspace_id, field="id")
    chosen_type = ContextType(type) if type in set(ContextType) else None
    chosen_tier = Tier(tier) if tier in set(Tier) else None
    listing = await contexts_api.list_all(
        services,
        principal,
        workspace_id=workspace.id,
        tier=chosen_tier,
        type=chosen_type,
        path=_blank_none(path),
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    facts = await services.store.list_contexts(
        ContextFilter(workspace_id=workspace.id, path=FACTS_PATH), PAGE_SIZE
    )
    return page(
        request,
        "workspace.html",
        row=await workspace_row(services, workspace, counted=True),
        facts=facts.items,
        children=await _children(services, workspace),
        contexts=[c.dump() for c in listing.items],
        next_cursor=listing.next_cursor,
        filters={"type": chosen_type or "", "tier": chosen_tier or "", "path": path or ""},
        types=list(ContextType),
        tiers=list(Tier),
    )


async def _children(services: Services, workspace: Workspace) -> list[Workspace]:
    return await children_of(services.store, workspace.id) if workspace.type == "root" else []


@router.get("/workspaces/{workspace_id}/files")
async def files_page(
    request: Request,
    workspace_id: WorkspaceIdPath,
    services: ServicesDep,
    principal: PrincipalDep,
    after: Annotated[str | None, Query(max_length=4096)] = None,
) -> HTMLResponse:
    """The indexed files by path, a page at a time."""
    workspace = await require_workspace(services, principal, workspace_id, field="id")
    states = await services.store.get_file_states(workspace.id)
    paths = sorted(p for p in states if after is None or p > after)
    shown = [states[p] for p in paths[:FILES_PAGE]]
    more = shown[-1].path if len(paths) > FILES_PAGE else None
    return page(
        request, "files.html", workspace=workspace, files=shown, total=len(states), after=more
    )


@router.post("/workspaces/{workspace_id}/scan")
async def scan(
    workspace_id: WorkspaceIdPath, services: ServicesDep, principal: PrincipalDep, _: CsrfChecked
) -> RedirectResponse:
    """Start indexing (as POST /api/v1/workspaces/{id}/scan does) and follow the job."""
    workspace = await require_workspace(services, principal, workspace_id, field="id")
    job = await start_scan(services, workspace)
    return RedirectResponse(f"/ui/jobs/{job.id}", status_code=303)


@router.get("/contexts/{context_id}")
async def context_page(
    request: Request, context_id: ContextIdPath, services: ServicesDep, principal: PrincipalDep
) -> HTMLResponse:
    context = await contexts_api.show(context_id, services, principal)
    first = context.start_line or 1
    lines = [(first + n, text) for n, text in enumerate(context.content.splitlines() or [""])]
    indexed = await is_indexed(services, context)
    editable = (
        context.type in MEMORY_TYPES and principal.can_access(context.workspace_id) and not indexed
    )
    chain = (await contexts_api.history(context_id, services, principal)).items
    return page(
        request,
        "context.html",
        context=context,
        lines=lines,
        indexed=indexed,
        editable=editable,
        # The supersede chain, oldest first; a context nothing replaced has no history.
        history=chain if len(chain) > 1 else [],
    )
