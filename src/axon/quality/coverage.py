"""Coverage the project's own test run produced (Axon never adds coverage flags).

Only a report written during this run counts: a stale coverage.xml from last
week says nothing about the code being gated.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

_LIMIT = 64 * 1024 * 1024


def _cobertura(path: Path) -> float | None:
    rate = ET.parse(path).getroot().get("line-rate")
    return float(rate) * 100 if rate is not None else None


def _coverage_py_json(path: Path) -> float | None:
    data: Any = json.loads(path.read_text("utf-8"))
    value = (data.get("totals") or {}).get("percent_covered")
    return float(value) if value is not None else None


def _istanbul_summary(path: Path) -> float | None:
    data: Any = json.loads(path.read_text("utf-8"))
    value = ((data.get("total") or {}).get("lines") or {}).get("pct")
    return float(value) if isinstance(value, int | float) else None


_READERS = (
    ("coverage.xml", _cobertura),
    ("coverage.json", _coverage_py_json),
    ("coverage/cobertura-coverage.xml", _cobertura),
    ("coverage/coverage-summary.json", _istanbul_summary),
)


def fresh_coverage(root: Path, since: float) -> float | None:
    """Line coverage in percent from a report modified at or after `since` (epoch seconds)."""
    for name, reader in _READERS:
        path = root / name
        try:
            stat = path.stat()
            if not path.is_file() or stat.st_mtime < since or stat.st_size > _LIMIT:
                continue
            value = reader(path)
        except (OSError, ValueError, ET.ParseError, AttributeError):
            continue
        if value is not None:
            return round(value, 2)
    return None
