"""The official `anthropic` SDK against Axon's /v1/messages (a real uvicorn), the
upstream being the fake provider: context reaches the upstream, the client sees a
normal message (whole and streamed, sync and async), usage is recorded, feedback
works with the interaction id; bad input gets Anthropic's error shape."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from tests.conftest import CopilotServer
from tests.fakes.llm_server import DEFAULT_TEXT, Step

MODEL = "axon/billing"
QUESTION = "How does compute_invoice_total round the tax?"
GOOD = [{"role": "user", "content": "hi"}]


def _client(copilot: CopilotServer) -> anthropic.Anthropic:
    # The SDK sends the key as x-api-key.
    return anthropic.Anthropic(base_url=copilot.url, api_key=copilot.read_key, max_retries=0)


def test_message_whole_with_context_usage_and_feedback(copilot: CopilotServer) -> None:
    raw = _client(copilot).messages.with_raw_response.create(
        model=MODEL,
        max_tokens=300,
        system="Be brief.",
        messages=[{"role": "user", "content": QUESTION}],
    )
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "text" and message.content[0].text == DEFAULT_TEXT
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 42 and message.usage.output_tokens == 5
    interaction = raw.headers["x-axon-interaction-id"]
    assert "warning" not in raw.headers  # retrieval worked

    (seen,) = copilot.fake.seen("openai")  # the default upstream is OpenAI
    upstream = "\n".join(m["content"] for m in seen.body["messages"])
    assert "subtotal * tax_rate + 0.5" in upstream and "Be brief." in upstream
    assert seen.body["max_completion_tokens"] == 300

    with httpx.Client(base_url=copilot.url, timeout=10) as http:
        auth = {"x-api-key": copilot.write_key}
        vote = http.post(
            f"/api/v1/interactions/{interaction}/feedback", json={"helpful": False}, headers=auth
        )
        assert vote.status_code == 201, vote.text
        usage = http.get("/api/v1/usage", params={"workspaceId": "billing"}, headers=auth).json()
        assert usage["totals"]["requests"] == 1


def test_message_stream_event_names(copilot: CopilotServer) -> None:
    events = list(
        _client(copilot).messages.create(
            model=MODEL,
            max_tokens=100,
            messages=[{"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
            stream=True,
        )
    )
    names = [e.type for e in events]  # the SDK drops `ping` events
    assert names[:2] == ["message_start", "content_block_start"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    text = "".join(
        e.delta.text
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "text_delta"
    )
    assert text == DEFAULT_TEXT
    body = {"model": MODEL, "max_tokens": 100, "stream": True, "messages": GOOD}
    with httpx.Client(base_url=copilot.url, timeout=10) as http:
        raw = http.post("/v1/messages", json=body, headers={"x-api-key": copilot.read_key})
    wire = [line[len("event: ") :] for line in raw.text.splitlines() if line.startswith("event: ")]
    assert wire[:3] == ["message_start", "content_block_start", "ping"]
    assert wire[-1] == "message_stop" and raw.headers["x-axon-interaction-id"]


async def test_async_stream_helper_and_anthropic_upstream(copilot: CopilotServer) -> None:
    async with (
        anthropic.AsyncAnthropic(
            base_url=copilot.url, api_key=copilot.read_key, max_retries=0
        ) as client,
        client.messages.stream(
            model="axon/billing/anthropic:claude-sonnet-4",
            max_tokens=100,
            messages=[{"role": "user", "content": QUESTION}],
        ) as stream,
    ):
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    assert text == DEFAULT_TEXT and final.stop_reason == "end_turn"
    (seen,) = copilot.fake.seen("anthropic")
    assert seen.body["model"] == "claude-sonnet-4"
    assert "subtotal * tax_rate + 0.5" in seen.body["messages"][-1]["content"]


def test_upstream_failure_is_an_anthropic_error(copilot: CopilotServer) -> None:
    copilot.fake.script("openai", Step(status=401, message="bad upstream key"))
    with pytest.raises(anthropic.APIStatusError) as failed:
        _client(copilot).messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": QUESTION}]
        )
    assert failed.value.status_code == 502
    assert failed.value.body["type"] == "error"  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"model": "axon/nowhere", "max_tokens": 5, "messages": GOOD}, 404, "not_found_error"),
        ({"model": "claude", "max_tokens": 5, "messages": GOOD}, 400, "invalid_request_error"),
        ({"model": MODEL, "messages": GOOD}, 400, "invalid_request_error"),
        ({"model": MODEL, "max_tokens": 5, "messages": []}, 400, "invalid_request_error"),
        (
            {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": " "}]},
            400,
            "invalid_request_error",
        ),
        (
            {"model": MODEL, "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]},
            400,
            "invalid_request_error",
        ),
        (
            {
                "model": MODEL,
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}],
            },
            400,
            "invalid_request_error",
        ),
        (
            {"model": MODEL, "max_tokens": 5, "messages": GOOD, "tools": [{"name": "x"}]},
            400,
            "invalid_request_error",
        ),
    ],
)
def test_bad_input_gets_anthropic_errors(
    copilot: CopilotServer, body: dict[str, Any], status: int, kind: str
) -> None:
    with httpx.Client(base_url=copilot.url, timeout=10) as http:
        response = http.post("/v1/messages", json=body, headers={"x-api-key": copilot.read_key})
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["type"] == "error" and payload["error"]["type"] == kind
    assert payload["error"]["message"]
    assert not copilot.fake.seen()


def test_auth_oversized_and_malformed_bodies(copilot: CopilotServer) -> None:
    limit = copilot.settings.max_body_bytes
    json_type = {"content-type": "application/json"}
    with httpx.Client(base_url=copilot.url, timeout=10) as http:
        anonymous = http.post("/v1/messages", json={"model": MODEL})
        huge = http.post(
            "/v1/messages",
            content=b'{"x": "' + b"a" * limit + b'"}',
            headers={"x-api-key": copilot.read_key, **json_type},
        )
        broken = http.post(
            "/v1/messages",
            content=b"{nope",
            headers={"x-api-key": copilot.read_key, **json_type},
        )
    for response, status, kind in (
        (anonymous, 401, "authentication_error"),
        (huge, 413, "request_too_large"),
        (broken, 400, "invalid_request_error"),
    ):
        assert response.status_code == status, response.text
        assert response.json()["type"] == "error"
        assert response.json()["error"]["type"] == kind
