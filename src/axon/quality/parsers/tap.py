"""TAP output (node --test, tap, and other TAP producers)."""

from __future__ import annotations

import re

from axon.quality.models import CaseCounts, CaseFailure
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, clip, relative

_RESULT = re.compile(
    r"^(?P<indent>\s*)(?P<ok>not ok|ok)\s+\d+\s*(?:-\s*)?(?P<name>[^#]*)(?P<directive>#.*)?$"
)
_SUMMARY = re.compile(r"^# (tests|pass|fail|skipped|todo|cancelled) (\d+)\s*$")
# A YAML key at the start of its line: one place to start from, not every "location:".
_LOCATION = re.compile(r"^\s*+location:\s*+'?(?P<file>[^'\s][^']*?):(?P<line>\d+):\d+'?\s*$")


def parse_tap(out: ToolOutput) -> Parsed:
    lines = out.stdout.splitlines()
    summary: dict[str, int] = {}
    counts = CaseCounts()
    failures: list[CaseFailure] = []
    seen = False
    for index, line in enumerate(lines):
        if match := _SUMMARY.match(line):
            summary[match.group(1)] = int(match.group(2))
            continue
        match = _RESULT.match(line)
        if match is None or match.group("indent"):
            continue  # nested subtests are summarised by their parent's line
        seen = True
        directive = (match.group("directive") or "").lower()
        if "# skip" in directive or "# todo" in directive:
            counts.skipped += 1
        elif match.group("ok") == "ok":
            counts.passed += 1
        else:
            counts.failed += 1
            failures.append(_failure(match.group("name").strip(), lines[index + 1 :], out))
    if not seen and not summary:
        return UNRECOGNISED
    if summary:
        counts = CaseCounts(
            passed=summary.get("pass", counts.passed),
            failed=summary.get("fail", counts.failed) + summary.get("cancelled", 0),
            skipped=summary.get("skipped", 0) + summary.get("todo", 0),
        )
    return Parsed(recognised=True, tests=counts, failures=failures)


def _failure(name: str, following: list[str], out: ToolOutput) -> CaseFailure:
    # The YAML diagnostics block between `---` and `...` under the failing line.
    block: list[str] = []
    for line in following:
        stripped = line.strip()
        if stripped == "---" and not block:
            continue
        if stripped == "..." or _RESULT.match(line):
            break
        block.append(line.strip())
    file: str | None = None
    line_no: int | None = None
    for entry in block:
        if match := _LOCATION.search(entry):
            file, line_no = relative(out.root, match.group("file")), int(match.group("line"))
            break
    return CaseFailure(name=name or "?", message=clip("\n".join(block)), file=file, line=line_no)
