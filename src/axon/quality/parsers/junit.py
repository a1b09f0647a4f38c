"""JUnit XML (pytest --junitxml, vitest and node's junit reporters)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from axon.quality.models import CaseCounts, CaseFailure
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, as_int, clip, relative


def parse_junit(out: ToolOutput) -> Parsed:
    if not out.report:
        return UNRECOGNISED
    try:
        # The report is written by the tool into our private temp folder; expat
        # refuses entity-expansion bombs, and ElementTree resolves no external entities.
        root = ET.fromstring(out.report)
    except ET.ParseError:
        return UNRECOGNISED
    counts = CaseCounts()
    failures: list[CaseFailure] = []
    for case in root.iter("testcase"):
        full = _test_id(case.get("classname") or "", case.get("name") or "?", case.get("file"))
        failure = case.find("failure")
        error = case.find("error")
        if failure is not None or error is not None:
            element = failure if failure is not None else error
            assert element is not None
            text = "\n".join(p for p in (element.get("message"), element.text) if p)
            file = case.get("file")
            failures.append(
                CaseFailure(
                    name=full,
                    message=clip(text),
                    file=relative(out.root, file) if file else None,
                    line=_line(case.get("line")),
                    errored=failure is None,
                )
            )
            if failure is not None:
                counts.failed += 1
            else:
                counts.errored += 1
        elif case.find("skipped") is not None:
            counts.skipped += 1
        else:
            counts.passed += 1
    return Parsed(recognised=True, tests=counts, failures=failures)


def _line(value: str | None) -> int | None:
    # pytest's xunit1 `line` is 0-based.
    line = as_int(value)
    return None if line is None else line + 1


def _test_id(classname: str, name: str, file: str | None) -> str:
    """pytest's node id (`tests/test_x.py::TestY::test_z`) when the file is known."""
    if file and file.endswith(".py"):
        module = file[:-3].replace("/", ".")
        if classname == module or classname.startswith(module + "."):
            inner = [p for p in classname[len(module) :].split(".") if p]
            return "::".join([file, *inner, name])
    return f"{classname}::{name}" if classname else name
