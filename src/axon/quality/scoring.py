"""Scores from counts, 0-100 (documented in docs/quality-gate.md).

- tests: the share of tests that passed among those that ran
  (passed / (passed + failed + errored)); skipped tests do not count.
- lint and types: 100 minus 5 per error and 1 per warning, floored at 0.
- A check that failed with nothing counted (a `text` check, whose exit code is
  its whole verdict, or one failing on info-level findings only) scores 0.
- A check that did not run (error, skipped) has no score.
- The gate's score is the mean of its checks' scores, and has none when any
  check errored: a partial picture is not summarised as a number.
"""

from __future__ import annotations

from statistics import fmean

from axon.quality.models import CheckResult, CheckStatus

ERROR_PENALTY = 5.0
WARNING_PENALTY = 1.0


def check_score(result: CheckResult) -> float | None:
    if result.status not in {CheckStatus.PASSED, CheckStatus.FAILED}:
        return None
    if result.tests is not None:
        ran = result.tests.passed + result.tests.failed + result.tests.errored
        return round(100.0 * result.tests.passed / ran, 1) if ran else None
    if result.status is CheckStatus.FAILED and not (result.errors or result.warnings):
        return 0.0
    return max(0.0, 100.0 - ERROR_PENALTY * result.errors - WARNING_PENALTY * result.warnings)


def overall_status(results: list[CheckResult]) -> CheckStatus:
    statuses = {r.status for r in results}
    for status in (CheckStatus.ERROR, CheckStatus.FAILED, CheckStatus.PASSED):
        if status in statuses:
            return status
    return CheckStatus.SKIPPED


def overall_score(results: list[CheckResult]) -> float | None:
    if any(r.status is CheckStatus.ERROR for r in results):
        return None
    scores = [r.score for r in results if r.score is not None]
    return round(fmean(scores), 1) if scores else None
