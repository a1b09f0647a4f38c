"""`axon memory ...` and the API's supersede and confirm routes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from typer.testing import CliRunner

from axon.cli import app
from axon.config import Settings
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
