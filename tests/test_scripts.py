"""Operations scripts: syntax, shellcheck, the runbook's smoke test against a live
server, and deploy.sh's plan, deployment and rollback (with a stand-in `docker`
command that records what it was asked to do, since no Docker engine runs here)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from axon.config import Settings
from axon.models import ApiScope
from axon.security.keys import new_api_key
from axon.stores.sqlite import SQLiteDocumentStore
from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "scripts").glob("*.sh"))
RUNBOOK = Path("/work/shared/runbook/deployment-runbook.md")


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, **kwargs
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse_and_pass_shellcheck(script: Path) -> None:
    assert os.access(script, os.X_OK), f"{script.name} is not executable"
    assert run(["bash", "-n", str(script)]).returncode == 0
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install -y shellcheck)")
    result = run(["shellcheck", str(script)])
    assert result.returncode == 0, result.stdout


def test_smoke_test_is_the_runbooks_script() -> None:
    if not RUNBOOK.exists():
        pytest.skip("the shared runbook is not available")
    text = RUNBOOK.read_bytes()
    marker = b"**Smoke Test Script** (`scripts/smoke-test.sh`):\n\n```bash\n"
    start = text.index(marker) + len(marker)
    block = text[start : text.index(b"\n```", start)] + b"\n"
    assert (ROOT / "scripts/smoke-test.sh").read_bytes() == block


def test_smoke_test_passes_against_a_live_server(live_server: LiveServer) -> None:
    live_server.wait_until_ready()
    result = run(
        [str(ROOT / "scripts/smoke-test.sh")], env={**os.environ, "API_URL": live_server.url}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All smoke tests passed" in result.stdout


def _add_key(settings: Settings, *scopes: ApiScope) -> str:
    async def add() -> str:
        store = SQLiteDocumentStore(settings.sqlite_path)
        await store.open()
        try:
            record, token = new_api_key("smoke", scopes)
            await store.create_api_key(record)
            return token
        finally:
            await store.close()

    return asyncio.run(add())


def test_smoke_test_with_auth_on_uses_a_curl_config(settings: Settings, tmp_path: Path) -> None:
    """The unchanged script works against an authenticated server: curl reads the key
    from $CURL_HOME/.curlrc (what deploy.sh does with AXON_SMOKE_API_KEY)."""
    secured = settings.model_copy(update={"auth": "on"})
    with LiveServer(secured) as server:
        server.wait_until_ready()
        env = {**os.environ, "API_URL": server.url, "CURL_HOME": str(tmp_path)}
        refused = run([str(ROOT / "scripts/smoke-test.sh")], env=env)
        assert refused.returncode == 1 and "Prompt processing failed" in refused.stdout
        token = _add_key(secured, ApiScope.READ)
        (tmp_path / ".curlrc").write_text(f'header = "X-API-Key: {token}"\n')
        passed = run([str(ROOT / "scripts/smoke-test.sh")], env=env)
        assert passed.returncode == 0, passed.stdout + passed.stderr


def test_build_script_tags_version_and_latest() -> None:
    result = run(
        [str(ROOT / "scripts/build-docker.sh"), "--dry-run"],
        env={**os.environ, "IMAGE_NAME": "registry.example.com/axon-api", "VERSION": "9.9.9"},
    )
    assert result.returncode == 0, result.stderr
    assert "--tag registry.example.com/axon-api:9.9.9" in result.stdout
    assert "--tag registry.example.com/axon-api:latest" in result.stdout


def test_deploy_help_and_argument_errors() -> None:
    deploy = str(ROOT / "scripts/deploy.sh")
    helped = run([deploy, "--help"])
    assert helped.returncode == 0
    for word in ("--method compose|swarm|k8s", "--rollback", "--dry-run", "--yes"):
        assert word in helped.stdout
    unknown = run([deploy, "--method", "compose", "moon"])
    assert unknown.returncode == 1 and "unknown environment" in unknown.stderr
    no_method = run([deploy, "production"])
    assert no_method.returncode == 1 and "--method" in no_method.stderr
    bad_method = run([deploy, "--method", "ftp", "production"])
    assert bad_method.returncode == 1 and "unknown method" in bad_method.stderr


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("compose", ["docker compose -f docker-compose.prod.yml up -d", "smoke-test.sh"]),
        ("swarm", ["docker stack deploy", "smoke-test.sh"]),
        (
            "k8s",
            [
                "kubectl apply -f k8s/configmap.yaml",
                "kubectl set image deployment/axon-api api=axon-api:0.1.0",
                "kubectl rollout status deployment/axon-api",
                "kubectl port-forward service/axon-api 3000:3000",
                "smoke-test.sh",
            ],
        ),
    ],
)
def test_deploy_dry_run_prints_the_plan(method: str, expected: list[str], tmp_path: Path) -> None:
    result = run(
        [str(ROOT / "scripts/deploy.sh"), "--dry-run", "--method", method, "production"],
        env={**os.environ, "DEPLOY_STATE_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    for step in ("1. Validate", "2. Pre-deployment", "3. Deploy", "5. Smoke test"):
        assert step in out
    for text in expected:
        assert text in out, text
    assert not list(tmp_path.iterdir()), "a dry run records nothing"


def _fake_docker(bin_dir: Path, log: Path) -> None:
    """A `docker` that answers `compose version` and logs every call with AXON_VERSION."""
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(
        f'#!/usr/bin/env bash\necho "AXON_VERSION=${{AXON_VERSION:-}} $*" >> "{log}"\nexit 0\n'
    )
    script.chmod(0o755)


def test_deploy_and_rollback_with_compose(live_server: LiveServer, tmp_path: Path) -> None:
    log = tmp_path / "docker.log"
    _fake_docker(tmp_path / "bin", log)
    state = tmp_path / "state"
    env = {
        **os.environ,
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "API_URL": live_server.url,
        "DEPLOY_STATE_DIR": str(state),
        "HEALTH_TIMEOUT": "20",
    }
    deploy = str(ROOT / "scripts/deploy.sh")
    base = [deploy, "--method", "compose", "--yes", "--skip-checks", "production"]

    first = run([*base, "--version", "1.0.0"], env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "All smoke tests passed" in first.stdout
    second = run([*base, "--version", "1.1.0"], env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert (state / "production.version").read_text().strip() == "1.1.0"
    assert (state / "production.previous").read_text().strip() == "1.0.0"

    back = run([deploy, "--rollback", "--yes"], env=env)
    assert back.returncode == 0, back.stdout + back.stderr
    calls = log.read_text().splitlines()
    ups = [c for c in calls if "up -d" in c]
    assert [c.split()[0] for c in ups] == [
        "AXON_VERSION=1.0.0",
        "AXON_VERSION=1.1.0",
        "AXON_VERSION=1.0.0",
    ]
    assert all("-f docker-compose.prod.yml" in c for c in ups)
    assert any("build" in c and "--tag axon-api:1.1.0" in c for c in calls)
    assert (state / "production.version").read_text().strip() == "1.0.0"
    assert (state / "production.previous").read_text().strip() == "1.1.0"


def test_rollback_without_history_refuses(tmp_path: Path) -> None:
    result = run(
        [str(ROOT / "scripts/deploy.sh"), "--rollback", "--method", "compose", "--yes"],
        env={**os.environ, "DEPLOY_STATE_DIR": str(tmp_path)},
    )
    assert result.returncode == 1 and "no previous version recorded" in result.stderr


def test_rollback_with_nothing_deployed_says_so(tmp_path: Path) -> None:
    """No method given and no deployment recorded: there is nothing to roll back."""
    result = run(
        [str(ROOT / "scripts/deploy.sh"), "--rollback"],
        env={**os.environ, "DEPLOY_STATE_DIR": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "nothing to roll back" in result.stderr and "--method is required" not in result.stderr
    assert str(tmp_path) in result.stderr


def test_k8s_rollback_plan_uses_rollout_undo(tmp_path: Path) -> None:
    result = run(
        [str(ROOT / "scripts/deploy.sh"), "--rollback", "--method", "k8s", "--dry-run"],
        env={**os.environ, "DEPLOY_STATE_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert "kubectl rollout undo deployment/axon-api" in result.stdout


def test_quickstart_uses_the_default_data_folder_of_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quickstart indexes and serves with Axon's default data folder, so the next
    `axon search --workspace test-workspace` in another shell finds the index. Run in a
    copy of the repository whose .venv holds stand-ins that record what they were asked."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts/quickstart.sh", repo / "scripts/quickstart.sh")
    bin_dir = repo / ".venv/bin"
    bin_dir.mkdir(parents=True)
    record = tmp_path / "calls.log"
    (bin_dir / "activate").write_text(f'PATH="{bin_dir}:$PATH"\n')
    (bin_dir / "python").write_text("#!/bin/sh\nexit 0\n")  # pip installs: nothing to do
    (bin_dir / "axon").write_text(
        f'#!/bin/sh\necho "AXON_DATA_DIR=${{AXON_DATA_DIR-unset}} $*" >> "{record}"\n'
    )
    for stub in ("python", "axon"):
        (bin_dir / stub).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("AXON_DATA_DIR", "XDG_DATA_HOME")}
    result = run(["bash", str(repo / "scripts/quickstart.sh")], env={**env, "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    calls = record.read_text().splitlines()
    assert calls == [
        f"AXON_DATA_DIR=unset index {repo} --workspace test-workspace --no-wait-embeddings",
        "AXON_DATA_DIR=unset serve",
    ]
    # ... which is where the CLI and the server look when nothing is set: XDG's data home.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("AXON_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert Settings().data_dir == tmp_path / ".local/share/axon"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert Settings().data_dir == tmp_path / "data/axon"
