"""`axon serve` (and every command that opens the backends) fails in one line that says
what to fix: a backend whose driver is not installed, a MongoDB that is not a replica set.

Each case runs the real command in a child process, so what a user sees is what is
checked: no traceback, one `error:` line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import servers

# Makes `blocked` modules unimportable in the child, as on an install without the extra.
_WITHOUT = """
import sys

class Without:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

BLOCKED = set(sys.argv[1].split(","))
sys.meta_path.insert(0, Without())
sys.argv = ["axon", *sys.argv[2:]]
from axon.cli import main
main()
"""


def _axon(tmp_path: Path, env: dict[str, str], *argv: str, blocked: str = "") -> str:
    keep = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MONGODB_URI", "REDIS_URL", "QDRANT_URL", "LOG_FORMAT")
    }
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT, blocked or "-", *argv],
        env={
            **keep,
            "AXON_DATA_DIR": str(tmp_path / "data"),
            "AXON_EMBEDDER": "none",
            "PORT": str(servers.free_port()),
            "LOG_FORMAT": "text",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    return output


@pytest.mark.parametrize(
    ("variable", "value", "module"),
    [
        ("MONGODB_URI", "mongodb://127.0.0.1:1/axon?replicaSet=rs0", "pymongo"),
        ("REDIS_URL", "redis://127.0.0.1:1/0", "redis"),
        ("QDRANT_URL", "http://127.0.0.1:1", "qdrant_client"),
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["search", "anything", "-w", "test-workspace"]])
def test_a_backend_without_its_driver_names_the_extra(
    tmp_path: Path, variable: str, value: str, module: str, command: list[str]
) -> None:
    output = _axon(tmp_path, {variable: value}, *command, blocked=module)
    assert output.strip().splitlines() == [
        f"error: {variable} is set, but its driver ({module}) is not installed: "
        "pip install 'axon[production]'"
    ]


def test_serve_on_a_standalone_mongodb_says_how_to_fix_it(tmp_path: Path) -> None:
    with servers.mongo_server(standalone=True) as mongo:
        if mongo is None:
            pytest.skip("the MongoDB test server is not installed (pip install secantusdb)")
        uri = f"mongodb://127.0.0.1:{mongo.port}/axon"
        output = _axon(tmp_path, {"MONGODB_URI": uri}, "serve")
    errors = [line for line in output.splitlines() if " ERROR " in line]
    assert len(errors) >= 1, output
    line = errors[0]
    assert "cannot start: MongoDB at MONGODB_URI is a standalone server" in line, output
    assert "--replSet rs0" in line and "replicaSet=rs0" in line
