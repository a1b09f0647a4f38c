"""Walk a workspace and list the files worth indexing, counting what is left out.

The walk never follows a symlink out of the workspace, never enters a folder
twice (symlink loops), never opens anything but regular files, and turns
every OS error into a counted skip reason instead of an exception.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import Counter
from dataclasses import dataclass, field

from axon.indexing.ignore import IGNORE_FILES, TARGET_MANIFESTS, IgnoreRules
from axon.indexing.walk import Folder, Next, walk

DEFAULT_MAX_FILE_BYTES = 1024 * 1024
_SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class ScannedFile:
    path: str  # workspace-relative, forward slashes
    abs_path: str
    size: int
    mtime_ns: int


@dataclass(slots=True)
class ScanResult:
    files: list[ScannedFile] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    # Up to a few examples per reason, so a report can say which entries were skipped.
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, rel: str) -> None:
        self.skipped[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < 5:
            shown.append(rel)


@dataclass(frozen=True, slots=True)
class LoadedFile:
    text: str
    digest: str  # sha256 of the bytes on disk
    size: int
    mtime_ns: int


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(256 * 1024).splitlines()
    except OSError:
        return []


def _is_inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _valid_name(name: str) -> bool:
    # Undecodable bytes come back as lone surrogates; such a path cannot be stored as text.
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\n" not in name and "\r" not in name


def scan(root: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> ScanResult:
    """All indexable files under `root`, sorted by path, with skip counts by reason."""
    result = ScanResult()
    root_real = os.path.realpath(root)
    root_stat = os.stat(root_real)
    visited = {(root_stat.st_dev, root_stat.st_ino)}

    def folder_of(folder: Folder[IgnoreRules]) -> list[Next[IgnoreRules]]:
        rel_folder, entries = folder.rel, folder.entries
        if entries is None:
            result.skip("unreadable", rel_folder or ".")
            return []
        names = {e.name for e in entries}
        if rel_folder and "pyvenv.cfg" in names:
            result.skip("excluded", rel_folder)  # a virtualenv under any name
            return []
        path = folder.path
        git_lines = _read_lines(os.path.join(path, ".gitignore")) if ".gitignore" in names else []
        if not rel_folder:
            git_lines += _read_lines(os.path.join(path, ".git", "info", "exclude"))
        axon_lines = (
            _read_lines(os.path.join(path, ".axonignore")) if ".axonignore" in names else []
        )
        if names & TARGET_MANIFESTS:
            git_lines.append("/target/")
        rules = folder.state.descend(rel_folder, git_lines, axon_lines)
        subfolders: list[Next[IgnoreRules]] = []
        for entry in entries:
            _visit(entry, rel_folder, rules, root_real, max_file_bytes, visited, result, subfolders)
        return subfolders

    walk(root_real, IgnoreRules(), folder_of)
    result.files.sort(key=lambda f: f.path)
    return result


def _visit(
    entry: os.DirEntry[str],
    rel_folder: str,
    rules: IgnoreRules,
    root_real: str,
    max_file_bytes: int,
    visited: set[tuple[int, int]],
    result: ScanResult,
    subfolders: list[Next[IgnoreRules]],
) -> None:
    name = entry.name
    rel = f"{rel_folder}/{name}" if rel_folder else name
    if not _valid_name(name):
        result.skip("bad_name", rel.encode("utf-8", "replace").decode("utf-8"))
        return
    if name in IGNORE_FILES:
        return
    try:
        if entry.is_symlink():
            if not _is_inside(os.path.realpath(entry.path), root_real):
                result.skip("symlink_outside", rel)
                return
            try:
                st = os.stat(entry.path)
            except OSError:
                result.skip("broken_symlink", rel)
                return
        else:
            st = entry.stat(follow_symlinks=False)
    except OSError:
        result.skip("unreadable", rel)
        return
    if stat.S_ISDIR(st.st_mode):
        reason = rules.reason(rel, name, is_dir=True)
        if reason is not None:
            result.skip(reason, rel)
            return
        key = (st.st_dev, st.st_ino)
        if key in visited:
            result.skip("symlink_loop", rel)
            return
        visited.add(key)
        subfolders.append((entry.path, rel, rules))
        return
    if not stat.S_ISREG(st.st_mode):
        result.skip("special", rel)  # FIFOs, sockets, devices: opening one could block
        return
    reason = rules.reason(rel, name, is_dir=False)
    if reason is not None:
        result.skip(reason, rel)
    elif st.st_size > max_file_bytes:
        result.skip("too_large", rel)
    else:
        result.files.append(ScannedFile(rel, entry.path, st.st_size, st.st_mtime_ns))


def load(file: ScannedFile, max_file_bytes: int) -> LoadedFile | str:
    """The file's text and digest, or the reason it cannot be indexed."""
    try:
        # O_NONBLOCK: if the file was swapped for a FIFO since the scan, open must not hang.
        fd = os.open(file.abs_path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return "unreadable"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "special"
        if st.st_size > max_file_bytes:
            return "too_large"
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_file_bytes + 1)
    except OSError:
        return "unreadable"
    finally:
        os.close(fd)
    if len(data) > max_file_bytes:
        return "too_large"
    if b"\0" in data[:_SNIFF_BYTES]:
        return "binary"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "non_utf8"
    text = text.removeprefix("\ufeff")
    return LoadedFile(text, hashlib.sha256(data).hexdigest(), st.st_size, st.st_mtime_ns)
