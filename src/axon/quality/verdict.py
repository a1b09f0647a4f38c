"""A check's status from what its process did and what its parser read.

The rule: `passed` needs the tool to have run to completion and its result to
have been read; whatever the gate could not establish is `error`, never
`passed`.
"""

from __future__ import annotations

import re

from axon.quality.models import CheckKind, CheckSpec, CheckStatus, Severity
from axon.quality.parsers import Parsed
from axon.quality.run import ProcessOutcome

_SHELL_NOT_FOUND = {126, 127}  # a script's shell could not find or run its command
_PYTEST_ERRORS = {2: "interrupted", 3: "internal error", 4: "usage error"}
_PYTEST_NO_TESTS = 5
_NO_MODULE = re.compile(r"No module named ['\"]?([\w.]+)")


def decide(
    spec: CheckSpec, outcome: ProcessOutcome, parsed: Parsed
) -> tuple[CheckStatus, str | None]:
    code = outcome.exit_code
    if outcome.start_error:
        return CheckStatus.ERROR, outcome.start_error
    if outcome.timed_out:
        return CheckStatus.ERROR, f"timed out after {spec.timeout:g}s; its process group was killed"
    if code is None or code < 0:
        return CheckStatus.ERROR, f"killed by signal {-(code or 0)}"
    if not parsed.recognised:
        return _unread(spec, outcome)
    if spec.kind is CheckKind.TESTS:
        return _tests(spec, code, parsed)
    return _findings(code, parsed)


def _unread(spec: CheckSpec, outcome: ProcessOutcome) -> tuple[CheckStatus, str | None]:
    code = outcome.exit_code
    if spec.parser == "text":
        # A command Axon does not know: its exit code is the only verdict there is.
        if code in _SHELL_NOT_FOUND:
            return CheckStatus.ERROR, f"the command could not be run (exit code {code})"
        return (
            (CheckStatus.PASSED, None) if code == 0 else (CheckStatus.FAILED, f"exit code {code}")
        )
    if missing := _NO_MODULE.search(outcome.stderr + outcome.stdout):
        python = spec.interpreter or "the interpreter it ran with"
        return CheckStatus.ERROR, (
            f"{missing.group(1)} is not installed for {python}; install it there, or name "
            "the project's interpreter as python in .axon/quality-gate.toml"
        )
    if spec.tool == "pytest" and code == _PYTEST_NO_TESTS:
        return CheckStatus.SKIPPED, "no tests were collected"
    cut = "; the output was cut at the size limit" if outcome.truncated else ""
    return (
        CheckStatus.ERROR,
        f"{spec.tool} exited with code {code} and its result could not be read{cut}",
    )


def _tests(spec: CheckSpec, code: int, parsed: Parsed) -> tuple[CheckStatus, str | None]:
    counts = parsed.tests
    assert counts is not None
    if counts.failed or counts.errored:
        return CheckStatus.FAILED, f"{counts.failed} failed, {counts.errored} errored"
    if spec.tool == "pytest" and code in _PYTEST_ERRORS:
        return CheckStatus.ERROR, f"pytest {_PYTEST_ERRORS[code]} (exit code {code})"
    if code != 0 and code != _PYTEST_NO_TESTS:
        return CheckStatus.ERROR, f"exit code {code} although no test failed"
    if counts.passed == 0:
        return CheckStatus.SKIPPED, "no tests ran"
    return CheckStatus.PASSED, None


def _findings(code: int, parsed: Parsed) -> tuple[CheckStatus, str | None]:
    errors = sum(1 for f in parsed.findings if f.severity is Severity.ERROR)
    if errors or (code != 0 and parsed.findings):
        return (
            CheckStatus.FAILED,
            f"{errors} errors, {len(parsed.findings) - errors} other findings",
        )
    if code != 0:
        return CheckStatus.ERROR, f"exit code {code} without any finding (a configuration problem?)"
    return CheckStatus.PASSED, None
