"""The official `openai` SDK against Axon's /v1 (a real uvicorn), Axon's upstream being
the fake provider: context reaches the upstream, the client sees a normal completion,
usage is recorded, feedback works with the interaction id; bad input gets OpenAI's
error shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from typer.testing import CliRunner

from axon.cli import app as cli
from tests.conftest import CopilotServer
from tests.fakes.llm_server import DEFAULT_TEXT, Step

MODEL = "axon/billing"
QUESTION = "How does compute_invoice_total round the tax?"


def _client(copilot: CopilotServer, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{copilot.url}/v1", api_key=key or copilot.read_key, max_retries=0
    )


def _upstream_text(copilot: CopilotServer) -> str:
    (seen,) = copilot.fake.seen("openai")
    return "\n".join(str(m["content"]) for m in seen.body["messages"])


def test_sync_completion_carries_context_usage_and_interaction(copilot: CopilotServer) -> None:
    client = _client(copilot)
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": QUESTION}]
    )
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == DEFAULT_TEXT
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.prompt_tokens == 42
    assert completion.usage.total_tokens == 42 + completion.usage.completion_tokens
    interaction = raw.headers["x-axon-interaction-id"]
    extension = completion.model_extra["axon"]  # type: ignore[index]
    assert extension["interactionId"] == interaction
    assert extension["degraded"] == [] and "warning" not in raw.headers
    assert any(e["path"] == "billing/invoice.py" for e in extension["context"]["entries"])

    upstream = _upstream_text(copilot)
    assert "subtotal * tax_rate + 0.5" in upstream  # the retrieved function's body
    assert QUESTION in upstream
    (seen,) = copilot.fake.seen("openai")
    assert seen.body["model"] == "gpt-4o"

    with httpx.Client(base_url=copilot.url, timeout=10) as http:
        auth = {"Authorization": f"Bearer {copilot.write_key}"}
        stored = http.get(f"/api/v1/interactions/{interaction}", headers=auth).json()
        assert stored["source"] == "openai" and stored["response"] == DEFAULT_TEXT
        vote = http.post(
            f"/api/v1/interactions/{interaction}/feedback", json={"helpful": True}, headers=auth
        )
        assert vote.status_code == 201, vote.text
        assert vote.json()["contextConfidence"]
        usage = http.get("/api/v1/usage", params={"workspaceId": "billing"}, headers=auth)
        assert usage.json()["totals"]["requests"] == 1
        assert usage.json()["totals"]["inputTokens"] == 42


def test_sync_stream_chunks_and_usage(copilot: CopilotServer) -> None:
    client = _client(copilot)
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == DEFAULT_TEXT
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 42
    assert "subtotal * tax_rate + 0.5" in _upstream_text(copilot)


async def test_async_client_streamed_and_not(copilot: CopilotServer) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{copilot.url}/v1", api_key=copilot.read_key, max_retries=0
    ) as client:
        whole = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}]
        )
        assert whole.choices[0].message.content == DEFAULT_TEXT
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}], stream=True
        )
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        assert "".join(parts) == DEFAULT_TEXT
    assert len(copilot.fake.seen("openai")) == 2


def test_header_workspace_upstream_model_and_history(copilot: CopilotServer) -> None:
    client = _client(copilot)
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Bonjour"},
            {"role": "user", "content": QUESTION},
        ],
        extra_headers={"X-Axon-Workspace": "billing"},
    )
    (seen,) = copilot.fake.seen("openai")
    assert seen.body["model"] == "gpt-4o-mini"
    roles = [m["role"] for m in seen.body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert "Answer in French." in seen.body["messages"][0]["content"]
    assert seen.body["messages"][1]["content"] == "Hello"
    assert "subtotal * tax_rate" in seen.body["messages"][-1]["content"]

    client.chat.completions.create(
        model="axon/billing/openai:gpt-4.1", messages=[{"role": "user", "content": QUESTION}]
    )
    assert copilot.fake.seen("openai")[-1].body["model"] == "gpt-4.1"


def test_tools_response_format_and_images_pass_through(copilot: CopilotServer) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "lookup", "arguments": '{"id": 7}'},
    }
    copilot.fake.script("openai", Step(text="", tool_calls=[call]))
    tools: list[Any] = [
        {
            "type": "function",
            "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    client = _client(copilot)
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": [{"type": "text", "text": QUESTION}, image]}],
        tools=tools,
        tool_choice="auto",
        response_format={"type": "json_object"},
        seed=7,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    assert choice.message.tool_calls[0].function.name == "lookup"
    (seen,) = copilot.fake.seen("openai")
    assert seen.body["tools"] == tools and seen.body["tool_choice"] == "auto"
    assert seen.body["response_format"] == {"type": "json_object"} and seen.body["seed"] == 7
    parts = seen.body["messages"][-1]["content"]
    assert parts[1] == image and "subtotal * tax_rate" in parts[0]["text"]

    # The tool result turn goes back as sent; streaming carries tool-call deltas.
    copilot.fake.script("openai", Step(text="", tool_calls=[call]))
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": None, "tool_calls": [call]},  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": "call_1", "content": "7 cents"},
        ],
        tools=tools,
        stream=True,
    )
    chunks = [c for c in stream if c.choices]
    deltas = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert deltas and deltas[0].function is not None and deltas[0].function.name == "lookup"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    last = copilot.fake.seen("openai")[-1].body["messages"]
    assert last[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "7 cents"}


def test_models_lists_workspaces(copilot: CopilotServer) -> None:
    client = _client(copilot)
    assert [m.id for m in client.models.list()] == ["axon/billing"]
    assert client.models.retrieve("axon/billing").owned_by == "axon"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("axon/nowhere")


def test_x_api_key_header_and_bad_keys(copilot: CopilotServer) -> None:
    with httpx.Client(base_url=copilot.url, timeout=10) as http:
        body = {"model": MODEL, "messages": [{"role": "user", "content": QUESTION}]}
        ok = http.post("/v1/chat/completions", json=body, headers={"x-api-key": copilot.read_key})
        assert ok.status_code == 200, ok.text
    with pytest.raises(openai.AuthenticationError) as refused:
        _client(copilot, "axon_0000000000000000_" + "x" * 43).models.list()
    assert refused.value.status_code == 401
    assert refused.value.body["type"] == "authentication_error"  # type: ignore[index]


def test_upstream_failure_is_an_openai_error(copilot: CopilotServer) -> None:
    copilot.fake.script("openai", Step(status=401, message="bad upstream key"))
    with pytest.raises(openai.APIStatusError) as failed:
        _client(copilot).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}]
        )
    assert failed.value.status_code == 502
    assert failed.value.body["code"] == "llm_auth"  # type: ignore[index]
    copilot.fake.script("openai", Step(status=401, message="bad upstream key"))
    with pytest.raises(openai.APIStatusError) as streamed:
        _client(copilot).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    assert streamed.value.status_code == 502


def test_stream_broken_mid_answer_ends_with_an_error_event(copilot: CopilotServer) -> None:
    copilot.fake.script("openai", Step(text="one two three four", break_after=2))
    stream = _client(copilot).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": "axon/nowhere", "messages": [{"role": "user", "content": "hi"}]}, 404, None),
        ({"model": "axon/Bad Id!", "messages": [{"role": "user", "content": "hi"}]}, 400, "model"),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, 400, "model"),
        ({"model": MODEL, "messages": []}, 400, "messages"),
        ({"model": MODEL, "messages": [{"role": "wizard", "content": "hi"}]}, 400, None),
        ({"model": MODEL, "messages": [{"role": "user", "content": "  "}]}, 400, None),
        ({"model": MODEL, "messages": [{"role": "assistant", "content": "hi"}]}, 400, None),
        ({"model": MODEL, "messages": "hello"}, 400, None),
        ({"messages": [{"role": "user", "content": "hi"}]}, 400, None),
        ({"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "n": 3}, 400, None),
        (
            {"model": "axon/billing/nobody:x", "messages": [{"role": "user", "content": "hi"}]},
            400,
            "model",
        ),
    ],
)
def test_bad_input_gets_openai_errors(
    copilot: CopilotServer, body: dict[str, Any], status: int, param: str | None
) -> None:
    with httpx.Client(base_url=copilot.url, timeout=10) as http:
        auth = {"Authorization": f"Bearer {copilot.read_key}"}
        response = http.post("/v1/chat/completions", json=body, headers=auth)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    expected = "not_found_error" if status == 404 else "invalid_request_error"
    assert error["type"] == expected
    if param is not None:
        assert error["param"] == param
    assert not copilot.fake.seen()


def test_malformed_oversized_and_non_json_bodies(copilot: CopilotServer) -> None:
    auth = {"Authorization": f"Bearer {copilot.read_key}"}
    limit = copilot.settings.max_body_bytes
    with httpx.Client(base_url=copilot.url, timeout=10) as http:
        broken = http.post(
            "/v1/chat/completions",
            content=b'{"model": ',
            headers={**auth, "content-type": "application/json"},
        )
        huge = http.post(
            "/v1/chat/completions",
            content=json.dumps({"model": MODEL, "x": "a" * limit}).encode(),
            headers={**auth, "content-type": "application/json"},
        )
        form = http.post("/v1/chat/completions", data={"model": MODEL}, headers=auth)
        unknown = http.get("/v1/nothing-here", headers=auth)
    for response, status in ((broken, 400), (huge, 413), (form, 415), (unknown, 404)):
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["message"] and error["type"] and "requestId" not in error


def test_a_key_limited_to_other_workspaces_sees_no_billing(copilot: CopilotServer) -> None:
    created = CliRunner().invoke(
        cli, ["keys", "create", "elsewhere", "--workspace", "other", "--json"]
    )
    assert created.exit_code == 0, created.output
    client = _client(copilot, json.loads(created.output)["key"])
    assert [m.id for m in client.models.list().data] == []
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve(MODEL)
    with pytest.raises(openai.NotFoundError) as refused:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}]
        )
    assert refused.value.code == "workspace_not_found"  # OpenAI spells codes in lower case
    assert copilot.fake.seen("openai") == []  # nothing reached the upstream
    assert [m.id for m in _client(copilot).models.list().data] == [MODEL]
