"""Contexts as a REST resource (hand-written decisions, conventions and notes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from axon.api.deps import (
    ContextIdPath,
    CursorQuery,
    LimitQuery,
    PrincipalDep,
    ServicesDep,
    require_workspace,
    visible_page,
)
from axon.api.responses import ContextHistory, ContextList, errors
from axon.errors import NotFound
from axon.evolution import confidence
from axon.models import CONTEXT_ID_PATTERN, WORKSPACE_ID_PATTERN, Context, ContextType, Tier
from axon.ports import ContextFilter
from axon.security.principal import Principal, ensure_global_write
from axon.services import Services
from axon.workspaces import (
    ContextCreate,
    ContextUpdate,
    add_context,
    readable_context,
    update_context,
    writable_context,
)

router = APIRouter(prefix="/api/v1/contexts", tags=["contexts"])


@router.post("", status_code=201, responses=errors(404, 409))
async def create(body: ContextCreate, services: ServicesDep, principal: PrincipalDep) -> Context:
    workspace = await require_workspace(services, principal, body.workspace_id)
    ensure_global_write(principal, body.tier)
    body = body.model_copy(update={"workspace_id": workspace.id})  # a short name resolved
    return await add_context(
        services.store, body, services.search_index, principal.tenant, services.supersession
    )


@router.get("", responses=errors(404))
async def list_all(
    services: ServicesDep,
    principal: PrincipalDep,
    workspace_id: Annotated[
        str | None, Query(alias="workspaceId", pattern=WORKSPACE_ID_PATTERN)
    ] = None,
    tier: Annotated[Tier | None, Query()] = None,
    type: Annotated[ContextType | None, Query()] = None,
    path: Annotated[str | None, Query(max_length=4096)] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> ContextList:
    if workspace_id is not None:
        await require_workspace(services, principal, workspace_id)
    flt = ContextFilter(
        workspace_id=workspace_id,
        tiers=[tier] if tier else None,
        types=[type] if type else None,
        path=path,
    )
    page = await visible_page(
        lambda n, after: services.store.list_contexts(flt, n, after),
        principal.can_read,
        limit,
        cursor,
    )
    return ContextList(items=page.items, next_cursor=page.next_cursor)


@router.get("/{context_id}", responses=errors(404))
async def show(
    context_id: ContextIdPath, services: ServicesDep, principal: PrincipalDep
) -> Context:
    return await readable_context(services.store, principal, context_id)


@router.get("/{context_id}/history", responses=errors(404))
async def history(
    context_id: ContextIdPath, services: ServicesDep, principal: PrincipalDep
) -> ContextHistory:
    """Every version of the context's supersede chain, oldest first."""
    await readable_context(services.store, principal, context_id)
    chain = await services.supersession.history(context_id)
    return ContextHistory(items=[c for c in chain if principal.can_read(c)])


class SupersedeBody(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    superseded_by: str = Field(pattern=CONTEXT_ID_PATTERN)


@router.post("/{context_id}/supersede", responses=errors(404, 409))
async def supersede(
    context_id: ContextIdPath, body: SupersedeBody, services: ServicesDep, principal: PrincipalDep
) -> ContextHistory:
    """Close the context in favour of `supersededBy` (same workspace); returns the history."""
    await writable_context(services.store, principal, context_id)
    await writable_context(services.store, principal, body.superseded_by)
    return ContextHistory(
        items=await services.supersession.supersede(context_id, body.superseded_by)
    )


@router.post("/{context_id}/confirm", responses=errors(404))
async def confirm(
    context_id: ContextIdPath, services: ServicesDep, principal: PrincipalDep
) -> Context:
    """Vouch for the context: strong helpful evidence; a stale mark is cleared."""
    await writable_context(services.store, principal, context_id)
    [confirmed] = await confidence.confirm(services.store, [context_id])
    return confirmed


async def _steer_promotion(
    services: Services, principal: Principal, context_id: str, action: str
) -> Context:
    await writable_context(services.store, principal, context_id)
    ensure_global_write(principal, Tier.GLOBAL)
    promoter = services.promoter
    if action == "demote":
        return await promoter.demote(context_id)
    return await promoter.pin(context_id, pinned=action == "pin")


@router.post("/{context_id}/pin", responses=errors(404))
async def pin(context_id: ContextIdPath, services: ServicesDep, principal: PrincipalDep) -> Context:
    """Keep a promoted global context whatever its sources do."""
    return await _steer_promotion(services, principal, context_id, "pin")


@router.post("/{context_id}/unpin", responses=errors(404))
async def unpin(
    context_id: ContextIdPath, services: ServicesDep, principal: PrincipalDep
) -> Context:
    """Let the evolution job demote a promoted context again when its sources go."""
    return await _steer_promotion(services, principal, context_id, "unpin")


@router.post("/{context_id}/demote", responses=errors(404))
async def demote(
    context_id: ContextIdPath, services: ServicesDep, principal: PrincipalDep
) -> Context:
    """Take a promoted context out of every search; it is never promoted again."""
    return await _steer_promotion(services, principal, context_id, "demote")


@router.patch("/{context_id}", responses=errors(404))
async def patch(
    context_id: ContextIdPath, body: ContextUpdate, services: ServicesDep, principal: PrincipalDep
) -> Context:
    await writable_context(services.store, principal, context_id)
    ensure_global_write(principal, body.tier)
    return await update_context(services.store, context_id, body, services.search_index)


@router.delete("/{context_id}", status_code=204, responses=errors(404))
async def delete(
    context_id: ContextIdPath, services: ServicesDep, principal: PrincipalDep
) -> Response:
    await writable_context(services.store, principal, context_id)
    if not await services.store.delete_contexts([context_id]):
        raise NotFound(f"context '{context_id}' not found", code="CONTEXT_NOT_FOUND")
    await services.search_index.remove([context_id])
    return Response(status_code=204)
