"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Path, Query, Request

from axon.errors import Forbidden
from axon.models import (
    CONTEXT_ID_PATTERN,
    WORKSPACE_ID_PATTERN,
    ApiKey,
    ApiScope,
    Job,
    Page,
    Workspace,
)
from axon.quality.service import JOB_KIND as GATE_JOB_KIND
from axon.security.keys import allows
from axon.security.principal import (
    FULL_ACCESS,
    PRINCIPAL_STATE,
    Principal,
)
from axon.services import Services
from axon.stores.pagination import encode_cursor
from axon.workspaces import find_workspace


# The dependencies are `async def` though they never wait: FastAPI runs a plain `def`
# dependency in its thread pool, a thread hop (and GIL hand-off) per dependency on
# every request.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def caller_key(request: Request) -> ApiKey | None:
    """The API key the request authenticated with; None when authentication is off."""
    key: ApiKey | None = request.scope.get("state", {}).get("api_key")
    return key


CallerKeyDep = Annotated[ApiKey | None, Depends(caller_key)]
# Jobs whose records hold a workspace's command output (a gate run's check output):
# reading them needs the scope that starts them, not just read.
_OUTPUT_SCOPES = {GATE_JOB_KIND: ApiScope.WRITE}


def may_read_output(job: Job, key: ApiKey | None) -> bool:
    needed = _OUTPUT_SCOPES.get(job.kind)
    return needed is None or key is None or allows(key, needed)


def require_output_scope(job: Job, key: ApiKey | None) -> None:
    if not may_read_output(job, key):
        needed = _OUTPUT_SCOPES[job.kind]
        raise Forbidden(
            f"reading a {job.kind} job's output needs the '{needed}' scope",
            details=[{"field": "scope", "message": f"needs '{needed}'"}],
        )


WorkspaceIdPath = Annotated[
    str, Path(pattern=WORKSPACE_ID_PATTERN, description="workspace id (a child: root.name)")
]
ContextIdPath = Annotated[str, Path(pattern=CONTEXT_ID_PATTERN, description="context id")]
LimitQuery = Annotated[int, Query(ge=1, le=200, description="page size")]
CursorQuery = Annotated[str | None, Query(max_length=512, description="opaque cursor")]


async def get_principal(request: Request) -> Principal:
    """The caller the security middleware identified; with auth off, everyone."""
    principal = getattr(request.state, PRINCIPAL_STATE, None)
    return principal if isinstance(principal, Principal) else FULL_ACCESS


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def require_workspace(
    services: Services, principal: Principal, workspace_id: str, field: str = "workspaceId"
) -> Workspace:
    """The workspace `workspace_id` names (a child also by its short name), if the caller
    may use it; otherwise 404 alike, suggesting only names the caller may see."""
    return await find_workspace(services.store, workspace_id, field, principal)


class _HasId(Protocol):
    id: str


R = TypeVar("R", bound=_HasId)
# A restricted key's listing skips what it may not see; this bounds the store pages
# read for one answer (the page may then come back short, with a cursor to go on).
MAX_SCANNED_PAGES = 20


async def visible_page(
    fetch: Callable[[int, str | None], Awaitable[Page[R]]],
    visible: Callable[[R], bool],
    limit: int,
    cursor: str | None,
) -> Page[R]:
    """One page of the items the caller may see, in the store's order (by id)."""
    kept: list[R] = []
    for _ in range(MAX_SCANNED_PAGES):
        page = await fetch(limit, cursor)
        for item in page.items:
            if visible(item):
                kept.append(item)
                if len(kept) == limit:
                    return page.model_copy(
                        update={"items": kept, "next_cursor": encode_cursor(item.id)}
                    )
        if page.next_cursor is None:
            return page.model_copy(update={"items": kept})
        cursor = page.next_cursor
    return page.model_copy(update={"items": kept})
