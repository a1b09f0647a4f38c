"""The `axon` command line.

Each command group lives in its own module and registers itself on `app` when
imported here.
"""

from __future__ import annotations

from axon.cli import (
    ask,
    contexts,
    gate,
    index,
    keys,
    maintenance,
    search,
    serve,
    worker,
    workspaces,
)
from axon.cli._app import app

COMMAND_MODULES = (
    ask,
    contexts,
    gate,
    index,
    keys,
    maintenance,
    search,
    serve,
    worker,
    workspaces,
)


def main() -> None:
    app()


__all__ = ["app", "main"]
