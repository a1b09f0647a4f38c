"""Schemathesis against a real `axon serve`, for the test suite and bench/fuzz.py.

`axon_server` starts the server in a scratch directory (its own data dir, auth
on or off, rate limits off so the fuzzer reaches the routes, lexical-only search
so no model loads); with auth on it first creates an admin key with
`axon keys create`. `run_schemathesis` runs the `st` CLI with every check
against its /openapi.json and reads the JSON report; the number of requests the
server answered comes from its own `axon_requests_total` counter.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests import servers

# Semantic rules a JSON Schema cannot state (an opaque cursor, "exactly one of
# workspaceId and workspacePath", a model no provider serves) are 422s for
# schema-valid input; everything else the positive check expects stays as it is.
# The OpenAI-compatible routes answer those with 400, as OpenAI does.
CONFIG = """\
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

[[operations]]
include-path-regex = "^/v1/"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "400", "401", "403", "404", "409", "429"
]
"""
# GET /mcp is an event stream kept open for server-initiated messages (a stateless
# server sends none): it never ends, so no check could finish on it.
EXCLUDED_OPERATION_IDS = ("mcp_get",)
_REQUESTS = re.compile(r'^axon_requests_total\{[^}]*route="([^"]*)"[^}]*\} ([0-9.e+]+)$', re.M)


@dataclass
class FuzzRun:
    label: str
    requests: int
    test_cases: int
    operations: int
    seconds: float
    failures: dict[str, int] = field(default_factory=dict)  # "ST101 Server error" -> count
    # Operations where schemathesis's own data generation broke (a Runtime Error raised
    # inside its generators or Hypothesis, e.g. a draw Hypothesis calls flaky, or a
    # Failed Health Check: too many drawn values filtered out): those cases never
    # reached the server, so they are not API failures.
    generator_errors: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def summary(self) -> str:
        """The report, each error cut to its first lines (a generator's traceback runs to
        hundreds of kilobytes of quoted source)."""
        text = re.sub(r"(?m)^(.{300}).*$", r"\1…", self.output)
        text = re.sub(
            r"(?ms)^(_{3,} .+? _{3,}\n(?:.*\n){12})(?:(?!^_{3,} |^={3,} ).*\n)+",
            r"\1…\n",
            text,
        )
        return text[-16_000:]


@dataclass
class AxonServer:
    url: str
    token: str | None
    log: Path


def _env(root: Path, auth: bool) -> dict[str, str]:
    # A clean environment: none of the developer's keys, backends or settings.
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "AXON_DATA_DIR": str(root / "data"),
        "AXON_AUTH": "on" if auth else "off",
        "AXON_RATE_LIMITS": "off",
        "AXON_EMBEDDER": "none",
        "AXON_GATE_ALLOWED_ROOTS": str(root / "workspaces"),
        # Fuzzer-made workspaces may only name folders in here, so scanning them (the
        # scan route is fuzzed too) reads nothing outside the scratch directory.
        "AXON_WORKSPACE_ROOTS": str(root / "workspaces"),
        # The auth-off run sends no key and the auth-on run sends invalid ones on
        # purpose (ignored_auth): limiting those per address would turn the run
        # into a test of the limiter (tests/test_auth_failures.py has that).
        "AXON_AUTH_FAILURE_LIMIT": "1000000/1m",
        "AXON_LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def axon_server(root: Path, *, auth: bool) -> Iterator[AxonServer]:
    """`axon serve` on a free loopback port, run from the empty `root` (relative
    workspace paths resolve inside it), stopped at exit."""
    (root / "workspaces").mkdir(parents=True, exist_ok=True)
    env = _env(root, auth)
    axon = [str(Path(sys.executable).with_name("axon"))]
    token = None
    if auth:
        created = subprocess.run(
            [*axon, "keys", "create", "fuzz", "--scope", "admin", "--json"],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        token = str(json.loads(created.stdout)["key"])
    port = servers.free_port()
    log = root / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*axon, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            servers.wait_for_port(port, timeout=60)
            yield AxonServer(f"http://127.0.0.1:{port}", token, log)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def served_requests(url: str) -> int:
    """Requests the server has answered, from its Prometheus counter (not /metrics)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return round(sum(float(n) for route, n in _REQUESTS.findall(text) if route != "/metrics"))


def run_schemathesis(
    server: AxonServer,
    workdir: Path,
    *,
    label: str,
    max_examples: int,
    seed: int,
    workers: int = 2,
    phases: str = "examples,coverage,fuzzing,stateful",
    timeout: float = 1800,
) -> FuzzRun:
    """One `st run` with every check; failures counted by check code and title."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "schemathesis.toml"
    config.write_text(CONFIG)
    report = workdir / "report.json"
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(max_examples),
        "--workers",
        str(workers),
        "--seed",
        str(seed),
        "--phases",
        phases,
        *(f"--exclude-operation-id={op}" for op in EXCLUDED_OPERATION_IDS),
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
    ]
    if server.token is not None:
        command += ["--header", f"Authorization: Bearer {server.token}"]
    before = served_requests(server.url)
    done = subprocess.run(
        command,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    requests = served_requests(server.url) - before
    output = done.stdout + done.stderr
    if not report.exists():
        raise RuntimeError(f"schemathesis wrote no report (exit {done.returncode}):\n{output}")
    data = json.loads(report.read_text())
    failures = {f"{f['code']} {f['title']}": int(f["count"]) for f in data["failures"]}
    flaky = _flaky_generation(output)
    other_errors = sum(int(e.get("count", 1)) for e in data.get("errors", [])) - len(flaky)
    if other_errors > 0:  # the run itself broke (e.g. the schema did not load)
        failures["schemathesis errors"] = other_errors
    return FuzzRun(
        label=label,
        requests=requests,
        test_cases=int(data["test_cases"]["generated"]),
        operations=int(data["operations"]["tested"]),
        seconds=float(data["running_time"]),
        failures=failures,
        generator_errors=flaky,
        output=output,
    )


_GENERATOR_FRAMES = (
    "schemathesis/generation/",
    "schemathesis/specs/openapi/coverage/",
    "hypothesis/",
)


def _flaky_generation(output: str) -> list[str]:
    """Operations in the ERRORS section whose data generation broke: a Runtime Error
    from the generators' frames, or a Failed Health Check (nothing was sent)."""
    section = re.search(r"(?ms)^={3,} ERRORS ={3,}$(.*?)(?=^={3,} )", output)
    if section is None:
        return []
    blocks = re.split(r"(?m)^_{3,} (.+?) _{3,}$", section.group(1))
    # re.split with a group: [before, name1, body1, name2, body2, ...]
    return [
        name
        for name, body in zip(blocks[1::2], blocks[2::2], strict=True)
        if _generation_broke(body.lstrip())
    ]


def _generation_broke(body: str) -> bool:
    if body.startswith("Failed Health Check"):
        return True
    return body.startswith("Runtime Error") and any(f in body for f in _GENERATOR_FRAMES)
