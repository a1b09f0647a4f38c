"""Python's unittest text runner (`python -m unittest`), which has no report format."""

from __future__ import annotations

import re

from axon.quality.models import CaseCounts, CaseFailure
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, clip

_RAN = re.compile(r"^Ran (\d+) tests? in ", re.M)
_VERDICT = re.compile(r"^(OK|FAILED)(?: \((.*)\))?\s*$", re.M)
_HEADER = re.compile(r"^(FAIL|ERROR): (\S+) \((.+?)\)")


def parse_unittest(out: ToolOutput) -> Parsed:
    text = out.stderr + "\n" + out.stdout  # the runner reports on stderr
    ran = _RAN.search(text)
    verdict = _VERDICT.search(text, ran.end()) if ran else None
    if ran is None or verdict is None:
        return UNRECOGNISED
    tallies = dict(
        (key.strip(), int(value))
        for key, _, value in (part.partition("=") for part in (verdict.group(2) or "").split(","))
        if value.strip().isdigit()
    )
    failures = _failures(text)
    failed, errored = tallies.get("failures", 0), tallies.get("errors", 0)
    skipped = tallies.get("skipped", 0) + tallies.get("expected failures", 0)
    failed += tallies.get("unexpected successes", 0)
    counts = CaseCounts(
        passed=max(0, int(ran.group(1)) - failed - errored - skipped),
        failed=failed,
        skipped=skipped,
        errored=errored,
    )
    return Parsed(recognised=True, tests=counts, failures=failures)


def _failures(text: str) -> list[CaseFailure]:
    failures: list[CaseFailure] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if match is None:
            continue
        body: list[str] = []
        for following in lines[index + 2 :]:  # skip the ---- rule under the header
            if following.startswith(("=====", "-----")):
                break
            body.append(following)
        failures.append(
            CaseFailure(
                name=_name(match.group(2), match.group(3)),
                message=clip("\n".join(body)),
                errored=match.group(1) == "ERROR",
            )
        )
    return failures


def _name(method: str, where: str) -> str:
    # 3.11+ prints "test_x (pkg.Class.test_x)", older versions "test_x (pkg.Class)".
    return where if where.endswith("." + method) else f"{where}.{method}"
