"""Capture quality: precision and recall of the post-processor's captures.

Runs `PostProcessor.captures` over the labelled exchanges of
tests/evolution/capture_table.py (written and frozen before the rules were tuned)
and prints precision and recall on the tuning half and on the held-out half. A
capture is right when its sentence and kind are an expected capture of its exchange.

    .venv/bin/python bench/capture_quality.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.evolution.capture_table import HELD_OUT, TUNING
from tests.evolution.test_capture_quality import score


def main() -> None:
    for name, table in (("tuning", TUNING), ("held-out", HELD_OUT)):
        precision, recall, mistakes = score(table)
        print(f"{name:9} {len(table)} exchanges  precision {precision:.3f}  recall {recall:.3f}")
        for line in mistakes:
            print(f"    {line}")


if __name__ == "__main__":
    main()
