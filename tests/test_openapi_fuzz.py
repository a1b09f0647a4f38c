"""Schemathesis over the OpenAPI document against a real server, with and without auth:
every check, response schemas included, must pass. A bounded run; bench/fuzz.py is
the long one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzzing import _flaky_generation, axon_server, run_schemathesis

# Small enough for about a minute on two shared cores; the seed keeps a run repeatable.
MAX_EXAMPLES = 5
SEED = 19


@pytest.mark.parametrize("auth", [False, True], ids=["auth-off", "auth-on"])
def test_schemathesis_finds_no_failures(tmp_path: Path, auth: bool) -> None:
    with axon_server(tmp_path / "server", auth=auth) as server:
        run = run_schemathesis(
            server,
            tmp_path / "schemathesis",
            label="auth on" if auth else "auth off",
            max_examples=MAX_EXAMPLES,
            seed=SEED,
            phases="coverage,fuzzing,stateful",
        )
        log = server.log.read_text(errors="replace")
    assert run.operations >= 25, run.summary
    assert run.requests >= run.test_cases >= 300, run.summary
    assert run.failures == {}, run.summary
    assert "Traceback" not in log, log[-5000:]


def test_only_broken_generation_is_set_apart_from_failures() -> None:
    # The shape of schemathesis's ERRORS section: a block per operation.
    output = (
        "=================================== ERRORS ===================================\n"
        "_____________ GET /v1/models/{model_id} _____________\n"
        "Failed Health Check\n\nToo many generated examples are filtered out\n"
        "_____________ POST /v1/chat/completions _____________\n"
        'Runtime Error\n  File ".../hypothesis/core.py", line 1\nFlakyFailure\n'
        "_____________ POST /api/v1/workspaces _____________\n"
        'Runtime Error\n  File ".../httpx/_client.py", line 1\nConnectError\n'
        "=================================== WARNINGS ===================================\n"
    )
    # A transport error talking to the server is no generator's: it stays an error.
    assert _flaky_generation(output) == ["GET /v1/models/{model_id}", "POST /v1/chat/completions"]
