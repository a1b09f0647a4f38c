"""Reading a workspace's files for a model: only inside the workspace's folder.

Every path is hostile: `..` segments, absolute paths elsewhere and symlinks that
lead out are refused (the real path must stay under the folder's real path), and
so are the files indexing never reads (secrets such as `.env` and keys, binaries).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from axon.errors import InvalidInput, NotFound
from axon.indexing.ignore import builtin_reason
from axon.models import Workspace

MAX_LINES = 2000
MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class SourceLines:
    path: str  # relative to the workspace folder, with forward slashes
    start_line: int
    end_line: int
    total_lines: int
    text: str


def resolve_inside(workspace: Workspace, path: str) -> tuple[Path, str]:
    """The file's real path and its path relative to the workspace folder."""
    if not workspace.path:
        raise InvalidInput.field("workspace", f"workspace '{workspace.id}' has no folder")
    if "\0" in path or not path.strip():
        raise InvalidInput.field("path", "give a file path inside the workspace")
    root = Path(os.path.realpath(workspace.path))
    if ".." in PurePosixPath(path.replace("\\", "/")).parts:
        raise InvalidInput.field("path", "'..' is not allowed; paths stay inside the workspace")
    candidate = Path(path) if os.path.isabs(path) else root / path
    real = Path(os.path.realpath(candidate))
    if real != root and root not in real.parents:
        raise InvalidInput.field("path", f"'{path}' is outside workspace '{workspace.id}'")
    relative = real.relative_to(root).as_posix()
    reason = builtin_reason(real.name, False)
    if reason in {"secret", "binary"}:
        raise InvalidInput.field("path", f"'{relative}' is a {reason} file; Axon does not read it")
    if not real.is_file():
        raise NotFound(f"no file '{relative}' in workspace '{workspace.id}'", code="FILE_NOT_FOUND")
    return real, relative


def read_lines(
    workspace: Workspace, path: str, start_line: int | None = None, end_line: int | None = None
) -> SourceLines:
    """Lines `start_line`..`end_line` (1-based, inclusive) of a file, at most MAX_LINES."""
    real, relative = resolve_inside(workspace, path)
    if real.stat().st_size > MAX_BYTES:
        raise InvalidInput.field("path", f"'{relative}' is over {MAX_BYTES} bytes")
    raw = real.read_bytes()
    if b"\0" in raw[:8192]:
        raise InvalidInput.field("path", f"'{relative}' is a binary file; Axon does not read it")
    lines = raw.decode("utf-8", "replace").splitlines()
    start = start_line or 1
    end = min(end_line or len(lines), len(lines), start + MAX_LINES - 1)
    if start < 1 or (end_line is not None and end_line < start):
        raise InvalidInput.field("startLine", "startLine must be >= 1 and not after endLine")
    text = "\n".join(lines[start - 1 : end])
    return SourceLines(relative, start, max(end, start - 1), len(lines), text)
