"""The embedded store answers a workspace's context listing from an index, in id order:
no sort of the whole workspace for each page (the API's and the dashboard's listings)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from axon.stores.sqlite import _migrate


def _plan(conn: sqlite3.Connection, sql: str, *args: str) -> str:
    return " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))


def test_a_workspace_page_of_contexts_needs_no_sort(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "axon.db")
    _migrate(conn)
    page = "SELECT id, doc FROM contexts WHERE workspace_id = ? {} ORDER BY id LIMIT 51"
    filters = (
        ("", ("w",)),
        ("AND type IN (?)", ("w", "decision")),
        ("AND path = ?", ("w", ".axon/project-facts")),
    )
    for where, args in filters:
        plan = _plan(conn, page.format(where), *args)
        assert "TEMP B-TREE" not in plan, plan
        assert "USING INDEX contexts_ws_" in plan, plan
        assert where == "" or "AND" in plan, plan  # the filter is in the index, not walked
    conn.close()
