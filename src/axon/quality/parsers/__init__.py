"""Parsers from a tool's output to counts, failures and findings, by name.

Each reads the tool's machine-readable format where it offers one; `text` is
the fallback for commands Axon does not know, where the exit code decides.
"""

from __future__ import annotations

from collections.abc import Callable

from axon.quality.parsers._base import Parsed, ToolOutput
from axon.quality.parsers.biome import parse_biome
from axon.quality.parsers.cargo import parse_cargo_test, parse_clippy
from axon.quality.parsers.eslint import parse_eslint
from axon.quality.parsers.gotest import parse_go_test
from axon.quality.parsers.jest import parse_jest
from axon.quality.parsers.junit import parse_junit
from axon.quality.parsers.lines import parse_lines
from axon.quality.parsers.mypy import parse_mypy_json, parse_mypy_text
from axon.quality.parsers.pylint import parse_pylint
from axon.quality.parsers.pyright import parse_pyright
from axon.quality.parsers.ruff import parse_ruff
from axon.quality.parsers.tap import parse_tap
from axon.quality.parsers.text import parse_text
from axon.quality.parsers.tsc import parse_tsc
from axon.quality.parsers.unittest import parse_unittest

Parser = Callable[[ToolOutput], Parsed]

PARSERS: dict[str, Parser] = {
    "junit": parse_junit,
    "jest": parse_jest,
    "tap": parse_tap,
    "unittest": parse_unittest,
    "go-test": parse_go_test,
    "cargo-test": parse_cargo_test,
    "ruff": parse_ruff,
    "lines": parse_lines,
    "pylint": parse_pylint,
    "eslint": parse_eslint,
    "biome": parse_biome,
    "clippy": parse_clippy,
    "mypy": parse_mypy_text,
    "mypy-json": parse_mypy_json,
    "pyright": parse_pyright,
    "tsc": parse_tsc,
    "text": parse_text,
}

__all__ = ["PARSERS", "Parsed", "Parser", "ToolOutput"]
