"""The gate's sandbox: a check sees neither Axon's processes, its secrets, its network
nor its files; without a sandbox nothing runs unless the operator opts out; whatever a
check prints is redacted of Axon's secrets; a gate run's output needs the write scope."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from axon.api.app import create_app
from axon.config import Settings
from axon.models import ApiScope, Job, JobState, new_id
from axon.quality.access import GateTarget
from axon.quality.models import CheckKind, CheckResult, CheckStatus
from axon.quality.service import JOB_KIND, run_gate
from axon.security.keys import new_api_key
from axon.services import Services, build_services
from tests.quality_projects import write

SECRET = "sk-sandbox-SECRET-7171"
# The reproduction: a check printing its parent's environment.
PARENT_ENVIRON = "import os; print(open(f'/proc/{os.getppid()}/environ').read())"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"openai_api_key": SECRET})


def project_running(root: Path, code: str) -> Path:
    command = json.dumps([sys.executable, "-c", code])
    return write(root, {".axon/quality-gate.toml": f"[tests]\ncommand = {command}\n"})


async def run_check(settings: Settings, services: Services, project: Path) -> CheckResult:
    target = GateTarget(project, None)
    result = await run_gate(settings, services.store, None, target, [CheckKind.TESTS], "run")
    [check] = result.checks
    return check


async def test_a_check_cannot_read_the_servers_environment(
    settings: Settings, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # in this (the server's) process environment
    check = await run_check(settings, services, project_running(tmp_path / "p", PARENT_ENVIRON))
    assert SECRET not in (check.output or "")
    survey = (
        "import json, os\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "seen = []\n"
        "for pid in pids:\n"
        "    try:\n"
        "        seen.append(open(f'/proc/{pid}/environ', 'rb').read().decode('latin-1'))\n"
        "    except OSError:\n"
        "        pass\n"
        "print(json.dumps({'pids': pids, 'environ': seen}))\n"
    )
    check = await run_check(settings, services, project_running(tmp_path / "q", survey))
    assert check.status is CheckStatus.PASSED, check
    seen = json.loads(check.output or "")
    assert os.getpid() not in seen["pids"]  # its own pid namespace: Axon is not there
    assert len(seen["pids"]) <= 3  # bwrap's init, the check and nothing else
    assert SECRET not in json.dumps(seen["environ"])


def _listener() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


async def test_no_network_unless_the_operator_allows_it(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    with _listener() as server:
        port = server.getsockname()[1]
        code = (
            f"import socket; socket.create_connection(('127.0.0.1', {port}), 2); print('CONNECTED')"
        )
        project = project_running(tmp_path / "net", code)
        offline = await run_check(settings, services, project)
        assert offline.status is CheckStatus.FAILED
        assert "CONNECTED" not in (offline.output or "")  # its own, empty network namespace
        online = await run_check(
            settings.model_copy(update={"gate_network": True}), services, project
        )
        assert online.status is CheckStatus.PASSED, online
        assert (online.output or "").strip() == "CONNECTED"


async def test_only_the_workspace_and_a_private_tmp_are_writable(
    settings: Settings, services: Services, tmp_path: Path, data_dir: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    code = (
        "import json, os, pathlib\n"
        "def write(path):\n"
        "    try:\n"
        "        pathlib.Path(path).write_text('x')\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
        "print(json.dumps({\n"
        "    'workspace': write('mine.txt'), 'tmp': write('/tmp/scratch'),\n"
        f"    'outside': write({str(outside / 'theirs.txt')!r}),\n"
        "    'usr': write('/usr/axon-was-here'),\n"
        f"    'data_dir_visible': os.path.exists({str(data_dir)!r}),\n"
        "}))\n"
    )
    project = project_running(tmp_path / "w", code)
    check = await run_check(settings, services, project)
    assert check.status is CheckStatus.PASSED, check
    assert json.loads(check.output or "") == {
        "workspace": True,
        "tmp": True,
        "outside": False,
        "usr": False,
        "data_dir_visible": False,
    }
    assert (project / "mine.txt").read_text() == "x"
    assert not (outside / "theirs.txt").exists()


async def test_without_a_sandbox_checks_are_refused(
    settings: Settings,
    services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no bwrap to be found
    project = project_running(tmp_path / "p", "open('ran', 'w').write('yes')")
    check = await run_check(settings, services, project)
    assert check.status is CheckStatus.ERROR
    assert check.reason is not None
    assert "bubblewrap" in check.reason and "AXON_GATE_SANDBOX=off" in check.reason
    assert not (project / "ran").exists()


async def test_the_operator_can_opt_out_of_the_sandbox(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    code = "import os; print(os.getppid() in [int(p) for p in os.listdir('/proc') if p.isdigit()])"
    off = settings.model_copy(update={"gate_sandbox": "off"})
    check = await run_check(off, services, project_running(tmp_path / "p", code))
    assert check.status is CheckStatus.PASSED, check
    assert (check.output or "").strip() == "True"  # unsandboxed: the host's processes


async def test_check_output_is_redacted_of_the_servers_secrets(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    uri = "mongodb://axon:pw-hunter22@db.internal:27017/axon"
    secrets = {"SECRET": SECRET, "URI": uri, "PASSWORD": "pw-hunter22"}
    # A check can know a secret without reading it from Axon (it is in the repository).
    code = f"import sys; print({secrets!r}); print('{SECRET}', file=sys.stderr)"
    project = project_running(tmp_path / "p", code)
    keyed = settings.model_copy(update={"mongodb_uri": uri})
    check = await run_check(keyed, services, project)
    output = check.output or ""
    assert "[redacted]" in output
    for value in (SECRET, "pw-hunter22", "axon:pw"):
        assert value not in output


@pytest.fixture
async def secured(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    services = await build_services(settings.model_copy(update={"auth": "on"}))
    transport = httpx.ASGITransport(app=create_app(services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            yield http, services
    finally:
        await services.close()


async def _token(services: Services, scope: ApiScope) -> dict[str, str]:
    record, token = new_api_key(str(scope), [scope])
    await services.store.create_api_key(record)
    return {"authorization": f"Bearer {token}"}


async def test_a_read_key_cannot_read_a_gate_runs_output(
    secured: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = secured
    job = Job(
        id=new_id("job"),
        kind=JOB_KIND,
        state=JobState.SUCCEEDED,
        result={"checks": [{"output": "what the check printed"}]},
        progress={"checks": {"tests:python": "passed"}},
    )
    await services.store.create_job(job)
    read_key = await _token(services, ApiScope.READ)
    write_key = await _token(services, ApiScope.WRITE)
    for path in (f"/api/v1/quality-gate/runs/{job.id}", f"/api/v1/jobs/{job.id}"):
        refused = await http.get(path, headers=read_key)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        allowed = await http.get(path, headers=write_key)
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["result"] == job.result
    listed: dict[str, Any] = (await http.get("/api/v1/jobs", headers=read_key)).json()
    [item] = [i for i in listed["items"] if i["id"] == job.id]
    assert item["result"] is None and item["progress"] == {}
    listed = (await http.get("/api/v1/jobs", headers=write_key)).json()
    [item] = [i for i in listed["items"] if i["id"] == job.id]
    assert item["result"] == job.result
