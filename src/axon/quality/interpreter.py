"""Which Python runs a workspace's Python checks, and why that one.

The workspace's own environment, in this order: `python` in
`.axon/quality-gate.toml`; an in-project virtualenv (`.venv`, `venv`, `env`: uv's,
Poetry's and Hatch's in-project default too); the interpreter PDM recorded in
`.pdm-python`; Hatch's default environment when pyproject.toml gives it a `path`;
Poetry's environment for the project in Poetry's virtualenvs folder. Only then a
`python3` on PATH, and never the environment Axon itself runs in (its packages
are not the project's, so a check there passes or fails for the wrong reasons);
naming it in the config is the only way to use it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axon.quality.config import GateConfig, GateConfigError

IN_PROJECT_VENVS = (".venv", "venv", "env")
_POETRY_UNSAFE = re.compile(r'[ $`!*@"\\\r\n\t]')


@dataclass(frozen=True)
class Interpreter:
    path: Path
    chosen: str  # how it was found, for people: "the workspace's .venv"

    def describe(self) -> str:
        return f"{self.path} ({self.chosen})"


def _venv_python(folder: Path) -> Path | None:
    # Not resolved: a venv's python is a symlink, and resolving it would leave the venv.
    candidate = folder / "bin" / "python"
    return candidate if candidate.is_file() and (folder / "pyvenv.cfg").is_file() else None


def _pdm(root: Path) -> Interpreter | None:
    marker = root / ".pdm-python"
    try:
        recorded = marker.read_text("utf-8").strip() if marker.is_file() else ""
    except OSError:
        return None
    path = Path(recorded) if recorded else None
    if path is not None and path.is_absolute() and path.is_file():
        return Interpreter(path, "recorded by PDM in .pdm-python")
    return None


def _hatch(root: Path, pyproject: dict[str, Any]) -> Interpreter | None:
    envs = pyproject.get("tool", {}).get("hatch", {}).get("envs", {})
    configured = envs.get("default", {}).get("path") if isinstance(envs, dict) else None
    if not isinstance(configured, str) or not configured:
        return None
    folder = Path(configured).expanduser()
    python = _venv_python(folder if folder.is_absolute() else root / folder)
    if python is None:
        return None
    return Interpreter(python, "Hatch's default environment ([tool.hatch.envs.default] path)")


def _poetry_folder() -> Path:
    if configured := os.environ.get("POETRY_VIRTUALENVS_PATH"):
        return Path(configured).expanduser()
    cache = os.environ.get("POETRY_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "pypoetry"
    )
    return Path(cache) / "virtualenvs"


def poetry_env_prefix(name: str, root: Path) -> str:
    """Poetry names a project's environment `<name>-<hash of its folder>-py<X.Y>`."""
    sanitized = _POETRY_UNSAFE.sub("_", name.lower())[:42]
    folder = os.path.normcase(os.path.realpath(root))
    digest = base64.urlsafe_b64encode(hashlib.sha256(folder.encode()).digest()).decode()
    return f"{sanitized}-{digest[:8]}-py"


def _poetry(root: Path, pyproject: dict[str, Any]) -> Interpreter | None:
    tool = pyproject.get("tool", {}).get("poetry")
    name = tool.get("name") if isinstance(tool, dict) else None
    if not isinstance(name, str):
        project = pyproject.get("project")
        name = project.get("name") if isinstance(project, dict) else None
    if not isinstance(name, str) or not (tool is not None or (root / "poetry.lock").is_file()):
        return None
    folder = _poetry_folder()
    prefix = poetry_env_prefix(name, root)
    try:
        candidates = sorted(p for p in folder.iterdir() if p.name.startswith(prefix))
    except OSError:
        return None
    for env in reversed(candidates):  # the newest Python first
        if (python := _venv_python(env)) is not None:
            return Interpreter(python, f"Poetry's environment for this project ({env.name})")
    return None


def _is_axons_own(candidate: Path) -> bool:
    own = Path(sys.prefix) / "bin"
    try:
        return candidate.parent.resolve() == own.resolve() or candidate.parent == own
    except OSError:
        return False


def _on_path(path: str) -> Interpreter | None:
    for folder in path.split(os.pathsep):
        if not folder:
            continue
        for name in ("python3", "python"):
            found = shutil.which(name, path=folder)
            if found and not _is_axons_own(Path(found)):
                return Interpreter(
                    Path(found), f"{name} on PATH: the workspace has no environment of its own"
                )
    return None


def find_python(
    root: Path, config: GateConfig, path: str, pyproject: dict[str, Any]
) -> Interpreter | None:
    """The interpreter for `root`'s Python checks (see the module docstring), or None."""
    if config.python is not None:
        configured = Path(config.python).expanduser()
        configured = configured if configured.is_absolute() else root / configured
        if not configured.is_file():
            raise GateConfigError([f"python: {configured} does not exist"])
        return Interpreter(configured, "python in .axon/quality-gate.toml")
    for venv in IN_PROJECT_VENVS:
        if (python := _venv_python(root / venv)) is not None:
            return Interpreter(python, f"the workspace's {venv}")
    return _pdm(root) or _hatch(root, pyproject) or _poetry(root, pyproject) or _on_path(path)
