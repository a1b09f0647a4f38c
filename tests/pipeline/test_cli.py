"""`axon ask` and `axon context PROMPT` through the real CLI entry point."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from axon.cli import app
from axon.config import Settings
from tests.servers import free_port


@pytest.fixture
def auto_create_workspaces() -> str:
    # The workspaces these tests send prompts to without indexing them first.
    return "cli,ask-ws,test-workspace,slow"


runner = CliRunner()


def test_context_build_prints_json_without_storing(settings: Settings) -> None:
    result = runner.invoke(
        app, ["context", "Fix load_config", "--workspace", "cli", "--budget", "500", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["analysis"]["taskType"] == "bug_fix"
    assert data["context"]["report"]["budget"] == 500
    assert data["prompt"]["messages"][-1]["content"] == "Fix load_config"
    too_small = runner.invoke(app, ["context", "build", "hi", "-w", "cli", "--budget", "5"])
    assert too_small.exit_code == 1 and "budget" in too_small.output


def test_ask_context_only_prints_the_enriched_prompt(settings: Settings) -> None:
    result = runner.invoke(
        app, ["ask", "Explain the retry loop", "--workspace", "ask-ws", "--show-context"]
    )
    assert result.exit_code == 0, result.output
    assert "Context: 0/" in result.stdout  # the report table
    assert "[user]\nExplain the retry loop" in result.stdout
    assert "context-only" in result.stderr


def test_ask_with_ollama_unreachable_names_the_url(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("OLLAMA_BASE_URL", url)
    result = runner.invoke(
        app, ["ask", "Explain the retry loop", "-w", "test-workspace", "--model", "ollama:llama3.2"]
    )
    assert result.exit_code == 1, result.output
    assert f"cannot reach Ollama at {url}" in result.stderr
    assert "broke off" not in result.stderr  # nothing was answered, so nothing broke off


def test_a_failed_retrieval_is_an_error_unless_allowed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No search answers within a microsecond: retrieval times out for real.
    monkeypatch.setenv("AXON_RETRIEVAL_TIMEOUT_SECONDS", "0.000001")
    failed = runner.invoke(app, ["context", "explain beat()", "-w", "slow", "--json"])
    assert failed.exit_code == 1, failed.output
    assert "retrieval failed (timed out); no context" in failed.stderr
    assert "--allow-degraded" in failed.stderr and failed.stdout == ""
    asked = runner.invoke(app, ["ask", "explain beat()", "-w", "slow"])
    assert asked.exit_code == 1 and "retrieval failed (timed out)" in asked.stderr
    allowed = runner.invoke(
        app, ["context", "explain beat()", "-w", "slow", "--json", "--allow-degraded"]
    )
    assert allowed.exit_code == 0, allowed.output
    assert "warning: retrieval failed (timed out)" in allowed.stderr
    assert [d["stage"] for d in json.loads(allowed.stdout)["degraded"]] == ["retrieve"]
    monkeypatch.setenv("AXON_RETRIEVAL_TIMEOUT_SECONDS", "30")
    fine = runner.invoke(app, ["context", "explain beat()", "-w", "slow", "--json"])
    assert fine.exit_code == 0 and json.loads(fine.stdout)["degraded"] == []
