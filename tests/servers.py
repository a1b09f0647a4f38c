"""Real servers the test session starts: redis-server and a MongoDB wire-protocol server.

Each runs on a free loopback port in a temporary directory and is stopped at
the end of the session. When a binary is missing the dependent tests skip,
naming what to install (.ci/run installs everything).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class RunningServer:
    port: int
    workdir: Path
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.alive:
            self.resume()  # a paused process would not act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def pause(self) -> None:
        """SIGSTOP: the server keeps its port (connections are accepted by the kernel)
        but answers nothing -- a hung server, not a dead one."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def start(self) -> None:
        """(Re)start on the same port, e.g. after a test killed it."""
        if not self.alive:
            self.process = subprocess.Popen(
                self.argv, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            wait_for_port(self.port)


def _spawn(argv: list[str], port: int, workdir: Path) -> RunningServer:
    server = RunningServer(port, workdir, argv)
    server.start()
    return server


@contextlib.contextmanager
def redis_server() -> Iterator[RunningServer | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="axon-redis-") as tmp:
        argv = [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            tmp,
        ]
        server = _spawn(argv, port, Path(tmp))
        try:
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def mongo_server(*, standalone: bool = False) -> Iterator[RunningServer | None]:
    """A single-node replica set, or with `standalone` a server that says it is none."""
    try:
        import secantus  # noqa: F401
    except ImportError:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="axon-mongo-") as tmp:
        argv = [
            sys.executable,
            "-m",
            "secantus",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            str(Path(tmp) / "data"),
            "--log-level",
            "ERROR",
            *(["--standalone"] if standalone else []),
        ]
        server = _spawn(argv, port, Path(tmp))
        try:
            yield server
        finally:
            server.stop()
