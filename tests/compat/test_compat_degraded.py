"""A degraded answer on the OpenAI- and Anthropic-compatible endpoints says so, as
/api/v1/prompts/process does: retrieval fails (a corrupt search index on disk, a real
fault), the client still gets a normal answer from the upstream, without context,
with a `Warning: 199 axon "..."` header (whole and streamed) and the failure under
`axon.degraded` in a whole answer. The official SDKs over ASGI, the fake upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anthropic
import httpx
import httpx2
import openai
import pytest
from fastapi import FastAPI

from axon.api.app import create_app
from axon.config import Settings, load_settings
from axon.models import ContextType
from axon.services import Services, build_services
from axon.workspaces import ContextCreate, WorkspaceCreate, add_context, create_workspace
from tests.conftest import corrupt_search_index, upstream_env
from tests.fakes.llm_server import DEFAULT_TEXT, FakeLLMServer

BASE = "http://axon.test"
WARNING = '199 axon "retrieval failed ('


@pytest.fixture
async def broken_index(
    settings: Settings, fake: FakeLLMServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FastAPI]:
    """Axon in-process (auth off) whose search index is corrupt on disk."""
    for name, value in upstream_env(fake).items():
        monkeypatch.setenv(name, value)
    services: Services = await build_services(load_settings())
    try:
        await create_workspace(services.store, WorkspaceCreate(id="billing", name="Billing"))
        await add_context(
            services.store,
            ContextCreate(
                workspace_id="billing", type=ContextType.SYMBOL, content="def beat(): pass"
            ),
            services.search_index,
        )
        await corrupt_search_index(services, data_dir)
        yield create_app(services=services)
    finally:
        await services.close()


async def test_openai_endpoint_flags_degraded_answers(
    broken_index: FastAPI, fake: FakeLLMServer
) -> None:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=broken_index), timeout=30)
    client = openai.AsyncOpenAI(
        base_url=f"{BASE}/v1", api_key="unused", http_client=http, max_retries=0
    )
    messages: list[openai.types.chat.ChatCompletionMessageParam] = [
        {"role": "user", "content": "explain beat()"}
    ]
    raw = await client.chat.completions.with_raw_response.create(
        model="axon/billing", messages=messages
    )
    assert raw.headers["warning"].startswith(WARNING)
    completion = raw.parse()
    assert completion.choices[0].message.content == DEFAULT_TEXT  # still answered
    extension = completion.model_extra["axon"]  # type: ignore[index]
    assert [d["stage"] for d in extension["degraded"]] == ["retrieve"]
    assert extension["context"]["entries"] == []

    async with client.chat.completions.with_streaming_response.create(
        model="axon/billing", messages=messages, stream=True
    ) as streamed:
        assert streamed.headers["warning"].startswith(WARNING)
        text = "".join(
            [
                chunk.choices[0].delta.content or ""
                async for chunk in await streamed.parse()
                if chunk.choices
            ]
        )
    assert text == DEFAULT_TEXT
    assert len(fake.seen("openai")) == 2
    await client.close()


async def test_anthropic_endpoint_flags_degraded_answers(
    broken_index: FastAPI,
) -> None:
    # This SDK is built on httpx2 (httpx's successor), which has the same ASGI transport.
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=broken_index), timeout=30)
    client = anthropic.AsyncAnthropic(
        base_url=BASE, api_key="unused", http_client=http, max_retries=0
    )
    messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": "explain beat()"}]
    raw = await client.messages.with_raw_response.create(
        model="axon/billing", max_tokens=100, messages=messages
    )
    assert raw.headers["warning"].startswith(WARNING)
    message = await raw.parse()
    assert message.content[0].type == "text" and message.content[0].text == DEFAULT_TEXT
    extension = message.model_extra["axon"]  # type: ignore[index]
    assert [d["stage"] for d in extension["degraded"]] == ["retrieve"]

    async with client.messages.with_streaming_response.create(
        model="axon/billing", max_tokens=100, messages=messages, stream=True
    ) as streamed:
        assert streamed.headers["warning"].startswith(WARNING)
        events = [event.type async for event in await streamed.parse()]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    await client.close()
