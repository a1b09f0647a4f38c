"""The one folder walk of indexing: depth first, each folder listed once in name
order, its subfolders entered in name order. The scanner (`scanner.py`: ignore
rules, symlink refusal, skip counts) and the sub-project search (`roots.py`:
markers, depth limit) decide what to enter; this module only lists and orders."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Folder(Generic[S]):
    path: str
    rel: str  # relative to the root, forward slashes; "" for the root itself
    state: S  # what the caller carries down (ignore rules, a depth)
    entries: list[os.DirEntry[str]] | None  # sorted by name; None: it could not be listed


# (path, rel, state) of a subfolder to walk next.
Next = tuple[str, str, S]


def walk(root: str, state: S, visit: Callable[[Folder[S]], list[Next[S]]]) -> None:
    """Call `visit` on `root` and then on every folder it (and they) return, in order."""
    stack: list[Next[S]] = [(root, "", state)]
    while stack:
        path, rel, carried = stack.pop()
        try:
            with os.scandir(path) as it:
                entries: list[os.DirEntry[str]] | None = sorted(it, key=lambda e: e.name)
        except OSError:
            entries = None
        stack.extend(reversed(visit(Folder(path, rel, carried, entries))))
