"""`axon serve --workers N`: one listening socket per worker process (SO_REUSEPORT).

With one shared listening socket, the first worker to wake accepts every waiting
connection (asyncio accepts in a loop), so long-lived keep-alive connections -- a
proxy's, a load balancer's, a benchmark's -- pile up on one worker while the others
idle. Here each worker listens on a socket of its own bound with SO_REUSEPORT, and
the kernel spreads new connections across them. Uvicorn's supervisor still starts,
watches, restarts and stops the workers.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


def _bind(host: str, port: int, family: int) -> socket.socket:
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class _PerWorkerSocket(socket.socket):
    """Bound in the supervisor (so a taken port fails at once) but never listened on
    there: handed to a worker process, it arrives as a fresh socket of its own."""

    def __reduce__(self) -> tuple[Any, tuple[str, int, int]]:
        host, port = self.getsockname()[:2]
        return (_bind, (host, port, int(self.family)))


def balances_connections() -> bool:
    """Linux spreads connections over SO_REUSEPORT listeners; other systems may hand
    them all to one socket, so they keep uvicorn's shared socket."""
    return sys.platform.startswith("linux")


def run_workers(config: uvicorn.Config) -> None:
    """Run `config.workers` processes of `config`'s app, each with its own socket."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = _PerWorkerSocket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((config.host, config.port))
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
