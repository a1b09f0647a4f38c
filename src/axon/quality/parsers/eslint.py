"""ESLint `--format json`."""

from __future__ import annotations

from axon.quality.models import Finding, Severity
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, json_list, relative


def parse_eslint(out: ToolOutput) -> Parsed:
    data = json_list(out.stdout)
    if data is None:
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
