"""Structured logging: one JSON object (or one text line) per record.

Every record carries the current requestId (a context variable set by the API
middleware and by job runners), and levels are upper-case with WARN for
warnings, so the runbook's `grep ERROR` finds what it should.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from axon.config import LogFormat

request_id_var: ContextVar[str | None] = ContextVar("axon_request_id", default=None)

_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "FATAL"}
# Attributes every LogRecord has; anything else was passed through `extra=`.
# uvicorn adds `color_message`, its message with ANSI colours: never a field of ours.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": _LEVEL_NAMES.get(record.levelname, record.levelname),
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": request_id_var.get(),
        }
        entry.update(_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        level = _LEVEL_NAMES.get(record.levelname, record.levelname)
        extra = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        line = (
            f"{stamp} {level:<5} [{record.name}] requestId: {request_id_var.get() or '-'} "
            f"{record.getMessage()}"
        )
        if extra:
            line += " " + extra
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def resolve_format(fmt: LogFormat | None, stream: TextIO) -> LogFormat:
    """LOG_FORMAT when set; otherwise text for a person at a terminal, JSON for machines."""
    if fmt is not None:
        return fmt
    return LogFormat.TEXT if stream.isatty() else LogFormat.JSON


def configure_logging(level: str, fmt: LogFormat | None, stream: TextIO | None = None) -> None:
    """Log lines to `stream` (default stdout; `axon mcp` keeps stdout for the protocol)."""
    out = stream or sys.stdout
    handler = logging.StreamHandler(out)
    chosen = resolve_format(fmt, out)
    handler.setFormatter(JsonFormatter() if chosen is LogFormat.JSON else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would duplicate our request lines without requestId.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # The openai SDK speaks through httpx2: one INFO line per upstream call otherwise.
    for noisy in ("httpx", "httpcore", "httpx2", "httpcore2", "pymongo", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
