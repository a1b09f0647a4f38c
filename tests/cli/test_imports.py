"""A command imports only what it runs: `--help` never loads the server, the
model runtime or the numeric stack (#16-9).

Each check runs the real `axon` entry point in a fresh interpreter and reads
`sys.modules` when it exits, so an import added anywhere on the path shows up.
"""

from __future__ import annotations

import pytest

from tests.cli.probe import run_axon

# The server stack, the model runtime, the numeric stack and the store: none is
# needed to print help.
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "onnxruntime",
    "tokenizers",
    "numpy",
    "httpx",
    "pydantic_settings",
    "sqlite3",
    "axon.api",
    "axon.services",
    "axon.pipeline",
    "axon.retrieval",
    "axon.embeddings",
    "axon.config",
)


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["search", "--help"],
        ["index", "--help"],
        ["serve", "--help"],
        ["ask", "--help"],
        ["keys", "list", "--help"],
        ["gate", "--help"],
        ["version"],
    ],
)
def test_help_and_version_load_nothing_heavy(args: list[str]) -> None:
    done, modules = run_axon(*args)
    assert done.returncode == 0, done.stderr
    assert "Usage: axon" in done.stdout or args == ["version"]
    assert heavy_in(modules) == []


def test_the_root_help_does_not_even_load_pydantic_or_rich() -> None:
    done, modules = run_axon("--help")
    assert done.returncode == 0
    assert {"pydantic", "rich"}.isdisjoint(modules)
    # Every command is still listed.
    for command in ("search", "index", "serve", "ask", "keys", "gate", "workspace"):
        assert f"  {command}" in done.stdout
