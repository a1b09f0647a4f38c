"""Finding a workspace's own checks from its files, per ecosystem.

The order of preference: a command pinned in `.axon/quality-gate.toml` (see
`plan.py`), then the project's own scripts (package.json), then tools the
project configures (a `[tool.ruff]` table, an ESLint config), then tools it
merely has installed. A tool the project configures but that is not installed
becomes an `error` check saying so, never a silent skip.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axon.indexing.manifests import parse_manifest
from axon.quality.models import CheckKind, CheckSpec

_CONFIG_READ_LIMIT = 1024 * 1024
_NPM_PLACEHOLDER = "no test specified"


@dataclass(frozen=True)
class Toolbox:
    """Where the workspace's tools live: its interpreter, its PATH, its report folder."""

    root: Path
    path: str  # PATH of the scrubbed environment (the workspace's venv first)
    python: Path | None
    reports: Path
    timeout: float
    mypy_json: bool = True  # the installed mypy offers `-O json`

    def which(self, name: str) -> str | None:
        return shutil.which(name, path=self.path)

    def python_tool(self, name: str) -> str | None:
        """A tool installed next to the interpreter, else on PATH."""
        if self.python is not None:
            beside = self.python.parent / name
            if beside.is_file():
                return str(beside)
        return self.which(name)

    def node_tool(self, name: str) -> str | None:
        local = self.root / "node_modules" / ".bin" / name
        return str(local) if local.is_file() else None

    def spec(self, kind: CheckKind, tool: str, argv: list[str], parser: str) -> CheckSpec:
        return CheckSpec(kind=kind, tool=tool, argv=argv, parser=parser, timeout=self.timeout)

    def missing(self, kind: CheckKind, tool: str, problem: str) -> CheckSpec:
        return CheckSpec(kind, tool, [], "text", self.timeout, problem=problem)

    def report(self, kind: CheckKind, tool: str, suffix: str) -> Path:
        return self.reports / f"{kind}-{tool}{suffix}"


def _read_text(path: Path) -> str:
    try:
        if path.is_file() and path.stat().st_size <= _CONFIG_READ_LIMIT:
            return path.read_text("utf-8", "replace")
    except OSError:
        pass
    return ""


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError:
        return {}  # the tools report a broken pyproject themselves


def _any_file(root: Path, names: Iterable[str]) -> bool:
    return any((root / name).is_file() for name in names)


# -- Python ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PythonProject:
    root: Path
    tool: dict[str, Any]  # pyproject's [tool] table
    ini: str  # setup.cfg + tox.ini, for their [section] headers
    deps: frozenset[str]  # declared dependencies (pyproject, requirements*.txt), lower-cased

    def section(self, name: str) -> bool:
        return f"[{name}]" in self.ini

    def declares(self, package: str) -> bool:
        return package in self.deps


def _python_project(root: Path) -> _PythonProject | None:
    markers = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "tox.ini")
    has_code = any(root.glob("*.py")) or any(
        (root / d).is_dir() and any((root / d).rglob("*.py")) for d in ("src", "tests", "test")
    )
    if not _any_file(root, markers) and not has_code:
        return None
    # The manifests are read as the project facts read them (indexing/manifests.py).
    files = [root / "pyproject.toml", *sorted(root.glob("requirements*.txt"))]
    manifests = [m for m in (parse_manifest(f.name, _read_text(f)) for f in files) if m]
    pyproject = next((m for m in manifests if m.path == "pyproject.toml"), None)
    deps = frozenset(name for m in manifests for name in m.all_names())
    ini = _read_text(root / "setup.cfg") + "\n" + _read_text(root / "tox.ini")
    return _PythonProject(root, pyproject.tool_config if pyproject else {}, ini, deps)


def _has_python_tests(root: Path) -> bool:
    for pattern in ("test_*.py", "*_test.py"):
        if any(root.glob(pattern)):
            return True
        for folder in ("tests", "test", "src"):
            if (root / folder).is_dir() and any((root / folder).rglob(pattern)):
                return True
    return False


