"""ESLint `--format json`."""

from __future__ import annotations

from typing import Any

from axon.quality.models import Finding, Severity
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, json_document, relative


def parse_eslint(out: ToolOutput) -> Parsed:
    try:
        data: Any = json_document(out.stdout, "[")
    except ValueError:
        return UNRECOGNISED
    if not isinstance(data, list):
        return UNRECOGNISED
    findings = []
    for file in data:
        path = relative(out.root, str(file.get("filePath") or "")) or None
        for message in file.get("messages") or []:
            findings.append(
                Finding(
                    file=path,
                    line=message.get("line"),
                    column=message.get("column"),
                    rule=message.get("ruleId") or ("parse-error" if message.get("fatal") else None),
                    severity=Severity.ERROR if message.get("severity") == 2 else Severity.WARNING,
                    message=str(message.get("message", "")),
                )
            )
    return Parsed(recognised=True, findings=findings)
