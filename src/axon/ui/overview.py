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
from axon.models import Workspace
from axon.ports import ContextFilter
from axon.security.principal import Principal
from axon.services import Services
from axon.ui.render import page
from axon.workspaces import visible_workspaces

router = APIRouter(include_in_schema=False)
# The overview lists this many workspaces; a bigger registry pages on the API.
MAX_LISTED = 200
RECENT_PROMPTS = 10


async def workspace_row(services: Services, workspace: Workspace) -> dict[str, Any]:
    """What the overview and the workspace page show of a workspace's index."""
    files = await services.store.get_file_states(workspace.id)
    contexts = await services.store.count_contexts(ContextFilter(workspace_id=workspace.id))
    embeddings = await services.search_index.embedding_status(workspace.id)
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


async def spend(services: Services, principal: Principal) -> dict[str, Any]:
    """LLM totals as GET /api/v1/usage counts them (a restricted key: its own)."""
    own = principal.key_id if principal.restricted else None
    return usage_totals(await services.llm_usage.totals(None, own)).dump()


@router.get("/")
async def overview(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> HTMLResponse:
    workspaces = await visible_workspaces(services.store, principal, MAX_LISTED)
    rows = [await workspace_row(services, w) for w in workspaces]
    recent = await visible_page(
        lambda n, after: services.store.list_interactions(None, n, after),
        lambda i: principal.can_access(i.workspace_id),
        RECENT_PROMPTS,
        None,
    )
    return page(
        request,
        "overview.html",
        rows=rows,
        truncated=len(workspaces) == MAX_LISTED,
        health=await readiness_report(services),
        interactions=recent.items,
        totals=await spend(services, principal),
    )


@router.get("/ui")
async def ui_root() -> RedirectResponse:
    return RedirectResponse("/", status_code=308)
