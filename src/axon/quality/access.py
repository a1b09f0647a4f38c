"""Which folders may be gated: the operator's roots, never what a client registered.

A folder can be gated when it is under AXON_GATE_ALLOWED_ROOTS, or when it is (or is
inside) a registered workspace's folder that lies inside AXON_WORKSPACE_ROOTS. Both
are operator settings; registering a workspace never widens them (registering is
itself confined to AXON_WORKSPACE_ROOTS). Paths are compared after resolving `..`
and symlinks, so a link inside an allowed root that points elsewhere is refused like
the elsewhere it names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from axon.config import Settings, split_list
from axon.errors import Forbidden, InvalidInput
from axon.folders import inside_workspace_roots
from axon.models import Workspace
from axon.ports import DocumentStore
from axon.workspaces import all_workspaces, find_workspace


@dataclass(frozen=True)
class GateTarget:
    root: Path
    workspace: Workspace | None  # the registered workspace whose folder `root` is


def _real(path: str) -> Path:
    return Path(os.path.realpath(os.path.expanduser(path)))


def allowed_roots(settings: Settings) -> list[Path]:
    return [_real(root) for root in split_list(settings.gate_allowed_roots)]


def _existing_folder(root: Path, field: str) -> Path:
    if not root.is_dir():
        raise InvalidInput.field(field, f"'{root}' is not an existing folder")
    return root


def _refused(field: str) -> Forbidden:
    # The same answer whether or not the folder exists: no probing outside the roots.
    return Forbidden(
        "this folder is neither under AXON_GATE_ALLOWED_ROOTS nor a registered workspace "
        "inside AXON_WORKSPACE_ROOTS",
        code="PATH_NOT_ALLOWED",
        details=[{"field": field, "message": "not an allowed folder"}],
    )


def _gateable(real: Path, workspace: Workspace | None, settings: Settings) -> bool:
    if any(real.is_relative_to(root) for root in allowed_roots(settings)):
        return True
    return workspace is not None and inside_workspace_roots(real, settings)


async def target_for_workspace(
    store: DocumentStore, settings: Settings, workspace_id: str, *, trusted: bool = False
) -> GateTarget:
    workspace = await find_workspace(store, workspace_id)
    if not workspace.path:
        raise InvalidInput.field("workspaceId", f"workspace '{workspace_id}' has no folder")
    real = _real(workspace.path)
    if not trusted and not _gateable(real, workspace, settings):
        raise _refused("workspaceId")
    return GateTarget(_existing_folder(real, "workspaceId"), workspace)


async def target_for_path(
    store: DocumentStore, settings: Settings, path: str, *, trusted: bool = False
) -> GateTarget:
    """Resolve a folder to gate. `trusted` (the local CLI) skips the allow-list."""
    if not path.startswith(("/", "~")):
        raise InvalidInput.field("workspacePath", "must be an absolute path")
    real = _real(path)
    registered = [w for w in await all_workspaces(store) if w.path]
    workspace = next((w for w in registered if _real(w.path or "") == real), None)
    # A folder inside a registered workspace is gated as part of it.
    holder = workspace or next(
        (w for w in registered if real.is_relative_to(_real(w.path or ""))), None
    )
    if not trusted and not _gateable(real, holder, settings):
        raise _refused("workspacePath")
    return GateTarget(_existing_folder(real, "workspacePath"), workspace)
