"""What a gate run plans, runs and reports.

`CheckSpec` is one planned subprocess; `CheckResult` and `GateResult` are what
the API, the CLI and the job record carry (camelCase on the wire).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pydantic import Field

from axon.kinds import CheckKind as CheckKind
from axon.models import CamelModel, UtcDatetime


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the tool could not run or its verdict could not be read
    SKIPPED = "skipped"  # not applicable to this workspace


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass
class CheckSpec:
    """One check to run: an argument vector and the parser that reads its output.

    `report` is a file the tool writes its machine-readable report to (pytest's
    JUnit XML, jest's JSON); it lives in a private temp folder, never in the
    workspace. A spec with `problem` set is not run: it becomes an `error` result.
    """

    kind: CheckKind
    tool: str
    argv: list[str]
    parser: str
    timeout: float
    report: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    interpreter: str | None = None  # the Python it runs with and why that one, for messages

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.tool}"


class CaseCounts(CamelModel):
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errored: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped + self.errored


class CaseFailure(CamelModel):
    name: str
    message: str = ""
    file: str | None = None
    line: int | None = None
    errored: bool = False  # an error outside the assertion (fixture, import, crash)


class Finding(CamelModel):
    """One lint finding or type error."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    rule: str | None = None
    severity: Severity = Severity.ERROR
    message: str


class CheckResult(CamelModel):
    id: str
    kind: CheckKind
    tool: str
    command: list[str]
    status: CheckStatus
    reason: str | None = None
    exit_code: int | None = None
    duration_ms: float = 0.0
    tests: CaseCounts | None = None
    failures: list[CaseFailure] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    errors: int = 0  # error-severity findings, all of them (the lists below are capped)
    warnings: int = 0
    dropped: int = 0  # failures or findings beyond the per-check cap
    coverage: float | None = None
    score: float | None = None
    output: str = ""  # tail of the combined output, for people
    output_truncated: bool = False


class PythonUsed(CamelModel):
    """The interpreter the Python checks ran with, and how it was chosen."""

    path: str
    chosen: str


class GateResult(CamelModel):
    run_id: str
    workspace_id: str | None = None
    path: str
    status: CheckStatus
    score: float | None = None
    checks: list[CheckResult]
    started_at: UtcDatetime
    finished_at: UtcDatetime
    duration_ms: float
    python: PythonUsed | None = None
    context_ids: list[str] = Field(default_factory=list)
