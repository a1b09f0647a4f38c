"""Counts an index run reports, as job progress and as the CLI summary."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_ERRORS = 50


@dataclass(slots=True)
class IndexReport:
    workspace_id: str
    files_total: int = 0  # files the scan found worth indexing
    files_seen: int = 0  # of those, processed so far
    indexed: int = 0  # new or changed: read and chunked
    unchanged: int = 0  # same size and mtime, or same content: a stat (and a read) only
    removed: int = 0  # files gone (or now skipped) whose contexts were removed
    skipped: Counter[str] = field(default_factory=Counter)
    contexts_written: int = 0
    contexts_removed: int = 0
    errors: list[str] = field(default_factory=list)
    search_index_seconds: float = 0.0  # time spent keeping the search index in step
    started: float = field(default_factory=time.monotonic)

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def counts(self) -> dict[str, Any]:
        return {
            "workspaceId": self.workspace_id,
            "filesTotal": self.files_total,
            "filesSeen": self.files_seen,
            "indexed": self.indexed,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": dict(sorted(self.skipped.items())),
            "contextsWritten": self.contexts_written,
            "contextsRemoved": self.contexts_removed,
            "errors": len(self.errors),
            "seconds": round(self.elapsed, 3),
            "searchIndexSeconds": round(self.search_index_seconds, 3),
        }

    def summary(self) -> str:
        skipped = sum(self.skipped.values())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items()))
        rate = self.files_seen / self.elapsed if self.elapsed > 0 else 0.0
        return (
            f"{self.workspace_id}: {self.files_seen} files ({self.indexed} indexed, "
            f"{self.unchanged} unchanged, {self.removed} removed, {skipped} skipped"
            + (f": {reasons}" if reasons else "")
            + f"), {self.contexts_written} contexts written, {self.contexts_removed} removed, "
            f"{len(self.errors)} errors in {self.elapsed:.2f}s ({rate:.0f} files/s)"
        )
