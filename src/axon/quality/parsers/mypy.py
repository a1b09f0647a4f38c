"""mypy: `-O json` lines where the installed version offers them, else its text format."""

from __future__ import annotations

import json
import re
from typing import Any

from axon.quality.models import Finding, Severity
from axon.quality.parsers._base import Parsed, ToolOutput, relative

_TEXT = re.compile(
    r"^(?P<file>[^:\s][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<sev>error|warning|note): "
    r"(?P<msg>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
_VERDICT = re.compile(r"^(Success: no issues found|Found \d+ errors? in \d+ files?)", re.M)
_SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING}


def parse_mypy_json(out: ToolOutput) -> Parsed:
    findings: list[Finding] = []
    seen = False
    for line in out.stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            item: Any = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict) or "severity" not in item:
            continue
        seen = True
        if item["severity"] == "note":
            continue  # notes explain the error before them; the hint is folded in below
        message = str(item.get("message", ""))
        if item.get("hint"):
            message += f"\n{item['hint']}"
        findings.append(
            Finding(
                file=relative(out.root, str(item.get("file") or "")) or None,
                line=item.get("line"),
                column=item["column"] + 1 if isinstance(item.get("column"), int) else None,
                rule=item.get("code"),
                severity=_SEVERITY.get(item["severity"], Severity.INFO),
                message=message,
            )
        )
    # A clean JSON run prints nothing at all: trust silence only with exit 0.
    return Parsed(
        recognised=seen or (out.exit_code == 0 and not out.stdout.strip()), findings=findings
    )


def parse_mypy_text(out: ToolOutput) -> Parsed:
    findings: list[Finding] = []
    for line in out.stdout.splitlines():
        match = _TEXT.match(line)
        if match is None or match.group("sev") == "note":
            continue
        findings.append(
            Finding(
                file=relative(out.root, match.group("file")),
                line=int(match.group("line")),
                column=int(match.group("col")) if match.group("col") else None,
                rule=match.group("code"),
                severity=_SEVERITY[match.group("sev")],
                message=match.group("msg"),
            )
        )
    recognised = bool(findings) or bool(_VERDICT.search(out.stdout))
    return Parsed(recognised=recognised, findings=findings)
