"""Printing records for people (Rich) or machines (--json).

Commands import this module inside their bodies: it loads Rich. Lists print plain
lines (`axon.cli._text`), which keep paths and ids whole at any width.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from axon.cli._text import print_json as print_json  # without Rich for fast commands

console = Console()


def print_record(data: dict[str, Any]) -> None:
    for key, value in data.items():
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        console.print(f"[bold]{key}[/bold]: {text}", highlight=False, markup=True)
