"""`go test -json` events."""

from __future__ import annotations

from axon.quality.models import CaseCounts, CaseFailure
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, clip, json_lines


def parse_go_test(out: ToolOutput) -> Parsed:
    counts = CaseCounts()
    outputs: dict[tuple[str, str], list[str]] = {}
    build_output: dict[str, list[str]] = {}
    failures: list[CaseFailure] = []
    seen = False
    for event in json_lines(out.stdout, "Action"):
        seen = True
        action, package, test = event["Action"], event.get("Package", ""), event.get("Test")
        if action == "build-output":
            build_output.setdefault(event.get("ImportPath", ""), []).append(event.get("Output", ""))
        elif action == "build-fail":
            path = event.get("ImportPath", "")
            counts.errored += 1
            failures.append(
                CaseFailure(
                    name=f"build {path}",
                    message=clip("".join(build_output.get(path, []))),
                    errored=True,
                )
            )
        elif action == "output":
            outputs.setdefault((package, test or ""), []).append(event.get("Output", ""))
        elif test and action in {"pass", "fail", "skip"}:
            if action == "pass":
                counts.passed += 1
            elif action == "skip":
                counts.skipped += 1
            else:
                counts.failed += 1
                text = "".join(outputs.get((package, test), []))
                failures.append(CaseFailure(name=f"{package}.{test}", message=clip(text)))
        elif not test and action == "fail" and not _reported(package, failures):
            # A package that failed without a failing test: a panic in setup, a build error.
            counts.errored += 1
            text = "".join(outputs.get((package, ""), []))
            failures.append(CaseFailure(name=package, message=clip(text), errored=True))
    if not seen:
        return UNRECOGNISED
    return Parsed(recognised=True, tests=counts, failures=failures)


def _reported(package: str, failures: list[CaseFailure]) -> bool:
    return any(f.name.startswith(f"{package}.") or f.name.endswith(package) for f in failures)