def _python_tests(box: Toolbox, project: _PythonProject) -> list[CheckSpec]:
    root = project.root
    configured = (
        "pytest" in project.tool
        or _any_file(root, ("pytest.ini", "conftest.py", "tests/conftest.py"))
        or project.section("tool:pytest")
        or project.section("pytest")
        or project.declares("pytest")
    )
    has_tests = _has_python_tests(root)
    if not configured and not has_tests:
        return []
    if box.python is None:
        return [box.missing(CheckKind.TESTS, "pytest", "no Python interpreter found")]
    if configured or box.python_tool("pytest"):
        report = box.report(CheckKind.TESTS, "pytest", ".xml")
        argv = [str(box.python), "-m", "pytest", *pytest_report_args(report)]
        spec = box.spec(CheckKind.TESTS, "pytest", argv, "junit")
        spec.report = report
        return [spec]
    argv = [str(box.python), "-m", "unittest", "discover"]
    return [box.spec(CheckKind.TESTS, "unittest", argv, "unittest")]


def pytest_report_args(report: Path) -> list[str]:
    # xunit1 records each test's file and line; -q keeps the text output short.
    return ["-q", "-o", "junit_family=xunit1", f"--junitxml={report}"]


def ruff_args() -> list[str]:
    # --no-fix: a gate must never rewrite the workspace, even with `fix = true` configured.
    return ["check", "--no-fix", "--output-format", "json", "."]


_PYLINT_ARGS = [
    "--recursive=y",
    "--output-format=json",
    "--ignore=.venv,venv,node_modules,build,dist",
    ".",
]
# linter -> (its config files, its setup.cfg/tox.ini section, arguments, parser)
_PY_LINTERS: dict[str, tuple[tuple[str, ...], str | None, list[str], str]] = {
    "ruff": (("ruff.toml", ".ruff.toml"), None, ruff_args(), "ruff"),
    "flake8": ((".flake8",), "flake8", ["."], "lines"),
    "pylint": ((".pylintrc", "pylintrc"), None, _PYLINT_ARGS, "pylint"),
}


def _configures(
    project: _PythonProject, tool: str, files: tuple[str, ...], section: str | None
) -> bool:
    return (
        tool in project.tool
        or _any_file(project.root, files)
        or (section is not None and project.section(section))
        or project.declares(tool)
    )


def _python_lint(box: Toolbox, project: _PythonProject) -> list[CheckSpec]:
    configured = [
        name
        for name, (files, section, _, _) in _PY_LINTERS.items()
        if _configures(project, name, files, section)
    ]
    if not configured:
        # Nothing configured: use the first linter the workspace has installed, if any.
        guess = next((name for name in _PY_LINTERS if box.python_tool(name)), None)
        configured = [guess] if guess else []
    specs = []
    for name in configured:
        binary = box.python_tool(name)
        _, _, args, parser = _PY_LINTERS[name]
        if binary is None:
            specs.append(
                box.missing(CheckKind.LINT, name, f"{name} is configured but not installed")
            )
        else:
            specs.append(box.spec(CheckKind.LINT, name, [binary, *args], parser))
    return specs


def _mypy_has_targets(project: _PythonProject) -> bool:
    table = project.tool.get("mypy") or {}
    ini = (
        project.ini + _read_text(project.root / "mypy.ini") + _read_text(project.root / ".mypy.ini")
    )
    return (
        any(k in table for k in ("files", "packages", "modules"))
        or re.search(r"^files\s*=", ini, re.M) is not None
    )


def _python_types(box: Toolbox, project: _PythonProject) -> list[CheckSpec]:
    root = project.root
    specs = []
    if (
        "mypy" in project.tool
        or _any_file(root, ("mypy.ini", ".mypy.ini"))
        or project.section("mypy")
        or project.declares("mypy")
    ):
        binary = box.python_tool("mypy")
        if binary is None:
            specs.append(
                box.missing(CheckKind.TYPES, "mypy", "mypy is configured but not installed")
            )
        else:
            argv = [binary, "--no-pretty", "--show-column-numbers"]
            if box.python is not None:
                argv += ["--python-executable", str(box.python)]
            argv += ["-O", "json"] if box.mypy_json else []
            argv += [] if _mypy_has_targets(project) else ["."]
            parser = "mypy-json" if box.mypy_json else "mypy"
            specs.append(box.spec(CheckKind.TYPES, "mypy", argv, parser))
    if (
        "pyright" in project.tool
        or (root / "pyrightconfig.json").is_file()
        or project.declares("pyright")
    ):
        binary = box.python_tool("pyright") or box.node_tool("pyright")
        if binary is None:
            specs.append(
                box.missing(CheckKind.TYPES, "pyright", "pyright is configured but not installed")
            )
        else:
            argv = [binary, "--outputjson"]
            if box.python is not None:
                argv += ["--pythonpath", str(box.python)]
            specs.append(box.spec(CheckKind.TYPES, "pyright", argv, "pyright"))
    return specs


