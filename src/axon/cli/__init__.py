"""The `axon` command line.

Each command group lives in its own module and registers itself on `app` when
imported here.
"""

from __future__ import annotations

# Importing a command module registers its commands on `app`.
from axon.cli import (  # noqa: F401
    ask,
    contexts,
    gate,
    index,
    keys,
    maintenance,
    mcp,
    memory,
    refs,
    search,
    serve,
    worker,
    workspaces,
)
from axon.cli._app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
