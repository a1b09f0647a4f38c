"""Fixture trees copied to a temporary folder, helpers to index them, and a large
generated tree with an `axon index` of it killed part-way."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import time
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


# Four contexts per file: the file summary, the function, the class and its method.
GENERATED_MODULE = (
    "def function_{n}(value: int) -> int:\n"
    '    """Add {n} to the value."""\n'
    "    return value + {n}\n\n\n"
    "class Thing{n}:\n"
    "    def method(self) -> int:\n"
    "        return {n}\n"
)


def generated_tree(root: Path, files: int) -> Path:
    """`files` small modules, a hundred per package folder."""
    for n in range(files):
        folder = root / f"pkg{n // 100}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod_{n}.py").write_text(GENERATED_MODULE.format(n=n))
    return root


async def start_index(
    env: dict[str, str], root: Path, workspace_id: str
) -> asyncio.subprocess.Process:
    """`axon index ROOT -w WORKSPACE_ID` in its own process, output discarded."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from axon.cli import main; main()",
        "index",
        str(root),
        "-w",
        workspace_id,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def kill_9_after(
    proc: asyncio.subprocess.Process, services: Services, workspace_id: str, files: int = 100
) -> None:
    """SIGKILL the index run `proc` once `files` files of the workspace are stored."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(await services.store.get_file_states(workspace_id)) >= files:
            break
        await asyncio.sleep(0.01)
    assert proc.returncode is None, "the index finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    await asyncio.wait_for(proc.wait(), 30)
