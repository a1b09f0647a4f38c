"""Settings from the environment and the structured log format."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

from axon.config import LogFormat, SettingsError, load_settings
from axon.logs import JsonFormatter, TextFormatter, configure_logging, request_id_var
from tests.fakes.llm_server import FakeLLMServer
from tests.servers import free_port


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "LOG_LEVEL", "MAX_TOKEN_LIMIT", "MONGODB_URI", "NODE_ENV", "AXON_ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.port == 3000
    assert settings.max_token_limit == 8000
    assert settings.log_level == "INFO"
    assert settings.mongodb_uri is None


def test_runbook_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NODE_ENV", "production")
    monkeypatch.setenv("LOG_LEVEL", "warn")
    monkeypatch.setenv("MONGODB_URI", "")
    monkeypatch.setenv("LOG_FORMAT", "TEXT")
    settings = load_settings()
    assert settings.is_production and settings.log_level == "WARNING"
    assert settings.mongodb_uri is None and settings.log_format is LogFormat.TEXT


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "loud"),
        ("MONGODB_URI", "http://x"),
        ("REDIS_URL", "localhost:6379"),
        ("MAX_TOKEN_LIMIT", "-1"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert name in str(info.value)


def _record(level: int, msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("axon.test", level, __file__, 1, msg, None, None)
    record.__dict__.update(extra)
    return record


def test_json_log_lines_carry_request_id_and_upper_levels() -> None:
    token = request_id_var.set("req-42")
    try:
        line = JsonFormatter().format(_record(logging.WARNING, "careful", status=503))
        text = TextFormatter().format(_record(logging.ERROR, "boom"))
    finally:
        request_id_var.reset(token)
    entry = json.loads(line)
    assert entry["level"] == "WARN" and entry["requestId"] == "req-42" and entry["status"] == 503
    assert " ERROR " in text and "requestId: req-42" in text


def _serve_start_lines(tmp_path: Path, env: dict[str, str], *, tty: bool) -> str:
    """Start the real `axon serve` and return what it printed up to "Uvicorn running"."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "MONGODB_URI")}
    env = {
        **clean,
        "AXON_DATA_DIR": str(tmp_path / "data"),
        "AXON_EMBEDDER": "none",
        "PORT": str(port),
        **env,
    }
    argv = [sys.executable, "-c", "from axon.cli import main; main()", "serve"]
    if tty:
        leader, follower = pty.openpty()
        proc = subprocess.Popen(argv, env=env, stdout=follower, stderr=follower)
        os.close(follower)
        reader = os.fdopen(leader, "rb", buffering=0)
    else:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        reader = proc.stdout
    out = b""
    try:
        deadline = time.monotonic() + 60
        while b"Uvicorn running" not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([reader], [], [], 1.0)
            if not ready:  # nothing yet: check the deadline again
                continue
            try:
                chunk = os.read(reader.fileno(), 4096)
            except OSError:  # a pty reports EIO once the child has gone
                break
            if not chunk:
                break
            out += chunk
    finally:
        proc.terminate()
        proc.wait(15)
        reader.close()
    text = out.decode("utf-8", "replace")
    assert "Uvicorn running" in text, text
    return text


def test_server_logs_default_to_text_on_a_terminal_json_otherwise(tmp_path: Path) -> None:
    on_tty = _serve_start_lines(tmp_path, {}, tty=True)
    assert "\x1b[" not in on_tty and "color_message" not in on_tty
    assert re.search(r"INFO  \[uvicorn\.error\] requestId: - Uvicorn running", on_tty), on_tty
    piped = _serve_start_lines(tmp_path, {}, tty=False)
    lines = [json.loads(line) for line in piped.splitlines() if line.startswith("{")]
    assert any(entry["message"].startswith("Uvicorn running") for entry in lines), piped
    assert all("color_message" not in entry for entry in lines)


def test_text_logs_carry_no_ansi_codes_when_piped(tmp_path: Path) -> None:
    text = _serve_start_lines(tmp_path, {"LOG_FORMAT": "text"}, tty=False)
    assert "\x1b[" not in text and "color_message" not in text
    assert "Uvicorn running on http://127.0.0.1:" in text
    # The data folder is named at start, so a "not found" later is easy to place.
    assert f"[axon.serve] requestId: - data folder {tmp_path / 'data'}" in text


def test_the_runbooks_errors_by_logger_pipeline_counts_logger_names() -> None:
    """docs/runbook.md's "by logger name" line, run on real text log lines as
    `docker-compose logs api` shows them (with its service prefix)."""
    runbook = (Path(__file__).resolve().parents[1] / "docs/runbook.md").read_text()
    (line,) = [x for x in runbook.splitlines() if "by logger name" in x]
    pipeline = line.split("#")[0].split("|", 1)[1]  # what follows `docker-compose logs api`
    lines = []
    for name, level in [
        ("axon.api", logging.ERROR),
        ("axon.api", logging.ERROR),
        ("axon.jobs", logging.ERROR),
        ("axon.api", logging.INFO),
    ]:
        token = request_id_var.set("req-7f3a")
        try:
            record = logging.LogRecord(name, level, __file__, 1, "failed [x]", None, None)
            lines.append("api-1  | " + TextFormatter().format(record))
        finally:
            request_id_var.reset(token)
    result = subprocess.run(
        ["bash", "-c", pipeline], input="\n".join(lines) + "\n", capture_output=True, text=True
    )
    counts = sorted(" ".join(row.split()) for row in result.stdout.splitlines())
    assert counts == ["1 ERROR [axon.jobs]", "2 ERROR [axon.api]"], result.stdout


async def test_upstream_http_clients_log_no_line_per_request_at_info(
    fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    quiet = ("httpx", "httpcore", "httpx2", "httpcore2")
    for name in quiet:
        monkeypatch.setattr(logging.getLogger(name), "level", logging.getLogger(name).level)
    out = io.StringIO()
    configure_logging("INFO", LogFormat.JSON, out)
    client = openai.AsyncOpenAI(base_url=f"{fake.url}/v1", api_key="sk-test", max_retries=0)
    try:
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    finally:
        await client.close()
    logging.getLogger("axon.test").info("our own line")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["our own line"], lines