# -- JavaScript / TypeScript --------------------------------------------------------------

# Runner -> (extra arguments for a machine-readable report, parser, report suffix).
_JS_TEST_RUNNERS: dict[str, tuple[list[str], str, str]] = {
    "jest": (["--json", "--outputFile={report}"], "jest", ".json"),
    "vitest": (["--reporter=junit", "--outputFile={report}"], "junit", ".xml"),
    "mocha": (["--reporter", "tap"], "tap", ""),
}
_LOCKFILES = (
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lockb", "bun"),
    ("bun.lock", "bun"),
)
_TYPE_SCRIPTS = ("typecheck", "type-check", "types", "tsc", "check-types")
_ESLINT_CONFIGS = (
    "eslint.config.js", "eslint.config.mjs", "eslint.config.cjs", "eslint.config.ts",
    ".eslintrc", ".eslintrc.js", ".eslintrc.cjs", ".eslintrc.json", ".eslintrc.yml",
    ".eslintrc.yaml",
)  # fmt: skip


def _runner(script: str) -> str | None:
    """The tool a package.json script starts with (`jest`, `node --test`, ...)."""
    try:
        words = shlex.split(script)
    except ValueError:
        return None
    while words and "=" in words[0] and not words[0].startswith("-"):
        words = words[1:]  # leading VAR=value assignments
    if not words:
        return None
    first = Path(words[0]).name
    if first == "node" and "--test" in words:
        return "node-test"
    if first in {"npx", "pnpx"} and len(words) > 1:
        first = Path(words[1]).name
    return first


def _script_argv(manager: str, binary: str, script: str, extra: list[str]) -> list[str]:
    if manager == "npm":
        return [binary, "run", "--silent", script, *(["--", *extra] if extra else [])]
    if manager == "yarn":
        return [binary, "--silent", "run", script, *extra]
    if manager == "pnpm":
        return [binary, "--silent", "run", script, *extra]
    return [binary, "run", script, *extra]


