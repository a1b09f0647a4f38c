"""What the quality gate costs on top of the tools it runs.

Gates a real repository (psf/requests at a pinned commit, from the local
mirror) with `checks=[lint]` (ruff, configured in its pyproject) and compares
the gate's wall time with running the same ruff command directly, in the same
run. Prints medians and the ratio.

    /work/venv/bin/python bench/quality_gate.py [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import checkout
from axon.config import load_settings
from axon.quality.access import GateTarget
from axon.quality.detect import ruff_args
from axon.quality.models import CheckKind, CheckStatus
from axon.quality.service import run_gate
from axon.services import build_services

MIRROR = Path("/work/.mirror/psf+requests/repo")
COMMIT = "1f6589ec"


async def _gate_once(root: Path, data_dir: Path) -> tuple[float, int]:
    settings = load_settings(data_dir=data_dir)
    services = await build_services(settings)
    try:
        started = time.perf_counter()
        result = await run_gate(
            settings, services.store, None, GateTarget(root, None), [CheckKind.LINT], "bench"
        )
        elapsed = time.perf_counter() - started
    finally:
        await services.close()
    [check] = result.checks
    assert check.status in {CheckStatus.PASSED, CheckStatus.FAILED}, check.reason
    return elapsed, check.errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ruff = str(Path(sys.executable).parent / "ruff")
    with checkout(MIRROR, COMMIT) as root, tempfile.TemporaryDirectory() as data:
        (root / ".axon").mkdir()
        (root / ".axon" / "quality-gate.toml").write_text(f'python = "{sys.executable}"\n')
        direct, gated = [], []
        findings = 0
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run([ruff, *ruff_args()], cwd=root, capture_output=True, env=os.environ)
            direct.append(time.perf_counter() - started)
            elapsed, findings = asyncio.run(_gate_once(root, Path(data)))
            gated.append(elapsed)
    d, g = statistics.median(direct), statistics.median(gated)
    print(f"repository: psf/requests@{COMMIT}, check: lint (ruff), runs: {args.runs}")
    print(f"ruff findings reported by the gate: {findings}")
    print(f"direct ruff   median {d * 1000:8.1f} ms")
    print(f"gate (lint)   median {g * 1000:8.1f} ms  (plan + run + parse + score)")
    print(f"ratio gate/direct: {g / d:.2f}x, overhead {1000 * (g - d):.1f} ms")


if __name__ == "__main__":
    main()
