"""The embedded search database: one SQLite file (`search.db`) next to the store.

It holds what the lexical and vector indexes need to rebuild their in-memory
arrays (term counts, vectors), a log of the lexical rows each write changed (so a
process brings its arrays up to date by reading only those), the embedding cache,
and a generation counter per partition that tells a process its arrays are stale.
All SQL runs on one dedicated thread, keeping the connection single-threaded and
the loop free.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from axon.stores.sqlite_thread import SQLiteThread

T = TypeVar("T")
# How long a partition's generation read from SQLite is trusted. Writes through this
# process forget it at once; another process's writes show within this delay.
GENERATION_TTL_SECONDS = 1.0
# A generation every index write advances, whatever the partition.
ANY_CHANGE = "*"

SCHEMA = """
CREATE TABLE IF NOT EXISTS lex_docs (
    id TEXT PRIMARY KEY,
    partition TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    tier TEXT NOT NULL,
    type TEXT NOT NULL,
    path TEXT,
    symbol TEXT,
    content_hash TEXT NOT NULL,
    terms TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lex_docs_partition ON lex_docs (partition);
CREATE INDEX IF NOT EXISTS lex_docs_workspace ON lex_docs (workspace_id);
CREATE TABLE IF NOT EXISTS lex_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    partition TEXT NOT NULL,
    id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lex_log_partition ON lex_log (partition, seq);
CREATE TABLE IF NOT EXISTS vec_items (
    id TEXT PRIMARY KEY,
    partition TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    tier TEXT NOT NULL,
    type TEXT NOT NULL,
    vector BLOB NOT NULL,
    content_hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS vec_items_partition ON vec_items (partition);
CREATE INDEX IF NOT EXISTS vec_items_workspace ON vec_items (workspace_id);
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, content_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS generations (
    name TEXT PRIMARY KEY,
    gen INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID
"""


def _create_schema(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        conn.execute(statement)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(vec_items)")}
    if "content_hash" not in columns:
        # Vectors written before their content hash was kept: unknown, so re-embedded
        # (from the embedding cache) by the next index run.
        conn.execute("ALTER TABLE vec_items ADD COLUMN content_hash TEXT NOT NULL DEFAULT ''")


class SearchDB:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SQLiteThread(path, _create_schema, "axon-search-db")
        self._generations: dict[str, tuple[int, float]] = {}
        self._instance: str | None = None

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if not self._db.is_open:
            await self.open()
        return await self._db.run(fn)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in one IMMEDIATE transaction: all of it lands or none of it."""
        if not self._db.is_open:
            await self.open()
        try:
            return await self._db.write(fn)
        finally:
            self._generations.clear()

    async def generation(self, name: str) -> int:
        """The current generation of `name`, read from SQLite at most once per TTL."""
        cached = self._generations.get(name)
        now = time.monotonic()
        if cached is not None and now - cached[1] < GENERATION_TTL_SECONDS:
            return cached[0]
        gen = await self.run(lambda conn: generation(conn, name))
        self._generations[name] = (gen, now)
        return gen

    async def identity(self) -> str:
        """This database and its state: changes with every index write (`bump`)."""
        if self._instance is None:
            self._instance = await self.run(instance_id)
        return f"{self._instance}:{await self.generation(ANY_CHANGE)}"


def bump(conn: sqlite3.Connection, names: Sequence[str]) -> None:
    """Advance the generation of each name, and of ANY_CHANGE (inside the caller's
    transaction)."""
    conn.executemany(
        "INSERT INTO generations (name, gen) VALUES (?, 1) "
        "ON CONFLICT (name) DO UPDATE SET gen = gen + 1",
        [(n,) for n in {*names, ANY_CHANGE}] if names else [],
    )


def generation(conn: sqlite3.Connection, name: str) -> int:
    row = conn.execute("SELECT gen FROM generations WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row else 0


def instance_id(conn: sqlite3.Connection) -> str:
    """A random id given to this database when it was created: files derived from it
    (array snapshots) name it, so a recreated database never reuses them."""
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('instance', ?)", (uuid.uuid4().hex,)
    )
    row = conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
    return str(row[0])


def chunks(items: Sequence[T], size: int = 500) -> list[Sequence[T]]:
    """Slices small enough for SQLite's bound-parameter limit."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def partitions_of(conn: sqlite3.Connection, table: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(ids):
        marks = ",".join("?" * len(part))
        found.update(
            r[0]
            for r in conn.execute(
                f"SELECT DISTINCT partition FROM {table} WHERE id IN ({marks})", list(part)
            )
        )
    return found


def workspace_partitions(conn: sqlite3.Connection, table: str, workspace_id: str) -> list[str]:
    rows = conn.execute(
        f"SELECT DISTINCT partition FROM {table} WHERE workspace_id = ?", (workspace_id,)
    )
    return [r[0] for r in rows]
