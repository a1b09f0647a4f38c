"""A root folder as one workspace: readable child ids (`root.child`), searches of the
root that cover its sub-projects (each hit labelled with its child), children found by
their short name, and children indexed under the former hashed ids replaced."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from axon.cli import app as cli
from axon.config import Settings
from axon.indexing.roots import SubProject, child_ids
from axon.models import Tier, Workspace, WorkspaceType
from axon.ports import SearchRequest
from axon.services import Services, build_services
from axon.workspaces import ContextCreate, add_context
from tests.indexing.conftest import add_workspace, contexts_of, run_index


async def _children(services: Services, root_id: str) -> dict[str, str]:
    page = await services.store.list_workspaces(50)
    return {w.name: w.id for w in page.items if w.parent_id == root_id}


async def test_children_get_readable_ids_and_the_root_search_covers_them(
    services: Services, tree: Callable[[str], Path]
) -> None:
    workspace = await add_workspace(services, tree("root"), WorkspaceType.ROOT, wid="mono")
    await run_index(services, workspace)
    assert await _children(services, "mono") == {"api": "mono.api", "web": "mono.web"}
    hits = await services.retriever.search(
        SearchRequest(query="where is create_app defined", workspace_id="mono", limit=5)
    )
    assert hits, "the root's search found nothing in its sub-projects"
    top = hits[0].context
    assert (top.workspace_id, top.path) == ("mono.api", "api/server.py")
    # The root's own contexts are still searched as well.
    listing = await services.retriever.search(
        SearchRequest(query="sub-projects of this folder", workspace_id="mono", limit=10)
    )
    assert any(h.context.workspace_id == "mono" for h in listing)


async def test_child_ids_in_urls_and_by_short_name(
    services: Services, client: httpx.AsyncClient, tree: Callable[[str], Path]
) -> None:
    workspace = await add_workspace(services, tree("root"), WorkspaceType.ROOT, wid="mono")
    await run_index(services, workspace)
    shown = await client.get("/api/v1/workspaces/mono.api")
    assert shown.status_code == 200 and shown.json()["parentId"] == "mono"
    found = await client.post(
        "/api/v1/contexts/search", json={"query": "create_app", "workspaceId": "api"}
    )
    assert found.status_code == 200, found.text
    assert found.json()["results"][0]["workspaceId"] == "mono.api"
    scan = await client.post("/api/v1/workspaces/mono.web/scan")
    assert scan.status_code == 202, scan.text


def test_cli_short_name_labels_and_ambiguity(
    settings: Settings,
    tree: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AXON_EMBEDDER", "none")

    first = tree("root")
    second = shutil.copytree(first, tmp_path / "another-root")

    async def seed() -> None:
        built = await build_services(settings)
        try:
            for wid, folder in (("mono", first), ("other", second)):
                root = await add_workspace(built, folder, WorkspaceType.ROOT, wid=wid)
                await run_index(built, root)
        finally:
            await built.close()

    asyncio.run(seed())
    runner = CliRunner()
    ambiguous = runner.invoke(cli, ["search", "create_app", "-w", "api"])
    assert ambiguous.exit_code == 1
    assert "did you mean 'mono.api' or 'other.api'?" in ambiguous.stderr
    rooted = runner.invoke(cli, ["search", "create_app", "-w", "mono", "--json"])
    assert rooted.exit_code == 0, rooted.output
    assert '"workspaceId": "mono.api"' in rooted.stdout
    table = runner.invoke(cli, ["search", "create_app", "-w", "mono"])
    assert "api: api/server.py" in table.stdout  # labelled with its sub-project


def test_a_child_searched_by_its_short_name_is_not_labelled(
    settings: Settings, tree: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AXON_EMBEDDER", "none")

    async def seed() -> None:
        built = await build_services(settings)
        try:
            root = await add_workspace(built, tree("root"), WorkspaceType.ROOT, wid="mono")
            await run_index(built, root)
        finally:
            await built.close()

    asyncio.run(seed())
    for name in ("api", "mono.api"):
        found = CliRunner().invoke(cli, ["search", "create_app", "-w", name])
        assert found.exit_code == 0, found.output
        assert "api/server.py" in found.stdout and "api: api/server.py" not in found.stdout


async def test_hashed_child_ids_are_replaced_on_the_next_index(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("root")
    workspace = await add_workspace(services, root, WorkspaceType.ROOT, wid="mono")
    old = Workspace(
        id="mono--api-1a2b3c",
        name="api",
        type=WorkspaceType.CODING,
        path=str(root / "api"),
        parent_id="mono",
    )
    await services.store.create_workspace(old)
    await add_context(
        services.store,
        ContextCreate(workspace_id=old.id, tier=Tier.WORKSPACE, type="note", content="stale"),
        services.search_index,
    )
    await run_index(services, workspace)
    assert await services.store.get_workspace(old.id) is None
    assert await contexts_of(services, old.id) == []
    assert await _children(services, "mono") == {"api": "mono.api", "web": "mono.web"}
    stale = await services.retriever.search(
        SearchRequest(query="stale", workspace_id="mono", limit=5)
    )
    assert all(h.context.workspace_id != old.id for h in stale)


def test_folders_that_slug_alike_get_distinct_ids() -> None:
    projects = [
        SubProject("a-b", "/w/a-b", WorkspaceType.CODING, ("setup.py",)),
        SubProject("a/b", "/w/a/b", WorkspaceType.CODING, ("setup.py",)),
        SubProject("services/billing", "/w/services/billing", WorkspaceType.PKM, (".obsidian",)),
    ]
    ids = child_ids("w", projects)
    assert ids[0] == "w.a-b" and ids[1].startswith("w.a-b-") and ids[1] != ids[0]
    assert ids[2] == "w.services-billing"
    assert child_ids("w", projects) == ids  # the same on every run
