"""Run the real `axon` entry point in a fresh interpreter and report what it imported."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["axon", *sys.argv[1:]]
from axon.cli import main
main()
"""


def run_axon(*args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """The finished process (stdout, exit code) and the modules loaded when it exited."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=timeout
    )
    return done, set(json.loads(done.stderr.strip().splitlines()[-1]))
