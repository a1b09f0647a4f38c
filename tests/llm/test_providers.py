"""Each provider through its real client against the fake: requests as the API expects
them, answers, streams and usage as the provider reports them."""

from __future__ import annotations

import pytest

from axon.llm.accounting import estimate_input_tokens
from axon.llm.types import ChatChunk, ChatMessage, ChatRequest
from axon.tokens import count_tokens
from tests.fakes.llm_server import DEFAULT_TEXT, FakeLLMServer, Step
from tests.llm.conftest import MakeGateway

MESSAGES = (
    ChatMessage("system", "You answer with context."),
    ChatMessage("system", "Be brief."),
    ChatMessage("user", "What does parse() do?"),
    ChatMessage("user", "In src/app.py."),
)


async def collect(stream: object) -> list[ChatChunk]:
    return [chunk async for chunk in stream]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("model", "api"),
    [
        ("openai:gpt-4o", "openai"),
        ("anthropic:claude-3-5-haiku-latest", "anthropic"),
        ("ollama:llama3.2:3b", "ollama"),
        ("openai-compatible:qwen2.5-coder", "compat"),
    ],
)
async def test_complete_and_stream_with_reported_usage(
    make_gateway: MakeGateway, fake: FakeLLMServer, model: str, api: str
) -> None:
    gateway = make_gateway()
    request = ChatRequest(MESSAGES, model=model, max_tokens=100, workspace_id="ws")
    result = await gateway.complete(request)
    provider, name = model.split(":", 1)
    assert (result.text, result.provider, result.model) == (DEFAULT_TEXT, provider, name)
    assert result.finish_reason == "stop"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (42, 5)
    assert result.usage.estimated is False

    chunks = await collect(gateway.stream(request))
    assert "".join(c.delta for c in chunks) == DEFAULT_TEXT
    assert [c.delta for c in chunks[:-1]] == ["Hello ", "from ", "the ", "fake ", "model."]
    last = chunks[-1]
    assert (last.finish_reason, last.provider, last.model) == ("stop", provider, name)
    assert last.usage is not None and (last.usage.input_tokens, last.usage.output_tokens) == (42, 5)
    assert [s.body["model"] for s in fake.seen(api)] == [name, name]
    assert [s.outcome for s in fake.seen(api)] == ["completed", "completed"]


async def test_openai_request_shape(make_gateway: MakeGateway, fake: FakeLLMServer) -> None:
    gateway = make_gateway(openai_organization="org-axon")
    request = ChatRequest(MESSAGES, temperature=0.3, max_tokens=64)
    await gateway.complete(request)
    await collect(gateway.stream(request))
    plain, streamed = fake.seen("openai")
    assert plain.headers["authorization"] == "Bearer sk-test-openai"
    assert plain.headers["openai-organization"] == "org-axon"
    assert plain.body["messages"][0] == {"role": "system", "content": "You answer with context."}
    assert len(plain.body["messages"]) == 4
    assert plain.body["max_completion_tokens"] == 64 and plain.body["temperature"] == 0.3
    assert streamed.body["stream"] is True
    assert streamed.body["stream_options"] == {"include_usage": True}


async def test_anthropic_maps_system_prompt_and_alternates_turns(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    gateway = make_gateway()
    await gateway.complete(ChatRequest(MESSAGES, model="anthropic:claude-3-5-haiku-latest"))
    (seen,) = fake.seen("anthropic")
    # SDK versions differ in the header they put the key in.
    assert "sk-ant-test" in seen.headers.get("x-api-key", "") + seen.headers["authorization"]
    assert seen.body["system"] == "You answer with context.\n\nBe brief."
    assert seen.body["messages"] == [
        {"role": "user", "content": "What does parse() do?\n\nIn src/app.py."}
    ]
    assert seen.body["max_tokens"] == 4096  # required by the API; our default


async def test_ollama_keeps_messages_and_options(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    gateway = make_gateway()
    await gateway.complete(ChatRequest(MESSAGES, model="ollama:llama3.2", max_tokens=10))
    (seen,) = fake.seen("ollama")
    assert [m["role"] for m in seen.body["messages"]] == ["system", "system", "user", "user"]
    assert seen.body["options"] == {"temperature": 0.2, "num_predict": 10}
    assert seen.body["stream"] is False


async def test_openai_compatible_needs_no_key_and_never_gets_the_openai_key(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    gateway = make_gateway()
    request = ChatRequest(MESSAGES, model="openai-compatible:local-model", max_tokens=32)
    await gateway.complete(request)
    (seen,) = fake.seen("compat")
    assert "sk-test-openai" not in seen.headers.get("authorization", "")
    # Local servers know max_tokens; max_completion_tokens is OpenAI's own.
    assert seen.body["max_tokens"] == 32 and "max_completion_tokens" not in seen.body


async def test_missing_usage_is_estimated_with_the_tokenizer(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    fake.script("ollama", Step(usage=False), Step(usage=False))
    gateway = make_gateway(llm_provider="ollama", default_model="llama3.2")
    result = await gateway.complete(ChatRequest(MESSAGES))
    assert result.usage.estimated is True
    assert result.usage.input_tokens == estimate_input_tokens(MESSAGES)
    assert result.usage.output_tokens == count_tokens(DEFAULT_TEXT)
    assert result.usage.cost_usd == 0.0  # local models cost nothing
    last = (await collect(gateway.stream(ChatRequest(MESSAGES))))[-1]
    assert last.usage is not None and last.usage.estimated is True
