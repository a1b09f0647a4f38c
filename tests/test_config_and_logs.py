"""Settings from the environment and the structured log format."""

from __future__ import annotations

import json
import logging

import pytest

from axon.config import LogFormat, SettingsError, load_settings
from axon.logs import JsonFormatter, TextFormatter, request_id_var


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
