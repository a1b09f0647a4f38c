"""The gate's process limits: output caps, concurrency, the total time limit, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from axon.config import Settings
from axon.models import new_id
from axon.quality.access import GateTarget
from axon.quality.models import CheckKind, CheckStatus
from axon.quality.run import run_process
from axon.quality.service import run_gate
from axon.services import Services
from tests.quality_projects import hanging_project, python_project, write


async def test_output_is_capped_without_blocking_the_tool(tmp_path: Path) -> None:
    code = "import sys; sys.stdout.write('x' * 3_000_000); sys.stderr.write('y' * 10)"
    outcome = await run_process([sys.executable, "-c", code], tmp_path, {}, 30, 4096)
    assert outcome.exit_code == 0
    assert outcome.stdout == "x" * 4096 and outcome.stderr == "y" * 10
    assert outcome.truncated


async def test_missing_binary_is_reported(tmp_path: Path) -> None:
    outcome = await run_process(["/no/such/tool"], tmp_path, {}, 30, 4096)
    assert outcome.exit_code is None and outcome.start_error == "command not found: /no/such/tool"


def _timed_command(name: str) -> list[str]:
    code = (
        "import time, sys\n"
        f"open('{name}.log', 'w').write(f'{{time.time()}}\\n')\n"
        "time.sleep(0.6)\n"
        f"open('{name}.log', 'a').write(f'{{time.time()}}\\n')\n"
    )
    return [sys.executable, "-c", code]


async def test_concurrency_limit(services: Services, tmp_path: Path) -> None:
    config = "".join(
        f"[{kind}]\ncommand = {json.dumps(_timed_command(kind))}\n" for kind in ("tests", "lint")
    )
    project = write(tmp_path / "slow", {".axon/quality-gate.toml": config})

    async def spans(limit: int) -> list[tuple[float, float]]:
        settings = services.settings.model_copy(update={"gate_concurrency": limit})
        target = GateTarget(project, None)
        kinds = [CheckKind.TESTS, CheckKind.LINT]
        result = await run_gate(settings, services.store, None, target, kinds, new_id("gate"))
        assert [c.status for c in result.checks] == [CheckStatus.PASSED, CheckStatus.PASSED]
        pairs = []
        for kind in ("tests", "lint"):
            start, end = (project / f"{kind}.log").read_text().split()
            pairs.append((float(start), float(end)))
        return sorted(pairs)

    first, second = await spans(1)
    assert second[0] >= first[1]  # one at a time
    first, second = await spans(2)
    assert second[0] < first[1]  # side by side


async def test_total_time_limit(services: Services, tmp_path: Path) -> None:
    project = hanging_project(tmp_path / "hang", timeout=60)
    settings: Settings = services.settings.model_copy(update={"gate_total_timeout": 2.0})
    result = await run_gate(
        settings, services.store, None, GateTarget(project, None), [CheckKind.TESTS], "run"
    )
    [tests] = result.checks
    assert tests.status is CheckStatus.ERROR
    assert tests.reason is not None and "gate's 2s limit" in tests.reason
    assert result.status is CheckStatus.ERROR


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY", "MONGODB_URI"}}
    env |= {"AXON_DATA_DIR": str(data_dir), "REDIS_URL": "", "QDRANT_URL": ""}
    axon = Path(sys.executable).parent / "axon"
    return subprocess.run(
        [str(axon), "gate", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_exit_codes(tmp_path: Path, data_dir: Path) -> None:
    failing = python_project(tmp_path / "failing", broken=True)
    done = _cli(str(failing), "--check", "lint", "--json", data_dir=data_dir)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "failed"
    assert result["checks"][0]["findings"][0]["rule"] == "F401"

    clean = python_project(tmp_path / "clean", broken=False)
    done = _cli(str(clean), "-c", "tests", data_dir=data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gate passed" in done.stdout and "tests:pytest" in done.stdout

    (clean / ".axon" / "quality-gate.toml").write_text("[tests]\ncommand = 1\n")
    done = _cli(str(clean), "-c", "tests", data_dir=data_dir)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "gate error" in done.stdout

    empty = write(tmp_path / "empty", {"notes.md": "hi\n"})
    assert _cli(str(empty), data_dir=data_dir).returncode == 4


async def test_a_failed_text_check_scores_zero_and_a_passed_one_100(
    services: Services, tmp_path: Path
) -> None:
    # A command Axon has no parser for: its exit code is the whole verdict.
    config = (
        '[lint]\ncommand = ["python3", "-c", "raise SystemExit(3)"]\n'
        '[types]\ncommand = ["python3", "-c", "pass"]\n'
    )
    project = write(tmp_path / "text", {".axon/quality-gate.toml": config, "a.py": "x = 1\n"})
    kinds = [CheckKind.LINT, CheckKind.TYPES]
    result = await run_gate(
        services.settings, services.store, None, GateTarget(project, None), kinds, "run"
    )
    lint, types = result.checks
    assert (lint.status, lint.score) == (CheckStatus.FAILED, 0.0)
    assert (types.status, types.score) == (CheckStatus.PASSED, 100.0)
    assert result.score == 50.0
