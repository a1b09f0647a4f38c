"""Backups of the embedded store (`axon maintenance backup|restore`): SQLite's online
backup API, an integrity check, and a guard against restoring under a live server."""

from __future__ import annotations

import sqlite3
from pathlib import Path


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
