"""Workspace names a person types: a mistyped or mis-cased id is a 404 that suggests
the closest registered ones (API and CLI), names the data folder on the CLI, and never
creates a workspace or calls a model; only AXON_AUTO_CREATE_WORKSPACES ids are created."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from typer.testing import CliRunner

from axon.cli import app
from axon.config import Settings, SettingsError, load_settings
from axon.models import Workspace, WorkspaceType
from axon.services import Services, build_services
from axon.workspaces import suggest_ids

PROCESS = "/api/v1/prompts/process"


async def _register(services: Services, *ids: str) -> None:
    for workspace_id in ids:
        workspace = Workspace(id=workspace_id, name=workspace_id, type=WorkspaceType.CODING)
        await services.store.create_workspace(workspace)


def test_suggestions_prefer_a_case_match_then_look_alikes() -> None:
    ids = ["flask", "requests", "sphinx", "work.api", "Flask-Login"]
    assert suggest_ids("Flask", ids)[0] == "flask"
    assert suggest_ids("flsk", ids)[0] == "flask"
    assert suggest_ids("request", ids) == ["requests"]
    assert suggest_ids("ap", ids) == ["work.api"]  # a child by its short name
    assert suggest_ids("zzzz", ids) == []


@pytest.mark.parametrize("typed", ["flsk", "Flask"])
async def test_a_prompt_for_an_unknown_workspace_is_a_404_with_suggestions(
    client: httpx.AsyncClient, services: Services, typed: str
) -> None:
    await _register(services, "flask", "sphinx")
    response = await client.post(PROCESS, json={"prompt": "hi", "workspaceId": typed})
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["code"] == "WORKSPACE_NOT_FOUND"
    assert error["message"] == f"workspace '{typed}' not found; did you mean 'flask'?"
    assert error["details"][0]["suggestions"] == ["flask"]
    assert await services.store.get_workspace(typed) is None  # nothing was created
    page = await services.store.list_interactions(typed, 10)
    assert page.items == []  # and nothing was answered


async def test_every_workspace_route_suggests(
    client: httpx.AsyncClient, services: Services
) -> None:
    await _register(services, "flask")
    answers = [
        await client.get("/api/v1/workspaces/flsk"),
        await client.patch("/api/v1/workspaces/flsk", json={"name": "x"}),
        await client.delete("/api/v1/workspaces/flsk"),
        await client.post(
            "/api/v1/contexts/search", json={"query": "blueprints", "workspaceId": "flsk"}
        ),
        await client.post(
            "/api/v1/contexts",
            json={"workspaceId": "flsk", "type": "documentation", "content": "x"},
        ),
        await client.post("/api/v1/workspaces/flsk/scan"),
    ]
    for response in answers:
        assert response.status_code == 404, (response.request.url, response.text)
        assert "did you mean 'flask'?" in response.json()["error"]["message"]


async def test_only_listed_ids_are_created_on_first_use(
    client: httpx.AsyncClient, services: Services
) -> None:
    # The runbook's smoke test workspace is listed by default.
    created = await client.post(PROCESS, json={"prompt": "hi", "workspaceId": "test-workspace"})
    assert created.status_code == 200, created.text
    assert await services.store.get_workspace("test-workspace") is not None
    other = await client.post(PROCESS, json={"prompt": "hi", "workspaceId": "scratch"})
    assert other.status_code == 404


def test_auto_create_setting_lists_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AXON_AUTO_CREATE_WORKSPACES", "test-workspace, scratch")
    assert load_settings().auto_create_ids == {"test-workspace", "scratch"}
    monkeypatch.setenv("AXON_AUTO_CREATE_WORKSPACES", "false")
    assert load_settings().auto_create_ids == frozenset()
    for bad in ("true", "not an id"):
        monkeypatch.setenv("AXON_AUTO_CREATE_WORKSPACES", bad)
        with pytest.raises(SettingsError, match="AXON_AUTO_CREATE_WORKSPACES"):
            load_settings()


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "where are blueprints registered", "-w", "flsk"],
        ["search", "where are blueprints registered", "-w", "flsk"],
        ["context", "where are blueprints registered", "-w", "flsk"],
        ["search", "blueprints", "-w", "Flask"],
    ],
)
def test_cli_suggests_and_names_the_data_folder(settings: Settings, argv: list[str]) -> None:
    async def seed() -> None:
        services = await build_services(settings)
        try:
            await _register(services, "flask")
        finally:
            await services.close()

    asyncio.run(seed())
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 1, result.output
    typed = argv[-1]
    assert result.stderr.strip() == (
        f"error: workspace '{typed}' not found; did you mean 'flask'? (workspaceId) "
        f"[data folder {settings.data_dir}]"
    )
