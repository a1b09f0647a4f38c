"""The quality gate end to end: fixture projects gated through the API, the job
queue, real subprocesses (pytest, ruff, mypy, node) and the SQLite store."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
import venv
from pathlib import Path
from typing import Any

import httpx
import pytest

from axon.config import Settings
from tests.quality_projects import (
    PYPROJECT,
    hanging_project,
    node_project,
    python_project,
    write,
)
from tests.test_api_foundation import assert_error

SECRET = "sk-axon-test-SECRET-4242"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    return settings.model_copy(
        update={
            "gate_allowed_roots": str(allowed),
            "workspace_roots": str(tmp_path),
            "openai_api_key": SECRET,
            "gate_wait_seconds": 60,
        }
    )


@pytest.fixture
def allowed(settings: Settings) -> Path:
    return Path(settings.gate_allowed_roots)


async def register(client: httpx.AsyncClient, path: Path, workspace_id: str) -> None:
    resp = await client.post(
        "/api/v1/workspaces", json={"id": workspace_id, "name": workspace_id, "path": str(path)}
    )
    assert resp.status_code == 201, resp.text


async def gate(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    resp = await client.post("/api/v1/quality-gate/execute", json={"wait": True, **body})
    assert resp.status_code == 200, resp.text
    run = resp.json()
    assert run["state"] == "succeeded", run
    result: dict[str, Any] = run["result"]
    return result


def check(result: dict[str, Any], check_id: str) -> dict[str, Any]:
    found = [c for c in result["checks"] if c["id"] == check_id]
    assert found, [c["id"] for c in result["checks"]]
    return found[0]


async def error_contexts(client: httpx.AsyncClient, workspace_id: str) -> list[dict[str, Any]]:
    resp = await client.get(
        "/api/v1/contexts", params={"workspaceId": workspace_id, "type": "error", "limit": 200}
    )
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def search_ids(client: httpx.AsyncClient, workspace_id: str, query: str) -> list[str]:
    resp = await client.post(
        "/api/v1/contexts/search",
        json={"query": query, "workspaceId": workspace_id, "types": ["error"]},
    )
    assert resp.status_code == 200, resp.text
    return [hit["id"] for hit in resp.json()["results"]]


async def test_failing_python_project(client: httpx.AsyncClient, tmp_path: Path) -> None:
    project = python_project(tmp_path / "calc", broken=True)
    await register(client, project, "calc")
    result = await gate(client, workspaceId="calc")

    assert result["status"] == "failed"
    assert result["workspaceId"] == "calc"
    tests = check(result, "tests:pytest")
    assert tests["status"] == "failed"
    assert tests["tests"] == {"passed": 1, "failed": 1, "skipped": 0, "errored": 0}
    [failure] = tests["failures"]
    assert failure["name"] == "tests/test_calc.py::test_sub"
    assert failure["file"] == "tests/test_calc.py"
    assert "assert 4 == 2" in failure["message"]
    assert tests["score"] == 50.0

    lint = check(result, "lint:ruff")
    assert lint["status"] == "failed"
    [finding] = lint["findings"]
    assert (finding["rule"], finding["file"], finding["line"]) == ("F401", "calc.py", 1)
    assert check(result, "types:mypy")["status"] == "passed"

    # Failures became error contexts in the workspace, carrying the failing output.
    contexts = await error_contexts(client, "calc")
    assert sorted(c["id"] for c in contexts) == sorted(result["contextIds"])
    by_title = {c["title"]: c for c in contexts}
    test_context = by_title["Failing test tests/test_calc.py::test_sub"]
    assert "assert 4 == 2" in test_context["content"]
    assert test_context["path"] == "tests/test_calc.py"
    assert "F401" in by_title["ruff lint findings in calc.py"]["content"]
    # ... and are indexed: a later question about the failure retrieves its output.
    assert test_context["id"] in await search_ids(client, "calc", "why does test_sub fail?")

    # Fix the test; the next run replaces the previous run's contexts.
    calc = project / "calc.py"
    calc.write_text(
        calc.read_text()
        .replace("return a + b\n", "return a - b\n")
        .replace("return a - b\n", "return a + b\n", 1)
    )
    second = await gate(client, workspaceId="calc", checks=["tests", "lint"])
    assert check(second, "tests:pytest")["status"] == "passed"
    assert check(second, "lint:ruff")["status"] == "failed"
    titles = sorted(c["title"] for c in await error_contexts(client, "calc"))
    assert titles == ["ruff lint findings in calc.py"]
    assert test_context["id"] not in await search_ids(client, "calc", "why does test_sub fail?")


async def test_clean_project_passes(client: httpx.AsyncClient, allowed: Path) -> None:
    project = python_project(allowed / "clean", broken=False)
    result = await gate(client, workspacePath=str(project))
    assert result["status"] == "passed", result
    assert {c["id"]: c["status"] for c in result["checks"]} == {
        "tests:pytest": "passed",
        "lint:ruff": "passed",
        "types:mypy": "passed",
    }
    assert check(result, "tests:pytest")["tests"]["passed"] == 2
    assert result["score"] == 100.0
    assert result["workspaceId"] is None and result["contextIds"] == []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's bookkeeping is left


def _processes_in(folder: Path) -> list[int]:
    """Live host processes working in `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                continue
            if cwd == folder.resolve() and _alive(int(entry.name)):
                found.append(int(entry.name))
    return found


async def test_hanging_tests_time_out_and_the_process_tree_is_killed(
    client: httpx.AsyncClient, allowed: Path
) -> None:
    project = hanging_project(allowed / "hang", timeout=10)
    started = time.monotonic()
    result = await gate(client, workspacePath=str(project), checks=["tests"])
    assert time.monotonic() - started < 45
    tests = check(result, "tests:pytest")
    assert tests["status"] == "error"
    assert "timed out after 10s" in tests["reason"]
    assert tests["score"] is None
    assert result["status"] == "error" and result["score"] is None

    pids = [int(p) for p in (project / "pids.txt").read_text().split()]
    assert len(pids) == 3  # pytest, its child and the grandchild all started
    # Their pids are the sandbox's own: look for them on the host by their folder.
    for _ in range(50):
        if not _processes_in(project):
            break
        await asyncio.sleep(0.1)
    assert not _processes_in(project)


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ("python = [", "not valid TOML"),
        ("[tests]\ncommand = 42\n", "tests.command: must be a list of strings or a string"),
        ('[lint]\nparser = "bogus"\ncommand = ["ruff"]\n', "lint.parser: unknown parser 'bogus'"),
        ("colour = 'blue'\n", "colour: unknown key"),
        ("[types]\ntimeout = -1\n", "types.timeout: must be a positive number"),
        ('python = "/no/such/python"\n', "python: /no/such/python does not exist"),
        ("# " + "x" * 70_000 + "\n", "larger than 65536 bytes"),
    ],
)
async def test_broken_config_is_an_error_not_a_pass(
    client: httpx.AsyncClient, allowed: Path, config: str, complaint: str
) -> None:
    project = python_project(allowed / "broken", broken=False)
    (project / ".axon" / "quality-gate.toml").write_text(config)
    result = await gate(client, workspacePath=str(project))
    assert result["status"] == "error"
    assert [c["status"] for c in result["checks"]] == ["error", "error", "error"]
    for item in result["checks"]:
        assert complaint in item["reason"], item["reason"]


async def test_a_pinned_command_that_does_not_exist_is_an_error(
    client: httpx.AsyncClient, allowed: Path
) -> None:
    project = python_project(
        allowed / "pinned", broken=False, config_extra='[lint]\ncommand = ["no-such-linter-x"]\n'
    )
    result = await gate(client, workspacePath=str(project), checks=["lint"])
    [lint] = result["checks"]
    assert lint["status"] == "error" and "command not found: no-such-linter-x" in lint["reason"]
    assert result["status"] == "error"


async def test_pinned_unittest_and_mypy_text_format(
    client: httpx.AsyncClient, allowed: Path
) -> None:
    # Pinned commands: unittest's text runner and mypy without -O json are parsed too.
    project = python_project(
        allowed / "pins",
        broken=True,
        config_extra=(
            '[tests]\ncommand = ["python", "-m", "unittest", "discover", "-s", "tests"]\n'
            '[types]\ncommand = ["mypy", "--strict", "calc.py", "tests"]\n'
        ),
    )
    (project / "tests" / "__init__.py").write_text("")
    (project / "tests" / "test_calc.py").write_text(
        "import unittest\n\nfrom calc import add, sub\n\n\n"
        "class CalcTest(unittest.TestCase):\n"
        "    def test_add(self) -> None:\n        self.assertEqual(add(1, 2), 3)\n\n"
        "    def test_sub(self) -> None:\n        self.assertEqual(sub(3, 1), 2)\n\n"
        "    def test_types(self) -> None:\n        x: int = 'no'\n        self.assertTrue(x)\n"
    )
    result = await gate(client, workspacePath=str(project), checks=["tests", "types"])
    tests = check(result, "tests:unittest")
    assert tests["status"] == "failed"
    assert tests["tests"] == {"passed": 2, "failed": 1, "skipped": 0, "errored": 0}
    assert tests["failures"][0]["name"] == "test_calc.CalcTest.test_sub"
    types = check(result, "types:mypy")
    assert types["status"] == "failed"
    [finding] = types["findings"]
    assert (finding["file"], finding["rule"]) == ("tests/test_calc.py", "assignment")


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None, reason="no node")
async def test_javascript_project(client: httpx.AsyncClient, allowed: Path) -> None:
    project = node_project(allowed / "js")
    result = await gate(client, workspacePath=str(project))
    tests = check(result, "tests:node-test")
    assert tests["status"] == "failed", tests
    assert tests["tests"] == {"passed": 1, "failed": 1, "skipped": 1, "errored": 0}
    [failure] = tests["failures"]
    assert failure["name"] == "breaks"
    assert failure["file"] == "test/math.test.js" and failure["line"] == 4
    # No linter or type checker configured: skipped, and the gate is not "passed".
    assert check(result, "lint")["status"] == "skipped"
    assert check(result, "types")["status"] == "skipped"
    assert result["status"] == "failed"


async def test_a_project_with_nothing_to_check_is_skipped(
    client: httpx.AsyncClient, allowed: Path
) -> None:
    project = write(allowed / "notes", {"README.md": "# notes\n"})
    result = await gate(client, workspacePath=str(project))
    assert result["status"] == "skipped"
    assert {c["status"] for c in result["checks"]} == {"skipped"}
    assert result["score"] is None


async def test_tools_see_no_secret(
    client: httpx.AsyncClient, allowed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = "import json, os; json.dump(dict(os.environ), open('env.json', 'w'))"
    command = json.dumps([sys.executable, "-c", dump])
    project = write(allowed / "env", {".axon/quality-gate.toml": f"[tests]\ncommand = {command}\n"})
    planted = {
        "OPENAI_API_KEY": SECRET,
        "ANTHROPIC_API_KEY": "sk-ant-planted",
        "MONGODB_URI": "mongodb://user:hunter2@db/axon",
        "REDIS_URL": "redis://:hunter2@cache:6379",
        "GITHUB_TOKEN": "ghp_planted",
        "DEPLOY_SECRET": "planted-secret",
        "DB_PASSWORD": "hunter2",
        "AXON_ADMIN_KEY": "planted-admin",
        "XDG_CONFIG_HOME": f"/tmp/{SECRET}",  # allow-listed name, secret value
        "LANG": "C.UTF-8",
    }
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    result = await gate(client, workspacePath=str(project), checks=["tests"])
    assert check(result, "tests:python")["status"] == "passed", result
    env: dict[str, str] = json.loads((project / "env.json").read_text())
    for name in planted:
        if name != "LANG":
            assert name not in env, name
    blob = json.dumps(env)
    for secret in (SECRET, "hunter2", "planted", "ghp_"):
        assert secret not in blob
    assert env["LANG"] == "C.UTF-8" and env["CI"] == "true" and "PATH" in env


async def test_access_rules(client: httpx.AsyncClient, allowed: Path, tmp_path: Path) -> None:
    outside = python_project(tmp_path / "outside", broken=False)
    (allowed / "link").symlink_to(outside)
    for path in (
        str(outside),  # not registered, not under an allowed root
        f"{allowed}/../outside",  # `..` escape
        str(allowed / "link"),  # symlink escape
        "/etc",
    ):
        resp = await client.post("/api/v1/quality-gate/execute", json={"workspacePath": path})
        assert_error(resp, 403, "PATH_NOT_ALLOWED", "workspacePath")
    missing = await client.post(
        "/api/v1/quality-gate/execute", json={"workspacePath": str(allowed / "nope")}
    )
    assert_error(missing, 422, "VALIDATION_ERROR", "workspacePath")
    for body in (
        {"workspacePath": "relative/dir"},
        {},
        {"workspaceId": "a", "workspacePath": str(allowed)},
        {"workspacePath": str(allowed), "checks": ["style"]},
        {"workspacePath": str(allowed), "checks": []},
        {"workspacePath": str(allowed), "shell": "rm -rf /"},
    ):
        resp = await client.post("/api/v1/quality-gate/execute", json=body)
        assert_error(resp, 422, "VALIDATION_ERROR")
    resp = await client.post("/api/v1/quality-gate/execute", json={"workspaceId": "nope"})
    assert_error(resp, 404, "WORKSPACE_NOT_FOUND", "workspaceId")
    resp = await client.get("/api/v1/quality-gate/runs/job_doesnotexist")
    assert_error(resp, 404, "RUN_NOT_FOUND")
    # Registering the outside folder is what makes it gateable.
    await register(client, outside, "outside")
    result = await gate(client, workspacePath=str(outside), checks=["lint"])
    assert result["workspaceId"] == "outside" and result["status"] == "passed"


async def test_runs_as_a_job(client: httpx.AsyncClient, allowed: Path) -> None:
    project = python_project(allowed / "job", broken=True)
    resp = await client.post(
        "/api/v1/quality-gate/execute", json={"workspacePath": str(project), "checks": ["lint"]}
    )
    assert resp.status_code == 202, resp.text
    run_id = resp.json()["jobId"]
    assert resp.headers["location"] == f"/api/v1/quality-gate/runs/{run_id}"
    for _ in range(200):
        run = (await client.get(f"/api/v1/quality-gate/runs/{run_id}")).json()
        if run["state"] == "succeeded":
            break
        await asyncio.sleep(0.05)
    assert run["state"] == "succeeded", run
    assert run["result"]["runId"] == run_id
    assert run["result"]["status"] == "failed"
    assert run["progress"]["checks"] == {"lint:ruff": "failed"}
    job = (await client.get(f"/api/v1/jobs/{run_id}")).json()
    assert job["kind"] == "quality_gate"


async def test_a_missing_tool_names_the_interpreter_and_why(
    client: httpx.AsyncClient, allowed: Path
) -> None:
    """A project whose own .venv lacks pytest: the error says which Python ran it."""
    project = write(
        allowed / "calc",
        {"pyproject.toml": PYPROJECT, "tests/test_calc.py": "def test_ok():\n    pass\n"},
    )
    await asyncio.to_thread(venv.create, project / ".venv", with_pip=False)
    result = await gate(client, workspacePath=str(project), checks=["tests"])
    tests = check(result, "tests:pytest")
    python = project / ".venv" / "bin" / "python"
    assert tests["status"] == "error"
    assert tests["reason"].startswith(
        f"pytest is not installed for {python} (the workspace's .venv); install it there"
    ), tests["reason"]
    assert result["python"] == {"path": str(python), "chosen": "the workspace's .venv"}
