"""Finding the `axon serve` of this data folder, so a CLI command can ask it.

At start `axon serve` writes `server.json` into its data folder (AXON_DATA_DIR):
the URL to reach it on this machine, its pid, the folder, and whether it asks for
API keys. It removes the file when it stops. A CLI search that finds the file, a
live pid and auth off sends its request there: the server has the model and the
search arrays loaded and answers in milliseconds, where loading them is most of a
standalone search's time. On any doubt -- no file, a dead pid, another folder, auth
on, no answer, an error status, a body that is not the expected JSON -- the command
runs in its own process as before, so a stale or foreign file can cost time but
never change an answer's source of truth (the same data folder).

With auth on the CLI does not delegate: it holds no key, and a key written to disk
for it would be a credential lying next to the database. Such a server is usually
remote-facing (auth turns on by itself off loopback), and the CLI still works
in-process on the same data.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SERVER_FILE = "server.json"
# A live local server answers a search in milliseconds; past this something is wrong
# with it, and the caller does the work itself.
REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class LocalServer:
    url: str
    pid: int

    def post(
        self, path: str, body: dict[str, Any], timeout: float = REQUEST_TIMEOUT_SECONDS
    ) -> dict[str, Any] | None:
        """The JSON object a 200 answer carries; None for anything else."""
        parts = urlsplit(self.url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            return None
        connection = HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request(
                "POST", path, json.dumps(body).encode(), {"content-type": "application/json"}
            )
            response = connection.getresponse()
            data = response.read()
        except (OSError, HTTPException):
            return None
        finally:
            connection.close()
        if response.status != 200:
            return None
        try:
            parsed = json.loads(data)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None


def local_url(host: str, port: int) -> str:
    """How this machine reaches a server bound to `host`: a wildcard means loopback."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce(data_dir: Path, host: str, port: int, auth: bool) -> None:
    """Write server.json for this process (user-only, replaced atomically)."""
    record = {
        "url": local_url(host, port),
        "pid": os.getpid(),
        "dataDir": str(data_dir.resolve()),
        "auth": auth,
    }
    target = data_dir / SERVER_FILE
    tmp = target.with_name(f".{SERVER_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle)
    os.replace(tmp, target)


def withdraw(data_dir: Path) -> None:
    """Remove server.json if this process wrote it (a newer server may own it now)."""
    target = data_dir / SERVER_FILE
    record = _read(target)
    if record is not None and record.get("pid") == os.getpid():
        with contextlib.suppress(OSError):
            target.unlink()


def find_server(data_dir: Path) -> LocalServer | None:
    """The live, key-less server of `data_dir`, if its file says there is one."""
    record = _read(data_dir / SERVER_FILE)
    if record is None or record.get("auth") is not False:
        return None
    url, pid, folder = record.get("url"), record.get("pid"), record.get("dataDir")
    if not isinstance(url, str) or not isinstance(pid, int) or not isinstance(folder, str):
        return None
    try:
        same_folder = Path(folder) == data_dir.resolve()
    except OSError:
        return None
    if not same_folder or not _alive(pid):
        return None
    return LocalServer(url, pid)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError:  # gone, or another user's process: not our server
        return False
    return True
