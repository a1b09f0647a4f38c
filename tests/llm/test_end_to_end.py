"""The gateway inside Axon: the usage API, a bad model over the prompt API, a stream that
dies mid-answer over SSE, and `axon ask` printing a streamed answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from axon.api.app import create_app
from axon.config import Settings, load_settings
from axon.services import Services, build_services
from tests.fakes.llm_server import DEFAULT_TEXT, FakeLLMServer, Step


@pytest.fixture
def auto_create_workspaces() -> str:
    # The workspaces these tests send prompts to without indexing them first.
    return "alpha,beta,w,broken,keys,soft,cli"


PROCESS = "/api/v1/prompts/process"
AXON = str(Path(sys.executable).with_name("axon"))  # the installed console script


@pytest.fixture
async def app_client(
    settings: Settings, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The app in-process, with OpenAI and Ollama on the fake."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake.url}/v1")
    monkeypatch.setenv("OLLAMA_BASE_URL", fake.url)
    monkeypatch.setenv("DEFAULT_MODEL", "gpt-4o")
    monkeypatch.setenv("LLM_MAX_RETRIES", "0")
    services = await build_services(load_settings())
    transport = httpx.ASGITransport(app=create_app(services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            yield http, services
    finally:
        await services.close()


def sse_events(raw: str) -> list[dict[str, Any]]:
    events = []
    for frame in raw.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        if "event" in fields:
            events.append({"event": fields["event"], "data": json.loads(fields["data"])})
    return events


async def test_usage_endpoint_totals_per_workspace(
    app_client: tuple[httpx.AsyncClient, Services],
) -> None:
    http, _ = app_client
    for workspace, model in [("alpha", None), ("alpha", None), ("beta", "ollama:llama3.2")]:
        body: dict[str, Any] = {"prompt": "What is Axon?", "workspaceId": workspace}
        if model:
            body["model"] = model
        response = await http.post(PROCESS, json=body)
        assert response.status_code == 200, response.text
        assert response.json()["response"]["text"] == DEFAULT_TEXT

    alpha = (await http.get("/api/v1/usage", params={"workspaceId": "alpha"})).json()
    assert alpha["workspaceId"] == "alpha"
    assert (
        alpha["llm"]["model"] == "openai:gpt-4o" and alpha["llm"]["breakers"]["openai"] == "closed"
    )
    assert alpha["totals"]["requests"] == 2
    assert alpha["totals"]["inputTokens"] == 84 and alpha["totals"]["outputTokens"] == 10
    assert alpha["totals"]["costUsd"] == pytest.approx((84 * 2.5 + 10 * 10) / 1e6)
    (item,) = alpha["items"]
    assert (item["provider"], item["model"], item["workspaceId"]) == ("openai", "gpt-4o", "alpha")

    everything = (await http.get("/api/v1/usage")).json()
    assert everything["workspaceId"] is None
    assert [(i["workspaceId"], i["provider"]) for i in everything["items"]] == [
        ("alpha", "openai"),
        ("beta", "ollama"),
    ]
    assert everything["totals"]["requests"] == 3


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"workspaceId": "nope"}, 404, "workspaceId"),
        ({"workspaceId": "bad id!"}, 422, "workspaceId"),
    ],
)
async def test_usage_endpoint_rejects_bad_workspaces(
    app_client: tuple[httpx.AsyncClient, Services], query: dict[str, str], status: int, field: str
) -> None:
    http, _ = app_client
    response = await http.get("/api/v1/usage", params=query)
    assert response.status_code == status
    assert response.json()["error"]["details"][0]["field"] == field


@pytest.mark.parametrize("stream", [False, True])
async def test_an_unknown_provider_prefix_is_422_on_model(
    app_client: tuple[httpx.AsyncClient, Services], fake: FakeLLMServer, stream: bool
) -> None:
    http, _ = app_client
    body = {"prompt": "hi", "workspaceId": "w", "model": "gemini:pro", "stream": stream}
    response = await http.post(PROCESS, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"][0]["field"] == "model" and "gemini" in error["message"]
    assert fake.seen() == []


async def test_a_stream_failing_mid_answer_ends_with_an_error_event_and_is_stored(
    app_client: tuple[httpx.AsyncClient, Services], fake: FakeLLMServer
) -> None:
    http, services = app_client
    fake.script("openai", Step(text="one two three four five six", break_after=3))
    body = {"prompt": "Count to six", "workspaceId": "broken", "stream": True}
    response = await http.post(PROCESS, json=body)
    assert response.status_code == 200
    events = sse_events(response.text)
    names = [e["event"] for e in events]
    assert names[:2] == ["analysis", "context"] and names[-1] == "error"
    assert [e["data"]["text"] for e in events if e["event"] == "token"] == [
        "one ",
        "two ",
        "three ",
    ]
    error = events[-1]["data"]["error"]
    assert error["code"] == "LLM_STREAM_INTERRUPTED" and error["status"] == 502
    interaction_id = events[0]["data"]["interactionId"]
    stored = await services.store.get_interaction(interaction_id)
    assert stored is not None and stored.outcome == "error"
    assert stored.response == "one two three "


@pytest.mark.parametrize("stream", [False, True])
async def test_a_provider_auth_failure_is_a_502_and_a_stored_failed_interaction(
    app_client: tuple[httpx.AsyncClient, Services], fake: FakeLLMServer, stream: bool
) -> None:
    http, services = app_client
    fake.script("openai", Step(status=401, message="invalid api key"))
    body = {"prompt": "What is Axon?", "workspaceId": "keys", "stream": stream}
    response = await http.post(PROCESS, json=body)
    if stream:
        events = sse_events(response.text)
        assert [e["event"] for e in events] == ["analysis", "context", "error"]
        error = events[-1]["data"]["error"]
        interaction_id = events[0]["data"]["interactionId"]
    else:
        assert response.status_code == 502, response.text
        error = response.json()["error"]
        history = await http.get("/api/v1/prompts/history", params={"workspaceId": "keys"})
        interaction_id = history.json()["items"][0]["id"]
    assert (error["code"], error["status"]) == ("LLM_AUTH", 502)
    stored = await services.store.get_interaction(interaction_id)
    assert stored is not None and stored.outcome == "error" and stored.response is None


async def test_with_degrade_a_provider_failure_answers_context_only(
    settings: Settings, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AXON_LLM_ERRORS", "degrade")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake.url}/v1")
    monkeypatch.setenv("LLM_MAX_RETRIES", "0")
    fake.script("openai", Step(status=500))
    services = await build_services(load_settings())
    try:
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            response = await http.post(PROCESS, json={"prompt": "hi", "workspaceId": "soft"})
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["response"] is None and data["mode"] == "context_only"
        assert [d["stage"] for d in data["degraded"]] == ["llm"]
    finally:
        await services.close()


def test_axon_ask_prints_a_streamed_answer(
    settings: Settings, fake: FakeLLMServer, data_dir: Path
) -> None:
    fake.script("ollama", Step(text="Streaming works fine."))
    fake.script("compat", Step(text="Compatible servers too."))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ANTHROPIC"))}
    env |= {"AXON_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "AXON_EMBEDDER": "none"}
    runs = [
        {"LLM_PROVIDER": "ollama", "OLLAMA_BASE_URL": fake.url, "DEFAULT_MODEL": "llama3.2"},
        {"OPENAI_COMPATIBLE_BASE_URL": f"{fake.url}/compat/v1", "DEFAULT_MODEL": "qwen"},
    ]
    outputs = []
    for extra in runs:
        result = subprocess.run(
            [AXON, "ask", "How do I stream?", "--workspace", "cli"],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0].startswith("Streaming works fine.")
    assert outputs[1].startswith("Compatible servers too.")
    assert fake.seen("ollama")[0].body["stream"] is True
    assert fake.seen("compat")[0].body["model"] == "qwen"
