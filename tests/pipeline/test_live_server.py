"""Against a real uvicorn server: the runbook's smoke test, SSE with a real httpx
streaming client, and cancellation of the upstream model call on disconnect
(the model is a fake OpenAI-compatible server reached through the real SDK)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from axon.api.sse import EventStreamResponse, with_heartbeats
from axon.config import Settings, load_settings
from tests.conftest import LiveServer
from tests.fakes.llm_server import FakeLLMServer, Step


@pytest.fixture
def auto_create_workspaces() -> str:
    # The workspaces these tests send prompts to without indexing them first.
    return "test-workspace,sse,x,llm,j,cancel"


ROOT = Path(__file__).resolve().parents[2]
PROCESS = "/api/v1/prompts/process"


def test_runbook_smoke_test_passes_on_a_fresh_install(live_server: LiveServer) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "smoke-test.sh")],
        env={**os.environ, "API_URL": live_server.url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All smoke tests passed" in result.stdout
    assert '"mode":"context_only"' in result.stdout


async def _events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Parse SSE frames (comments included, as {"comment": ...})."""
    frame: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if not line:
            if frame:
                yield frame
                frame = {}
            continue
        if line.startswith(":"):
            yield {"comment": line[1:].strip()}
            continue
        key, _, value = line.partition(": ")
        frame[key] = json.loads(value) if key == "data" else value


async def test_sse_context_only_events_in_order(live_server: LiveServer) -> None:
    body = {"prompt": "Explain the retry logic", "workspaceId": "sse", "stream": True}
    async with (
        httpx.AsyncClient(base_url=live_server.url, timeout=30) as client,
        client.stream("POST", PROCESS, json=body) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [e async for e in _events(response)]
    assert [e["event"] for e in events] == ["analysis", "context", "done"]
    assert [e["id"] for e in events] == ["1", "2", "3"]
    done = events[-1]["data"]
    assert done["mode"] == "context_only" and done["response"] is None
    assert done["interactionId"] == events[0]["data"]["interactionId"]
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        history = (await client.get("/api/v1/prompts/history?workspaceId=sse")).json()
    assert [i["id"] for i in history["items"]] == [done["interactionId"]]


async def test_sse_validation_errors_are_plain_json(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        response = await client.post(
            PROCESS, json={"prompt": "", "workspaceId": "x", "stream": True}
        )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "prompt"


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def llm_live_server(
    settings: Settings, fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveServer]:
    fake_llm.reset()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake_llm.url}/v1")
    monkeypatch.setenv("DEFAULT_MODEL", "openai:gpt-4o")
    with LiveServer(load_settings()) as server:
        yield server


async def test_sse_streams_tokens_from_the_model(
    llm_live_server: LiveServer, fake_llm: FakeLLMServer
) -> None:
    fake_llm.script(
        "openai", Step(text="Use a ```python\nprint(1)\n``` block. We decided to use tabs.")
    )
    body = {"prompt": "Write a function that prints 1", "workspaceId": "llm", "stream": True}
    async with (
        httpx.AsyncClient(base_url=llm_live_server.url, timeout=30) as client,
        client.stream("POST", PROCESS, json=body) as response,
    ):
        events = [e async for e in _events(response)]
    names = [e["event"] for e in events]
    assert names[:2] == ["analysis", "context"] and names[-1] == "done"
    assert set(names[2:-1]) == {"token"} and len(names) > 4
    assert [int(e["id"]) for e in events] == list(range(1, len(events) + 1))
    text = "".join(e["data"]["text"] for e in events if e["event"] == "token")
    done = events[-1]["data"]
    assert done["response"] == {"text": text, "finishReason": "stop"}
    assert done["mode"] == "answer" and done["provider"] == "openai"
    assert done["latency"]["llm"] > 0
    (seen,) = fake_llm.seen("openai")
    sent = seen.body["messages"]
    assert sent[0]["role"] == "system" and sent[-1]["content"] == body["prompt"]


async def test_json_answer_from_the_model(
    llm_live_server: LiveServer, fake_llm: FakeLLMServer
) -> None:
    fake_llm.script("openai", Step(text="Run:\n```bash\n$ pip install httpx\n```\n"))
    async with httpx.AsyncClient(base_url=llm_live_server.url, timeout=30) as client:
        data = (
            await client.post(PROCESS, json={"prompt": "install httpx", "workspaceId": "j"})
        ).json()
    assert data["response"]["text"].startswith("Run:")
    assert data["actions"] == [
        {"type": "command", "language": "bash", "file": None, "content": "pip install httpx"}
    ]
    assert data["usage"]["promptTokens"] == 42  # as the provider reported


async def test_disconnect_cancels_the_upstream_call(
    llm_live_server: LiveServer, fake_llm: FakeLLMServer
) -> None:
    words = " ".join(f"word{n}" for n in range(200))
    fake_llm.script("openai", Step(text=words, chunk_delay=0.1))
    body = {"prompt": "Tell me a long story", "workspaceId": "cancel", "stream": True}
    async with httpx.AsyncClient(base_url=llm_live_server.url, timeout=30) as client:
        async with client.stream("POST", PROCESS, json=body) as response:
            async for event in _events(response):
                if event.get("event") == "token":
                    break  # leave after the first token: closes the connection
        started = time.monotonic()
        (seen,) = fake_llm.seen("openai")
        outcome = await asyncio.to_thread(fake_llm.wait_for_outcome, seen, 5.0)
        assert outcome == "disconnected"
        # 200 chunks at 0.1 s would take 20 s; the upstream call ended at once.
        assert time.monotonic() - started < 5
        history = (await client.get("/api/v1/prompts/history?workspaceId=cancel")).json()
    assert history["items"] == []  # abandoned, not processed


async def test_heartbeats_while_the_source_is_quiet() -> None:
    async def slow() -> AsyncIterator[bytes]:
        await asyncio.sleep(0.35)
        yield b"event: done\n\n"

    chunks = [chunk async for chunk in with_heartbeats(slow(), 0.1)]
    assert chunks[-1] == b"event: done\n\n"
    assert chunks[:-1] and set(chunks[:-1]) == {b": heartbeat\n\n"}


async def test_ready_events_go_out_right_behind_the_headers() -> None:
    """What is at hand is written before the source is asked for more (a relayed
    model stream's first token must not wait for the next one)."""
    sent: list[dict[str, Any]] = []
    asked = asyncio.Event()

    async def rest() -> AsyncIterator[bytes]:
        asked.set()
        yield b"data: 2\n\n"

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError("unreachable")

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append({**message, "asked": asked.is_set()})

    response = EventStreamResponse(rest(), ready=b"data: 1\n\n")
    await response({"type": "http"}, receive, send)
    kinds = [(m["type"], m.get("body"), m["asked"]) for m in sent]
    assert kinds == [
        ("http.response.start", None, False),
        ("http.response.body", b"data: 1\n\n", False),
        ("http.response.body", b"data: 2\n\n", True),
        ("http.response.body", b"", True),
    ]
