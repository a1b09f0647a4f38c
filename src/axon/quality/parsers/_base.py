"""What every parser gets and returns, and the small helpers they share."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axon.quality.models import CaseCounts, CaseFailure, Finding

MESSAGE_CHARS = 4000  # one failure's message; the full output stays in the check's tail


@dataclass(frozen=True)
class ToolOutput:
    stdout: str
    stderr: str
    exit_code: int | None
    root: Path
    report: str | None = None  # the report file's text, when the tool wrote one


@dataclass
class Parsed:
    """`recognised` is False when the output could not be read as the tool's result."""

    recognised: bool
    tests: CaseCounts | None = None
    failures: list[CaseFailure] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


UNRECOGNISED = Parsed(recognised=False)


def clip(text: str, limit: int = MESSAGE_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def relative(root: Path, path: str) -> str:
    """Workspace-relative POSIX path when `path` is inside the workspace."""
    candidate = Path(path)
    if not candidate.is_absolute():
        return candidate.as_posix()
    try:
        return (
            Path(os.path.relpath(candidate, root)).as_posix()
            if candidate.is_relative_to(root)
            else path
        )
    except ValueError:
        return path


def json_document(text: str, opener: str) -> Any:
    """The JSON document starting at the first line that begins with `opener`.

    Package-manager banners and warnings can precede a reporter's JSON.
    """
    start = 0 if text.lstrip().startswith(opener) else text.find("\n" + opener)
    if start < 0:
        raise ValueError("no JSON document in the output")
    return json.loads(text[start:])


def json_list(text: str) -> list[Any] | None:
    """The JSON array a linter reports (one entry per file or finding), or None when
    the output holds none: the parser then answers UNRECOGNISED."""
    try:
        data: Any = json_document(text, "[")
    except ValueError:
        return None
    return data if isinstance(data, list) else None


def json_lines(text: str, key: str) -> Iterator[dict[str, Any]]:
    """The JSON objects among `text`'s lines that carry `key` (a tool's event stream);
    other lines (progress, plain text, broken JSON) are skipped."""
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event: Any = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and key in event:
            yield event


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
