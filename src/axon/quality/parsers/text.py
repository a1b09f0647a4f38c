"""No machine-readable output: the exit code is the verdict (see `verdict.py`)."""

from __future__ import annotations

from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput


def parse_text(out: ToolOutput) -> Parsed:
    return UNRECOGNISED
