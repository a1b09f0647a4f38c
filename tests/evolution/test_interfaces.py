"""`axon memory ...` and the API's supersede and confirm routes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from axon.cli import app
from axon.config import Settings
from axon.models import Tier, Workspace, WorkspaceType
from axon.ports import ContextFilter
from axon.services import build_services
from axon.workspaces import ContextCreate, add_context
from tests.evolution.conftest import remember, workspace

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_memory_commands(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    _ok("workspace", "add", str(folder), "--id", "proj")
    first = json.loads(
        _ok("context", "add", "-w", "proj", "--content", "Logs are plain text.", "--json")
    )
    second = json.loads(
        _ok(
            "context", "add", "-w", "proj", "--content", "Logs are JSON lines.",
            "--supersedes", first["id"], "--json",
        )
    )  # fmt: skip
    assert second["supersedes"] == [first["id"]]

    listed = _ok("memory", "list", "-w", "proj")
    assert second["id"] in listed and first["id"] not in listed
    everything = _ok("memory", "list", "-w", "proj", "--all")
    assert f"superseded by {second['id']}" in everything
    chain = json.loads(_ok("memory", "history", first["id"], "--json"))
    assert [c["id"] for c in chain] == [first["id"], second["id"]]

    confirmed = _ok("memory", "confirm", second["id"])
    shown = json.loads(_ok("memory", "show", second["id"], "--json"))
    assert shown["evidence"]["confirmedAt"] is not None
    assert shown["confidence"] > second["confidence"] and "confirmed" in confirmed

    third = json.loads(
        _ok("context", "add", "-w", "proj", "--content", "Errors are reported to Sentry.", "--json")
    )
    _ok("memory", "supersede", second["id"], third["id"])
    assert json.loads(_ok("memory", "show", second["id"], "--json"))["supersededBy"] == third["id"]
    _ok("memory", "forget", third["id"])
    missing = runner.invoke(app, ["memory", "show", third["id"]])
    assert missing.exit_code != 0 and "not found" in missing.output


async def test_api_supersede_and_confirm(client: httpx.AsyncClient) -> None:
    wid = await workspace(client)
    old = await remember(client, wid, "Feature flags live in LaunchDarkly.")
    new = await remember(client, wid, "Feature flags live in our own flags table.", subject="x")
    response = await client.post(
        f"/api/v1/contexts/{old['id']}/supersede", json={"supersededBy": new["id"]}
    )
    assert response.status_code == 200, response.text
    assert [c["id"] for c in response.json()["items"]] == [old["id"], new["id"]]
    again = await client.post(
        f"/api/v1/contexts/{old['id']}/supersede", json={"supersededBy": new["id"]}
    )
    assert again.status_code == 409
    itself = await client.post(
        f"/api/v1/contexts/{new['id']}/supersede", json={"supersededBy": new["id"]}
    )
    assert itself.status_code == 422
    unknown = await client.post(
        f"/api/v1/contexts/{new['id']}/supersede", json={"supersededBy": "ctx_nope"}
    )
    assert unknown.status_code == 404

    confirmed = await client.post(f"/api/v1/contexts/{new['id']}/confirm")
    assert confirmed.status_code == 200
    body = confirmed.json()
    assert body["confidence"] > new["confidence"] and body["evidence"]["votes"] == 1
    assert body["evidence"]["strength"] == new["evidence"]["strength"] + 2
    assert (await client.post("/api/v1/contexts/ctx_nope/confirm")).status_code == 404


async def _promoted(settings: Settings) -> str:
    """A convention of three workspaces, promoted by the evolution job's step."""
    services = await build_services(settings)
    try:
        for n in range(3):
            wid = f"team{n}"
            await services.store.create_workspace(
                Workspace(id=wid, name=wid, type=WorkspaceType.CODING)
            )
            await add_context(
                services.store,
                ContextCreate(workspace_id=wid, type="pattern", content="Tabs indent YAML files."),
                services.search_index,
            )
        assert (await services.promoter.run())["promoted"] == 1
        found = services.store.iter_contexts(ContextFilter(tiers=[Tier.GLOBAL]))
        [promoted] = [c async for c in found]
        return promoted.id
    finally:
        await services.close()


def test_memory_pin_unpin_and_demote_a_promoted_context(settings: Settings) -> None:
    promoted_id = asyncio.run(_promoted(settings))

    def shown() -> dict[str, Any]:
        data: dict[str, Any] = json.loads(_ok("memory", "show", promoted_id, "--json"))
        return data

    assert "pinned" in _ok("memory", "pin", promoted_id)
    assert shown()["metadata"]["pinned"] is True
    assert "unpinned" in _ok("memory", "unpin", promoted_id)
    assert shown()["metadata"]["pinned"] is False
    assert "demoted" in _ok("memory", "demote", promoted_id)
    assert shown()["metadata"]["demoted"] is True and shown()["validTo"] is not None

    local = json.loads(_ok("context", "add", "-w", "team0", "--content", "x y z", "--json"))
    refused = runner.invoke(app, ["memory", "pin", local["id"]])
    assert refused.exit_code != 0 and "not a promoted global context" in refused.output
