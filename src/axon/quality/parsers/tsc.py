"""tsc's `--pretty false` diagnostics: `file(line,col): error TS1234: message`."""

from __future__ import annotations

import re

from axon.quality.models import Finding, Severity
from axon.quality.parsers._base import Parsed, ToolOutput, relative

_LOCATED = re.compile(
    r"^(?P<file>.+?)\((?P<line>\d+),(?P<col>\d+)\): "
    r"(?P<sev>error|warning) (?P<code>TS\d+): (?P<msg>.*)$"
)
_GLOBAL = re.compile(r"^(?P<sev>error|warning) (?P<code>TS\d+): (?P<msg>.*)$")  # config problems


def parse_tsc(out: ToolOutput) -> Parsed:
    findings: list[Finding] = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if match := _LOCATED.match(line):
            findings.append(
                Finding(
                    file=relative(out.root, match.group("file")),
                    line=int(match.group("line")),
                    column=int(match.group("col")),
                    rule=match.group("code"),
                    severity=Severity(match.group("sev")),
                    message=match.group("msg"),
                )
            )
        elif match := _GLOBAL.match(line):
            findings.append(
                Finding(
                    rule=match.group("code"),
                    severity=Severity(match.group("sev")),
                    message=match.group("msg"),
                )
            )
    return Parsed(recognised=bool(findings) or out.exit_code == 0, findings=findings)
