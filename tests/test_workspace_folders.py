"""Workspace folders given over the API: absolute, resolved, inside AXON_WORKSPACE_ROOTS,
never a system folder; registering never widens what the quality gate may run."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from axon.config import Settings
from axon.folders import is_system_folder
from axon.models import Workspace, WorkspaceType
from axon.services import Services
from tests.test_api_foundation import assert_error


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "roots" / "code"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def settings(settings: Settings, root: Path) -> Settings:
    return settings.model_copy(update={"workspace_roots": str(root)})


async def _create(client: httpx.AsyncClient, path: str, wid: str = "w") -> httpx.Response:
    return await client.post("/api/v1/workspaces", json={"id": wid, "name": wid, "path": path})


async def test_folders_outside_the_roots_are_refused(
    client: httpx.AsyncClient, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "escape").symlink_to("/etc")
    for path in (
        "/etc",
        "/",
        "/proc/self",
        str(outside),
        f"{root}/../../elsewhere",
        f"{root}/escape",
    ):
        assert_error(await _create(client, path), 403, "PATH_NOT_ALLOWED", "path")
    for path in ("relative/dir", "../../", "."):
        assert_error(await _create(client, path), 422, "VALIDATION_ERROR", "path")
    assert (await client.get("/api/v1/workspaces")).json()["items"] == []


async def test_a_folder_inside_the_roots_is_stored_resolved(
    client: httpx.AsyncClient, root: Path
) -> None:
    (root / "real").mkdir()
    (root / "alias").symlink_to(root / "real")
    created = await _create(client, f"{root}/alias/../alias")
    assert created.status_code == 201, created.text
    assert created.json()["path"] == str((root / "real").resolve())
    # PATCH is held to the same rule.
    patched = await client.patch("/api/v1/workspaces/w", json={"path": "/etc"})
    assert_error(patched, 403, "PATH_NOT_ALLOWED", "path")
    assert (await client.get("/api/v1/workspaces/w")).json()["path"] == str(root / "real")
    assert_error(
        await client.patch("/api/v1/workspaces/w", json={"path": "rel"}), 422, "VALIDATION_ERROR"
    )


async def test_system_folders_are_refused_even_when_the_roots_include_them(
    settings: Settings, services: Services, client: httpx.AsyncClient
) -> None:
    services.settings = settings.model_copy(update={"workspace_roots": "/"})
    for path in ("/etc", "/usr/lib", "/var/log", "/sys", "/dev", "/boot", "/"):
        assert_error(await _create(client, path), 403, "PATH_NOT_ALLOWED", "path")
    assert is_system_folder(Path("/etc/ssh")) and not is_system_folder(Path.home() / "code")


def test_default_roots_are_the_home_embedded_and_none_in_production(settings: Settings) -> None:
    unset = settings.model_copy(update={"workspace_roots": None})
    assert unset.workspace_roots_list == [str(Path.home())]
    assert unset.model_copy(update={"env": "production"}).workspace_roots_list == []
    assert unset.model_copy(update={"mongodb_uri": "mongodb://db/axon"}).workspace_roots_list == []
    assert settings.model_copy(update={"workspace_roots": "/a, /b"}).workspace_roots_list == [
        "/a",
        "/b",
    ]


async def test_production_without_roots_names_the_variable(
    settings: Settings, services: Services, client: httpx.AsyncClient, root: Path
) -> None:
    services.settings = settings.model_copy(update={"workspace_roots": None, "env": "production"})
    resp = await _create(client, str(root))
    assert_error(resp, 403, "PATH_NOT_ALLOWED", "path")
    assert "AXON_WORKSPACE_ROOTS" in resp.json()["error"]["message"]
    # A workspace without a folder needs no root.
    bare = await client.post("/api/v1/workspaces", json={"id": "bare", "name": "bare"})
    assert bare.status_code == 201, bare.text


async def test_a_folder_registered_outside_the_roots_is_neither_scanned_nor_gated(
    services: Services, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    # Registered past the API (by the local CLI, or before the roots were set).
    outside = tmp_path / "cli-project"
    outside.mkdir()
    await services.store.create_workspace(
        Workspace(id="cli", name="cli", type=WorkspaceType.CODING, path=str(outside))
    )
    assert_error(await client.post("/api/v1/workspaces/cli/scan"), 403, "PATH_NOT_ALLOWED", "path")
    for body in ({"workspaceId": "cli"}, {"workspacePath": str(outside)}):
        resp = await client.post("/api/v1/quality-gate/execute", json=body)
        assert resp.status_code == 403, resp.text
        assert resp.json()["error"]["code"] == "PATH_NOT_ALLOWED"
