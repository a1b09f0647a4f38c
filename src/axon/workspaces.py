"""Workspace and hand-written context operations shared by the API and the CLI."""

from __future__ import annotations

import os
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from axon.errors import InvalidInput, NotFound
from axon.models import (
    ID_PATTERN,
    Context,
    ContextType,
    Tier,
    Workspace,
    WorkspaceType,
    content_hash,
    new_id,
    utcnow,
)
from axon.ports import DocumentStore, SearchIndex
from axon.tokens import count_tokens

MAX_CONTEXT_CHARS = 200_000


class _Input(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def _absolute_path(value: str | None) -> str | None:
    # Absolute only: a relative path would resolve against the server's working folder.
    # Normalised without filesystem access; the API also resolves and checks it
    # (axon.folders), the CLI passes the folder the user named, resolved.
    if not value:
        return value
    expanded = os.path.expanduser(value)
    if not os.path.isabs(expanded):
        raise ValueError("must be an absolute path")
    return os.path.normpath(expanded)


AbsolutePath = Annotated[str, AfterValidator(_absolute_path)]


class WorkspaceCreate(_Input):
    id: str | None = Field(default=None, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    type: WorkspaceType = WorkspaceType.CODING
    path: AbsolutePath | None = Field(default=None, min_length=1, max_length=4096)
    settings: dict[str, Any] = Field(default_factory=dict)


class WorkspaceUpdate(_Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    path: AbsolutePath | None = Field(default=None, min_length=1, max_length=4096)
    settings: dict[str, Any] | None = None


class ContextCreate(_Input):
    workspace_id: str = Field(pattern=ID_PATTERN)
    tier: Tier = Tier.WORKSPACE
    type: ContextType
    title: str | None = Field(default=None, max_length=500)
    content: str = Field(min_length=1, max_length=MAX_CONTEXT_CHARS)
    path: str | None = Field(default=None, max_length=4096)
    start_line: int | None = Field(default=None, ge=1)
    end_line: int | None = Field(default=None, ge=1)
    language: str | None = Field(default=None, max_length=64)
    symbol: str | None = Field(default=None, max_length=500)
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    metadata: dict[str, Any] = Field(default_factory=dict)


class ContextUpdate(_Input):
    tier: Tier | None = None
    type: ContextType | None = None
    title: str | None = Field(default=None, max_length=500)
    content: str | None = Field(default=None, min_length=1, max_length=MAX_CONTEXT_CHARS)
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    metadata: dict[str, Any] | None = None


def slugify(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower()[:48]
    return slug or "workspace"


def _check_lines(start: int | None, end: int | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInput.field("endLine", "endLine must not be before startLine")


async def create_workspace(store: DocumentStore, data: WorkspaceCreate) -> Workspace:
    path = data.path
    workspace_id = data.id
    if workspace_id is None:
        # Readable ids: the name's slug, with a short suffix only when taken.
        workspace_id = slugify(data.name)
        if await store.get_workspace(workspace_id) is not None:
            workspace_id = f"{workspace_id[:48]}-{new_id('w')[-6:]}"
    workspace = Workspace(
        id=workspace_id, name=data.name, type=data.type, path=path, settings=data.settings
    )
    return await store.create_workspace(workspace)


async def update_workspace(
    store: DocumentStore, workspace_id: str, data: WorkspaceUpdate
) -> Workspace:
    changes = data.model_dump(exclude_unset=True)
    updated = await store.update_workspace(workspace_id, changes)
    if updated is None:
        raise NotFound(f"workspace '{workspace_id}' not found", code="WORKSPACE_NOT_FOUND")
    return updated


async def add_context(
    store: DocumentStore,
    data: ContextCreate,
    search_index: SearchIndex | None = None,
    tenant: str | None = None,
) -> Context:
    if await store.get_workspace(data.workspace_id) is None:
        raise NotFound(
            f"workspace '{data.workspace_id}' not found",
            code="WORKSPACE_NOT_FOUND",
            details=[{"field": "workspaceId", "message": "no such workspace"}],
        )
    _check_lines(data.start_line, data.end_line)
    fields = data.model_dump()
    context = Context(
        id=new_id("ctx"),
        content_hash=content_hash(data.content),
        token_count=count_tokens(data.content),
        tenant=tenant,
        **fields,
    )
    await store.put_contexts([context])
    if search_index is not None:
        await search_index.index([context])
    return context


async def update_context(
    store: DocumentStore,
    context_id: str,
    data: ContextUpdate,
    search_index: SearchIndex | None = None,
) -> Context:
    changes = data.model_dump(exclude_unset=True)
    if changes.get("content") is not None:
        changes["content_hash"] = content_hash(changes["content"])
        changes["token_count"] = count_tokens(changes["content"])
    for key in ("tier", "type", "content"):
        if key in changes and changes[key] is None:
            raise InvalidInput.field(key, f"{key} cannot be null")
    changes["updated_at"] = utcnow()
    updated = await store.update_context(context_id, changes)
    if updated is None:
        raise NotFound(f"context '{context_id}' not found", code="CONTEXT_NOT_FOUND")
    if search_index is not None:
        await search_index.index([updated])
    return updated


async def all_workspaces(store: DocumentStore, page_size: int = 200) -> list[Workspace]:
    """Every workspace, in the store's order (for listings that are not paged)."""
    found: list[Workspace] = []
    cursor: str | None = None
    while True:
        page = await store.list_workspaces(page_size, cursor)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
