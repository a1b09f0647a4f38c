"""Which Python the quality gate runs a workspace's checks with, and that it says so.

The workspace's own environment wins (config, in-project venv, PDM, Hatch, Poetry);
a `python3` on PATH comes last and is never the environment Axon runs in.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from axon.quality.config import GateConfig
from axon.quality.interpreter import find_python, poetry_env_prefix

AXONS_BIN = Path(sys.prefix) / "bin"


def _fake_venv(folder: Path) -> Path:
    (folder / "bin").mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\n")
    python = folder / "bin" / "python"
    python.symlink_to(sys.executable)
    return python


def _other_python(tmp_path: Path) -> Path:
    """A folder with a python3 that is not Axon's environment (the base interpreter)."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "python3").symlink_to(getattr(sys, "_base_executable", sys.executable))
    return folder


def test_path_never_yields_axons_own_environment(tmp_path: Path) -> None:
    # As when Axon's virtualenv is activated: its bin folder leads PATH.
    assert (AXONS_BIN / "python3").exists() or (AXONS_BIN / "python").exists()
    other = _other_python(tmp_path)
    path = os.pathsep.join([str(AXONS_BIN), str(other)])
    found = find_python(tmp_path, GateConfig(), path, {})
    assert found is not None and found.path.parent == other, found
    assert found.chosen == "python3 on PATH: the workspace has no environment of its own"
    assert find_python(tmp_path, GateConfig(), str(AXONS_BIN), {}) is None
    # ... unless the workspace asks for it.
    asked = find_python(tmp_path, GateConfig(python=sys.executable), str(AXONS_BIN), {})
    assert asked is not None and asked.chosen == "python in .axon/quality-gate.toml"


def test_the_workspaces_own_environments_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    other = str(_other_python(tmp_path))
    # Poetry's environment lives outside the project, named after the project's folder.
    poetry_home = tmp_path / "poetry-envs"
    monkeypatch.setenv("POETRY_VIRTUALENVS_PATH", str(poetry_home))
    poetry_python = _fake_venv(poetry_home / (poetry_env_prefix("calc", root) + "3.11"))
    _fake_venv(poetry_home / (poetry_env_prefix("other", root) + "3.11"))
    pyproject: dict[str, Any] = {"tool": {"poetry": {"name": "calc"}}}
    found = find_python(root, GateConfig(), other, pyproject)
    assert found is not None and found.path == poetry_python
    assert found.chosen.startswith("Poetry's environment for this project")
    hatch_python = _fake_venv(root / ".hatch-env")
    pyproject = {"tool": {"hatch": {"envs": {"default": {"path": ".hatch-env"}}}}}
    found = find_python(root, GateConfig(), other, pyproject)
    assert found is not None and found.path == hatch_python
    (root / ".pdm-python").write_text(str(hatch_python) + "\n")
    found = find_python(root, GateConfig(), other, {})
    assert found is not None and found.chosen == "recorded by PDM in .pdm-python"
    venv_python = _fake_venv(root / ".venv")
    found = find_python(root, GateConfig(), other, pyproject)
    assert found is not None and (found.path, found.chosen) == (
        venv_python,
        "the workspace's .venv",
    )
