"""Biome's `--reporter=github` annotations (its JSON reporter is not yet stable)."""

from __future__ import annotations

import re

from axon.quality.models import Finding, Severity
from axon.quality.parsers._base import Parsed, ToolOutput, as_int, relative

_ANNOTATION = re.compile(r"^::(?P<level>error|warning|notice) (?P<props>[^:]*)::(?P<msg>.*)$")
_LEVELS = {"error": Severity.ERROR, "warning": Severity.WARNING, "notice": Severity.INFO}


def parse_biome(out: ToolOutput) -> Parsed:
    findings: list[Finding] = []
    for line in out.stdout.splitlines():
        match = _ANNOTATION.match(line.strip())
        if match is None:
            continue
        props = dict(part.split("=", 1) for part in match.group("props").split(",") if "=" in part)
        file = props.get("file")
        findings.append(
            Finding(
                file=relative(out.root, file) if file else None,
                line=as_int(props.get("line")),
                column=as_int(props.get("col")),
                rule=props.get("title"),
                severity=_LEVELS[match.group("level")],
                message=match.group("msg"),
            )
        )
    return Parsed(recognised=bool(findings) or out.exit_code == 0, findings=findings)
