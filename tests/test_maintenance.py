"""`axon maintenance cleanup|backup|restore` and GET /admin/heapdump."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from axon.api.app import create_app
from axon.cli import app as cli
from axon.config import Settings
from axon.models import (
    ApiScope,
    Context,
    ContextType,
    Interaction,
    Workspace,
    WorkspaceType,
    content_hash,
    utcnow,
)
from axon.ports import ContextFilter
from axon.security.keys import new_api_key
from axon.services import Services, build_services
from tests.conftest import LiveServer
from tests.test_api_foundation import assert_error

runner = CliRunner()
NOW = utcnow()
# (id, age in days, usage count): the runbook deletes age > 90 days AND usage < 5.
SEED = [
    ("old-rare-1", 120, 0),
    ("old-rare-2", 95, 4),
    ("old-rare-3", 400, 1),
    ("old-used-5", 120, 5),
    ("old-popular", 200, 9),
    ("new-rare", 10, 0),
    ("edge-89d", 89, 0),
]
EXPIRED = {"old-rare-1", "old-rare-2", "old-rare-3"}


def _context(cid: str, age_days: float, usage: int) -> Context:
    text = f"def {cid.replace('-', '_')}():\n    return 'retention sample {cid}'\n"
    created = NOW - timedelta(days=age_days)
    return Context(
        id=cid,
        workspace_id="ws",
        type=ContextType.SYMBOL,
        path=f"src/{cid}.py",
        symbol=cid.replace("-", "_"),
        content=text,
        content_hash=content_hash(text),
        created_at=created,
        updated_at=created,
        usage_count=usage,
    )


async def _seed(settings: Settings) -> None:
    services = await build_services(settings)
    try:
        await services.store.create_workspace(
            Workspace(id="ws", name="ws", type=WorkspaceType.CODING)
        )
        contexts = [_context(*row) for row in SEED]
        await services.store.put_contexts(contexts)
        await services.search_index.index(contexts)
        for i, age in enumerate([45, 31, 29, 1]):
            await services.store.add_interaction(
                Interaction(
                    id=f"int-{i}",
                    workspace_id="ws",
                    prompt="p",
                    timestamp=NOW - timedelta(days=age),
                )
            )
    finally:
        await services.close()


async def _state(settings: Settings) -> dict[str, Any]:
    services = await build_services(settings)
    try:
        index: Any = services.search_index  # the embedded HybridSearchIndex
        ids = {c.id async for c in services.store.iter_contexts(ContextFilter())}
        return {
            "contexts": ids,
            "lexical": set(await index.lexical.fingerprints("ws")),
            "vectors": set(await index.vectors.fingerprints("ws")),
            "old_interactions": await services.store.count_interactions_before(
                NOW - timedelta(days=30)
            ),
            "all_interactions": await services.store.count_interactions_before(
                NOW + timedelta(days=1)
            ),
        }
    finally:
        await services.close()


async def _invoke(*args: str) -> Result:
    # The CLI runs its own event loop (asyncio.run), so it gets a thread of its own.
    return await asyncio.to_thread(runner.invoke, cli, list(args))


async def _cleanup(*args: str) -> dict[str, Any]:
    result = await _invoke("maintenance", "cleanup", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.needs_model
async def test_cleanup_dry_run_counts_then_deletes_exactly_those(settings: Settings) -> None:
    await _seed(settings)
    before = await _state(settings)
    everything = {row[0] for row in SEED}
    assert before["contexts"] == everything
    assert before["lexical"] == everything
    assert before["vectors"] == everything, "the local embedder indexes vectors"

    dry = await _cleanup("--dry-run")
    assert (dry["dryRun"], dry["contexts"], dry["interactions"]) == (True, 3, 2)
    assert await _state(settings) == before, "a dry run changes nothing"
    # Retention is configurable: keep only contexts used 10+ times -> 5 candidates.
    assert (await _cleanup("--dry-run", "--min-usage", "10"))["contexts"] == 5
    # Contexts older than 5 days used fewer than 5 times: the 3 old ones, new-rare, edge-89d.
    assert (await _cleanup("--dry-run", "--context-days", "5"))["contexts"] == 5

    done = await _cleanup()
    assert (done["dryRun"], done["contexts"], done["interactions"]) == (False, 3, 2)
    after = await _state(settings)
    kept = everything - EXPIRED
    assert after["contexts"] == kept
    assert after["lexical"] == kept and after["vectors"] == kept
    assert after["old_interactions"] == 0 and after["all_interactions"] == 2
    again = await _cleanup("--dry-run")
    assert (again["contexts"], again["interactions"]) == (0, 0)


def test_cleanup_text_output_and_bad_options(settings: Settings) -> None:
    result = runner.invoke(cli, ["maintenance", "cleanup", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would delete 0 old contexts" in result.stdout
    assert runner.invoke(cli, ["maintenance", "cleanup", "--context-days", "0"]).exit_code == 2


async def test_backup_is_consistent_and_restore_refuses_a_live_database(
    settings: Settings, tmp_path: Path
) -> None:
    services = await build_services(settings)
    backup = tmp_path / "backups" / "axon.db"
    try:
        await services.store.create_workspace(
            Workspace(id="keep", name="keep", type=WorkspaceType.CODING)
        )
        # Backed up while the "server" (these services) holds the database open.
        result = await _invoke("maintenance", "backup", str(backup))
        assert result.exit_code == 0, result.output
        await services.store.delete_workspace("keep")
        refused = await _invoke("maintenance", "restore", str(backup))
        assert refused.exit_code == 1 and "in use" in refused.output
    finally:
        await services.close()
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not backup.with_name("axon.db.partial").exists()

    restored = await _invoke("maintenance", "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    services = await build_services(settings)
    try:
        assert await services.store.get_workspace("keep") is not None
    finally:
        await services.close()


def test_restore_rejects_files_that_are_not_axon_backups(
    settings: Settings, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(cli, ["maintenance", "restore", str(junk)])
    assert result.exit_code == 1 and "not a SQLite database" in result.output
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    result = runner.invoke(cli, ["maintenance", "restore", str(other)])
    assert result.exit_code == 1 and "not an Axon database" in result.output
    missing = runner.invoke(cli, ["maintenance", "restore", str(tmp_path / "none.db")])
    assert missing.exit_code == 1 and "no backup file" in missing.output


def test_backup_with_mongodb_points_to_mongodump(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/axon")
    result = runner.invoke(cli, ["maintenance", "backup", str(tmp_path / "b.db")])
    assert result.exit_code == 1 and "mongodump" in result.output


@pytest.fixture
async def heap_client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    enabled = settings.model_copy(update={"enable_heapdump": True, "auth": "on"})
    services = await build_services(enabled)
    app = create_app(services=services)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://axon.test"
        ) as http:
            yield http, services
    finally:
        tracemalloc.stop()  # tracing slows everything else down
        await services.close()


async def test_heapdump_needs_admin_and_returns_a_snapshot(
    heap_client: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = heap_client
    admin, admin_token = new_api_key("ops", [ApiScope.ADMIN])
    write, write_token = new_api_key("app", [ApiScope.WRITE])
    await services.store.create_api_key(admin)
    await services.store.create_api_key(write)
    assert (await http.get("/admin/heapdump")).status_code == 401
    assert (
        await http.get("/admin/heapdump", headers={"X-API-Key": write_token})
    ).status_code == 403
    r = await http.get("/admin/heapdump?top=5", headers={"X-API-Key": admin_token})
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith('attachment; filename="heap-')
    lines = r.text.splitlines()
    assert lines[0].startswith("# axon heap snapshot")
    rows = [line for line in lines if not line.startswith("#")]
    assert 1 <= len(rows) <= 5 and all(int(row.split("\t")[0]) > 0 for row in rows)
    bad = await http.get("/admin/heapdump?groupBy=nope", headers={"X-API-Key": admin_token})
    assert bad.status_code == 422


async def test_heapdump_is_off_by_default(client: httpx.AsyncClient) -> None:
    r = await client.get("/admin/heapdump")
    assert r.status_code == 404 and r.json()["error"]["code"] == "HEAPDUMP_DISABLED"


@pytest.fixture
def traced_settings(settings: Settings) -> Iterator[Settings]:
    try:
        yield settings.model_copy(update={"enable_heapdump": True})
    finally:
        tracemalloc.stop()


async def test_a_heap_report_leaves_the_server_responsive(traced_settings: Settings) -> None:
    # Grouping the snapshot used to run on the event loop: liveness waited for it.
    with LiveServer(traced_settings) as server:
        ballast = [f"{i}-allocation" for i in range(20_000)]  # traced: a heap worth grouping
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            # Warm: connected, and the route's first call (slow while tracing) made.
            assert (await http.get("/health/live")).status_code == 200
            assert (await http.get("/admin/heapdump?top=1")).status_code == 200
            dump = asyncio.create_task(http.get("/admin/heapdump?top=20&groupBy=traceback"))
            probes: list[float] = []
            loop = asyncio.get_running_loop()
            while not dump.done():
                started = loop.time()
                assert (await http.get("/health/live")).status_code == 200
                probes.append(loop.time() - started)
                await asyncio.sleep(0.02)
            report = await dump
        del ballast
    assert report.status_code == 200, report.text
    assert report.text.startswith("# axon heap snapshot")
    # The loop kept answering (the shared machine makes each probe take ~0.3 s).
    assert len(probes) >= 5 and max(probes) < 1.5, (len(probes), sorted(probes)[-3:])


async def test_a_heap_report_over_its_time_limit_is_stopped(traced_settings: Settings) -> None:
    limited = traced_settings.model_copy(update={"heapdump_timeout": 0.05})
    with LiveServer(limited) as server:
        ballast = [f"{i}-allocation" for i in range(40_000)]
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            loop = asyncio.get_running_loop()
            started = loop.time()
            slow = await http.get("/admin/heapdump?groupBy=traceback")
            # Stopped long before the report would be done (over a minute on this heap).
            assert loop.time() - started < 15
            assert_error(slow, 503, "HEAPDUMP_TIMEOUT")
            # The child was killed and reaped, and the next report may run.
            again = await http.get("/admin/heapdump?groupBy=traceback")
            assert_error(again, 503, "HEAPDUMP_TIMEOUT")
        del ballast
