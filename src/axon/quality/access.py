"""Which folders may be gated: registered workspaces and configured allowed roots.

Paths are compared after resolving `..` and symlinks, so a link inside an
allowed root that points elsewhere is refused like the elsewhere it names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from axon.config import Settings, split_list
from axon.errors import Forbidden, InvalidInput, NotFound
from axon.models import Workspace
from axon.ports import DocumentStore


@dataclass(frozen=True)
class GateTarget:
    root: Path
    workspace: Workspace | None  # the registered workspace whose folder `root` is


def _real(path: str) -> Path:
    return Path(os.path.realpath(os.path.expanduser(path)))


def allowed_roots(settings: Settings) -> list[Path]:
    return [_real(root) for root in split_list(settings.gate_allowed_roots)]


async def _registered(store: DocumentStore) -> list[Workspace]:
    workspaces: list[Workspace] = []
    cursor: str | None = None
    while True:
        page = await store.list_workspaces(200, cursor)
        workspaces += page.items
        if page.next_cursor is None:
            return workspaces
        cursor = page.next_cursor


def _existing_folder(root: Path, field: str) -> Path:
    if not root.is_dir():
        raise InvalidInput.field(field, f"'{root}' is not an existing folder")
    return root


async def target_for_workspace(store: DocumentStore, workspace_id: str) -> GateTarget:
    workspace = await store.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound(
            f"workspace '{workspace_id}' not found",
            code="WORKSPACE_NOT_FOUND",
            details=[{"field": "workspaceId", "message": "no such workspace"}],
        )
    if not workspace.path:
        raise InvalidInput.field("workspaceId", f"workspace '{workspace_id}' has no folder")
    return GateTarget(_existing_folder(_real(workspace.path), "workspaceId"), workspace)


async def target_for_path(
    store: DocumentStore, settings: Settings, path: str, *, trusted: bool = False
) -> GateTarget:
    """Resolve a folder to gate. `trusted` (the local CLI) skips the allow-list."""
    if not path.startswith(("/", "~")):
        raise InvalidInput.field("workspacePath", "must be an absolute path")
    real = _real(path)
    registered = await _registered(store)
    workspace = next((w for w in registered if w.path and _real(w.path) == real), None)
    inside = [_real(w.path) for w in registered if w.path] + allowed_roots(settings)
    if not trusted and workspace is None and not any(real.is_relative_to(r) for r in inside):
        # The same answer whether or not the folder exists: no probing outside the roots.
        raise Forbidden(
            "this folder is neither a registered workspace nor under AXON_GATE_ALLOWED_ROOTS",
            code="PATH_NOT_ALLOWED",
            details=[{"field": "workspacePath", "message": "not an allowed folder"}],
        )
    return GateTarget(_existing_folder(real, "workspacePath"), workspace)
