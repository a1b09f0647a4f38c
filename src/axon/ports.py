"""Ports: the small interfaces the core talks to.

Adapters live in `axon.stores` (and later packages); the core imports only
these Protocols. Every DocumentStore adapter passes tests/contract/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from axon.models import (
    Context,
    ContextType,
    Feedback,
    Interaction,
    Job,
    JobState,
    Page,
    Tier,
    Workspace,
)


@dataclass(frozen=True, slots=True)
class ContextFilter:
    workspace_id: str | None = None
    tiers: Sequence[Tier] | None = None
    types: Sequence[ContextType] | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class FileState:
    """What the indexer remembers about one indexed file."""

    path: str
    content_hash: str
    size: int
    mtime_ns: int


class DocumentStore(Protocol):
    """Workspaces, contexts, interactions, feedback, jobs and indexed-file state.

    Writes that touch several records (deleting a workspace, replacing a file's
    contexts) are atomic: readers see the old state or the new one.
    """

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...

    # workspaces
    async def create_workspace(self, workspace: Workspace) -> Workspace: ...
    async def get_workspace(self, workspace_id: str) -> Workspace | None: ...
    async def list_workspaces(self, limit: int, cursor: str | None = None) -> Page[Workspace]: ...
    async def update_workspace(
        self, workspace_id: str, changes: dict[str, Any]
    ) -> Workspace | None: ...
    async def delete_workspace(self, workspace_id: str) -> bool: ...

    # contexts
    async def put_contexts(self, contexts: Sequence[Context]) -> None: ...
    async def get_context(self, context_id: str) -> Context | None: ...
    async def get_contexts(self, context_ids: Sequence[str]) -> list[Context]: ...
    async def list_contexts(
        self, flt: ContextFilter, limit: int, cursor: str | None = None
    ) -> Page[Context]: ...
    def iter_contexts(
        self, flt: ContextFilter, batch_size: int = 1000
    ) -> AsyncIterator[Context]: ...
    async def count_contexts(self, flt: ContextFilter) -> int: ...
    async def update_context(self, context_id: str, changes: dict[str, Any]) -> Context | None: ...
    async def delete_contexts(self, context_ids: Sequence[str]) -> int: ...
    async def record_usage(
        self, context_ids: Sequence[str], confidence_delta: float = 0.0
    ) -> None: ...
    async def find_expired_contexts(
        self, created_before: datetime, usage_below: int
    ) -> list[str]: ...

    # indexed files: replacing a file's contexts is one atomic step
    async def get_file_states(self, workspace_id: str) -> dict[str, FileState]: ...
    async def replace_file(
        self, workspace_id: str, state: FileState, contexts: Sequence[Context]
    ) -> list[str]:
        """Store `contexts` as the file's contexts; return the ids they replaced."""
        ...

    async def remove_file(self, workspace_id: str, path: str) -> list[str]:
        """Forget the file and its contexts; return the removed context ids."""
        ...

    # interactions and feedback
    async def add_interaction(self, interaction: Interaction) -> None: ...
    async def get_interaction(self, interaction_id: str) -> Interaction | None: ...
    async def list_interactions(
        self, workspace_id: str | None, limit: int, cursor: str | None = None
    ) -> Page[Interaction]: ...
    async def delete_interactions_before(self, before: datetime) -> int: ...
    async def count_interactions_before(self, before: datetime) -> int: ...
    async def add_feedback(self, feedback: Feedback) -> None: ...

    # jobs
    async def create_job(self, job: Job) -> None: ...
    async def get_job(self, job_id: str) -> Job | None: ...
    async def update_job(self, job_id: str, changes: dict[str, Any]) -> Job | None: ...
    async def list_jobs(
        self, state: JobState | None, limit: int, cursor: str | None = None
    ) -> Page[Job]: ...
