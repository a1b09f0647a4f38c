"""ruff `check --output-format json`."""

from __future__ import annotations

from typing import Any

from axon.quality.models import Finding
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, json_document, relative


def parse_ruff(out: ToolOutput) -> Parsed:
    try:
        data: Any = json_document(out.stdout, "[")
    except ValueError:
        return UNRECOGNISED
    if not isinstance(data, list):
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
