"""Retention clean-up and embedded-store backups (`axon maintenance ...`).

Clean-up follows the runbook: contexts older than 90 days used fewer than 5
times, and interactions older than 30 days (all three numbers configurable). The
turns Axon remembered of a conversation (axon.evolution.conversation) go with the
interactions they came from: after 30 days, however often they were used.
Contexts leave the search index before the document store, so a crash in
between leaves stored-but-unindexed contexts that the next run deletes again,
never vectors pointing at nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from axon.config import Settings
from axon.evolution.conversation import CONVERSATION_SOURCE
from axon.models import ContextType, utcnow
from axon.ports import ContextFilter, DocumentStore, SearchIndex

_BATCH = 500


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    context_days: float
    context_min_usage: int
    interaction_days: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            settings.context_retention_days,
            settings.context_min_usage,
            settings.interaction_retention_days,
        )


@dataclass(frozen=True, slots=True)
class CleanupReport:
    contexts: int
    interactions: int
    dry_run: bool
    contexts_before: datetime
    interactions_before: datetime


async def cleanup(
    store: DocumentStore,
    index: SearchIndex,
    policy: RetentionPolicy,
    *,
    dry_run: bool,
    now: datetime | None = None,
) -> CleanupReport:
    now = now or utcnow()
    contexts_before = now - timedelta(days=policy.context_days)
    interactions_before = now - timedelta(days=policy.interaction_days)
    expired = await store.find_expired_contexts(contexts_before, policy.context_min_usage)
    expired = sorted({*expired, *await _expired_turns(store, interactions_before)})
    if dry_run:
        interactions = await store.count_interactions_before(interactions_before)
    else:
        for start in range(0, len(expired), _BATCH):
            batch = expired[start : start + _BATCH]
            await index.remove(batch)
            await store.delete_contexts(batch)
        interactions = await store.delete_interactions_before(interactions_before)
    return CleanupReport(len(expired), interactions, dry_run, contexts_before, interactions_before)


async def _expired_turns(store: DocumentStore, before: datetime) -> list[str]:
    turns = store.iter_contexts(ContextFilter(types=[ContextType.CONVERSATION]))
    return [
        c.id
        async for c in turns
        if c.metadata.get("source") == CONVERSATION_SOURCE and c.created_at < before
    ]


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy a live database with SQLite's online backup API; return the page count.

    The copy is a consistent snapshot even while a server writes: the backup
    restarts on pages changed underneath it. It is written next to `target`
    first and renamed, so a failed backup never leaves a half file at `target`.
    """
    if not source.exists():
        raise FileNotFoundError(f"no embedded database at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=1024)
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    partial.replace(target)
    return pages


def check_backup(path: Path) -> None:
    """Refuse files that are not an intact Axon database."""
    if not path.is_file():
        raise FileNotFoundError(f"no backup file at {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path} is not a SQLite database: {exc}") from None
    if result != "ok":
        raise ValueError(f"{path} failed the integrity check: {result}")
    if not {"schema_version", "contexts", "workspaces"} <= tables:
        raise ValueError(f"{path} is not an Axon database (tables missing)")


def database_in_use(path: Path) -> bool:
    """True when another connection holds the database (a running server or worker).

    An exclusive lock cannot be taken while any other connection has the WAL
    database open for reading or writing.
    """
    if not path.exists():
        return False
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def restore_sqlite(backup: Path, target: Path) -> int:
    """Replace the embedded database with `backup` (which must be intact); return pages.

    The caller stops servers first: `database_in_use` guards against a live one.
    The restored copy is built beside the target and renamed into place, and
    stale WAL files are removed, so the result is the backup exactly.
    """
    check_backup(backup)
    staged = target.with_name(target.name + ".restoring")
    pages = backup_sqlite(backup, staged)
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    staged.replace(target)
    return pages
