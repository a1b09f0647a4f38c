"""The overview page: workspaces and their index state, backend health, recent prompts
and LLM spend."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from axon.api.deps import PrincipalDep, ServicesDep, visible_page
from axon.api.routers.health import readiness_report
from axon.api.routers.usage import usage_totals
from axon.indexing.job import running_scan
from axon.models import Interaction, Workspace, utcnow
from axon.ports import ContextFilter, EmbeddingStatus
from axon.security.principal import Principal
from axon.services import Services
from axon.ui.render import page
from axon.workspaces import visible_workspaces

router = APIRouter(include_in_schema=False)
# The overview lists this many workspaces; a bigger registry pages on the API.
MAX_LISTED = 200
RECENT_PROMPTS = 10
SCANNED_INTERACTIONS = 2000


async def workspace_row(
    services: Services, workspace: Workspace, *, counted: bool = False
) -> dict[str, Any]:
    """What the overview and the workspace page show of a workspace's index. Vectors are
    `counted` from the index (as GET /api/v1/workspaces/{id} does) on a workspace's own
    page; the overview takes this process's running counts (as /health does), which
    costs nothing per workspace."""
    files = await services.store.get_file_states(workspace.id)
    contexts = await services.store.count_contexts(ContextFilter(workspace_id=workspace.id))
    if counted:
        embeddings = await services.search_index.embedding_status(workspace.id)
    else:
        embeddings = services.search_index.progress.get(workspace.id) or EmbeddingStatus()
    scan = await running_scan(services, workspace.id)
    if scan is not None:
        state = "indexing"
    elif workspace.last_indexed_at is None:
        state = "never indexed"
    elif embeddings.pending:
        state = "embedding"
    else:
        state = "indexed"
    return {
        "workspace": workspace,
        "files": len(files),
        "contexts": contexts,
        "embeddings": embeddings.dump(),
        "state": state,
        "scan_job": scan,
    }


async def recent_interactions(services: Services, principal: Principal) -> list[Interaction]:
    """The caller's newest interactions among the first SCANNED_INTERACTIONS stored (the
    store lists them by id, which says nothing of age), newest first."""
    found: list[Interaction] = []
    cursor: str | None = None
    while len(found) < SCANNED_INTERACTIONS:
        page_ = await visible_page(
            lambda n, after: services.store.list_interactions(None, n, after),
            lambda i: principal.can_access(i.workspace_id),
            200,
            cursor,
        )
        found += page_.items
        cursor = page_.next_cursor
        if cursor is None:
            break
    return sorted(found, key=lambda i: i.timestamp, reverse=True)


async def spend(services: Services, principal: Principal) -> dict[str, Any]:
    """LLM totals as GET /api/v1/usage counts them (a restricted key: its own), with
    today's and this month's (UTC) from the ledger's days."""
    own = principal.key_id if principal.restricted else None
    today = utcnow().date()
    month = await services.llm_usage.days(today.replace(day=1), None, own)
    return {
        "total": usage_totals(await services.llm_usage.totals(None, own)).dump(),
        "today": usage_totals([d for d in month if d.day == today]).dump(),
        "month": usage_totals(month).dump(),
    }


@router.get("/")
async def overview(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> HTMLResponse:
    workspaces = await visible_workspaces(services.store, principal, MAX_LISTED)
    rows = [await workspace_row(services, w) for w in workspaces]
    recent = await recent_interactions(services, principal)
    return page(
        request,
        "overview.html",
        rows=rows,
        truncated=len(workspaces) == MAX_LISTED,
        health=await readiness_report(services),
        interactions=recent[:RECENT_PROMPTS],
        totals=await spend(services, principal),
    )


@router.get("/ui")
async def ui_root() -> RedirectResponse:
    return RedirectResponse("/", status_code=308)
