"""Behaviour every DocumentStore adapter must share."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from axon.errors import Conflict, InvalidInput
from axon.models import (
    Context,
    ContextType,
    Feedback,
    Interaction,
    Job,
    JobState,
    Tier,
    Workspace,
    WorkspaceType,
    content_hash,
    utcnow,
)
from axon.ports import (
    CodeSymbol,
    ContextFilter,
    DocumentStore,
    FileState,
    SymbolRole,
    first_symbols,
)
from axon.stores.mongo import MongoDocumentStore
from axon.stores.sqlite import MIGRATIONS, SQLiteDocumentStore, _apply


def ctx(
    cid: str,
    ws: str = "ws",
    *,
    path: str | None = "a.py",
    tier: Tier = Tier.WORKSPACE,
    type: ContextType = ContextType.SYMBOL,
    content: str = "def f(): pass",
    **kw: object,
) -> Context:
    return Context(
        id=cid,
        workspace_id=ws,
        tier=tier,
        type=type,
        path=path,
        content=content,
        content_hash=content_hash(content + cid),
        **kw,
    )  # type: ignore[arg-type]


async def _workspace(store: DocumentStore, wid: str = "ws") -> Workspace:
    return await store.create_workspace(Workspace(id=wid, name=wid, type=WorkspaceType.CODING))


async def test_ping(store: DocumentStore) -> None:
    assert await store.ping() is True


async def test_workspace_crud(store: DocumentStore) -> None:
    created = await _workspace(store, "my-project")
    got = await store.get_workspace("my-project")
    assert got is not None and got.name == "my-project" and got.created_at == created.created_at
    updated = await store.update_workspace("my-project", {"name": "Renamed", "settings": {"a": 1}})
    assert updated is not None and updated.name == "Renamed" and updated.settings == {"a": 1}
    assert updated.updated_at >= created.updated_at
    assert (await store.get_workspace("my-project")).name == "Renamed"  # type: ignore[union-attr]
    assert await store.update_workspace("missing", {"name": "x"}) is None
    assert await store.delete_workspace("my-project") is True
    assert await store.delete_workspace("my-project") is False
    assert await store.get_workspace("my-project") is None


async def test_duplicate_workspace_conflicts(store: DocumentStore) -> None:
    await _workspace(store, "dup")
    with pytest.raises(Conflict):
        await _workspace(store, "dup")


async def test_workspace_pagination_visits_each_once(store: DocumentStore) -> None:
    for i in range(7):
        await _workspace(store, f"w{i}")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await store.list_workspaces(3, cursor)
        seen += [w.id for w in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(f"w{i}" for i in range(7))
    assert pages == 3


async def test_malformed_cursor_is_invalid_input(store: DocumentStore) -> None:
    with pytest.raises(InvalidInput):
        await store.list_workspaces(3, "%%%not-base64")


async def test_delete_workspace_removes_its_contexts_and_files(store: DocumentStore) -> None:
    await _workspace(store, "a")
    await _workspace(store, "b")
    await store.replace_file("a", FileState("x.py", "h", 1, 1), [ctx("c1", "a", path="x.py")])
    await store.put_contexts([ctx("c2", "b")])
    await store.delete_workspace("a")
    assert await store.get_context("c1") is None
    assert await store.get_file_states("a") == {}
    assert await store.get_context("c2") is not None


async def test_context_round_trip_keeps_every_field(store: DocumentStore) -> None:
    original = ctx(
        "c1",
        start_line=3,
        end_line=9,
        language="python",
        symbol="Foo.bar",
        symbol_kind="method",
        token_count=12,
        confidence=0.7,
        metadata={"tags": ["x"], "nested": {"k": 1}},
        title="Foo.bar",
    )
    await store.put_contexts([original])
    got = await store.get_context("c1")
    assert got == original


async def test_put_contexts_upserts(store: DocumentStore) -> None:
    await store.put_contexts([ctx("c1", content="one")])
    await store.put_contexts([ctx("c1", content="two")])
    got = await store.get_context("c1")
    assert got is not None and got.content == "two"
    assert await store.count_contexts(ContextFilter()) == 1


async def test_get_contexts_keeps_order_and_skips_missing(store: DocumentStore) -> None:
    await store.put_contexts([ctx(f"c{i}") for i in range(5)])
    got = await store.get_contexts(["c3", "nope", "c1", "c3"])
    assert [c.id for c in got] == ["c3", "c1"]


async def test_list_and_count_filters(store: DocumentStore) -> None:
    await store.put_contexts(
        [
            ctx("a1", "a", tier=Tier.WORKSPACE, type=ContextType.SYMBOL),
            ctx("a2", "a", tier=Tier.HYBRID, type=ContextType.DECISION, path=None),
            ctx("a3", "a", tier=Tier.WORKSPACE, type=ContextType.FILE, path="b.py"),
            ctx("b1", "b", tier=Tier.GLOBAL, type=ContextType.PATTERN),
        ]
    )
    assert await store.count_contexts(ContextFilter(workspace_id="a")) == 3
    assert await store.count_contexts(ContextFilter(tiers=[Tier.GLOBAL])) == 1
    page = await store.list_contexts(
        ContextFilter(workspace_id="a", types=[ContextType.SYMBOL, ContextType.FILE]), 10
    )
    assert [c.id for c in page.items] == ["a1", "a3"] and page.next_cursor is None
    page = await store.list_contexts(ContextFilter(workspace_id="a", path="b.py"), 10)
    assert [c.id for c in page.items] == ["a3"]
    collected = [c.id async for c in store.iter_contexts(ContextFilter(), batch_size=2)]
    assert collected == ["a1", "a2", "a3", "b1"]


async def test_update_context(store: DocumentStore) -> None:
    await store.put_contexts([ctx("c1")])
    updated = await store.update_context("c1", {"confidence": 0.3, "metadata": {"k": "v"}})
    assert updated is not None and updated.confidence == 0.3
    got = await store.get_context("c1")
    assert got is not None and got.metadata == {"k": "v"}
    assert await store.update_context("missing", {"confidence": 0.1}) is None


async def test_delete_contexts_counts(store: DocumentStore) -> None:
    await store.put_contexts([ctx("c1"), ctx("c2"), ctx("c3")])
    assert await store.delete_contexts(["c1", "c2", "zz"]) == 2
    assert await store.delete_contexts([]) == 0
    assert [c.id async for c in store.iter_contexts(ContextFilter())] == ["c3"]


async def test_record_usage_counts_and_leaves_confidence(store: DocumentStore) -> None:
    await store.put_contexts([ctx("c1", confidence=0.95), ctx("c2", confidence=0.05)])
    await store.record_usage({"c1": 1, "c2": 1})
    await store.record_usage({"c2": 1})
    c1, c2 = await store.get_contexts(["c1", "c2"])
    assert (c1.usage_count, c2.usage_count) == (1, 2)
    assert c1.confidence == pytest.approx(0.95) and c2.confidence == pytest.approx(0.05)


async def test_record_usage_adds_counts_in_one_call(store: DocumentStore) -> None:
    await store.put_contexts([ctx("c1", usage_count=3), ctx("c2"), ctx("c3")])
    await store.record_usage({"c1": 40, "c2": 1, "c3": 40, "zz": 2, "c4": 0})
    c1, c2, c3 = await store.get_contexts(["c1", "c2", "c3"])
    assert (c1.usage_count, c2.usage_count, c3.usage_count) == (43, 1, 40)
    assert await store.get_context("zz") is None
    await store.record_usage({})  # nothing to write


async def test_find_expired_contexts(store: DocumentStore) -> None:
    old = utcnow() - timedelta(days=100)
    await store.put_contexts(
        [
            ctx("old-unused", created_at=old, usage_count=1),
            ctx("old-used", created_at=old, usage_count=9),
            ctx("new-unused", usage_count=0),
        ]
    )
    expired = await store.find_expired_contexts(utcnow() - timedelta(days=90), 5)
    assert expired == ["old-unused"]


async def test_replace_file_swaps_exactly_that_files_contexts(store: DocumentStore) -> None:
    await store.replace_file(
        "ws", FileState("a.py", "h1", 10, 1), [ctx("a:f", path="a.py"), ctx("a:g", path="a.py")]
    )
    await store.replace_file("ws", FileState("b.py", "h2", 10, 1), [ctx("b:f", path="b.py")])
    replaced = await store.replace_file(
        "ws", FileState("a.py", "h3", 12, 2), [ctx("a:f", path="a.py", content="new")]
    )
    assert sorted(replaced) == ["a:f", "a:g"]
    ids = sorted([c.id async for c in store.iter_contexts(ContextFilter(workspace_id="ws"))])
    assert ids == ["a:f", "b:f"]
    states = await store.get_file_states("ws")
    assert states["a.py"] == FileState("a.py", "h3", 12, 2, context_count=1) and "b.py" in states


async def test_replace_file_leaves_hand_written_contexts_alone(store: DocumentStore) -> None:
    await store.put_contexts(
        [ctx("note", path="a.py", tier=Tier.HYBRID, type=ContextType.DECISION)]
    )
    await store.replace_file("ws", FileState("a.py", "h", 1, 1), [ctx("a:f", path="a.py")])
    await store.replace_file("ws", FileState("a.py", "h2", 1, 1), [])
    assert await store.get_context("note") is not None


async def test_file_states_remember_context_counts(store: DocumentStore) -> None:
    two = [ctx("a:f", path="a.py"), ctx("a:g", path="a.py")]
    await store.replace_file("ws", FileState("a.py", "h", 1, 1), two)
    await store.replace_file("ws", FileState("b.py", "h", 1, 1), [ctx("b:f", path="b.py")])
    await store.put_contexts([ctx("n", path="a.py", tier=Tier.HYBRID), ctx("x", "other")])
    states = await store.get_file_states("ws")
    assert (states["a.py"].context_count, states["b.py"].context_count) == (2, 1)
    assert await store.context_counts("ws") == {"a.py": 2, "b.py": 1}
    await store.delete_contexts(["a:f"])  # as retention clean-up would
    assert await store.context_counts("ws") == {"a.py": 1, "b.py": 1}
    assert (await store.get_file_states("ws"))["a.py"].context_count == 2


async def test_file_states_remember_their_chunking_rules(store: DocumentStore) -> None:
    await store.replace_file("ws", FileState("a.py", "h", 1, 1, rules_version=3), [])
    await store.replace_file("ws", FileState("b.py", "h", 1, 1), [])
    states = await store.get_file_states("ws")
    assert (states["a.py"].rules_version, states["b.py"].rules_version) == (3, 0)
    await store.replace_file("ws", FileState("a.py", "h2", 1, 2, rules_version=4), [])
    assert (await store.get_file_states("ws"))["a.py"].rules_version == 4


async def test_file_rows_stored_before_rules_versions_read_as_version_zero(
    store: DocumentStore, tmp_path: Path
) -> None:
    """What the migration leaves for files indexed by an older Axon: version 0, so the
    next run re-chunks them."""
    if isinstance(store, MongoDocumentStore):
        old_doc = {"workspaceId": "ws", "path": "a.py", "contentHash": "h", "size": 1}
        await store._col("files").insert_one(
            {"_id": "ws:a.py", **old_doc, "mtimeNs": 1, "contextCount": 1}
        )
        states = await store.get_file_states("ws")
    else:
        # A database file at the schema before the rules version, opened by this version.
        older = tmp_path / "older.db"
        with closing(sqlite3.connect(older)) as conn:
            conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            before = next(n for n, m in enumerate(MIGRATIONS) if "rules_version" in m)
            for number, script in enumerate(MIGRATIONS[:before], start=1):
                _apply(conn, version=number, script=script)
            conn.execute("INSERT INTO files VALUES ('ws', 'a.py', 'h', 1, 1, 1)")
            conn.commit()
        migrated = SQLiteDocumentStore(older)
        await migrated.open()
        try:
            states = await migrated.get_file_states("ws")
        finally:
            await migrated.close()
    assert states == {"a.py": FileState("a.py", "h", 1, 1, context_count=1, rules_version=0)}


def sym(name: str, role: SymbolRole, line: int, path: str = "a.py", **kw: str) -> CodeSymbol:
    return CodeSymbol(
        path,
        name,
        role,
        "call" if role is SymbolRole.REFERENCE else "function",
        line,
        kw.get("scope"),
        kw.get("target"),
    )


async def test_code_graph_symbols_are_replaced_with_their_file(store: DocumentStore) -> None:
    d, r = SymbolRole.DEFINITION, SymbolRole.REFERENCE
    a = [sym("run", r, 9, target="app.run"), sym("run", d, 2, scope="App.run"), sym("x", d, 1)]
    await store.replace_file("ws", FileState("a.py", "h", 1, 1), [], a)
    await store.replace_file("ws", FileState("b.py", "h", 1, 1), [], [sym("run", r, 3, "b.py")])
    await store.replace_file("other", FileState("a.py", "h", 1, 1), [], [sym("run", d, 5)])
    # Definitions first, then by path and line; only that workspace and name.
    assert await store.find_symbols("ws", "run", 10) == [a[1], a[0], sym("run", r, 3, "b.py")]
    assert await store.find_symbols("ws", "run", 2) == [a[1], a[0]]
    assert await store.find_symbols("ws", "nothing", 10) == []
    # None keeps the file's symbols (same bytes, new mtime); a list replaces them.
    await store.replace_file("ws", FileState("a.py", "h", 1, 2), [])
    assert len(await store.find_symbols("ws", "run", 10)) == 3
    await store.replace_file("ws", FileState("a.py", "h2", 1, 3), [], [sym("run", r, 4)])
    assert [s.line for s in await store.find_symbols("ws", "run", 10)] == [4, 3]
    await store.remove_file("ws", "b.py")
    assert [s.path for s in await store.find_symbols("ws", "run", 10)] == ["a.py"]
    await store.create_workspace(Workspace(id="other", name="other", type=WorkspaceType.CODING))
    assert await store.delete_workspace("other")
    assert await store.find_symbols("other", "run", 10) == []
    assert len(await store.find_symbols("ws", "run", 10)) == 1


async def test_a_workspaces_whole_code_graph_reads_as_first_symbols_reads_it(
    store: DocumentStore,
) -> None:
    d, r = SymbolRole.DEFINITION, SymbolRole.REFERENCE
    await store.replace_file("ws", FileState("b.py", "h", 1, 1), [], [sym("run", r, 3, "b.py")])
    await store.replace_file("ws", FileState("a.py", "h", 1, 1), [], [sym("run", d, 2)])
    await store.replace_file("ws", FileState("c.py", "h", 1, 1), [])  # no symbols: no row
    await store.replace_file("other", FileState("z.py", "h", 1, 1), [], [sym("run", d, 5, "z.py")])
    rows = await store.workspace_symbols("ws")
    assert [path for path, _ in rows] == ["a.py", "b.py"]
    assert first_symbols(rows, "run", 10) == [sym("run", d, 2), sym("run", r, 3, "b.py")]
    await store.remove_file("ws", "a.py")
    assert [path for path, _ in await store.workspace_symbols("ws")] == ["b.py"]
    assert await store.workspace_symbols("nobody") == []


async def test_remove_file(store: DocumentStore) -> None:
    await store.replace_file("ws", FileState("a.py", "h", 1, 1), [ctx("a:f", path="a.py")])
    assert await store.remove_file("ws", "a.py") == ["a:f"]
    assert await store.get_file_states("ws") == {}
    assert await store.get_context("a:f") is None
    assert await store.remove_file("ws", "a.py") == []


async def test_interactions_and_retention(store: DocumentStore) -> None:
    old = Interaction(
        id="i-old", workspace_id="ws", prompt="p", timestamp=utcnow() - timedelta(days=40)
    )
    new = Interaction(
        id="i-new",
        workspace_id="ws",
        prompt="q",
        analysis={"intent": "coding"},
        context_ids=["c1"],
        tokens={"input": 3},
    )
    other = Interaction(id="i-other", workspace_id="other", prompt="r")
    for item in (old, new, other):
        await store.add_interaction(item)
    assert await store.get_interaction("i-new") == new
    page = await store.list_interactions("ws", 10)
    assert {i.id for i in page.items} == {"i-old", "i-new"}
    cutoff = utcnow() - timedelta(days=30)
    assert await store.count_interactions_before(cutoff) == 1
    assert await store.delete_interactions_before(cutoff) == 1
    assert await store.get_interaction("i-old") is None
    await store.add_feedback(
        Feedback(id="f1", interaction_id="i-new", workspace_id="ws", helpful=True)
    )


async def test_add_interaction_again_replaces_it(store: DocumentStore) -> None:
    # The pipeline marks an interaction as rated by storing it again with new metadata.
    first = Interaction(id="i-1", workspace_id="ws", prompt="p")
    await store.add_interaction(first)
    marked = first.model_copy(update={"metadata": {"feedbackId": "fb_1"}})
    await store.add_interaction(marked)
    assert await store.get_interaction("i-1") == marked
    assert len((await store.list_interactions("ws", 10)).items) == 1


async def test_jobs(store: DocumentStore) -> None:
    job = Job(id="job1", kind="scan", workspace_id="ws", params={"full": True})
    await store.create_job(job)
    assert await store.get_job("job1") == job
    updated = await store.update_job("job1", {"state": JobState.RUNNING, "progress": {"files": 3}})
    assert updated is not None and updated.state is JobState.RUNNING
    await store.create_job(Job(id="job2", kind="gate"))
    running = await store.list_jobs(JobState.RUNNING, 10)
    assert [j.id for j in running.items] == ["job1"]
    assert len((await store.list_jobs(None, 10)).items) == 2
    assert await store.update_job("nope", {"state": JobState.FAILED}) is None
