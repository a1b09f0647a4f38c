"""Embedded DocumentStore on SQLite (WAL, one file under AXON_DATA_DIR).

Each record is one JSON document (camelCase, as on the wire); the fields we
filter and sort on are generated columns with indexes, so the document stays
the single source of truth. All SQL runs on one dedicated thread, which keeps
the connection single-threaded and the event loop free.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from axon.errors import Conflict
from axon.models import (
    ApiKey,
    Context,
    Feedback,
    Interaction,
    Job,
    JobState,
    LlmUsage,
    LlmUsageDay,
    Page,
    Workspace,
    format_utc,
    utcnow,
)
from axon.ports import CodeSymbol, ContextFilter, FileState, first_symbols
from axon.stores.pagination import decode_cursor, encode_cursor
from axon.stores.sqlite_thread import SQLiteThread, in_transaction

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def _add_evidence(conn: sqlite3.Connection) -> None:
    """Contexts stored before the confidence model get their source's prior centred on
    their confidence, and a validity start (the model derives both on reading)."""
    rows = conn.execute(
        "SELECT id, doc FROM contexts WHERE json_extract(doc, '$.evidence') IS NULL"
    ).fetchall()
    conn.executemany(
        "UPDATE contexts SET doc = ? WHERE id = ?",
        [(_doc(Context.model_validate_json(doc)), cid) for cid, doc in rows],
    )


# Versioned schema migrations; each entry runs once, in order, in a transaction: an SQL
# script, or a function for data migrations the models compute. Those after the evidence
# migration are written to run again harmlessly (IF NOT EXISTS): its test re-runs them.
MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    """
    CREATE TABLE workspaces (
        id TEXT PRIMARY KEY,
        doc TEXT NOT NULL
    );
    CREATE TABLE contexts (
        id TEXT PRIMARY KEY,
        doc TEXT NOT NULL,
        workspace_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.workspaceId')) STORED,
        tier TEXT GENERATED ALWAYS AS (json_extract(doc, '$.tier')) STORED,
        type TEXT GENERATED ALWAYS AS (json_extract(doc, '$.type')) STORED,
        path TEXT GENERATED ALWAYS AS (json_extract(doc, '$.path')) STORED,
        created_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$.createdAt')) STORED,
        usage_count INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.usageCount')) STORED
    );
    CREATE INDEX contexts_ws_tier ON contexts (workspace_id, tier);
    CREATE INDEX contexts_ws_path ON contexts (workspace_id, path);
    CREATE INDEX contexts_created ON contexts (created_at DESC);
    CREATE TABLE files (
        workspace_id TEXT NOT NULL,
        path TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, path)
    );
    CREATE TABLE interactions (
        id TEXT PRIMARY KEY,
        doc TEXT NOT NULL,
        workspace_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.workspaceId')) STORED,
        timestamp TEXT GENERATED ALWAYS AS (json_extract(doc, '$.timestamp')) STORED
    );
    CREATE INDEX interactions_ws ON interactions (workspace_id, id);
    CREATE INDEX interactions_ts ON interactions (timestamp);
    CREATE TABLE feedback (
        id TEXT PRIMARY KEY,
        doc TEXT NOT NULL,
        interaction_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.interactionId')) STORED
    );
    CREATE INDEX feedback_interaction ON feedback (interaction_id);
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        doc TEXT NOT NULL,
        state TEXT GENERATED ALWAYS AS (json_extract(doc, '$.state')) STORED
    );
    CREATE INDEX jobs_state ON jobs (state, id);
    """,
    """
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        doc TEXT NOT NULL
    );
    """,
    # LLM usage totals are counters, incremented in place; '' is the unattributed workspace.
    """
    CREATE TABLE llm_usage (
        workspace_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        cached INTEGER NOT NULL DEFAULT 0,
        estimated INTEGER NOT NULL DEFAULT 0,
        unpriced INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (workspace_id, provider, model)
    );
    """,
    """
    ALTER TABLE files ADD COLUMN context_count INTEGER NOT NULL DEFAULT -1;
    """,
    # Usage is also totalled per API key ('' : auth off), for budgets and GET /usage.
    """
    CREATE TABLE llm_usage_by_key (
        workspace_id TEXT NOT NULL,
        api_key_id TEXT NOT NULL DEFAULT '',
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        cached INTEGER NOT NULL DEFAULT 0,
        estimated INTEGER NOT NULL DEFAULT 0,
        unpriced INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (workspace_id, api_key_id, provider, model)
    );
    INSERT INTO llm_usage_by_key (workspace_id, provider, model, requests, failures, cached,
        estimated, unpriced, input_tokens, output_tokens, cost_usd, updated_at)
        SELECT workspace_id, provider, model, requests, failures, cached, estimated, unpriced,
        input_tokens, output_tokens, cost_usd, updated_at FROM llm_usage;
    DROP TABLE llm_usage;
    ALTER TABLE llm_usage_by_key RENAME TO llm_usage;
    CREATE INDEX llm_usage_key ON llm_usage (api_key_id);
    """,
    # The chunking rules each file was chunked under; 0: before they were recorded.
    """
    ALTER TABLE files ADD COLUMN rules_version INTEGER NOT NULL DEFAULT 0;
    """,
    _add_evidence,
    # A conversation's stored turns, looked up on each of its prompts.
    """
    CREATE INDEX IF NOT EXISTS contexts_conversation
        ON contexts (json_extract(doc, '$.metadata.conversationId'));
    """,
    # The code graph: each file's definitions and references as one JSON list, replaced
    # with the file, beside the names they hold ('\n'-separated, '\n' around): a look-up
    # scans the workspace's names with instr() rather than keep a name index, whose
    # scattered pages every file's write would touch.
    """
    CREATE TABLE IF NOT EXISTS symbol_files (
        workspace_id TEXT NOT NULL,
        path TEXT NOT NULL,
        names TEXT NOT NULL,
        symbols TEXT NOT NULL,
        PRIMARY KEY (workspace_id, path)
    );
    """,
    # A workspace's contexts a page at a time (the API's and the dashboard's listings),
    # also of one type or path: in id order from an index, not sorted from the whole
    # workspace (nor, for a path, found by walking the workspace in id order).
    """
    CREATE INDEX IF NOT EXISTS contexts_ws_id ON contexts (workspace_id, id);
    CREATE INDEX IF NOT EXISTS contexts_ws_type_id ON contexts (workspace_id, type, id);
    CREATE INDEX IF NOT EXISTS contexts_ws_path_id ON contexts (workspace_id, path, id);
    """,
    # LLM usage per UTC day beside the all-time totals (spend today, this month, per day).
    """
    CREATE TABLE IF NOT EXISTS llm_usage_days (
        day TEXT NOT NULL,
        workspace_id TEXT NOT NULL DEFAULT '',
        api_key_id TEXT NOT NULL DEFAULT '',
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        cached INTEGER NOT NULL DEFAULT 0,
        estimated INTEGER NOT NULL DEFAULT 0,
        unpriced INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (day, workspace_id, api_key_id, provider, model)
    );
    """,
]


_USAGE_COUNTERS = (
    "requests",
    "failures",
    "cached",
    "estimated",
    "unpriced",
    "input_tokens",
    "output_tokens",
    "cost_usd",
)


def _doc(model: BaseModel) -> str:
    return json.dumps(model.model_dump(mode="json", by_alias=True), separators=(",", ":"))


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    current = row[0] or 0
    for version, script in enumerate(MIGRATIONS, start=1):
        if version > current:
            in_transaction(conn, functools.partial(_apply, version=version, script=script))


def _apply(
    conn: sqlite3.Connection,
    *,
    version: int,
    script: str | Callable[[sqlite3.Connection], None],
) -> None:
    if callable(script):
        script(conn)
    else:
        for statement in script.split(";"):
            if statement.strip():
                conn.execute(statement)
    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))


class SQLiteDocumentStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SQLiteThread(path, _migrate, "axon-sqlite")
        self._run = self._db.run
        self._write = self._db.write

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    async def ping(self) -> bool:
        try:
            return await self._run(lambda c: c.execute("SELECT 1").fetchone() is not None)
        except (sqlite3.Error, RuntimeError):
            return False

    @staticmethod
    def _page(model: type[M], rows: list[tuple[str, str]], limit: int) -> Page[M]:
        items = [model.model_validate_json(doc) for _, doc in rows[:limit]]
        next_cursor = encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
        return Page[M](items=items, next_cursor=next_cursor)

    def _select_page(
        self,
        table: str,
        where: list[str],
        params: list[Any],
        limit: int,
        cursor: str | None,
    ) -> Callable[[sqlite3.Connection], list[tuple[str, str]]]:
        after = decode_cursor(cursor)
        clauses = list(where)
        args = list(params)
        if after is not None:
            clauses.append("id > ?")
            args.append(after)
        sql = f"SELECT id, doc FROM {table}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY id LIMIT ?"
        args.append(limit + 1)
        return lambda c: c.execute(sql, args).fetchall()

    @staticmethod
    def _update_doc(
        conn: sqlite3.Connection,
        table: str,
        record_id: str,
        model: type[M],
        changes: dict[str, Any],
    ) -> M | None:
        row = conn.execute(f"SELECT doc FROM {table} WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            return None
        current = model.model_validate_json(row[0])
        updated = current.model_copy(update=changes)
        if "updated_at" in type(current).model_fields and "updated_at" not in changes:
            updated = updated.model_copy(update={"updated_at": utcnow()})
        # Round-trip through validation so a bad change cannot be stored.
        updated = model.model_validate(updated.model_dump())
        conn.execute(f"UPDATE {table} SET doc = ? WHERE id = ?", (_doc(updated), record_id))
        return updated

    # -- workspaces -----------------------------------------------------------
    async def create_workspace(self, workspace: Workspace) -> Workspace:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO workspaces (id, doc) VALUES (?, ?)",
                    (workspace.id, _doc(workspace)),
                )
            except sqlite3.IntegrityError:
                raise Conflict(
                    f"workspace '{workspace.id}' already exists",
                    details=[{"field": "id", "message": "already exists"}],
                ) from None

        await self._write(insert)
        return workspace

    async def get_workspace(self, workspace_id: str) -> Workspace | None:
        row = await self._run(
            lambda c: c.execute(
                "SELECT doc FROM workspaces WHERE id = ?", (workspace_id,)
            ).fetchone()
        )
        return Workspace.model_validate_json(row[0]) if row else None

    async def list_workspaces(self, limit: int, cursor: str | None = None) -> Page[Workspace]:
        rows = await self._run(self._select_page("workspaces", [], [], limit, cursor))
        return self._page(Workspace, rows, limit)

    async def update_workspace(
        self, workspace_id: str, changes: dict[str, Any]
    ) -> Workspace | None:
        return await self._write(
            lambda c: self._update_doc(c, "workspaces", workspace_id, Workspace, changes)
        )

    async def delete_workspace(self, workspace_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM contexts WHERE workspace_id = ?", (workspace_id,))
            conn.execute("DELETE FROM files WHERE workspace_id = ?", (workspace_id,))
            conn.execute("DELETE FROM symbol_files WHERE workspace_id = ?", (workspace_id,))
            cur = conn.execute("DELETE FROM workspaces WHERE id = ?", (workspace_id,))
            return cur.rowcount > 0

        return await self._write(delete)

    # -- contexts -----------------------------------------------------------
    @staticmethod
    def _upsert_contexts(conn: sqlite3.Connection, contexts: Sequence[Context]) -> None:
        conn.executemany(
            "INSERT INTO contexts (id, doc) VALUES (?, ?) "
            "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
            [(ctx.id, _doc(ctx)) for ctx in contexts],
        )

    async def put_contexts(self, contexts: Sequence[Context]) -> None:
        if contexts:
            await self._write(lambda c: self._upsert_contexts(c, contexts))

    async def get_context(self, context_id: str) -> Context | None:
        found = await self.get_contexts([context_id])
        return found[0] if found else None

    async def get_contexts(self, context_ids: Sequence[str]) -> list[Context]:
        ids = list(dict.fromkeys(context_ids))
        if not ids:
            return []

        def select(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            rows: list[tuple[str, str]] = []
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                rows += conn.execute(
                    f"SELECT id, doc FROM contexts WHERE id IN ({marks})", part
                ).fetchall()
            return rows

        by_id = {cid: Context.model_validate_json(doc) for cid, doc in await self._run(select)}
        return [by_id[cid] for cid in ids if cid in by_id]

    @staticmethod
    def _context_where(flt: ContextFilter) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if flt.workspace_id is not None:
            where.append("workspace_id = ?")
            params.append(flt.workspace_id)
        if flt.tiers:
            where.append(f"tier IN ({','.join('?' * len(flt.tiers))})")
            params += [str(t) for t in flt.tiers]
        if flt.types:
            where.append(f"type IN ({','.join('?' * len(flt.types))})")
            params += [str(t) for t in flt.types]
        if flt.path is not None:
            where.append("path = ?")
            params.append(flt.path)
        if flt.conversation_id is not None:
            where.append("json_extract(doc, '$.metadata.conversationId') = ?")
            params.append(flt.conversation_id)
        return where, params

    async def list_contexts(
        self, flt: ContextFilter, limit: int, cursor: str | None = None
    ) -> Page[Context]:
        where, params = self._context_where(flt)
        rows = await self._run(self._select_page("contexts", where, params, limit, cursor))
        return self._page(Context, rows, limit)

    async def iter_contexts(
        self, flt: ContextFilter, batch_size: int = 1000
    ) -> AsyncIterator[Context]:
        cursor: str | None = None
        while True:
            page = await self.list_contexts(flt, batch_size, cursor)
            for ctx in page.items:
                yield ctx
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def count_contexts(self, flt: ContextFilter) -> int:
        where, params = self._context_where(flt)
        sql = "SELECT count(*) FROM contexts" + (" WHERE " + " AND ".join(where) if where else "")
        row = await self._run(lambda c: c.execute(sql, params).fetchone())
        return int(row[0])

    async def update_context(self, context_id: str, changes: dict[str, Any]) -> Context | None:
        return await self._write(
            lambda c: self._update_doc(c, "contexts", context_id, Context, changes)
        )

    async def delete_contexts(self, context_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(context_ids))

        def delete(conn: sqlite3.Connection) -> int:
            removed = 0
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                removed += conn.execute(
                    f"DELETE FROM contexts WHERE id IN ({marks})", part
                ).rowcount
            return removed

        return await self._write(delete) if ids else 0

    async def record_usage(self, uses: Mapping[str, int]) -> None:
        counts = [(cid, n) for cid, n in uses.items() if n > 0]
        if not counts:
            return
        now = format_utc(utcnow())

        def bump(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE contexts SET doc = json_set(doc, "
                "'$.usageCount', coalesce(json_extract(doc, '$.usageCount'), 0) + ?, "
                "'$.updatedAt', ?) WHERE id = ?",
                [(n, now, cid) for cid, n in counts],
            )

        await self._write(bump)

    async def add_evidence(
        self,
        context_ids: Sequence[str],
        helpful: float,
        unhelpful: float,
        confirmed_at: datetime | None = None,
    ) -> None:
        ids = list(dict.fromkeys(context_ids))
        if not ids:
            return
        now = format_utc(utcnow())
        # One statement per row reads and writes the posterior inside SQLite, in the
        # writer's transaction: concurrent votes are never lost.
        alpha = "json_extract(doc, '$.evidence.alpha')"
        beta = "json_extract(doc, '$.evidence.beta')"
        sql = (
            "UPDATE contexts SET doc = json_set(doc, "
            f"'$.evidence.alpha', {alpha} + :h, '$.evidence.beta', {beta} + :u, "
            "'$.evidence.helpful', coalesce(json_extract(doc, '$.evidence.helpful'), 0) + :h, "
            "'$.evidence.unhelpful', "
            "coalesce(json_extract(doc, '$.evidence.unhelpful'), 0) + :u, "
            "'$.evidence.votes', coalesce(json_extract(doc, '$.evidence.votes'), 0) + 1, "
            f"'$.evidence.strength', {alpha} + {beta} + :h + :u, "
            f"'$.confidence', CASE WHEN {alpha} + {beta} + :h + :u > 0 "
            f"THEN ({alpha} + :h) / ({alpha} + {beta} + :h + :u) "
            "ELSE json_extract(doc, '$.confidence') END, "
            "'$.updatedAt', :now) WHERE id = :id"
        )
        confirm = (
            "UPDATE contexts SET doc = json_set(doc, '$.evidence.confirmedAt', :at, "
            "'$.stale', json('null')) WHERE id = :id"
        )

        def apply(conn: sqlite3.Connection) -> None:
            conn.executemany(
                sql, [{"h": helpful, "u": unhelpful, "now": now, "id": cid} for cid in ids]
            )
            if confirmed_at is not None:
                at = format_utc(confirmed_at)
                conn.executemany(confirm, [{"at": at, "id": cid} for cid in ids])

        await self._write(apply)

    async def find_expired_contexts(self, created_before: datetime, usage_below: int) -> list[str]:
        cutoff = format_utc(created_before)
        rows = await self._run(
            lambda c: c.execute(
                "SELECT id FROM contexts WHERE created_at < ? AND usage_count < ? ORDER BY id",
                (cutoff, usage_below),
            ).fetchall()
        )
        return [r[0] for r in rows]

    # -- indexed files -----------------------------------------------------------
    async def get_file_states(self, workspace_id: str) -> dict[str, FileState]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT path, content_hash, size, mtime_ns, context_count, rules_version "
                "FROM files "
                "WHERE workspace_id = ?",
                (workspace_id,),
            ).fetchall()
        )
        return {r[0]: FileState(*r) for r in rows}

    async def context_counts(self, workspace_id: str) -> dict[str, int]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT path, count(*) FROM contexts WHERE workspace_id = ? "
                "AND tier = 'workspace' AND path IS NOT NULL GROUP BY path",
                (workspace_id,),
            ).fetchall()
        )
        return {r[0]: r[1] for r in rows}

    @staticmethod
    def _file_context_ids(conn: sqlite3.Connection, workspace_id: str, path: str) -> list[str]:
        rows = conn.execute(
            "SELECT id FROM contexts WHERE workspace_id = ? AND path = ? AND tier = 'workspace'",
            (workspace_id, path),
        ).fetchall()
        return [r[0] for r in rows]

    async def replace_file(
        self,
        workspace_id: str,
        state: FileState,
        contexts: Sequence[Context],
        symbols: Sequence[CodeSymbol] | None = None,
    ) -> list[str]:
        def replace(conn: sqlite3.Connection) -> list[str]:
            if symbols is not None:
                self._replace_symbols(conn, workspace_id, state.path, symbols)
            old = self._file_context_ids(conn, workspace_id, state.path)
            new_ids = {ctx.id for ctx in contexts}
            stale = [cid for cid in old if cid not in new_ids]
            for start in range(0, len(stale), 500):
                part = stale[start : start + 500]
                conn.execute(
                    f"DELETE FROM contexts WHERE id IN ({','.join('?' * len(part))})", part
                )
            self._upsert_contexts(conn, contexts)
            conn.execute(
                "INSERT INTO files (workspace_id, path, content_hash, size, mtime_ns, "
                "context_count, rules_version) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(workspace_id, path) DO UPDATE SET "
                "content_hash = excluded.content_hash, size = excluded.size, "
                "mtime_ns = excluded.mtime_ns, context_count = excluded.context_count, "
                "rules_version = excluded.rules_version",
                (
                    workspace_id,
                    state.path,
                    state.content_hash,
                    state.size,
                    state.mtime_ns,
                    len(contexts),
                    state.rules_version,
                ),
            )
            return old

        return await self._write(replace)

    async def remove_file(self, workspace_id: str, path: str) -> list[str]:
        def remove(conn: sqlite3.Connection) -> list[str]:
            old = self._file_context_ids(conn, workspace_id, path)
            conn.execute(
                "DELETE FROM contexts WHERE workspace_id = ? AND path = ? AND tier = 'workspace'",
                (workspace_id, path),
            )
            conn.execute(
                "DELETE FROM files WHERE workspace_id = ? AND path = ?", (workspace_id, path)
            )
            self._replace_symbols(conn, workspace_id, path, ())
            return old

        return await self._write(remove)

    @staticmethod
    def _replace_symbols(
        conn: sqlite3.Connection, workspace_id: str, path: str, symbols: Sequence[CodeSymbol]
    ) -> None:
        key = (workspace_id, path)
        conn.execute("DELETE FROM symbol_files WHERE workspace_id = ? AND path = ?", key)
        if symbols:
            names = "\n".join(["", *sorted({s.name for s in symbols}), ""])
            rows = json.dumps([s[1:] for s in symbols], separators=(",", ":"))  # path: the row's
            conn.execute(
                "INSERT INTO symbol_files (workspace_id, path, names, symbols) VALUES (?, ?, ?, ?)",
                (*key, names, rows),
            )

    async def find_symbols(self, workspace_id: str, name: str, limit: int) -> list[CodeSymbol]:
        if "\n" in name:
            return []
        files = await self._run(
            lambda c: c.execute(
                "SELECT path, symbols FROM symbol_files "
                "WHERE workspace_id = ? AND instr(names, ?) > 0",
                (workspace_id, f"\n{name}\n"),
            ).fetchall()
        )
        return first_symbols(files, name, limit)

    async def workspace_symbols(self, workspace_id: str) -> list[tuple[str, str]]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT path, symbols FROM symbol_files WHERE workspace_id = ? ORDER BY path",
                (workspace_id,),
            ).fetchall()
        )
        return [(path, symbols) for path, symbols in rows]

    # -- interactions and feedback ---------------------------------------------
    async def add_interaction(self, interaction: Interaction) -> None:
        await self._write(
            lambda c: c.execute(
                "INSERT INTO interactions (id, doc) VALUES (?, ?) "
                "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                (interaction.id, _doc(interaction)),
            )
        )

    async def get_interaction(self, interaction_id: str) -> Interaction | None:
        row = await self._run(
            lambda c: c.execute(
                "SELECT doc FROM interactions WHERE id = ?", (interaction_id,)
            ).fetchone()
        )
        return Interaction.model_validate_json(row[0]) if row else None

    async def list_interactions(
        self, workspace_id: str | None, limit: int, cursor: str | None = None
    ) -> Page[Interaction]:
        where, params = (["workspace_id = ?"], [workspace_id]) if workspace_id else ([], [])
        rows = await self._run(self._select_page("interactions", where, params, limit, cursor))
        return self._page(Interaction, rows, limit)

    async def delete_interactions_before(self, before: datetime) -> int:
        cutoff = format_utc(before)
        return await self._write(
            lambda c: c.execute("DELETE FROM interactions WHERE timestamp < ?", (cutoff,)).rowcount
        )

    async def count_interactions_before(self, before: datetime) -> int:
        cutoff = format_utc(before)
        row = await self._run(
            lambda c: c.execute(
                "SELECT count(*) FROM interactions WHERE timestamp < ?", (cutoff,)
            ).fetchone()
        )
        return int(row[0])

    async def add_feedback(self, feedback: Feedback) -> None:
        await self._write(
            lambda c: c.execute(
                "INSERT INTO feedback (id, doc) VALUES (?, ?)", (feedback.id, _doc(feedback))
            )
        )

    # -- jobs -----------------------------------------------------------
    async def create_job(self, job: Job) -> None:
        await self._write(
            lambda c: c.execute("INSERT INTO jobs (id, doc) VALUES (?, ?)", (job.id, _doc(job)))
        )

    async def get_job(self, job_id: str) -> Job | None:
        row = await self._run(
            lambda c: c.execute("SELECT doc FROM jobs WHERE id = ?", (job_id,)).fetchone()
        )
        return Job.model_validate_json(row[0]) if row else None

    async def update_job(self, job_id: str, changes: dict[str, Any]) -> Job | None:
        return await self._write(lambda c: self._update_doc(c, "jobs", job_id, Job, changes))

    async def list_jobs(
        self, state: JobState | None, limit: int, cursor: str | None = None
    ) -> Page[Job]:
        where, params = (["state = ?"], [str(state)]) if state else ([], [])
        rows = await self._run(self._select_page("jobs", where, params, limit, cursor))
        return self._page(Job, rows, limit)

    async def count_jobs(self) -> dict[JobState, int]:
        rows = await self._run(
            lambda c: c.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall()
        )
        return {JobState(state): int(n) for state, n in rows}

    # -- API keys -----------------------------------------------------------
    async def create_api_key(self, key: ApiKey) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute("INSERT INTO api_keys (id, doc) VALUES (?, ?)", (key.id, _doc(key)))
            except sqlite3.IntegrityError:
                raise Conflict(
                    f"API key '{key.id}' already exists",
                    details=[{"field": "id", "message": "already exists"}],
                ) from None

        await self._write(insert)

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        row = await self._run(
            lambda c: c.execute("SELECT doc FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        )
        return ApiKey.model_validate_json(row[0]) if row else None

    async def list_api_keys(self, limit: int, cursor: str | None = None) -> Page[ApiKey]:
        rows = await self._run(self._select_page("api_keys", [], [], limit, cursor))
        return self._page(ApiKey, rows, limit)

    async def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey | None:
        def revoke(conn: sqlite3.Connection) -> ApiKey | None:
            row = conn.execute("SELECT doc FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None:
                return None
            key = ApiKey.model_validate_json(row[0])
            if key.revoked_at is None:
                key = key.model_copy(update={"revoked_at": at})
                conn.execute("UPDATE api_keys SET doc = ? WHERE id = ?", (_doc(key), key_id))
            return key

        return await self._write(revoke)

    # -- LLM usage -----------------------------------------------------------
    async def add_llm_usage(self, usage: LlmUsage) -> None:
        counters = [getattr(usage, name) for name in _USAGE_COUNTERS]
        key = [usage.workspace_id or "", usage.api_key_id or "", usage.provider, usage.model]
        columns = f"workspace_id, api_key_id, provider, model, {', '.join(_USAGE_COUNTERS)}"
        values = ", ".join("?" * (4 + len(_USAGE_COUNTERS)))
        increments = ", ".join(f"{name} = {name} + excluded.{name}" for name in _USAGE_COUNTERS)
        totals = (
            f"INSERT INTO llm_usage ({columns}, updated_at) VALUES ({values}, ?) "
            f"ON CONFLICT(workspace_id, api_key_id, provider, model) DO UPDATE SET "
            f"{increments}, updated_at = excluded.updated_at"
        )
        days = (
            f"INSERT INTO llm_usage_days (day, {columns}, updated_at) VALUES (?, {values}, ?) "
            f"ON CONFLICT(day, workspace_id, api_key_id, provider, model) DO UPDATE SET "
            f"{increments}, updated_at = excluded.updated_at"
        )
        at = format_utc(usage.updated_at)
        day = usage.updated_at.astimezone(UTC).date().isoformat()

        def add(c: sqlite3.Connection) -> None:
            c.execute(totals, [*key, *counters, at])
            c.execute(days, [day, *key, *counters, at])

        await self._write(add)

    async def list_llm_usage(
        self, workspace_id: str | None = None, api_key_id: str | None = None
    ) -> list[LlmUsage]:
        rows = await self._usage_rows(None, workspace_id, api_key_id)
        return [LlmUsage(**row) for row in rows]

    async def list_llm_usage_days(
        self, since: date, workspace_id: str | None = None, api_key_id: str | None = None
    ) -> list[LlmUsageDay]:
        rows = await self._usage_rows(since, workspace_id, api_key_id)
        return [LlmUsageDay(**row) for row in rows]

    async def _usage_rows(
        self, since: date | None, workspace_id: str | None, api_key_id: str | None
    ) -> list[dict[str, Any]]:
        """The totals (`since` None) or the days from `since` on, as model fields."""
        table, day = ("llm_usage", "") if since is None else ("llm_usage_days", "day, ")
        columns = ", ".join(_USAGE_COUNTERS)
        sql = f"SELECT {day}workspace_id, api_key_id, provider, model, {columns}, updated_at "
        sql += f"FROM {table}"
        where: list[str] = []
        params: list[str] = []
        for condition, value in (
            ("day >= ?", None if since is None else since.isoformat()),
            ("workspace_id = ?", workspace_id),
            ("api_key_id = ?", api_key_id),
        ):
            if value is not None:
                where.append(condition)
                params.append(value)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {day}workspace_id, provider, model, api_key_id"
        found = await self._run(lambda c: c.execute(sql, params).fetchall())
        skip = 0 if since is None else 1  # the day column comes first
        rows: list[dict[str, Any]] = []
        for row in found:
            workspace, key, provider, model = row[skip : skip + 4]
            fields = {
                "workspace_id": workspace or None,
                "api_key_id": key or None,
                "provider": provider,
                "model": model,
                **dict(zip(_USAGE_COUNTERS, row[skip + 4 : -1], strict=True)),
                "updated_at": row[-1],
            }
            rows.append(fields if since is None else {"day": row[0], **fields})
        return rows
