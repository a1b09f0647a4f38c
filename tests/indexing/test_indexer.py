"""Indexing fixture trees into the real store and search index, incrementally."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from axon.config import Settings, SettingsError, load_settings
from axon.indexing.chunking import CHUNKING_RULES
from axon.indexing.facts import FACTS_PATH
from axon.indexing.module_code import KIND as MODULE_CODE
from axon.models import ContextType, WorkspaceType
from axon.ports import SearchRequest
from axon.services import Services, build_services
from axon.tokens import count_tokens
from tests.indexing.conftest import add_workspace, by_symbol, contexts_of, run_index
from tests.servers import RunningServer


async def search_paths(services: Services, workspace_id: str, query: str) -> list[str | None]:
    hits = await services.retriever.search(SearchRequest(query=query, workspace_id=workspace_id))
    return [h.context.symbol for h in hits]


async def test_project_symbols_facts_and_token_counts(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    (root / "generated").mkdir()
    (root / "generated" / "out.py").write_text("def generated(): pass\n")
    (root / "debug.log").write_text("noise\n")
    workspace = await add_workspace(services, root)
    [report] = await run_index(services, workspace)
    assert report.files_total == 18 and report.indexed == 18
    assert report.skipped["ignored"] == 2  # generated/ and *.log from .gitignore
    contexts = await contexts_of(services, "ws")
    assert report.contexts_written == len(contexts)
    for ctx in contexts:
        assert ctx.token_count == count_tokens(ctx.content)  # exact, not estimated
        assert ctx.path is not None and "\\" not in ctx.path
    geometry = by_symbol(contexts, "src/shapes/geometry.py")
    area = geometry["Circle.area"]
    assert (area.type, area.symbol_kind, area.language) == (ContextType.SYMBOL, "method", "python")
    assert (area.start_line, area.end_line) == (17, 19)
    assert set(by_symbol(contexts, "web/widget.tsx")) >= {"Widget", "Store.add", "WidgetProps"}
    assert "Server.Start" in by_symbol(contexts, "goapp/main.go")
    assert "App.run" in by_symbol(contexts, "javaapp/src/main/java/demo/App.java")
    assert "Point.norm" in by_symbol(contexts, "rustlib/src/lib.rs")
    assert not any(c.path and c.path.startswith("generated/") for c in contexts)

    facts = by_symbol(contexts, FACTS_PATH)
    stack = facts["stack"].metadata
    assert stack["frameworks"] == ["FastAPI", "Gin", "Pydantic", "React", "Serde", "Spring Boot"]
    assert stack["testRunners"] == ["JUnit", "Jest", "cargo test", "go test", "pytest"]
    assert {"Ruff", "mypy", "ESLint"} <= set(stack["linters"])
    assert facts["stack"].type is ContextType.ARCHITECTURE
    languages = facts["languages"].metadata
    assert languages["primary"] == "python"
    assert languages["languages"]["python"]["lines"] == 49
    assert abs(sum(v["share"] for v in languages["languages"].values()) - 1) < 0.01
    deps = facts["dependencies:pyproject.toml"]
    assert deps.type is ContextType.DEPENDENCY
    assert deps.metadata["dependencies"] == ["fastapi", "pydantic"]
    assert facts["ci-containers"].metadata["ci"] == {"GitHub Actions": [".github/workflows/ci.yml"]}
    assert facts["ci-containers"].metadata["baseImages"] == ["python:3.11-slim"]
    assert (
        "shapes -> shapes.cli:main (pyproject.toml)"
        in facts["entry-points"].metadata["entryPoints"]
    )
    conventions = facts["conventions"].metadata
    assert conventions["lineLength"] == 88
    assert conventions["lintSelect"] == ["E", "F", "I"]
    assert conventions["typeChecking"] == "mypy strict"
    assert conventions["indent"] == "space (4)"
    assert "- src/ (3 files)" in facts["layout"].content
    # The search index was kept in step with the store.
    assert "make_circle" in await search_paths(services, "ws", "make_circle")
    updated = await services.store.get_workspace("ws")
    assert updated is not None and updated.last_indexed_at is not None


async def test_incremental_reindex_touches_only_the_changed_file(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    before = {c.id: c for c in await contexts_of(services, "ws")}
    area_id = by_symbol(list(before.values()), "src/shapes/geometry.py")["Circle.area"].id
    await services.store.record_usage({area_id: 1})
    await services.store.add_evidence([area_id], 0.0, 1.0)  # one unhelpful vote

    [again] = await run_index(services, workspace)
    assert (again.indexed, again.unchanged, again.contexts_written) == (0, 18, 0)
    assert {c.id: c for c in await contexts_of(services, "ws")}.keys() == before.keys()

    before = {c.id: c for c in await contexts_of(services, "ws")}  # after record_usage
    path = root / "src" / "shapes" / "geometry.py"
    edited = path.read_text().replace("math.pi * self.radius**2", "math.tau * self.radius**2 / 2")
    path.write_text(edited)
    [changed] = await run_index(services, workspace)
    assert (changed.indexed, changed.unchanged, changed.contexts_written) == (1, 17, 1)
    after = {c.id: c for c in await contexts_of(services, "ws")}
    assert after.keys() == before.keys()
    area = after[area_id]
    assert "math.tau" in area.content and area.updated_at > before[area_id].updated_at
    # Usage and evidence survived the rewrite.
    assert area.usage_count == 1 and area.evidence.votes == 1
    assert area.confidence == pytest.approx(18 / 21)
    # Exactly the edited function changed; every other context kept its id and updated_at.
    for cid, ctx in before.items():
        if cid != area_id:
            assert after[cid] == ctx, ctx.symbol
    assert "Circle.area" in await search_paths(services, "ws", "tau radius")

    (root / "web" / "app.js").unlink()
    [deleted] = await run_index(services, workspace)
    assert (deleted.removed, deleted.indexed) == (1, 0)
    remaining = await contexts_of(services, "ws")
    assert not any(c.path == "web/app.js" for c in remaining)
    assert deleted.contexts_removed == sum(1 for c in before.values() if c.path == "web/app.js")
    assert "greet" not in await search_paths(services, "ws", "greet")
    layout = by_symbol(remaining, FACTS_PATH)["layout"]
    assert "17 files indexed." in layout.content  # facts follow the file list


async def test_same_content_new_mtime_is_not_rechunked(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    target = root / "goapp" / "main.go"
    target.write_bytes(target.read_bytes())  # new mtime, same bytes
    [report] = await run_index(services, workspace)
    assert (report.indexed, report.unchanged, report.contexts_written) == (0, 18, 0)
    states = await services.store.get_file_states("ws")
    assert states["goapp/main.go"].mtime_ns == target.stat().st_mtime_ns


async def test_an_index_from_older_chunking_rules_is_rechunked_on_the_next_plain_run(
    services: Services, tree: Callable[[str], Path]
) -> None:
    """An index built before module-code contexts existed gains them without --full,
    though no file's size or mtime changed."""
    root = tree("project")
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    # Leave the index as the older rules did: no module-code contexts, file states
    # without a rules version (what the migration gives rows stored before it).
    module_ids: list[str] = []
    for path, state in (await services.store.get_file_states("ws")).items():
        contexts = [c for c in await contexts_of(services, "ws") if c.path == path]
        older = [c for c in contexts if c.symbol_kind != MODULE_CODE]
        module_ids += [c.id for c in contexts if c.symbol_kind == MODULE_CODE]
        await services.store.replace_file("ws", replace(state, rules_version=0), older)
    await services.search_index.remove(module_ids)
    assert module_ids and "UNIT" not in await search_paths(services, "ws", "UNIT")

    [report] = await run_index(services, workspace)
    assert report.indexed == 18 and report.unchanged == 0
    geometry = by_symbol(await contexts_of(services, "ws"), "src/shapes/geometry.py")
    assert geometry["UNIT"].symbol_kind == MODULE_CODE
    assert "UNIT" in await search_paths(services, "ws", "UNIT")
    states = await services.store.get_file_states("ws")
    assert {s.rules_version for s in states.values()} == {CHUNKING_RULES}
    # Once re-chunked under the current rules, the fast path applies again.
    [again] = await run_index(services, workspace)
    assert (again.indexed, again.unchanged, again.contexts_written) == (0, 18, 0)


