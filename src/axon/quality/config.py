"""`.axon/quality-gate.toml`: commands a workspace pins instead of detection.

    python = ".venv/bin/python"   # interpreter for Python checks (relative to the workspace)
    timeout = 300                 # per-check seconds (never above the server's limit)

    [tests]                       # one table per kind: tests, lint, types
    command = ["pytest", "-x"]    # argv; a string is split shell-style, never run by a shell
    parser = "auto"               # auto (from the command), text, or a parser name
    timeout = 120
    enabled = true                # false: the kind is skipped

Every problem is reported at once, naming the key, so a broken file gives an
`error` result people can act on, never a silent fallback to detection.
"""

from __future__ import annotations

import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axon.quality.models import CheckKind
from axon.quality.parsers import PARSERS

CONFIG_PATH = Path(".axon") / "quality-gate.toml"
MAX_CONFIG_BYTES = 64 * 1024
_TOP_KEYS = {"python", "timeout", *(k.value for k in CheckKind)}
_CHECK_KEYS = {"command", "parser", "timeout", "enabled"}


class GateConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"invalid {CONFIG_PATH}: " + "; ".join(problems))


@dataclass(frozen=True)
class PinnedCheck:
    command: list[str] | None = None
    parser: str = "auto"
    timeout: float | None = None
    enabled: bool = True


@dataclass(frozen=True)
class GateConfig:
    python: str | None = None
    timeout: float | None = None
    checks: dict[CheckKind, PinnedCheck] = field(default_factory=dict)


def _timeout(value: Any, key: str, problems: list[str]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        problems.append(f"{key}: must be a positive number of seconds")
        return None
    return float(value)


def _command(value: Any, key: str, problems: list[str]) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            problems.append(f"{key}: cannot split the command: {exc}")
            return None
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        argv = list(value)
    else:
        problems.append(f"{key}: must be a list of strings or a string")
        return None
    if not argv or not argv[0]:
        problems.append(f"{key}: must not be empty")
        return None
    if any("\0" in arg for arg in argv):
        problems.append(f"{key}: must not contain NUL characters")
        return None
    return argv


def _pinned(kind: CheckKind, table: Any, problems: list[str]) -> PinnedCheck | None:
    if not isinstance(table, dict):
        problems.append(f"{kind}: must be a table")
        return None
    for key in sorted(set(table) - _CHECK_KEYS):
        problems.append(f"{kind}.{key}: unknown key (expected {', '.join(sorted(_CHECK_KEYS))})")
    parser = table.get("parser", "auto")
    if parser not in {"auto", *PARSERS}:
        names = ", ".join(sorted(PARSERS))
        problems.append(f"{kind}.parser: unknown parser {parser!r} (expected auto, {names})")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{kind}.enabled: must be true or false")
    command = _command(table.get("command"), f"{kind}.command", problems)
    if enabled and "command" not in table and parser != "auto":
        problems.append(f"{kind}.parser: needs a command")
    return PinnedCheck(
        command=command,
        parser=str(parser),
        timeout=_timeout(table.get("timeout"), f"{kind}.timeout", problems),
        enabled=bool(enabled),
    )


def load_config(root: Path) -> GateConfig:
    """Read the workspace's gate config; an absent file is an empty config."""
    path = root / CONFIG_PATH
    if not path.is_file():
        return GateConfig()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GateConfigError([f"cannot read: {exc.strerror}"]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise GateConfigError([f"larger than {MAX_CONFIG_BYTES} bytes"])
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GateConfigError([f"not valid TOML: {exc}"]) from None
    problems: list[str] = []
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(f"{key}: unknown key (expected {', '.join(sorted(_TOP_KEYS))})")
    python = data.get("python")
    if python is not None and (not isinstance(python, str) or not python.strip()):
        problems.append("python: must be a path to an interpreter")
    timeout = _timeout(data.get("timeout"), "timeout", problems)
    checks: dict[CheckKind, PinnedCheck] = {}
    for kind in CheckKind:
        if kind.value in data:
            pinned = _pinned(kind, data[kind.value], problems)
            if pinned is not None:
                checks[kind] = pinned
    if problems:
        raise GateConfigError(problems)
    return GateConfig(python=python, timeout=timeout, checks=checks)
