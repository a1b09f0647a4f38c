"""Jest's JSON report (`--json --outputFile`)."""

from __future__ import annotations

from typing import Any

from axon.quality.models import CaseCounts, CaseFailure
from axon.quality.parsers._base import (
    UNRECOGNISED,
    Parsed,
    ToolOutput,
    as_int,
    clip,
    json_document,
    relative,
)


def parse_jest(out: ToolOutput) -> Parsed:
    try:
        data: Any = json_document(out.report or out.stdout, "{")
    except ValueError:
        return UNRECOGNISED
    if not isinstance(data, dict) or "numTotalTests" not in data:
        return UNRECOGNISED
    failures: list[CaseFailure] = []
    errored = 0
    for suite in data.get("testResults") or []:
        file = relative(out.root, str(suite.get("name") or "")) or None
        cases = suite.get("assertionResults") or []
        for case in cases:
            if case.get("status") == "failed":
                location = case.get("location") or {}
                failures.append(
                    CaseFailure(
                        name=str(case.get("fullName") or case.get("title") or "?"),
                        message=clip("\n".join(case.get("failureMessages") or [])),
                        file=file,
                        line=as_int(location.get("line")),
                    )
                )
        if suite.get("status") == "failed" and not cases:
            # A suite that failed to load (syntax error, missing module) has no cases.
            errored += 1
            failures.append(
                CaseFailure(
                    name=file or "test suite",
                    message=clip(str(suite.get("message") or "")),
                    file=file,
                    errored=True,
                )
            )
    counts = CaseCounts(
        passed=int(data.get("numPassedTests") or 0),
        failed=int(data.get("numFailedTests") or 0),
        skipped=int(data.get("numPendingTests") or 0) + int(data.get("numTodoTests") or 0),
        errored=errored,
    )
    return Parsed(recognised=True, tests=counts, failures=failures)
