"""Fixture trees copied to a temporary folder, and a helper to index them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from axon.config import Settings
from axon.indexing import IndexReport, index_workspace
from axon.models import Context, Workspace, WorkspaceType
from axon.ports import ContextFilter
from axon.services import Services

FIXTURES = Path(__file__).parent.parent / "fixtures" / "indexing"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Lexical search only: these tests are about what gets indexed, not about vectors."""
    return settings.model_copy(update={"embedder": "none"})


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a committed fixture tree (project, vault, root) somewhere writable."""

    def copy(name: str) -> Path:
        target = tmp_path / "trees" / name
        shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".ruff_cache"))
        return target

    return copy


async def add_workspace(
    services: Services, path: Path, kind: WorkspaceType = WorkspaceType.CODING, wid: str = "ws"
) -> Workspace:
    return await services.store.create_workspace(
        Workspace(id=wid, name=path.name, type=kind, path=str(path))
    )


async def run_index(services: Services, workspace: Workspace) -> list[IndexReport]:
    current = await services.store.get_workspace(workspace.id)
    assert current is not None
    return await index_workspace(
        services.store,
        services.search_index,
        current,
        max_file_bytes=services.settings.index_max_file_bytes,
    )


async def contexts_of(services: Services, workspace_id: str) -> list[Context]:
    flt = ContextFilter(workspace_id=workspace_id)
    return [c async for c in services.store.iter_contexts(flt)]


def by_symbol(contexts: list[Context], path: str) -> dict[str, Context]:
    return {c.symbol: c for c in contexts if c.path == path and c.symbol is not None}
