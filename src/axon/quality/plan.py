"""From a workspace folder and the kinds asked for to the list of checks to run.

Detection proposes checks; `.axon/quality-gate.toml` can pin a kind's command
or turn it off. A broken config is an `error` for every kind asked for: the
gate never falls back to guessing when the project said something we could
not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from axon.config import Settings
from axon.quality.config import GateConfigError, PinnedCheck, load_config
from axon.quality.detect import Toolbox, detect, pytest_report_args, read_toml
from axon.quality.environment import tool_environment
from axon.quality.interpreter import Interpreter, find_python
from axon.quality.models import CheckKind, CheckSpec
from axon.quality.sandbox import Launcher

_MYPY_JSON_SINCE = (1, 11)
_NOTHING_FOUND = {
    CheckKind.TESTS: "no test runner or tests found",
    CheckKind.LINT: "no linter configured or installed",
    CheckKind.TYPES: "no type checker configured",
}


@dataclass
class Plan:
    checks: list[CheckSpec]
    skipped: dict[CheckKind, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    python: Interpreter | None = None  # for Python checks; named in the report


def _module_or_name(argv: list[str]) -> str:
    if len(argv) > 2 and Path(argv[0]).name.startswith("python") and argv[1] == "-m":
        return argv[2]
    return Path(argv[0]).name


def _has_flag(argv: list[str], *flags: str) -> bool:
    return any(a == f or a.startswith(f + "=") for a in argv for f in flags)


def _infer(
    box: Toolbox, kind: CheckKind, argv: list[str]
) -> tuple[str, str, list[str], Path | None]:
    """(tool, parser, extra arguments for a machine-readable report, report file)."""
    tool = _module_or_name(argv)
    if tool in {"pytest", "py.test"}:
        if _has_flag(argv, "--junitxml", "--junit-xml"):
            return tool, "text", [], None
        report = box.report(kind, "pytest", ".xml")
        return "pytest", "junit", pytest_report_args(report), report
    if tool == "ruff" and "check" in argv:
        if _has_flag(argv, "--output-format"):
            return (
                tool,
                "ruff" if "json" in argv or "--output-format=json" in argv else "text",
                [],
                None,
            )
        return tool, "ruff", ["--output-format", "json"], None
    if tool == "mypy":
        json_out = any(
            argv[i] in {"-O", "--output"} and argv[i + 1 : i + 2] == ["json"]
            for i in range(len(argv))
        )
        return tool, "mypy-json" if json_out else "mypy", [], None
    if tool == "eslint":
        return (
            tool,
            "eslint",
            [] if _has_flag(argv, "--format", "-f") else ["--format", "json"],
            None,
        )
    if tool == "jest":
        report = box.report(kind, "jest", ".json")
        return tool, "jest", ["--json", f"--outputFile={report}"], report
    if tool.endswith("tsc"):
        return tool, "tsc", [] if _has_flag(argv, "--pretty") else ["--pretty", "false"], None
    if tool == "go" and "test" in argv and "-json" in argv:
        return "go-test", "go-test", [], None
    if tool == "go" and "vet" in argv:
        return "go-vet", "lines", [], None
    if tool == "cargo" and ("test" in argv or "clippy" in argv):
        extra = [] if _has_flag(argv, "--message-format") else ["--message-format=json"]
        if "test" in argv:
            return "cargo-test", "cargo-test", extra, None
        return "clippy", "clippy", extra, None
    if tool == "unittest":
        return tool, "unittest", [], None
    if tool == "flake8":
        return tool, "lines", [], None
    if tool == "pylint":
        return (
            tool,
            "pylint",
            [] if _has_flag(argv, "--output-format") else ["--output-format=json"],
            None,
        )
    return tool, "text", [], None


def _resolve_command(box: Toolbox, command: str) -> str | None:
    if "/" in command:
        path = Path(command).expanduser()
        path = path if path.is_absolute() else box.root / path
        return str(path) if path.is_file() else None
    return box.python_tool(command) or box.node_tool(command)


def _pinned_spec(box: Toolbox, kind: CheckKind, pinned: PinnedCheck) -> CheckSpec:
    assert pinned.command is not None
    argv = list(pinned.command)
    binary = _resolve_command(box, argv[0])
    tool = _module_or_name(argv)
    if binary is None:
        return box.missing(
            kind, tool, f"command not found: {argv[0]} (pinned in .axon/quality-gate.toml)"
        )
    argv[0] = binary
    if pinned.parser != "auto":
        return box.spec(kind, tool, argv, pinned.parser)
    tool, parser, extra, report = _infer(box, kind, argv)
    spec = box.spec(kind, tool, [*argv, *extra], parser)
    spec.report = report
    return spec


async def _mypy_offers_json(
    spec: CheckSpec, root: Path, env: dict[str, str], launcher: Launcher
) -> bool:
    # The workspace's own mypy: started like a check, in the sandbox.
    outcome = await launcher.run([spec.argv[0], "--version"], root, env, 30, 4096)
    match = re.search(r"mypy (\d+)\.(\d+)", outcome.stdout)
    return match is not None and (int(match.group(1)), int(match.group(2))) >= _MYPY_JSON_SINCE


def _error_plan(kinds: list[CheckKind], problem: str, timeout: float) -> Plan:
    return Plan([CheckSpec(kind, "config", [], "text", timeout, problem=problem) for kind in kinds])


async def make_plan(
    root: Path, settings: Settings, kinds: list[CheckKind], reports: Path, launcher: Launcher
) -> Plan:
    base_env = tool_environment(settings)
    try:
        config = load_config(root)
        interpreter = find_python(
            root, config, base_env.get("PATH", ""), read_toml(root / "pyproject.toml")
        )
    except GateConfigError as exc:
        return _error_plan(kinds, str(exc), settings.gate_check_timeout)
    python = interpreter.path if interpreter is not None else None
    in_venv = python is not None and (python.parent.parent / "pyvenv.cfg").is_file()
    env = tool_environment(settings, python.parent if in_venv and python else None)
    timeout = min(config.timeout or settings.gate_check_timeout, settings.gate_check_timeout)
    box = Toolbox(
        root=root, path=env.get("PATH", ""), python=python, reports=reports, timeout=timeout
    )
    detected = detect(box)
    plan = Plan(checks=[], env=env, python=interpreter)
    for kind in kinds:
        pinned = config.checks.get(kind)
        if pinned is not None and not pinned.enabled:
            plan.skipped[kind] = "disabled in .axon/quality-gate.toml"
            continue
        if pinned is not None and pinned.command is not None:
            specs = [_pinned_spec(box, kind, pinned)]
        else:
            specs = [s for s in detected if s.kind is kind]
        if not specs:
            plan.skipped[kind] = _NOTHING_FOUND[kind]
        if pinned is not None and pinned.timeout is not None:
            for spec in specs:
                spec.timeout = min(pinned.timeout, settings.gate_check_timeout)
        plan.checks += specs
    for spec in plan.checks:
        if (
            spec.tool == "mypy"
            and spec.parser == "mypy-json"
            and not await _mypy_offers_json(spec, root, env, launcher)
        ):
            spec.argv = [a for i, a in enumerate(spec.argv) if not _is_output_json(spec.argv, i)]
            spec.parser = "mypy"
    for spec in plan.checks:
        if interpreter is not None and _runs_with(spec, interpreter.path):
            spec.interpreter = interpreter.describe()
    _unique_ids(plan.checks)
    return plan


def _runs_with(spec: CheckSpec, python: Path) -> bool:
    """The check runs `python` itself or a tool installed beside it."""
    return bool(spec.argv) and Path(spec.argv[0]).parent == python.parent


def _is_output_json(argv: list[str], index: int) -> bool:
    return argv[index] == "-O" or (index > 0 and argv[index - 1] == "-O" and argv[index] == "json")


def _unique_ids(specs: list[CheckSpec]) -> None:
    seen: dict[str, int] = {}
    for spec in specs:
        count = seen.get(spec.id, 0) + 1
        seen[spec.id] = count
        if count > 1:
            spec.tool = f"{spec.tool}-{count}"