async def test_file_that_turns_binary_loses_its_contexts(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    (root / "src" / "shapes" / "cli.py").write_bytes(b"\x00\x01binary now")
    [report] = await run_index(services, workspace)
    assert report.skipped["binary"] == 1 and report.removed == 1
    paths = {c.path for c in await contexts_of(services, "ws")}
    assert "src/shapes/cli.py" not in paths


async def test_vault_sections_tags_and_backlinks(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("vault")
    (root / ".obsidian").mkdir()
    (root / ".obsidian" / "app.json").write_text("{}")
    workspace = await add_workspace(services, root, WorkspaceType.PKM, wid="vault")
    await run_index(services, workspace)
    contexts = await contexts_of(services, "vault")
    notes = [c for c in contexts if c.type is ContextType.NOTE]
    assert {c.path for c in notes} == {
        "Home.md",
        "Ideas.md",
        "Projects/Axon.md",
        "reading list.md",
        "Daily/2024-05-02.md",
    }
    home = sorted((c for c in notes if c.path == "Home.md"), key=lambda c: c.start_line or 0)
    assert [c.metadata["headingPath"] for c in home] == [[], ["Home"], ["Home", "Inbox"]]
    assert home[0].metadata["frontMatter"]["created"] == "2024-05-01"
    assert home[0].metadata["tags"] == ["daily", "index", "start"]
    assert home[1].metadata["linksTo"] == ["Ideas.md", "Projects/Axon.md", "reading list.md"]
    assert all(c.metadata["backlinks"] == ["Daily/2024-05-02.md", "Projects/Axon.md"] for c in home)
    axon = [c for c in notes if c.path == "Projects/Axon.md"]
    assert all(c.metadata["backlinks"] == ["Home.md", "Ideas.md"] for c in axon)
    ideas = next(c for c in notes if c.path == "Ideas.md")
    assert ideas.metadata["tags"] == ["idea/backlog"]
    assert ideas.metadata["backlinks"] == ["Daily/2024-05-02.md", "Home.md"]
    reading = next(c for c in notes if c.path == "reading list.md")
    assert reading.metadata["linksTo"] == []  # [[Missing Note]] resolves to nothing
    assert reading.metadata["backlinks"] == ["Home.md"]

    # Removing the only link from Ideas drops the backlink on Projects/Axon.md.
    (root / "Ideas.md").write_text("# Ideas\n\nNothing linked now.\n")
    await run_index(services, workspace)
    axon = [c for c in await contexts_of(services, "vault") if c.path == "Projects/Axon.md"]
    assert all(c.metadata["backlinks"] == ["Home.md"] for c in axon)


async def test_root_folder_becomes_linked_workspaces(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("root")
    workspace = await add_workspace(services, root, WorkspaceType.ROOT, wid="mono")
    reports = await run_index(services, workspace)
    page = await services.store.list_workspaces(50)
    children = {w.name: w for w in page.items if w.parent_id == "mono"}
    assert set(children) == {"api", "web"}
    assert children["api"].type is WorkspaceType.CODING
    assert [r.workspace_id for r in reports] == [children["api"].id, children["web"].id, "mono"]
    api = await contexts_of(services, children["api"].id)
    assert "create_app" in by_symbol(api, "api/server.py")
    frameworks = by_symbol(api, FACTS_PATH)["stack"].metadata["frameworks"]
    assert frameworks == ["Flask"]
    web = await contexts_of(services, children["web"].id)
    assert by_symbol(web, FACTS_PATH)["stack"].metadata["frameworks"] == ["Vue"]
    own = await contexts_of(services, "mono")
    assert {c.path for c in own} == {"README.md", FACTS_PATH, ".axon/sub-projects"}
    listing = next(c for c in own if c.symbol == "sub-projects")
    assert [p["path"] for p in listing.metadata["subProjects"]] == ["api", "web"]

    # Ids are derived from the path: a second run finds the same workspaces.
    await run_index(services, workspace)
    page = await services.store.list_workspaces(50)
    again = {w.name: w.id for w in page.items if w.parent_id == "mono"}
    assert again == {name: w.id for name, w in children.items()}
    # A sub-project that disappears takes its workspace with it.
    (root / "web" / "package.json").unlink()
    await run_index(services, workspace)
    page = await services.store.list_workspaces(50)
    assert {w.name for w in page.items if w.parent_id == "mono"} == {"api"}


async def test_incremental_indexing_on_mongodb(
    settings: Settings, mongo_server: RunningServer, tree: Callable[[str], Path]
) -> None:
    """The indexer only talks to the DocumentStore port: the Mongo adapter behaves alike."""
    uri = f"mongodb://127.0.0.1:{mongo_server.port}/index_{uuid.uuid4().hex[:10]}"
    services = await build_services(settings.model_copy(update={"mongodb_uri": uri}))
    try:
        root = tree("project")
        workspace = await add_workspace(services, root)
        [first] = await run_index(services, workspace)
        assert first.indexed == 18
        before = {c.id: c for c in await contexts_of(services, "ws")}
        path = root / "goapp" / "main.go"
        path.write_text(path.read_text().replace('fmt.Println("starting")', 'fmt.Println("go")'))
        [second] = await run_index(services, workspace)
        assert (second.indexed, second.unchanged, second.contexts_written) == (1, 17, 1)
        after = {c.id: c for c in await contexts_of(services, "ws")}
        changed = {cid for cid in after if after[cid] != before[cid]}
        main_id = by_symbol(list(after.values()), "goapp/main.go")["main"].id
        assert changed == {main_id}
    finally:
        await services.close()


async def test_hostile_tree_indexes_what_it_can_and_counts_the_rest(
    services: Services, tmp_path: Path
) -> None:
    root = tmp_path / "hostile"
    (root / "dir with spaces").mkdir(parents=True)
    (root / "dir with spaces" / "ünïcødé 文件.py").write_text(
        "def naïve() -> str:\n    return '✓'\n"
    )
    (root / "loop").mkdir()
    (root / "loop" / "again").symlink_to(root)
    (root / "huge.py").touch()
    os.truncate(root / "huge.py", 50 * 1024 * 1024)  # sparse: 50 MB without the disk use
    (root / "fake.py").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00binary")
    (root / "latin1.py").write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    os.mkfifo(root / "pipe.py")
    workspace = await add_workspace(services, root)
    [report] = await run_index(services, workspace)
    assert report.indexed == 1 and report.errors == []
    assert dict(report.skipped) == {
        "symlink_loop": 1,
        "too_large": 1,
        "binary": 1,
        "non_utf8": 1,
        "special": 1,
    }
    symbols = by_symbol(await contexts_of(services, "ws"), "dir with spaces/ünïcødé 文件.py")
    assert symbols["naïve"].content.endswith("return '✓'\n")


async def test_a_no_change_run_beside_unreadable_files_rebuilds_no_facts(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    (root / "latin1.py").write_bytes("caf\xe9 = 1\n".encode("latin-1"))  # skipped every run
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    # Same size and mtime: the run sees no change, so the facts it wrote stand. Rebuilt,
    # they would read the new dependency.
    manifest = root / "pyproject.toml"
    seen = manifest.stat()
    manifest.write_text(manifest.read_text().replace('"pydantic>=2"', '"paramiko>=2"'))
    os.utime(manifest, ns=(seen.st_atime_ns, seen.st_mtime_ns))
    [again] = await run_index(services, workspace)
    assert (again.indexed, again.skipped["non_utf8"], again.contexts_written) == (0, 1, 0)
    deps = by_symbol(await contexts_of(services, "ws"), FACTS_PATH)["dependencies:pyproject.toml"]
    assert deps.metadata["dependencies"] == ["fastapi", "pydantic"]


async def test_size_limit_comes_from_the_environment(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AXON_INDEX_MAX_FILE_BYTES", "0")
    with pytest.raises(SettingsError, match="AXON_INDEX_MAX_FILE_BYTES"):
        load_settings()
    monkeypatch.setenv("AXON_INDEX_MAX_FILE_BYTES", "2048")
    limited = load_settings().model_copy(update={"embedder": "none"})
    assert limited.index_max_file_bytes == 2048
    root = tmp_path / "sized"
    root.mkdir()
    (root / "small.py").write_text("x = 1\n")
    (root / "large.py").write_text("y = 2\n" * 500)  # 3,000 bytes
    services = await build_services(limited)
    try:
        workspace = await add_workspace(services, root)
        [report] = await run_index(services, workspace)
        assert report.indexed == 1 and report.skipped == {"too_large": 1}
    finally:
        await services.close()


async def test_contexts_deleted_by_retention_come_back_on_the_next_run(
    services: Services, tree: Callable[[str], Path]
) -> None:
    """The runbook's clean-up deletes old contexts straight from the store; an unchanged
    file whose contexts are gone must be re-chunked, not skipped as unchanged."""
    root = tree("project")
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    path = "src/shapes/geometry.py"
    before = by_symbol(await contexts_of(services, "ws"), path)
    removed = await services.store.delete_contexts([c.id for c in before.values()])
    await services.search_index.remove([c.id for c in before.values()])
    assert removed == len(before) > 0
    [report] = await run_index(services, workspace)
    assert report.indexed == 1  # only the file that lost its contexts
    after = by_symbol(await contexts_of(services, "ws"), path)
    assert set(after) == set(before)
    assert "Circle.area" in await search_paths(services, "ws", "Circle area")
