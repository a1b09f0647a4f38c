"""Memory: the decisions, conventions (patterns), notes and captured knowledge of a
workspace. Hand-written and captured contexts are created, edited and deleted here;
indexed ones are read-only (the next scan would overwrite an edit)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from axon.api.deps import ContextIdPath, PrincipalDep, ServicesDep, require_workspace
from axon.api.routers import contexts as contexts_api
from axon.errors import Forbidden
from axon.models import Context, ContextType
from axon.security.principal import Principal
from axon.services import Services
from axon.ui.guard import CsrfChecked, form_fields
from axon.ui.prompt import parsed
from axon.ui.render import page
from axon.ui.workspace import MEMORY_TYPES, indexed_from, is_indexed
from axon.workspaces import ContextCreate, ContextUpdate, visible_workspaces

router = APIRouter(prefix="/ui", include_in_schema=False)
PER_TYPE = 50
MAX_LISTED_WORKSPACES = 200


def _source(context: Context, indexed: bool) -> str:
    if indexed:
        return "indexed"
    return "captured" if context.metadata.get("source") == "capture" else "hand-written"


async def _editable(services: Services, principal: Principal, context: Context) -> Context:
    """The context, if this caller may change it here: its own workspace, not indexed."""
    if not principal.can_access(context.workspace_id):
        raise Forbidden("this API key cannot change this context", code="CONTEXT_FORBIDDEN")
    if await is_indexed(services, context):
        raise Forbidden(
            "an indexed context is read-only: edit the file and re-index instead",
            code="CONTEXT_INDEXED",
        )
    return context


def _confidence(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return -1.0  # out of range: the model's own check names the field


@router.get("/memory")
async def memory_page(
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    workspace: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    workspaces = await visible_workspaces(services.store, principal, MAX_LISTED_WORKSPACES)
    chosen = None
    if workspace or workspaces:
        chosen = await require_workspace(services, principal, workspace or workspaces[0].id)
    sections: list[tuple[ContextType, list[dict[str, Any]]]] = []
    if chosen is not None:
        files = await services.store.get_file_states(chosen.id)
        for kind in MEMORY_TYPES:
            listing = await contexts_api.list_all(
                services, principal, chosen.id, None, kind, None, PER_TYPE, None
            )
            rows = []
            for context in listing.items:
                source = _source(context, indexed_from(files, context))
                rows.append({"context": context, "source": source})
            sections.append((kind, rows))
    return page(
        request,
        "memory.html",
        workspaces=workspaces,
        chosen=chosen,
        sections=sections,
        types=MEMORY_TYPES,
    )


@router.post("/memory")
async def create(
    request: Request, services: ServicesDep, principal: PrincipalDep, checked: CsrfChecked
) -> RedirectResponse:
    fields = await form_fields(request)
    confidence = _confidence(fields.get("confidence"))
    body: ContextCreate = parsed(
        ContextCreate,
        {
            "workspace_id": fields.get("workspace", ""),
            "type": fields.get("type", ""),
            "title": fields.get("title") or None,
            "content": fields.get("content", ""),
            "confidence": 1.0 if confidence is None else confidence,
        },
    )
    if body.type not in MEMORY_TYPES:
        raise Forbidden("the dashboard writes decisions, conventions and notes only")
    context = await contexts_api.create(body, services, principal)
    return RedirectResponse(f"/ui/contexts/{context.id}", status_code=303)


@router.get("/memory/{context_id}/edit")
async def edit_form(
    request: Request, context_id: ContextIdPath, services: ServicesDep, principal: PrincipalDep
) -> HTMLResponse:
    context = await contexts_api.show(context_id, services, principal)
    await _editable(services, principal, context)
    return page(request, "memory_edit.html", context=context, types=MEMORY_TYPES)


@router.post("/memory/{context_id}")
async def edit(
    request: Request,
    context_id: ContextIdPath,
    services: ServicesDep,
    principal: PrincipalDep,
    checked: CsrfChecked,
) -> RedirectResponse:
    await _editable(services, principal, await contexts_api.show(context_id, services, principal))
    fields = await form_fields(request)
    changes: dict[str, Any] = {
        "title": fields.get("title") or None,
        "content": fields.get("content", ""),
        "type": fields.get("type", ""),
    }
    if fields.get("confidence"):
        changes["confidence"] = _confidence(fields.get("confidence"))
    body: ContextUpdate = parsed(ContextUpdate, changes)
    await contexts_api.patch(context_id, body, services, principal)
    return RedirectResponse(f"/ui/contexts/{context_id}", status_code=303)


@router.post("/memory/{context_id}/delete")
async def delete(
    context_id: ContextIdPath, services: ServicesDep, principal: PrincipalDep, checked: CsrfChecked
) -> RedirectResponse:
    context = await contexts_api.show(context_id, services, principal)
    await _editable(services, principal, context)
    await contexts_api.delete(context_id, services, principal)
    return RedirectResponse(f"/ui/memory?workspace={context.workspace_id}", status_code=303)
