"""`file:line[:col]: message` lines: flake8's default format and `go vet`."""

from __future__ import annotations

import re

from axon.quality.models import Finding
from axon.quality.parsers._base import Parsed, ToolOutput, relative

_LINE = re.compile(r"^(?P<file>[^:\s][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)?\s+(?P<msg>.+)$")
_CODE = re.compile(r"^(?P<code>[A-Z]+\d+)\s+(?P<msg>.*)$")  # flake8: "E501 line too long"


def parse_lines(out: ToolOutput) -> Parsed:
    findings: list[Finding] = []
    for line in (out.stdout + "\n" + out.stderr).splitlines():
        match = _LINE.match(line.strip())
        if match is None:
            continue
        message, rule = match.group("msg"), None
        if code := _CODE.match(message):
            rule, message = code.group("code"), code.group("msg")
        findings.append(
            Finding(
                file=relative(out.root, match.group("file")),
                line=int(match.group("line")),
                column=int(match.group("col")) if match.group("col") else None,
                rule=rule,
                message=message,
            )
        )
    # Silence with exit 0 is a clean result; anything else must have produced findings.
    return Parsed(recognised=bool(findings) or out.exit_code == 0, findings=findings)
