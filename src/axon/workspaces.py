"""Workspace and hand-written context operations shared by the API and the CLI."""

from __future__ import annotations

import difflib
import os
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

from axon.errors import Forbidden, InvalidInput, NotFound, WorkspaceNotFound
from axon.evolution import confidence, links
from axon.evolution.supersede import MAX_SUPERSEDES, Supersession
from axon.freeform import FreeJson, FreeJsonPatch
from axon.kinds import CHILD_SEPARATOR, short_name
from axon.models import (
    CONTEXT_ID_PATTERN,
    ID_PATTERN,
    WORKSPACE_ID_PATTERN,
    Context,
    ContextType,
    Evidence,
    EvidenceSource,
    Tier,
    Workspace,
    WorkspaceType,
    content_hash,
    new_id,
    utcnow,
)
from axon.ports import DocumentStore, SearchIndex
from axon.security.principal import FULL_ACCESS, Principal
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
    settings: FreeJson = Field(default_factory=dict)


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null")
    return value


# In the patches a field left out stays unchanged (None: not given). Where the stored
# value cannot be null, an explicit `null` is refused (422 naming the field), and the
# schema does not offer null.
class WorkspaceUpdate(_Input):
    name: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=200)
    path: AbsolutePath | None = Field(default=None, min_length=1, max_length=4096)
    settings: FreeJsonPatch = None

    _not_null = field_validator("name", "settings", mode="before")(_refuse_null)


class ContextCreate(_Input):
    workspace_id: str = Field(pattern=WORKSPACE_ID_PATTERN)
    tier: Tier = Tier.WORKSPACE
    type: ContextType
    title: str | None = Field(default=None, max_length=500)
    content: str = Field(min_length=1, max_length=MAX_CONTEXT_CHARS)
    path: str | None = Field(default=None, max_length=4096)
    start_line: StrictInt | None = Field(default=None, ge=1)
    end_line: StrictInt | None = Field(default=None, ge=1)
    language: str | None = Field(default=None, max_length=64)
    symbol: str | None = Field(default=None, max_length=500)
    # Unset: the prior of hand-written knowledge (axon.models.PRIORS).
    confidence: StrictFloat | None = Field(default=None, ge=0.0, le=1.0)
    metadata: FreeJson = Field(default_factory=dict)
    # What a decision is about; a later decision with the same subject supersedes it.
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    # Ids of the contexts this one replaces (decisions on the same subject are also
    # found without it). Each must be current and in the same workspace.
    supersedes: list[Annotated[str, Field(pattern=CONTEXT_ID_PATTERN)]] = Field(
        default_factory=list, max_length=MAX_SUPERSEDES
    )


class ContextUpdate(_Input):
    tier: Tier | SkipJsonSchema[None] = None
    type: ContextType | SkipJsonSchema[None] = None
    title: str | None = Field(default=None, max_length=500)
    content: str | SkipJsonSchema[None] = Field(
        default=None, min_length=1, max_length=MAX_CONTEXT_CHARS
    )
    confidence: StrictFloat | SkipJsonSchema[None] = Field(default=None, ge=0.0, le=1.0)
    metadata: FreeJsonPatch = None

    _not_null = field_validator("tier", "type", "content", "confidence", "metadata", mode="before")(
        _refuse_null
    )


# A miss lists the registered workspaces to suggest names; this bounds that scan.
MAX_SCANNED_FOR_SUGGESTIONS = 10_000
MAX_SUGGESTIONS = 3


async def all_workspaces(store: DocumentStore, limit: int | None = None) -> list[Workspace]:
    """Every workspace (at most `limit`), in the store's order (for listings that are
    not paged)."""
    found: list[Workspace] = []
    cursor: str | None = None
    while limit is None or len(found) < limit:
        page = await store.list_workspaces(200, cursor)
        found += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return found if limit is None else found[:limit]


async def children_of(store: DocumentStore, root_id: str) -> list[Workspace]:
    """A root workspace's sub-project workspaces."""
    return [w for w in await all_workspaces(store) if w.parent_id == root_id]


def suggest_ids(wanted: str, ids: list[str]) -> list[str]:
    """Registered ids close to `wanted`: the same but for case first, then look-alikes
    of the whole id or of a child's short name."""
    folded = wanted.casefold()
    same_case = [i for i in ids if i.casefold() == folded or short_name(i).casefold() == folded]
    by_key: dict[str, str] = {}
    for workspace_id in ids:
        by_key.setdefault(workspace_id.casefold(), workspace_id)
        by_key.setdefault(short_name(workspace_id).casefold(), workspace_id)
    close = [
        by_key[key]
        for key in difflib.get_close_matches(folded, list(by_key), n=MAX_SUGGESTIONS, cutoff=0.6)
    ]
    return list(dict.fromkeys(same_case + close))[:MAX_SUGGESTIONS]


