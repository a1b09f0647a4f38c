"""pyright `--outputjson`."""

from __future__ import annotations

from typing import Any

from axon.quality.models import Finding, Severity
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, json_document, relative

_SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING}


def parse_pyright(out: ToolOutput) -> Parsed:
    try:
        data: Any = json_document(out.stdout, "{")
    except ValueError:
        return UNRECOGNISED
    if not isinstance(data, dict) or "generalDiagnostics" not in data:
        return UNRECOGNISED
    findings = []
    for item in data["generalDiagnostics"]:
        start = (item.get("range") or {}).get("start") or {}
        line, column = start.get("line"), start.get("character")
        findings.append(
            Finding(
                file=relative(out.root, str(item.get("file") or "")) or None,
                line=line + 1 if isinstance(line, int) else None,  # pyright counts from 0
                column=column + 1 if isinstance(column, int) else None,
                rule=item.get("rule"),
                severity=_SEVERITY.get(str(item.get("severity")), Severity.INFO),
                message=str(item.get("message", "")),
            )
        )
    return Parsed(recognised=True, findings=findings)
