"""A code review gets the workspace's uncommitted changes (`git diff HEAD`) as context,
counted in the context report; other tasks and folders without git do not."""

from __future__ import annotations

from pathlib import Path

import httpx

from axon.indexing import index_workspace
from axon.models import Workspace, WorkspaceType
from axon.pipeline.synthesizer import WORKING_DIFF_ID
from axon.services import Services
from tests.git_repos import SECRET, make_repo

PROCESS = "/api/v1/prompts/process"


async def indexed_workspace(services: Services, root: Path) -> None:
    workspace = await services.store.create_workspace(
        Workspace(id="repo", name="repo", type=WorkspaceType.CODING, path=str(root))
    )
    await index_workspace(services.store, services.search_index, workspace, max_file_bytes=1 << 20)


async def ask(client: httpx.AsyncClient, prompt: str) -> dict:
    response = await client.post(PROCESS, json={"prompt": prompt, "workspaceId": "repo"})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_code_review_gets_the_working_tree_diff(
    client: httpx.AsyncClient, services: Services, tmp_path: Path
) -> None:
    root = make_repo(tmp_path / "repo")
    (root / ".env").write_text(f"TOKEN={SECRET}-rotated\n")  # a tracked secret, changed
    await indexed_workspace(services, root)
    data = await ask(client, "Please review my changes before I merge")
    assert data["analysis"]["taskType"] == "code_review"
    entries = {e["id"]: e for e in data["context"]["report"]["entries"]}
    diff = entries[WORKING_DIFF_ID]
    assert diff["status"] == "included" and diff["origin"] == "workingDiff"
    assert diff["tokens"] > 0 and diff["tokens"] == diff["originalTokens"]
    user = data["prompt"]["messages"][-1]["content"]
    assert "git diff HEAD: uncommitted changes to c.py" in user
    assert "+    return 30" in user and SECRET not in user

    # Not for other tasks.
    data = await ask(client, "Where is gamma defined?")
    assert WORKING_DIFF_ID not in {e["id"] for e in data["context"]["report"]["entries"]}


async def test_a_review_in_a_folder_without_git_has_no_diff(
    client: httpx.AsyncClient, services: Services, tmp_path: Path
) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "a.py").write_text("def alpha():\n    return 1\n")
    await indexed_workspace(services, root)
    data = await ask(client, "Please review my changes before I merge")
    assert data["analysis"]["taskType"] == "code_review"
    assert WORKING_DIFF_ID not in {e["id"] for e in data["context"]["report"]["entries"]}
