"""API keys limited to workspaces and a tenant: every route, search results and the CLI.

A key sees its own workspaces only; any other answers exactly like a workspace that
does not exist (404 WORKSPACE_NOT_FOUND), so existence is not revealed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from axon.api.app import create_app
from axon.cli import app as cli
from axon.config import Settings
from axon.models import (
    ApiScope,
    Context,
    ContextType,
    Job,
    JobState,
    Tier,
    Workspace,
    WorkspaceType,
)
from axon.security.keys import new_api_key
from axon.security.principal import FULL_ACCESS, Principal, ensure_access
from axon.services import Services, build_services

Client = tuple[httpx.AsyncClient, Services]


@pytest.fixture
async def secured(settings: Settings) -> AsyncIterator[Client]:
    on = settings.model_copy(update={"auth": "on", "rate_limits": "off"})
    services = await build_services(on)
    transport = httpx.ASGITransport(app=create_app(services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            yield http, services
    finally:
        await services.close()


async def _key(services: Services, *workspaces: str, **limits: Any) -> dict[str, str]:
    record, token = new_api_key(
        "test", [ApiScope.WRITE], workspaces=list(workspaces) or None, **limits
    )
    await services.store.create_api_key(record)
    return {"X-API-Key": token}


async def _workspace(http: httpx.AsyncClient, headers: dict[str, str], ws: str) -> None:
    r = await http.post("/api/v1/workspaces", json={"id": ws, "name": ws}, headers=headers)
    assert r.status_code == 201, r.text


def _not_found(r: httpx.Response) -> None:
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "WORKSPACE_NOT_FOUND"


async def test_a_restricted_key_sees_and_changes_only_its_workspaces(secured: Client) -> None:
    http, services = secured
    admin = await _key(services)
    for ws in ("mine", "theirs", "other"):
        await _workspace(http, admin, ws)
    mine = await _key(services, "mine", "later")

    listed = (await http.get("/api/v1/workspaces", headers=mine)).json()
    assert [w["id"] for w in listed["items"]] == ["mine"] and listed["nextCursor"] is None
    assert len((await http.get("/api/v1/workspaces", headers=admin)).json()["items"]) == 3
    assert (await http.get("/api/v1/workspaces/mine", headers=mine)).status_code == 200

    # Another workspace and a missing one answer alike.
    for ws in ("theirs", "missing"):
        _not_found(await http.get(f"/api/v1/workspaces/{ws}", headers=mine))
        _not_found(await http.patch(f"/api/v1/workspaces/{ws}", json={"name": "x"}, headers=mine))
        _not_found(await http.delete(f"/api/v1/workspaces/{ws}", headers=mine))
        _not_found(await http.post(f"/api/v1/workspaces/{ws}/scan", headers=mine))
        _not_found(await http.get("/api/v1/contexts", params={"workspaceId": ws}, headers=mine))
        _not_found(await http.get("/api/v1/usage", params={"workspaceId": ws}, headers=mine))
        _not_found(
            await http.get("/api/v1/prompts/history", params={"workspaceId": ws}, headers=mine)
        )
        search = {"query": "anything", "workspaceId": ws}
        _not_found(await http.post("/api/v1/contexts/search", json=search, headers=mine))
        prompt = {"prompt": "What is this?", "workspaceId": ws}
        _not_found(await http.post("/api/v1/prompts/process", json=prompt, headers=mine))
        gate = {"workspaceId": ws}
        _not_found(await http.post("/api/v1/quality-gate/execute", json=gate, headers=mine))
        context = {"workspaceId": ws, "type": "documentation", "content": "x"}
        _not_found(await http.post("/api/v1/contexts", json=context, headers=mine))
    assert await services.store.get_workspace("theirs") is not None  # nothing was deleted
    assert await services.store.get_workspace("missing") is None  # nor auto-created

    # It may create the workspaces it names, and no other; a folder is nobody's.
    await _workspace(http, mine, "later")
    r = await http.post("/api/v1/workspaces", json={"id": "new", "name": "n"}, headers=mine)
    assert r.status_code == 403 and r.json()["error"]["code"] == "WORKSPACE_FORBIDDEN"
    r = await http.post("/api/v1/workspaces", json={"name": "no id"}, headers=mine)
    assert r.status_code == 403
    r = await http.post(
        "/api/v1/quality-gate/execute", json={"workspacePath": "/tmp"}, headers=mine
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "WORKSPACE_FORBIDDEN"


async def test_suggestions_name_only_workspaces_the_key_may_use(secured: Client) -> None:
    http, services = secured
    admin = await _key(services)
    for ws in ("flask", "shop", "shop-eu"):
        await _workspace(http, admin, ws)
    for child in ("work.api", "other.api"):  # two roots' children share a short name
        root = child.partition(".")[0]
        await services.store.create_workspace(
            Workspace(id=child, name=child, type=WorkspaceType.CODING, parent_id=root)
        )
    mine = await _key(services, "shop", "work.api")

    async def message(ws: str, headers: dict[str, str]) -> str:
        # Every route that takes a workspace answers a miss the same way.
        answers = [
            await http.get(f"/api/v1/workspaces/{ws}", headers=headers),
            await http.post(f"/api/v1/workspaces/{ws}/scan", headers=headers),
            await http.get("/api/v1/usage", params={"workspaceId": ws}, headers=headers),
            await http.post(
                "/api/v1/contexts/search", json={"query": "q", "workspaceId": ws}, headers=headers
            ),
            await http.post(
                "/api/v1/prompts/process", json={"prompt": "p", "workspaceId": ws}, headers=headers
            ),
            await http.post(
                "/api/v1/contexts",
                json={"workspaceId": ws, "type": "note", "content": "x"},
                headers=headers,
            ),
            await http.post(
                "/api/v1/quality-gate/execute", json={"workspaceId": ws}, headers=headers
            ),
        ]
        for r in answers:
            _not_found(r)
        messages = {r.json()["error"]["message"] for r in answers}
        assert len(messages) == 1, messages
        details = answers[0].json()["error"]["details"][0]
        assert details.get("suggestions", []) == _suggested(messages.copy().pop())
        return messages.pop()

    # The unrestricted key is told about every look-alike ...
    assert (await message("flsk", admin)).endswith("did you mean 'flask'?")
    assert (await message("shp", admin)).endswith("did you mean 'shop' or 'shop-eu'?")
    assert "'other.api' or 'work.api'" in await message("api", admin)  # ambiguous
    # ... the restricted one only about its own: an existing workspace it may not use
    # is missing to it, and never named.
    assert await message("flsk", mine) == "workspace 'flsk' not found"
    assert await message("shp", mine) == "workspace 'shp' not found; did you mean 'shop'?"
    assert await message("shop-eu", mine) == ("workspace 'shop-eu' not found; did you mean 'shop'?")
    assert await message("flask", mine) == "workspace 'flask' not found"
    assert await message("other.api", mine) == (
        "workspace 'other.api' not found; did you mean 'work.api'?"
    )
    # A short name counts among the key's own workspaces only: here it is unambiguous.
    found = await http.get("/api/v1/workspaces/api", headers=mine)
    assert found.status_code == 200 and found.json()["id"] == "work.api"
    assert await services.store.get_workspace("flsk") is None  # nothing auto-created


def _suggested(message: str) -> list[str]:
    _, _, tail = message.partition("; did you mean ")
    return [s.strip("'") for s in tail.rstrip("?").split(" or ")] if tail else []


async def test_records_of_other_workspaces_are_hidden(secured: Client) -> None:
    http, services = secured
    admin = await _key(services)
    for ws in ("mine", "theirs"):
        await _workspace(http, admin, ws)
    mine = await _key(services, "mine")

    # Interactions (history, show, feedback) of each workspace.
    ids = {}
    for ws in ("mine", "theirs"):
        r = await http.post(
            "/api/v1/prompts/process",
            json={"prompt": f"about {ws}", "workspaceId": ws},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        ids[ws] = r.json()["interactionId"]
    history = (await http.get("/api/v1/prompts/history", headers=mine)).json()
    assert [i["workspaceId"] for i in history["items"]] == ["mine"]
    assert len((await http.get("/api/v1/prompts/history", headers=admin)).json()["items"]) == 2
    assert (await http.get(f"/api/v1/interactions/{ids['mine']}", headers=mine)).status_code == 200
    for path in (f"/api/v1/interactions/{ids['theirs']}",):
        r = await http.get(path, headers=mine)
        assert r.status_code == 404 and r.json()["error"]["code"] == "INTERACTION_NOT_FOUND"
        r = await http.post(f"{path}/feedback", json={"helpful": True}, headers=mine)
        assert r.status_code == 404

    # Jobs and gate runs: of its workspaces only (a job of no workspace is nobody's).
    for job_id, ws, kind in [
        ("job_a", "mine", "index"),
        ("job_b", "theirs", "index"),
        ("job_c", None, "maintenance"),
        ("job_d", "theirs", "quality_gate"),
        ("job_e", "mine", "quality_gate"),
    ]:
        await services.store.create_job(
            Job(id=job_id, kind=kind, state=JobState.SUCCEEDED, workspace_id=ws)
        )
    listed = (await http.get("/api/v1/jobs", params={"limit": 1}, headers=mine)).json()
    assert [j["id"] for j in listed["items"]] == ["job_a"]
    rest = await http.get("/api/v1/jobs", params={"cursor": listed["nextCursor"]}, headers=mine)
    assert [j["id"] for j in rest.json()["items"]] == ["job_e"]
    assert len((await http.get("/api/v1/jobs", headers=admin)).json()["items"]) == 5
    for job_id in ("job_b", "job_c"):
        r = await http.get(f"/api/v1/jobs/{job_id}", headers=mine)
        assert r.status_code == 404 and r.json()["error"]["code"] == "JOB_NOT_FOUND"
    assert (await http.get("/api/v1/quality-gate/runs/job_e", headers=mine)).status_code == 200
    assert (await http.get("/api/v1/quality-gate/runs/job_d", headers=mine)).status_code == 404

    # Contexts: listed, read, changed and deleted in its workspaces only.
    made = {}
    for ws in ("mine", "theirs"):
        body = {"workspaceId": ws, "type": "documentation", "content": f"notes of {ws}"}
        made[ws] = (await http.post("/api/v1/contexts", json=body, headers=admin)).json()["id"]
    listed = (await http.get("/api/v1/contexts", headers=mine)).json()
    assert {c["workspaceId"] for c in listed["items"]} == {"mine"}
    theirs = f"/api/v1/contexts/{made['theirs']}"
    for r in (
        await http.get(theirs, headers=mine),
        await http.patch(theirs, json={"title": "x"}, headers=mine),
        await http.delete(theirs, headers=mine),
    ):
        assert r.status_code == 404 and r.json()["error"]["code"] == "CONTEXT_NOT_FOUND"
    assert await services.store.get_context(made["theirs"]) is not None
    assert (await http.delete(f"/api/v1/contexts/{made['mine']}", headers=mine)).status_code == 204


async def _global(http: httpx.AsyncClient, headers: dict[str, str], ws: str, text: str) -> str:
    body = {"workspaceId": ws, "tier": "global", "type": "decision", "content": text}
    r = await http.post("/api/v1/contexts", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _found(http: httpx.AsyncClient, headers: dict[str, str], ws: str) -> set[str]:
    body = {"query": "zebra naming convention", "workspaceId": ws, "tiers": ["global"]}
    r = await http.post("/api/v1/contexts/search", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return {hit["id"] for hit in r.json()["results"]}


async def test_global_contexts_are_shared_within_a_tenant(secured: Client) -> None:
    http, services = secured
    admin = await _key(services)
    for ws in ("a1", "a2", "b1", "solo"):
        await _workspace(http, admin, ws)
    acme = await _key(services, "a1", tenant="acme")
    acme2 = await _key(services, "a2", tenant="acme")
    beta = await _key(services, "b1", tenant="beta")
    solo = await _key(services, "solo")  # restricted, no tenant

    shared = await _global(http, admin, "a1", "zebra naming convention for everybody")
    acme_only = await _global(http, acme, "a1", "zebra naming convention of acme")
    beta_only = await _global(http, beta, "b1", "zebra naming convention of beta")
    stored = await services.store.get_context(acme_only)
    assert stored is not None and stored.tenant == "acme"

    assert await _found(http, acme2, "a2") == {shared, acme_only}
    assert await _found(http, beta, "b1") == {shared, beta_only}
    assert await _found(http, solo, "solo") == {shared}
    assert await _found(http, admin, "solo") == {shared}  # no tenant: the shared ones
    # Reading one by id follows the same rule; changing it needs its workspace.
    assert (await http.get(f"/api/v1/contexts/{acme_only}", headers=acme2)).status_code == 200
    assert (await http.get(f"/api/v1/contexts/{acme_only}", headers=beta)).status_code == 404
    r = await http.patch(f"/api/v1/contexts/{acme_only}", json={"title": "x"}, headers=acme2)
    assert r.status_code == 403 and r.json()["error"]["code"] == "CONTEXT_FORBIDDEN"
    # A restricted key without a tenant would be writing for every tenant.
    body = {"workspaceId": "solo", "tier": "global", "type": "decision", "content": "x"}
    r = await http.post("/api/v1/contexts", json=body, headers=solo)
    assert r.status_code == 403 and r.json()["error"]["code"] == "TIER_FORBIDDEN"

    # The prompt pipeline retrieves with the caller's view too.
    prompt = {"prompt": "zebra naming convention", "workspaceId": "b1"}
    r = await http.post("/api/v1/prompts/process", json=prompt, headers=beta)
    used = {item["id"] for item in r.json()["context"]["items"]}
    assert beta_only in used and acme_only not in used


async def test_hybrid_contexts_of_a_parent_need_access_to_it(secured: Client) -> None:
    http, services = secured
    admin = await _key(services)
    for ws in ("root", "child"):
        await _workspace(http, admin, ws)
    await services.store.update_workspace("child", {"parent_id": "root"})
    body = {"workspaceId": "root", "tier": "hybrid", "type": "decision", "content": "zebra"}
    parent_note = (await http.post("/api/v1/contexts", json=body, headers=admin)).json()["id"]
    query = {"query": "zebra", "workspaceId": "child", "tiers": ["hybrid"]}

    def ids(r: httpx.Response) -> set[str]:
        return {hit["id"] for hit in r.json()["results"]}

    assert ids(await http.post("/api/v1/contexts/search", json=query, headers=admin)) == {
        parent_note
    }
    child_only = await _key(services, "child")
    assert ids(await http.post("/api/v1/contexts/search", json=query, headers=child_only)) == set()
    both = await _key(services, "child", "root")
    assert ids(await http.post("/api/v1/contexts/search", json=query, headers=both)) == {
        parent_note
    }


async def test_a_restricted_admin_key_has_no_admin_routes(secured: Client) -> None:
    http, services = secured
    record, token = new_api_key("ops", [ApiScope.ADMIN], workspaces=["mine"])
    await services.store.create_api_key(record)
    r = await http.get("/admin/heapdump", headers={"X-API-Key": token})
    assert r.status_code == 403 and "admin routes" in r.json()["error"]["message"]
    unrestricted, admin = new_api_key("root", [ApiScope.ADMIN])
    await services.store.create_api_key(unrestricted)
    r = await http.get("/admin/heapdump", headers={"X-API-Key": admin})
    assert r.status_code == 404  # allowed through; heap dumps are off in tests


def test_the_one_access_check() -> None:
    key, _ = new_api_key("k", [ApiScope.READ], workspaces=["w1"], tenant="t")
    principal = Principal.of(key)
    assert principal.can_access("w1") and not principal.can_access("w2")
    assert not principal.can_access(None)
    assert FULL_ACCESS.can_access("anything") and FULL_ACCESS.can_access(None)
    ensure_access(principal, "w1")
    with pytest.raises(Exception, match="workspace 'w2' not found") as raised:
        ensure_access(principal, "w2", field="id")
    assert raised.value.details == [{"field": "id", "message": "no such workspace"}]  # type: ignore[attr-defined]

    def context(ws: str, tier: Tier, tenant: str | None) -> Context:
        return Context(
            id="c", workspace_id=ws, tier=tier, type=ContextType.DECISION,
            content="x", content_hash="h", tenant=tenant,
        )  # fmt: skip

    assert principal.can_read(context("w1", Tier.WORKSPACE, None))
    assert not principal.can_read(context("w2", Tier.WORKSPACE, None))
    assert principal.can_read(context("w2", Tier.GLOBAL, None))
    assert principal.can_read(context("w2", Tier.GLOBAL, "t"))
    assert not principal.can_read(context("w2", Tier.GLOBAL, "other"))
    # Keys made before restrictions existed are unrestricted.
    old = key.model_copy(update={"workspaces": None, "tenant": None})
    assert Principal.of(old).can_access("w2")


def test_cli_creates_and_lists_restricted_keys(settings: Settings) -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli,
        [
            "keys", "create", "ci", "--scope", "write", "--workspace", "a", "--workspace", "b",
            "--tenant", "acme", "--budget-usd", "2.5", "--rpm", "30", "--json",
        ],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    key = json.loads(created.output)
    assert key["workspaces"] == ["a", "b"] and key["tenant"] == "acme"
    assert key["budgetUsd"] == 2.5 and key["rpm"] == 30 and "keyHash" not in key
    listed = runner.invoke(cli, ["keys", "list", "--json"])
    assert json.loads(listed.output)[0]["workspaces"] == ["a", "b"]
    bad = runner.invoke(cli, ["keys", "create", "x", "--workspace", "../etc"])
    assert bad.exit_code != 0 and "not a valid id" in bad.output
    assert runner.invoke(cli, ["keys", "create", "x", "--rpm", "0"]).exit_code != 0
