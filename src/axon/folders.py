"""Which folders a client may point Axon at: inside AXON_WORKSPACE_ROOTS, never the system's.

A workspace folder is read (indexed, searchable) and its code is run (the quality gate),
so one given over the API is resolved (`..` and symlinks) and must lie inside one of the
operator's roots, and never in a system folder whatever the roots say. The local CLI is
the user acting on their own files and does not go through this check.
"""

from __future__ import annotations

import os
from pathlib import Path

from axon.config import Settings
from axon.errors import Forbidden, InvalidInput

# Never a workspace, nor inside one of these: the system's own folders.
_SYSTEM = tuple(
    Path(p)
    for p in (
        "/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/var", "/usr", "/bin", "/sbin",
        "/lib", "/lib32", "/lib64", "/libx32", "/run", "/srv", "/snap", "/lost+found",
    )
)  # fmt: skip


def real_path(path: str) -> Path:
    return Path(os.path.realpath(os.path.expanduser(path)))


def workspace_roots(settings: Settings) -> list[Path]:
    return [real_path(root) for root in settings.workspace_roots_list]


def is_system_folder(folder: Path) -> bool:
    home = real_path("~")
    if home != Path("/") and folder.is_relative_to(home):
        return False  # the user's own files, even when home is /root or under /var
    return folder == Path("/") or any(folder.is_relative_to(s) for s in _SYSTEM)


def inside_workspace_roots(folder: Path, settings: Settings) -> bool:
    return not is_system_folder(folder) and any(
        folder.is_relative_to(root) for root in workspace_roots(settings)
    )


def allowed_workspace_folder(path: str, settings: Settings, field: str = "path") -> str:
    """The resolved folder for a workspace path from a client; refuses any other."""
    if not os.path.isabs(os.path.expanduser(path)):
        raise InvalidInput.field(field, "must be an absolute path")
    folder = real_path(path)
    roots = workspace_roots(settings)
    if not roots:
        raise Forbidden(
            "workspace folders cannot be registered over the API until the operator sets "
            "AXON_WORKSPACE_ROOTS (the folders workspaces may be in)",
            code="PATH_NOT_ALLOWED",
            details=[{"field": field, "message": "AXON_WORKSPACE_ROOTS is not set"}],
        )
    if not inside_workspace_roots(folder, settings):
        # The same answer whether or not the folder exists: no probing outside the roots.
        raise Forbidden(
            "this folder is not inside AXON_WORKSPACE_ROOTS, or is a system folder",
            code="PATH_NOT_ALLOWED",
            details=[{"field": field, "message": "not an allowed folder"}],
        )
    return str(folder)
