"""`axon search` asks the running `axon serve` of its data folder, and falls back to
searching in-process on any doubt (#16-9).

Real processes throughout: `axon serve` as a subprocess, the CLI through its entry
point in a fresh interpreter (tests.cli.probe), so which modules a search loaded
shows whether it ran here or on the server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from axon.cli import app
from axon.config import Settings
from axon.local_server import SERVER_FILE, find_server, local_url
from tests import servers
from tests.cli.probe import run_axon

# What only an in-process search loads: the store, the arrays, the services.
IN_PROCESS = {"sqlite3", "numpy", "axon.services", "axon.retrieval"}
QUERY = ["search", "convert_currency rates", "-w", "pay", "--json"]


@pytest.fixture
def indexed(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AXON_EMBEDDER", "none")  # lexical: the server starts fast
    folder = tmp_path / "pay"
    folder.mkdir()
    (folder / "rates.py").write_text(
        "def convert_currency(amount, rate):\n    return amount * rate\n\n\n"
        "def refund(amount):\n    return -amount\n"
    )
    (folder / "README.md").write_text("# Pay\n\nconvert_currency applies exchange rates.\n")
    done = CliRunner().invoke(app, ["index", str(folder), "-w", "pay"])
    assert done.exit_code == 0, done.output
    return settings.data_dir


@pytest.fixture
def server(indexed: Path) -> Iterator[subprocess.Popen[bytes]]:
    port = servers.free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("axon")), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        servers.wait_for_port(port, timeout=120)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)


def searched_here(args: list[str]) -> tuple[str, bool]:
    done, modules = run_axon(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout, bool(IN_PROCESS & modules)


def test_search_is_answered_by_the_running_server_and_matches_in_process(
    indexed: Path, server: subprocess.Popen[bytes]
) -> None:
    record = json.loads((indexed / SERVER_FILE).read_text())
    assert record["pid"] == server.pid and record["auth"] is False
    assert record["dataDir"] == str(indexed.resolve())
    assert (indexed / SERVER_FILE).stat().st_mode & 0o077 == 0
    remote, here = searched_here(QUERY)
    assert not here  # neither the store nor numpy was loaded: the server answered
    assert json.loads(remote)["results"][0]["path"] == "rates.py"
    text, here = searched_here(QUERY[:-1])
    assert not here and "rates.py:1-2" in text

    server.send_signal(signal.SIGTERM)
    server.wait(30)
    assert not (indexed / SERVER_FILE).exists()  # removed at stop
    local, here = searched_here(QUERY)
    assert here
    # The same answer either way (scores move a little: freshness is time-dependent).
    mine, theirs = json.loads(local), json.loads(remote)
    assert [_hit(r) for r in mine["results"]] == [_hit(r) for r in theirs["results"]]
    for a, b in zip(mine["results"], theirs["results"], strict=True):
        assert a["score"] == pytest.approx(b["score"], abs=1e-3)


def _hit(result: dict[str, object]) -> tuple[object, ...]:
    return tuple(result[k] for k in ("rank", "id", "path", "startLine", "endLine", "content"))


@pytest.mark.parametrize(
    "change",
    ["auth on", "another folder", "dead pid", "not json", "wrong port"],
)
def test_any_doubt_about_the_server_means_searching_in_process(
    indexed: Path, server: subprocess.Popen[bytes], change: str
) -> None:
    path = indexed / SERVER_FILE
    record = json.loads(path.read_text())
    if change == "auth on":
        record["auth"] = True  # the CLI holds no key
    elif change == "another folder":
        record["dataDir"] = str(indexed.parent)
    elif change == "dead pid":
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        record["pid"] = gone.pid
    elif change == "wrong port":
        record["url"] = local_url("127.0.0.1", servers.free_port())
    path.write_text("{not json" if change == "not json" else json.dumps(record))
    output, here = searched_here(QUERY)
    assert here
    assert json.loads(output)["results"][0]["path"] == "rates.py"


class _Broken(BaseHTTPRequestHandler):
    """A live process on the announced port that does not answer like Axon."""

    def do_POST(self) -> None:
        self.send_response(500)
        self.end_headers()
        self.wfile.write(b"internal error")

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_that_fails_the_request_means_searching_in_process(indexed: Path) -> None:
    broken = HTTPServer(("127.0.0.1", 0), _Broken)
    thread = threading.Thread(target=broken.serve_forever, daemon=True)
    thread.start()
    try:
        record = {
            "url": local_url("127.0.0.1", broken.server_address[1]),
            "pid": os.getpid(),  # alive: this test process
            "dataDir": str(indexed.resolve()),
            "auth": False,
        }
        (indexed / SERVER_FILE).write_text(json.dumps(record))
        assert find_server(indexed) is not None
        output, here = searched_here(QUERY)
        assert here and json.loads(output)["count"] >= 1
    finally:
        broken.shutdown()


def test_local_url_reaches_wildcard_binds_over_loopback() -> None:
    assert local_url("0.0.0.0", 3000) == "http://127.0.0.1:3000"
    assert local_url("::", 3000) == "http://[::1]:3000"
    assert local_url("127.0.0.1", 8080) == "http://127.0.0.1:8080"
    assert local_url("fe80::1", 80) == "http://[fe80::1]:80"
