"""`GET /api/v1/workspaces/{id}/symbols/{name}`: where a name is defined and used."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam

from axon.api.deps import PrincipalDep, ServicesDep, WorkspaceIdPath, require_workspace
from axon.api.responses import errors
from axon.retrieval.symbols import (
    MAX_NAME_CHARS,
    SymbolsResponse,
    invalid_symbol,
    is_symbol_name,
    look_up_symbol,
)

router = APIRouter(prefix="/api/v1/workspaces", tags=["symbols"])

NamePath = Annotated[
    str,
    PathParam(
        max_length=MAX_NAME_CHARS,
        description="a name (current_app) or a dotted one (Flask.run, pkg.mod.func)",
    ),
]


@router.get("/{workspace_id}/symbols/{name}", response_model_by_alias=True, responses=errors(404))
async def symbols(
    workspace_id: WorkspaceIdPath, name: NamePath, services: ServicesDep, principal: PrincipalDep
) -> SymbolsResponse:
    """Definitions and references of a name, from the code graph built at indexing."""
    workspace = await require_workspace(services, principal, workspace_id, field="id")
    if not is_symbol_name(name):
        raise invalid_symbol(name)
    return await look_up_symbol(services.store, workspace, name)