def _js_checks(box: Toolbox) -> list[CheckSpec]:
    package_file = box.root / "package.json"
    if not package_file.is_file():
        return []
    try:
        package: Any = json.loads(_read_text(package_file) or "{}")
    except ValueError:
        package = None
    if not isinstance(package, dict):
        return [box.missing(CheckKind.TESTS, "package.json", "package.json is not a JSON object")]
    scripts: dict[str, Any] = package.get("scripts") or {}
    if not isinstance(scripts, dict):
        scripts = {}
    deps = {**(package.get("dependencies") or {}), **(package.get("devDependencies") or {})}
    manager = next((m for lock, m in _LOCKFILES if (box.root / lock).is_file()), "npm")
    manager_bin = box.which(manager)
    specs: list[CheckSpec] = []

    def script_spec(
        kind: CheckKind, script: str, extras: dict[str, tuple[list[str], str, str]]
    ) -> CheckSpec:
        runner = _runner(str(scripts[script]))
        extra, parser, suffix = extras.get(runner or "", ([], "text", ""))
        tool = runner if runner in extras or runner == "node-test" else f"{manager}-{script}"
        if runner == "node-test":
            parser = "tap"  # node's runner prints TAP when not attached to a terminal
        if manager_bin is None:
            return box.missing(
                kind, tool, f"{manager} is not installed (needed for the '{script}' script)"
            )
        report = box.report(kind, tool, suffix) if suffix else None
        args = [a.format(report=report) for a in extra]
        spec = box.spec(kind, tool, _script_argv(manager, manager_bin, script, args), parser)
        spec.report = report
        return spec

    test_script = scripts.get("test")
    if isinstance(test_script, str) and _NPM_PLACEHOLDER not in test_script:
        specs.append(script_spec(CheckKind.TESTS, "test", _JS_TEST_RUNNERS))
    else:
        runner = next((r for r in ("vitest", "jest") if r in deps), None)
        if runner is not None:
            binary = box.node_tool(runner)
            extra, parser, suffix = _JS_TEST_RUNNERS[runner]
            if binary is None:
                specs.append(
                    box.missing(
                        CheckKind.TESTS,
                        runner,
                        f"{runner} is a dependency but not installed (run {manager} install)",
                    )
                )
            else:
                report = box.report(CheckKind.TESTS, runner, suffix)
                argv = [
                    binary,
                    *(["run"] if runner == "vitest" else []),
                    *(a.format(report=report) for a in extra),
                ]
                spec = box.spec(CheckKind.TESTS, runner, argv, parser)
                spec.report = report
                specs.append(spec)

    lint_extras = {
        "eslint": (["--format", "json"], "eslint", ""),
        "biome": (["--reporter=github"], "biome", ""),
    }
    if isinstance(scripts.get("lint"), str):
        specs.append(script_spec(CheckKind.LINT, "lint", lint_extras))
    elif _any_file(box.root, _ESLINT_CONFIGS) or "eslintConfig" in package:
        binary = box.node_tool("eslint")
        specs.append(
            box.spec(CheckKind.LINT, "eslint", [binary, ".", "--format", "json"], "eslint")
            if binary
            else box.missing(
                CheckKind.LINT,
                "eslint",
                f"eslint is configured but not installed (run {manager} install)",
            )
        )
    elif _any_file(box.root, ("biome.json", "biome.jsonc")):
        binary = box.node_tool("biome")
        specs.append(
            box.spec(CheckKind.LINT, "biome", [binary, "lint", "--reporter=github", "."], "biome")
            if binary
            else box.missing(
                CheckKind.LINT,
                "biome",
                f"biome is configured but not installed (run {manager} install)",
            )
        )

    type_script = next((s for s in _TYPE_SCRIPTS if isinstance(scripts.get(s), str)), None)
    if type_script is not None:
        runner = _runner(str(scripts[type_script])) or ""
        tsc_like = runner.endswith("tsc")
        specs.append(
            script_spec(
                CheckKind.TYPES,
                type_script,
                {runner: (["--pretty", "false"], "tsc", "")} if tsc_like else {},
            )
        )
    elif (box.root / "tsconfig.json").is_file():
        binary = box.node_tool("tsc")
        specs.append(
            box.spec(CheckKind.TYPES, "tsc", [binary, "--noEmit", "--pretty", "false"], "tsc")
            if binary
            else box.missing(
                CheckKind.TYPES,
                "tsc",
                f"tsconfig.json found but typescript is not installed (run {manager} install)",
            )
        )
    return specs


# -- Go and Rust ---------------------------------------------------------------------------


def _go_checks(box: Toolbox) -> list[CheckSpec]:
    if not (box.root / "go.mod").is_file():
        return []
    go = box.which("go")
    if go is None:
        return [
            box.missing(kind, "go", "go.mod found but go is not installed")
            for kind in (CheckKind.TESTS, CheckKind.LINT)
        ]
    return [
        box.spec(CheckKind.TESTS, "go-test", [go, "test", "-json", "./..."], "go-test"),
        box.spec(CheckKind.LINT, "go-vet", [go, "vet", "./..."], "lines"),
    ]


def _rust_checks(box: Toolbox) -> list[CheckSpec]:
    if not (box.root / "Cargo.toml").is_file():
        return []
    cargo = box.which("cargo")
    if cargo is None:
        return [
            box.missing(kind, "cargo", "Cargo.toml found but cargo is not installed")
            for kind in (CheckKind.TESTS, CheckKind.LINT)
        ]
    return [
        box.spec(
            CheckKind.TESTS, "cargo-test", [cargo, "test", "--message-format=json"], "cargo-test"
        ),
        box.spec(CheckKind.LINT, "clippy", [cargo, "clippy", "--message-format=json"], "clippy"),
    ]


def detect(box: Toolbox) -> list[CheckSpec]:
    """Every check the workspace's files call for, in a stable order."""
    specs: list[CheckSpec] = []
    project = _python_project(box.root)
    if project is not None:
        specs += (
            _python_tests(box, project) + _python_lint(box, project) + _python_types(box, project)
        )
    specs += _js_checks(box) + _go_checks(box) + _rust_checks(box)
    return specs
