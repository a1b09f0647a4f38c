"""Where Axon keeps its data, resolved without pydantic.

`Settings.data_dir` uses this default; the CLI reads it directly when it only needs
to find a running server (`axon.local_server`) and must not pay for loading the
settings.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_VARIABLE = "AXON_DATA_DIR"


def default_data_dir() -> Path:
    """The one default for every entry point (CLI, server, quickstart): XDG's data home."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "axon"


def data_dir_from_env() -> Path:
    """AXON_DATA_DIR (any case, as the settings read it) or the default."""
    for name, value in os.environ.items():
        if name.upper() == DATA_DIR_VARIABLE:
            return Path(value)
    return default_data_dir()
