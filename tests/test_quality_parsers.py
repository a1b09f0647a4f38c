"""Parsers, verdicts and detection on captured tool output and fixture folders."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from axon.quality.detect import Toolbox, detect
from axon.quality.models import CheckKind, CheckSpec, CheckStatus, Severity
from axon.quality.parsers import PARSERS, ToolOutput
from axon.quality.run import ProcessOutcome
from axon.quality.verdict import decide
from tests.quality_projects import write

ROOT = Path("/work/proj")


def out(stdout: str = "", stderr: str = "", code: int = 1, report: str | None = None) -> ToolOutput:
    return ToolOutput(stdout, stderr, code, ROOT, report)


def test_junit_counts_errors_and_skips() -> None:
    xml = """<?xml version="1.0"?><testsuites><testsuite>
      <testcase classname="tests.test_a.TestX" name="test_ok" file="tests/test_a.py" line="3"/>
      <testcase classname="tests.test_a" name="test_bad" file="tests/test_a.py" line="9">
        <failure message="assert 1 == 2">trace</failure></testcase>
      <testcase classname="tests.test_a" name="test_fixture" file="tests/test_a.py" line="12">
        <error message="fixture 'db' not found"/></testcase>
      <testcase classname="tests.test_a" name="test_later"><skipped/></testcase>
    </testsuite></testsuites>"""
    parsed = PARSERS["junit"](out(report=xml))
    assert parsed.tests is not None
    assert (parsed.tests.passed, parsed.tests.failed, parsed.tests.errored) == (1, 1, 1)
    assert parsed.tests.skipped == 1
    bad, fixture = parsed.failures
    assert (bad.name, bad.line, bad.message) == (
        "tests/test_a.py::test_bad",
        10,
        "assert 1 == 2\ntrace",
    )
    assert fixture.errored
    assert not PARSERS["junit"](out(report="<not xml")).recognised
    assert not PARSERS["junit"](out(report=None)).recognised


def test_jest_report() -> None:
    report = {
        "numTotalTests": 3, "numPassedTests": 1, "numFailedTests": 1, "numPendingTests": 1,
        "testResults": [
            {"name": f"{ROOT}/src/a.test.js", "status": "failed", "assertionResults": [
                {"fullName": "math adds", "status": "passed"},
                {"fullName": "math breaks", "status": "failed",
                 "failureMessages": ["expected 3"], "location": {"line": 7}},
            ]},
            {"name": f"{ROOT}/src/b.test.js", "status": "failed", "message": "SyntaxError",
             "assertionResults": []},
        ],
    }  # fmt: skip
    parsed = PARSERS["jest"](out(report=json.dumps(report)))
    assert parsed.tests is not None and parsed.tests.errored == 1 and parsed.tests.failed == 1
    breaks, syntax = parsed.failures
    assert (breaks.name, breaks.file, breaks.line) == ("math breaks", "src/a.test.js", 7)
    assert syntax.errored and syntax.message == "SyntaxError"


def test_unittest_text_both_header_styles() -> None:
    stderr = (
        "..F.E\n======================================================================\n"
        "FAIL: test_sub (tests.test_calc.CalcTest.test_sub)\n"
        "----------------------------------------------------------------------\n"
        "AssertionError: 4 != 2\n\n"
        "======================================================================\n"
        "ERROR: test_io (tests.test_calc.CalcTest)\n"
        "----------------------------------------------------------------------\n"
        "OSError: boom\n\n"
        "----------------------------------------------------------------------\n"
        "Ran 6 tests in 0.01s\n\nFAILED (failures=1, errors=1, skipped=1)\n"
    )
    parsed = PARSERS["unittest"](out(stderr=stderr))
    assert parsed.tests is not None
    assert parsed.tests.model_dump() == {"passed": 3, "failed": 1, "skipped": 1, "errored": 1}
    assert [f.name for f in parsed.failures] == [
        "tests.test_calc.CalcTest.test_sub",
        "tests.test_calc.CalcTest.test_io",
    ]
    assert "4 != 2" in parsed.failures[0].message


def test_tap_counts_top_level_results_only() -> None:
    tap = (
        "TAP version 13\n# Subtest: suite\n    ok 1 - inner\n    not ok 2 - inner fails\n"
        "not ok 1 - suite\n  ---\n  location: '/work/proj/t.js:3:1'\n  error: boom\n  ...\n"
        "ok 2 - other\n1..2\n"
    )
    parsed = PARSERS["tap"](out(stdout=tap))
    assert parsed.tests is not None and (parsed.tests.passed, parsed.tests.failed) == (1, 1)
    [failure] = parsed.failures
    assert (failure.name, failure.file, failure.line) == ("suite", "t.js", 3)
    assert "boom" in failure.message


def test_go_test_json() -> None:
    events = [
        {"Action": "run", "Package": "ex/calc", "Test": "TestAdd"},
        {"Action": "output", "Package": "ex/calc", "Test": "TestSub", "Output": "got 4\n"},
        {"Action": "fail", "Package": "ex/calc", "Test": "TestSub"},
        {"Action": "pass", "Package": "ex/calc", "Test": "TestAdd"},
        {"Action": "skip", "Package": "ex/calc", "Test": "TestLater"},
        {"Action": "fail", "Package": "ex/calc"},
        {"Action": "output", "Package": "ex/boot", "Output": "panic: init\n"},
        {"Action": "fail", "Package": "ex/boot"},
    ]  # fmt: skip
    parsed = PARSERS["go-test"](out(stdout="\n".join(json.dumps(e) for e in events)))
    assert parsed.tests is not None
    assert parsed.tests.model_dump() == {"passed": 1, "failed": 1, "skipped": 1, "errored": 1}
    sub, boot = parsed.failures
    assert sub.name == "ex/calc.TestSub" and "got 4" in sub.message
    assert boot.name == "ex/boot" and boot.errored and "panic" in boot.message


def _compiler_message(level: str, code: str | None, file: str, line: int) -> str:
    message = {
        "level": level, "message": f"{level} here", "code": {"code": code} if code else None,
        "spans": [{"file_name": file, "line_start": line, "column_start": 5, "is_primary": True}],
    }  # fmt: skip
    return json.dumps({"reason": "compiler-message", "message": message})


def test_cargo_test_and_clippy() -> None:
    stdout = "\n".join(
        [
            json.dumps({"reason": "compiler-artifact"}),
            "running 3 tests",
            "test tests::adds ... ok",
            "test tests::breaks ... FAILED",
            "test tests::later ... ignored",
            "failures:",
            "",
            "---- tests::breaks stdout ----",
            "assertion `left == right` failed",
            "",
            "failures:",
            "test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out",
        ]
    )
    parsed = PARSERS["cargo-test"](out(stdout=stdout))
    assert parsed.tests is not None and (parsed.tests.passed, parsed.tests.failed) == (1, 1)
    assert parsed.failures[0].name == "tests::breaks"
    assert "assertion" in parsed.failures[0].message
    broken = PARSERS["cargo-test"](out(stdout=_compiler_message("error", "E0308", "src/lib.rs", 4)))
    assert broken.tests is not None and broken.tests.errored == 1

    lint = "\n".join(
        [
            _compiler_message("warning", "clippy::needless_return", "src/lib.rs", 3),
            _compiler_message("error", "clippy::eq_op", "src/main.rs", 8),
            json.dumps({"reason": "build-finished", "success": False}),
        ]
    )
    findings = PARSERS["clippy"](out(stdout=lint)).findings
    assert [(f.rule, f.severity, f.line) for f in findings] == [
        ("clippy::needless_return", Severity.WARNING, 3),
        ("clippy::eq_op", Severity.ERROR, 8),
    ]
    assert not PARSERS["clippy"](out(stdout="error: no such command: `clippy`")).recognised


def test_lint_formats() -> None:
    ruff = [{"code": "F401", "message": "`os` imported but unused", "filename": f"{ROOT}/a.py",
             "location": {"row": 1, "column": 8}}]  # fmt: skip
    [finding] = PARSERS["ruff"](out(stdout=json.dumps(ruff))).findings
    assert (finding.file, finding.line, finding.rule) == ("a.py", 1, "F401")

    messages = [
        {"ruleId": "no-unused-vars", "severity": 2, "message": "x unused", "line": 2, "column": 7},
        {"ruleId": "eqeqeq", "severity": 1, "message": "use ===", "line": 3, "column": 1},
    ]
    eslint = [{"filePath": f"{ROOT}/src/a.js", "messages": messages}]
    findings = PARSERS["eslint"](out(stdout="> lint\n" + "\n" + json.dumps(eslint))).findings
    assert [(f.file, f.rule, f.severity) for f in findings] == [
        ("src/a.js", "no-unused-vars", Severity.ERROR),
        ("src/a.js", "eqeqeq", Severity.WARNING),
    ]

    pylint = [{"type": "convention", "path": "a.py", "line": 1, "column": 0,
               "symbol": "missing-module-docstring", "message": "Missing docstring"}]  # fmt: skip
    [finding] = PARSERS["pylint"](out(stdout=json.dumps(pylint), code=16)).findings
    assert (finding.rule, finding.severity) == ("missing-module-docstring", Severity.INFO)
    assert not PARSERS["pylint"](out(stdout="usage: pylint", code=32)).recognised

    flake8 = "./a.py:3:80: E501 line too long (88 > 79 characters)\n"
    [finding] = PARSERS["lines"](out(stdout=flake8)).findings
    assert (finding.file, finding.line, finding.column, finding.rule) == ("a.py", 3, 80, "E501")
    vet = "# ex/calc\ncalc.go:12:2: fmt.Printf format %d has arg s of wrong type string\n"
    [finding] = PARSERS["lines"](out(stderr=vet)).findings
    assert (finding.file, finding.line, finding.rule) == ("calc.go", 12, None)

    biome = (
        "::error title=lint/suspicious/noDebugger,file=main.ts,line=1,col=1::Unexpected debugger\n"
    )
    [finding] = PARSERS["biome"](out(stdout=biome)).findings
    assert (finding.rule, finding.file, finding.line) == (
        "lint/suspicious/noDebugger",
        "main.ts",
        1,
    )


def test_type_formats() -> None:
    mypy_json = "\n".join(
        json.dumps(d)
        for d in (
            {"file": "a.py", "line": 3, "column": 4, "message": "Incompatible types",
             "hint": None, "code": "assignment", "severity": "error"},
            {"file": "a.py", "line": 3, "column": 4, "message": "See docs", "hint": None,
             "code": None, "severity": "note"},
        )
    )  # fmt: skip
    [finding] = PARSERS["mypy-json"](out(stdout=mypy_json)).findings
    assert (finding.file, finding.line, finding.column, finding.rule) == (
        "a.py",
        3,
        5,
        "assignment",
    )
    assert PARSERS["mypy-json"](out(stdout="", code=0)).recognised
    assert not PARSERS["mypy-json"](out(stdout="", code=2)).recognised

    text = "a.py:3:5: error: Incompatible types  [assignment]\nFound 1 error in 1 file\n"
    [finding] = PARSERS["mypy"](out(stdout=text)).findings
    assert (finding.line, finding.column, finding.rule) == (3, 5, "assignment")
    assert PARSERS["mypy"](
        out(stdout="Success: no issues found in 3 source files\n", code=0)
    ).recognised
    assert not PARSERS["mypy"](out(stdout="mypy: can't read file 'x'\n", code=2)).recognised

    pyright = {"generalDiagnostics": [{"file": f"{ROOT}/a.py", "severity": "error",
               "message": "bad", "rule": "reportGeneralTypeIssues",
               "range": {"start": {"line": 0, "character": 2}}}]}  # fmt: skip
    [finding] = PARSERS["pyright"](out(stdout=json.dumps(pyright))).findings
    assert (finding.file, finding.line, finding.column) == ("a.py", 1, 3)

    tsc = (
        "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n"
        "error TS5058: The specified path does not exist: 'tsconfig.json'.\n"
    )
    located, general = PARSERS["tsc"](out(stdout=tsc)).findings
    assert (located.file, located.line, located.column, located.rule) == (
        "src/a.ts",
        3,
        7,
        "TS2322",
    )
    assert general.file is None and general.rule == "TS5058"


def _spec(kind: CheckKind, tool: str, parser: str) -> CheckSpec:
    return CheckSpec(kind=kind, tool=tool, argv=[tool], parser=parser, timeout=10)


def _outcome(code: int | None, stdout: str = "", **kw: object) -> ProcessOutcome:
    return ProcessOutcome(code, stdout, "", 0.1, **kw)  # type: ignore[arg-type]


L, T = CheckKind.LINT, CheckKind.TESTS
PASSED, FAILED, ERROR, SKIPPED = (
    CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.ERROR, CheckStatus.SKIPPED,
)  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "outcome", "status", "reason"),
    [
        (_spec(L, "make", "text"), _outcome(0), PASSED, None),
        (_spec(L, "make", "text"), _outcome(2), FAILED, "exit code 2"),
        (_spec(L, "npm-lint", "text"), _outcome(127), ERROR, "could not be run"),
        (_spec(L, "ruff", "ruff"), _outcome(2, "error: bad config"), ERROR, "could not be read"),
        (_spec(L, "ruff", "ruff"), _outcome(0, "[]"), PASSED, None),
        (_spec(L, "ruff", "ruff"), _outcome(1, "[]"), ERROR, "without any finding"),
        (_spec(T, "pytest", "junit"), _outcome(5), SKIPPED, "no tests were collected"),
        (
            _spec(T, "pytest", "junit"),
            _outcome(1, "No module named pytest"),
            ERROR,
            "not installed",
        ),
        (_spec(T, "pytest", "junit"), _outcome(None, timed_out=True), ERROR, "timed out"),
        (_spec(T, "pytest", "junit"), _outcome(-9), ERROR, "killed by signal 9"),
        (_spec(T, "x", "junit"), _outcome(None, start_error="command not found: x"), ERROR, "x"),
    ],
)
def test_verdicts(
    spec: CheckSpec, outcome: ProcessOutcome, status: CheckStatus, reason: str | None
) -> None:
    parsed = PARSERS[spec.parser](ToolOutput(outcome.stdout, "", outcome.exit_code, ROOT))
    got_status, got_reason = decide(spec, outcome, parsed)
    assert got_status is status
    assert (got_reason is None) if reason is None else (reason in (got_reason or ""))


def _box(root: Path) -> Toolbox:
    return Toolbox(root=root, path="/usr/bin:/bin", python=None, reports=root / "r", timeout=5)


def test_detection_prefers_project_scripts(tmp_path: Path) -> None:
    package = {
        "scripts": {"test": "jest --ci", "lint": "eslint src", "typecheck": "tsc --noEmit"},
        "devDependencies": {"jest": "29", "vitest": "1"},
    }
    write(
        tmp_path,
        {"package.json": json.dumps(package), "tsconfig.json": "{}", ".eslintrc.json": "{}"},
    )
    specs = {s.id: s for s in detect(_box(tmp_path))}
    assert set(specs) == {"tests:jest", "lint:eslint", "types:tsc"}
    if specs["tests:jest"].problem is None:  # npm is installed
        argv = specs["tests:jest"].argv
        assert argv[1:4] == ["run", "--silent", "test"] and "--json" in argv
        assert specs["tests:jest"].parser == "jest"
        assert specs["lint:eslint"].argv[-2:] == ["--format", "json"]
        assert specs["types:tsc"].argv[-2:] == ["--pretty", "false"]


def test_detection_reports_configured_but_missing_tools(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "package.json": "{}",
            "eslint.config.js": "export default []",
            "tsconfig.json": "{}",
            "go.mod": "module ex\n",
        },
    )
    box = Toolbox(root=tmp_path, path="/nonexistent", python=None, reports=tmp_path, timeout=5)
    specs = {s.id: s.problem for s in detect(box)}
    assert "eslint is configured but not installed" in (specs["lint:eslint"] or "")
    assert "typescript is not installed" in (specs["types:tsc"] or "")
    assert specs["tests:go"] == "go.mod found but go is not installed"


def test_detection_reads_the_declared_python_tools_from_the_manifests(tmp_path: Path) -> None:
    """Declared dependencies come from the manifests as the project facts read them:
    Poetry's old dev table and requirements files count, a comment or a longer name
    (`pytest-cov`) does not; [tool.mypy] files means mypy is not pointed at '.'."""
    pyproject = (
        '[project]\nname = "p"\ndependencies = ["pytest-cov>=4"]\n'
        "[tool.poetry.dev-dependencies]\nmypy = '^1'\n"
        "[tool.mypy]\nfiles = ['src']\n"
    )
    write(
        tmp_path,
        {
            "pyproject.toml": pyproject,
            "requirements-dev.txt": "# pyright is not used here\nPylint==3.0\n",
            "app.py": "x = 1\n",
        },
    )
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("mypy", "pylint"):  # found on PATH, never run: detection only
        (tools / name).write_text("#!/bin/sh\n")
        (tools / name).chmod(0o755)
    box = Toolbox(root=tmp_path, path=str(tools), python=None, reports=tmp_path, timeout=5)
    specs = {s.id: s for s in detect(box)}
    assert set(specs) == {"lint:pylint", "types:mypy"}
    assert specs["types:mypy"].argv[0] == str(tools / "mypy")
    assert specs["types:mypy"].argv[-1] != "."  # [tool.mypy] files names the targets


def test_the_workspace_virtualenv_is_preferred(tmp_path: Path) -> None:
    from axon.config import load_settings
    from axon.quality.config import GateConfig
    from axon.quality.environment import tool_environment
    from axon.quality.interpreter import find_python

    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "bin" / "python").symlink_to(sys.executable)
    found = find_python(tmp_path, GateConfig(), "/usr/bin", {})
    assert found is not None
    python = found.path
    assert python == venv / "bin" / "python"  # not resolved: the venv's own path
    env = tool_environment(load_settings(), python.parent, source={"PATH": "/usr/bin"})
    assert env["PATH"] == f"{venv / 'bin'}:/usr/bin" and env["VIRTUAL_ENV"] == str(venv)


def test_coverage_only_from_reports_of_this_run(tmp_path: Path) -> None:
    import os
    import time

    from axon.quality.coverage import fresh_coverage

    started = time.time()
    stale = tmp_path / "coverage.xml"
    stale.write_text('<coverage line-rate="0.5"/>')
    os.utime(stale, (started - 3600, started - 3600))
    assert fresh_coverage(tmp_path, started) is None  # last week's report says nothing
    (tmp_path / "coverage.json").write_text('{"totals": {"percent_covered": 87.456}}')
    assert fresh_coverage(tmp_path, started) == 87.46
    stale.write_text('<coverage line-rate="0.9125"/>')
    assert fresh_coverage(tmp_path, started) == 91.25  # Cobertura first, when fresh