async def find_workspace(
    store: DocumentStore,
    workspace_id: str,
    field: str = "workspaceId",
    principal: Principal = FULL_ACCESS,
) -> Workspace:
    """The workspace `workspace_id` names for this caller: its id, or a root's child by
    its short name when only one child has it. Otherwise a 404 suggesting the closest
    names; a workspace the caller may not use is missing to it, and never suggested."""
    workspace = await store.get_workspace(workspace_id)
    if workspace is not None and principal.can_access(workspace.id):
        return workspace
    visible = await visible_workspaces(store, principal, MAX_SCANNED_FOR_SUGGESTIONS)
    if CHILD_SEPARATOR not in workspace_id:
        children = [w for w in visible if w.parent_id and short_name(w.id) == workspace_id]
        if len(children) == 1:
            return children[0]
    suggestions = suggest_ids(workspace_id, [w.id for w in visible])
    raise WorkspaceNotFound(workspace_id, field, suggestions)


async def visible_workspaces(
    store: DocumentStore, principal: Principal, limit: int | None = None
) -> list[Workspace]:
    """The workspaces the caller may use (at most `limit` of an unrestricted caller's)."""
    if principal.workspaces is None:
        return await all_workspaces(store, limit)
    # A restricted key names its workspaces: read those, not the whole registry.
    found = [await store.get_workspace(i) for i in sorted(principal.workspaces)]
    return [w for w in found if w is not None]


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
    workspace = await find_workspace(store, workspace_id, "id")
    changes = data.model_dump(exclude_unset=True)
    updated = await store.update_workspace(workspace.id, changes)
    if updated is None:  # removed meanwhile
        raise WorkspaceNotFound(workspace.id, "id")
    return updated


async def add_context(
    store: DocumentStore,
    data: ContextCreate,
    search_index: SearchIndex | None = None,
    tenant: str | None = None,
    supersession: Supersession | None = None,
) -> Context:
    """Store a hand-written context. With `supersession`, the contexts it names in
    `supersedes` (or, for a decision naming none, the current decisions on the same
    subject) are closed in its favour; their ids end up in its `supersedes`."""
    workspace = await find_workspace(store, data.workspace_id)
    _check_lines(data.start_line, data.end_line)
    if data.supersedes and supersession is None:
        raise InvalidInput.field("supersedes", "superseding is not available here")
    olds = await supersession.resolve(workspace.id, data.supersedes) if supersession else []
    fields = {**data.model_dump(exclude={"confidence", "supersedes"}), "workspace_id": workspace.id}
    evidence = Evidence.prior(EvidenceSource.MANUAL, data.confidence)
    context = Context(
        id=new_id("ctx"),
        content_hash=content_hash(data.content),
        token_count=count_tokens(data.content),
        tenant=tenant,
        evidence=evidence,
        confidence=evidence.mean,
        **fields,
    )
    if supersession is not None:
        # The code it names, with today's hashes: a later change marks it stale.
        found = await links.find_links(supersession.retriever, context)
        context = context.model_copy(update={"links": found})
    if supersession is not None and not data.supersedes:
        olds = await supersession.detect(context)
    if olds:
        context = context.model_copy(update={"supersedes": [old.id for old in olds]})
    await store.put_contexts([context])
    if search_index is not None:
        await search_index.index([context])
    if supersession is not None and olds:
        await supersession.close(olds, context)
    return context


async def readable_context(store: DocumentStore, principal: Principal, context_id: str) -> Context:
    """The context if the caller may read it; another key's answers like a missing one."""
    context = await store.get_context(context_id)
    if context is None or not principal.can_read(context):
        raise NotFound(f"context '{context_id}' not found", code="CONTEXT_NOT_FOUND")
    return context


async def writable_context(store: DocumentStore, principal: Principal, context_id: str) -> Context:
    """The context if the caller may change it: only with access to its own workspace
    (a global or parent's context is readable from a workspace, not writable)."""
    context = await readable_context(store, principal, context_id)
    if not principal.can_access(context.workspace_id):
        raise Forbidden(
            f"context '{context_id}' belongs to a workspace this API key cannot change",
            code="CONTEXT_FORBIDDEN",
        )
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
    changes["updated_at"] = utcnow()
    if changes.get("confidence") is not None:
        current = await store.get_context(context_id)
        if current is not None:  # a stated confidence re-centres the evidence it rests on
            changes["evidence"] = confidence.recentred(current.evidence, changes["confidence"])
    updated = await store.update_context(context_id, changes)
    if updated is None:
        raise NotFound(f"context '{context_id}' not found", code="CONTEXT_NOT_FOUND")
    if search_index is not None:
        await search_index.index([updated])
    return updated
