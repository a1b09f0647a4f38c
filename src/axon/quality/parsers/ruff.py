"""ruff `check --output-format json`."""

from __future__ import annotations

from axon.quality.models import Finding
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, json_list, relative


def parse_ruff(out: ToolOutput) -> Parsed:
    data = json_list(out.stdout)
    if data is None:
        return UNRECOGNISED
    findings = []
    for item in data:
        location = item.get("location") or {}
        findings.append(
            Finding(
                file=relative(out.root, str(item.get("filename") or "")) or None,
                line=location.get("row"),
                column=location.get("column"),
                rule=item.get("code") or "syntax-error",
                message=str(item.get("message", "")),
            )
        )
    return Parsed(recognised=True, findings=findings)
