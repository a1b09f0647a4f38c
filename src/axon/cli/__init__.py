"""The `axon` command line.

Each command group lives in its own module and registers itself on `app` when
imported here.
"""

from __future__ import annotations

from axon.cli import contexts, serve, workspaces
from axon.cli._app import app

COMMAND_MODULES = (contexts, serve, workspaces)


def main() -> None:
    app()


__all__ = ["app", "main"]
