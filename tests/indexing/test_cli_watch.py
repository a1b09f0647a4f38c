"""`axon index`, `--watch`, and a kill in the middle of an index run."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from axon.cli import app as cli
from axon.config import Settings
from axon.indexing.facts import FACTS_PATH
from axon.indexing.report import IndexReport
from axon.indexing.watcher import watch_workspace
from axon.ports import SearchRequest
from axon.services import Services, build_services
from tests.indexing.conftest import (
    add_workspace,
    contexts_of,
    generated_tree,
    kill_9_after,
    run_index,
    start_index,
)

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("AXON_EMBEDDER", "none")
    return {**os.environ, "AXON_DATA_DIR": str(settings.data_dir), "AXON_EMBEDDER": "none"}


def test_cli_creates_the_workspace_and_prints_a_summary(
    cli_env: dict[str, str], tree: Callable[[str], Path], tmp_path: Path
) -> None:
    root = tree("project")
    first = runner.invoke(cli, ["index", str(root), "--workspace", "cli-ws"])
    assert first.exit_code == 0, first.output
    lines = first.stdout.strip().splitlines()
    # Not a terminal: plain progress lines (no bar), then the summary.
    assert lines[-1].startswith("cli-ws: 18 files (18 indexed, 0 unchanged, 0 removed")
    assert all(line.startswith("indexing cli-ws: ") for line in lines[:-1]), lines
    assert lines[-2].startswith("indexing cli-ws: 18/18 files (100%)"), lines
    assert "\x1b" not in first.output
    # Where the index went, first, so a later "not found" is easy to explain.
    assert first.stderr.splitlines()[0] == f"data folder {cli_env['AXON_DATA_DIR']}"
    again = runner.invoke(cli, ["index", str(root), "-w", "cli-ws", "--type", "coding"])
    assert again.exit_code == 0 and "(0 indexed, 18 unchanged" in again.output
    wrong_type = runner.invoke(cli, ["index", str(root), "-w", "cli-ws", "--type", "pkm"])
    assert wrong_type.exit_code == 1 and "is of type coding, not pkm" in wrong_type.output
    other = tree("vault")
    wrong_path = runner.invoke(cli, ["index", str(other), "-w", "cli-ws"])
    assert wrong_path.exit_code == 1 and "is registered for" in wrong_path.output
    missing = runner.invoke(cli, ["index", str(tmp_path / "missing"), "-w", "x"])
    assert missing.exit_code == 1 and "not a folder" in missing.output
    bad_id = runner.invoke(cli, ["index", str(root), "-w", "bad id!"])
    assert bad_id.exit_code == 1 and "id" in bad_id.output


def test_cli_shows_a_progress_bar_on_a_terminal(
    cli_env: dict[str, str], tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from axon.cli import main; main()",
            "index",
            str(root),
            "-w",
            "tty",
        ],
        stdin=child,
        stdout=child,
        stderr=child,
        env={**cli_env, "COLUMNS": "160", "TERM": "xterm"},
    )
    os.close(child)
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1.0)
        if not ready:
            continue
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        output += data
    os.close(main)
    assert proc.wait(60) == 0, output.decode(errors="replace")
    text = output.decode(errors="replace")
    assert "indexing tty" in text and "18/18" in text and "files/s" in text and "ETA" in text
    assert "tty: 18 files (18 indexed" in text


async def test_watch_makes_a_saved_file_searchable(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    stop = asyncio.Event()
    runs: list[int] = []

    async def on_run(reports: list[IndexReport], changes: int) -> None:
        runs.append(changes)

    watcher = asyncio.create_task(
        watch_workspace(
            services.store,
            services.search_index,
            workspace,
            max_file_bytes=services.settings.index_max_file_bytes,
            on_run=on_run,
            stop=stop,
            ignore_roots=[str(services.settings.data_dir)],
        )
    )
    try:
        await asyncio.sleep(0.3)  # let the watcher start
        target = root / "src" / "shapes" / "colours.py"
        target.write_text("def paint_everything_zebra_striped() -> str:\n    return 'zebra'\n")
        saved = time.monotonic()
        found = False
        while time.monotonic() - saved < 15 and not found:
            request = SearchRequest(query="paint_everything_zebra_striped", workspace_id="ws")
            hits = await services.retriever.search(request)
            found = any(h.context.symbol == "paint_everything_zebra_striped" for h in hits)
            await asyncio.sleep(0.05)
        assert found, runs
        assert runs and runs[0] >= 1
    finally:
        stop.set()
        await asyncio.wait_for(watcher, 10)


async def test_kill_mid_index_leaves_every_file_old_or_new(
    settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    root = generated_tree(tmp_path / "many", 1200)
    proc = await start_index(cli_env, root, "big")
    services = await build_services(settings)
    try:
        await kill_9_after(proc, services, "big")
        states = await services.store.get_file_states("big")
        assert 100 <= len(states) < 1200
        contexts = await contexts_of(services, "big")
        # Every stored file has all of its contexts (summary, function, class, method) ...
        per_path: dict[str, int] = {}
        for ctx in contexts:
            per_path[ctx.path or ""] = per_path.get(ctx.path or "", 0) + 1
        assert per_path == {path: 4 for path in states}  # ... and no file is half-written.
        workspace = await services.store.get_workspace("big")
        assert workspace is not None
        [report] = await run_index(services, workspace)
        assert report.unchanged == len(states) and report.indexed == 1200 - len(states)
        resumed = await contexts_of(services, "big")
        assert sum(1 for c in resumed if c.path != FACTS_PATH) == 1200 * 4
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await services.close()
