"""Cargo: JSON compiler messages (`--message-format=json`) and the test harness's text."""

from __future__ import annotations

import re

from axon.quality.models import CaseCounts, CaseFailure, Finding, Severity
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, clip, json_lines

_TEST_LINE = re.compile(r"^test (\S+) \.\.\. (ok|FAILED|ignored)")
_RESULT = re.compile(
    r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored; (\d+) measured"
)
_LEVELS = {"error": Severity.ERROR, "warning": Severity.WARNING}


def compiler_findings(stdout: str) -> tuple[list[Finding], bool]:
    """Diagnostics from cargo's JSON messages, and whether any JSON message was seen."""
    findings: list[Finding] = []
    seen = False
    for event in json_lines(stdout, "reason"):
        seen = True
        message = event.get("message") if event["reason"] == "compiler-message" else None
        if not isinstance(message, dict) or message.get("level") not in _LEVELS:
            continue
        spans = [s for s in message.get("spans") or [] if s.get("is_primary")]
        if not spans:
            continue  # "aborting due to ..." and "N warnings emitted" summaries
        span = spans[0]
        code = message.get("code") or {}
        findings.append(
            Finding(
                file=span.get("file_name"),
                line=span.get("line_start"),
                column=span.get("column_start"),
                rule=code.get("code"),
                severity=_LEVELS[message["level"]],
                message=clip(str(message.get("message", ""))),
            )
        )
    return findings, seen


def parse_clippy(out: ToolOutput) -> Parsed:
    findings, seen = compiler_findings(out.stdout)
    return Parsed(recognised=seen, findings=findings) if seen else UNRECOGNISED


def parse_cargo_test(out: ToolOutput) -> Parsed:
    findings, _ = compiler_findings(out.stdout)
    lines = out.stdout.splitlines()
    counts = CaseCounts()
    totals_seen = False
    failed_names: list[str] = []
    for line in lines:
        if match := _RESULT.match(line):
            totals_seen = True
            counts.passed += int(match.group(1))
            counts.failed += int(match.group(2))
            counts.skipped += int(match.group(3))
        elif (match := _TEST_LINE.match(line)) and match.group(2) == "FAILED":
            failed_names.append(match.group(1))
    compile_errors = [f for f in findings if f.severity is Severity.ERROR]
    failures = [CaseFailure(name=n, message=_captured(lines, n)) for n in failed_names]
    for error in compile_errors:
        counts.errored += 1
        failures.append(
            CaseFailure(
                name=f"compile {error.file}:{error.line}",
                message=error.message,
                file=error.file,
                line=error.line,
                errored=True,
            )
        )
    if not totals_seen and not compile_errors:
        return UNRECOGNISED
    return Parsed(recognised=True, tests=counts, failures=failures)


def _captured(lines: list[str], name: str) -> str:
    # The harness prints "---- name stdout ----" followed by the panic message.
    header = f"---- {name} stdout ----"
    if header not in lines:
        return ""
    body: list[str] = []
    for line in lines[lines.index(header) + 1 :]:
        if line.startswith("---- ") or (line in {"failures:", ""} and body):
            break
        body.append(line)
    return clip("\n".join(body))
