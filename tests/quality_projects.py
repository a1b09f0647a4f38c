"""Fixture projects for the quality gate, written into a test's tmp folder."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

# The gate finds pytest, ruff and mypy the way a user's project would: the project's
# `.axon/quality-gate.toml` names the interpreter of the environment that has them.
INTERPRETER = sys.executable

PYPROJECT = """\
[project]
name = "calc"
version = "0.1"

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.ruff]
line-length = 100

[tool.mypy]
strict = true
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def gate_config(extra: str = "") -> str:
    return f'python = "{INTERPRETER}"\n{extra}'


def python_project(root: Path, *, broken: bool, config_extra: str = "") -> Path:
    """A small package; `broken` adds one failing test and one unused import (F401)."""
    sub = "a + b" if broken else "a - b"
    imports = "import os\n\n\n" if broken else ""
    return write(
        root,
        {
            "pyproject.toml": PYPROJECT,
            ".axon/quality-gate.toml": gate_config(config_extra),
            "calc.py": f"""\
{imports}def add(a: int, b: int) -> int:
    return a + b


def sub(a: int, b: int) -> int:
    return {sub}
""",
            "tests/test_calc.py": """\
                from calc import add, sub


                def test_add() -> None:
                    assert add(1, 2) == 3


                def test_sub() -> None:
                    assert sub(3, 1) == 2
                """,
        },
    )


HANGING_TEST = """\
import os
import subprocess
import sys
import time

GRANDCHILD = "import time; time.sleep(600)"
CHILD = (
    "import subprocess, sys, time\\n"
    f"g = subprocess.Popen([sys.executable, '-c', {GRANDCHILD!r}])\\n"
    "open('pids.txt', 'a').write(f'{g.pid}\\\\n')\\n"
    "time.sleep(600)\\n"
)


def test_hangs() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD])
    with open("pids.txt", "a") as pids:
        pids.write(f"{os.getpid()}\\n{child.pid}\\n")
    time.sleep(600)
"""


def hanging_project(root: Path, timeout: float = 3) -> Path:
    """pytest hangs in a test that started a child, which started a grandchild."""
    return write(
        root,
        {
            "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
            ".axon/quality-gate.toml": gate_config(f"[tests]\ntimeout = {timeout}\n"),
            "tests/test_hang.py": HANGING_TEST,
        },
    )


def node_project(root: Path) -> Path:
    return write(
        root,
        {
            "package.json": '{"name": "demo", "version": "1.0.0", '
            '"scripts": {"test": "node --test"}}\n',
            "test/math.test.js": """\
                const test = require("node:test");
                const assert = require("node:assert");
                test("adds", () => assert.strictEqual(1 + 1, 2));
                test("breaks", () => assert.strictEqual(1 + 1, 3));
                test.skip("later", () => {});
                """,
        },
    )
