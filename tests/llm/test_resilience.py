"""Retries, timeouts, the circuit breaker, fallback and error mapping, against the fake
server through the real SDKs."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from prometheus_client import REGISTRY

from axon.llm.breaker import BreakerState
from axon.llm.errors import (
    CircuitOpen,
    LLMAuthError,
    LLMRejected,
    LLMStreamInterrupted,
    LLMTimeout,
    LLMUnavailable,
)
from axon.llm.failures import FailureKind, ProviderFailure
from axon.llm.retry import RetryPolicy
from axon.llm.types import ChatChunk, ChatMessage, ChatRequest
from tests.clock import ManualClock
from tests.fakes.llm_server import DEFAULT_TEXT, FakeLLMServer, Step
from tests.llm.conftest import MakeGateway
from tests.servers import free_port

ASK = ChatRequest((ChatMessage("user", "hello"),), workspace_id="ws")


async def collect(gateway: object, request: ChatRequest = ASK) -> list[ChatChunk]:
    return [c async for c in gateway.stream(request)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("api", ["openai", "anthropic", "ollama"])
async def test_429_is_retried_after_the_retry_after_delay(
    make_gateway: MakeGateway, fake: FakeLLMServer, api: str
) -> None:
    model = {
        "openai": "openai:gpt-4o",
        "anthropic": "anthropic:claude-3-5-haiku",
        "ollama": "ollama:llama3.2",
    }[api]
    fake.script(api, Step(status=429, retry_after="0.4"))
    gateway = make_gateway(llm_retry_base_delay=0)  # backoff alone would not wait at all
    result = await gateway.complete(ChatRequest(ASK.messages, model=model))
    assert result.text == DEFAULT_TEXT
    first, second = fake.seen(api)
    assert (first.outcome, second.outcome) == ("error", "completed")
    assert second.at - first.at >= 0.4


async def test_retry_after_longer_than_the_limit_is_not_waited_for(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    fake.script("openai", Step(status=429, retry_after="120"))
    gateway = make_gateway(llm_retry_max_delay=5)
    started = time.monotonic()
    with pytest.raises(LLMUnavailable) as caught:
        await gateway.complete(ASK)
    assert time.monotonic() - started < 2
    assert caught.value.status == 502 and caught.value.code == "LLM_UNAVAILABLE"
    assert caught.value.headers["Retry-After"] == "120"
    assert len(fake.seen("openai")) == 1


async def test_exhausted_retries_give_502(make_gateway: MakeGateway, fake: FakeLLMServer) -> None:
    fake.script("openai", *[Step(status=500)] * 3, *[Step(status=503)] * 3)
    gateway = make_gateway(llm_max_retries=2, llm_breaker_threshold=10)
    with pytest.raises(LLMUnavailable):
        await gateway.complete(ASK)
    assert len(fake.seen("openai")) == 3
    with pytest.raises(LLMUnavailable):
        await collect(gateway)
    assert len(fake.seen("openai")) == 6


@pytest.mark.parametrize("status", [408, 409])
async def test_408_and_409_are_retried(
    make_gateway: MakeGateway, fake: FakeLLMServer, status: int
) -> None:
    fake.script("openai", Step(status=status))
    assert (await make_gateway().complete(ASK)).text == DEFAULT_TEXT
    assert len(fake.seen("openai")) == 2


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_401_is_llm_auth_and_not_retried(
    make_gateway: MakeGateway, fake: FakeLLMServer, api: str
) -> None:
    fake.script(api, Step(status=401, message="invalid key"))
    model = "openai:gpt-4o" if api == "openai" else "anthropic:claude-3-5-haiku"
    with pytest.raises(LLMAuthError) as caught:
        await make_gateway().complete(ChatRequest(ASK.messages, model=model))
    assert (caught.value.status, caught.value.code) == (502, "LLM_AUTH")
    assert len(fake.seen(api)) == 1


async def test_a_rejected_request_is_not_retried(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    fake.script("ollama", Step(status=404, message="model 'nope' not found"))
    with pytest.raises(LLMRejected) as caught:
        await make_gateway().complete(ChatRequest(ASK.messages, model="ollama:nope"))
    assert "not found" in caught.value.message
    assert len(fake.seen("ollama")) == 1


async def test_connection_refused_is_retried_then_502(make_gateway: MakeGateway) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    gateway = make_gateway(llm_provider="ollama", default_model="llama3.2", ollama_base_url=dead)
    with pytest.raises(LLMUnavailable) as caught:
        await gateway.complete(ASK)
    assert "connection" in caught.value.message


async def test_total_timeout_gives_504(make_gateway: MakeGateway, fake: FakeLLMServer) -> None:
    fake.script("openai", Step(delay=1.0), Step(delay=1.0))
    gateway = make_gateway(llm_timeout=0.2, llm_max_retries=0)
    with pytest.raises(LLMTimeout) as caught:
        await gateway.complete(ASK)
    assert (caught.value.status, caught.value.code) == (504, "LLM_TIMEOUT")
    with pytest.raises(LLMTimeout):  # for a stream, the deadline is the first token
        await collect(gateway)


async def test_read_timeout_between_chunks_interrupts_the_stream(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    fake.script("openai", Step(stall_after=1, stall=2.0))
    gateway = make_gateway(llm_read_timeout=0.3, llm_max_retries=0)
    received: list[str] = []
    with pytest.raises(LLMStreamInterrupted):
        async for chunk in gateway.stream(ASK):
            received.append(chunk.delta)
    assert received == ["Hello "]


async def test_breaker_opens_fails_fast_and_recovers(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    clock = ManualClock()
    gateway = make_gateway(
        clock=clock, llm_max_retries=0, llm_breaker_threshold=2, llm_breaker_cooldown=0.3
    )
    fake.script("openai", Step(status=500), Step(status=500))
    for _ in range(2):
        with pytest.raises(LLMUnavailable):
            await gateway.complete(ASK)
    assert gateway.status()["breakers"]["openai"] == BreakerState.OPEN
    with pytest.raises(CircuitOpen) as caught:
        await gateway.complete(ASK)
    assert caught.value.status == 503 and caught.value.code == "LLM_CIRCUIT_OPEN"
    assert caught.value.headers["Retry-After"] == "1"
    assert len(fake.seen("openai")) == 2  # failed fast: the provider was not called

    clock.advance(0.29)
    assert gateway.status()["breakers"]["openai"] == BreakerState.OPEN
    clock.advance(0.02)
    assert gateway.status()["breakers"]["openai"] == BreakerState.HALF_OPEN
    fake.script("openai", Step(delay=0.3))  # a slow but successful probe
    probe = asyncio.create_task(gateway.complete(ASK))
    await asyncio.sleep(0.1)
    with pytest.raises(CircuitOpen):  # only one probe at a time
        await gateway.complete(ASK)
    assert (await probe).text == DEFAULT_TEXT
    assert gateway.status()["breakers"]["openai"] == BreakerState.CLOSED
    assert (await gateway.complete(ASK)).text == DEFAULT_TEXT


async def test_a_failed_probe_opens_the_breaker_again(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    clock = ManualClock()
    gateway = make_gateway(
        clock=clock, llm_max_retries=0, llm_breaker_threshold=1, llm_breaker_cooldown=0.2
    )
    fake.script("openai", Step(status=500), Step(status=500))
    with pytest.raises(LLMUnavailable):
        await gateway.complete(ASK)
    clock.advance(0.25)
    with pytest.raises(LLMUnavailable):  # the probe fails
        await gateway.complete(ASK)
    with pytest.raises(CircuitOpen):
        await gateway.complete(ASK)
    assert len(fake.seen("openai")) == 2


async def test_rejected_requests_do_not_trip_the_breaker(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    gateway = make_gateway(llm_max_retries=0, llm_breaker_threshold=1)
    fake.script("openai", Step(status=400, message="bad request"))
    with pytest.raises(LLMRejected):
        await gateway.complete(ASK)
    assert gateway.status()["breakers"]["openai"] == BreakerState.CLOSED


async def test_fallback_before_the_first_token(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    gateway = make_gateway(llm_max_retries=1, llm_fallbacks="anthropic:claude-3-5-haiku,ollama")
    fake.script("openai", Step(status=500), Step(break_after=0))  # nothing streamed yet
    chunks = await collect(gateway)
    assert "".join(c.delta for c in chunks) == DEFAULT_TEXT
    assert (chunks[-1].provider, chunks[-1].model) == ("anthropic", "claude-3-5-haiku")
    assert [s.outcome for s in fake.seen("openai")] == ["error", "broken"]
    assert fake.seen("ollama") == []

    fake.script("openai", Step(status=401))
    fake.script("anthropic", Step(status=529), Step(status=529))
    result = await gateway.complete(ASK)
    assert (result.provider, result.model) == ("ollama", "llama3.2")


async def test_when_every_target_fails_the_primary_error_lists_all(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    gateway = make_gateway(llm_max_retries=0, llm_fallbacks="ollama")
    fake.script("openai", Step(status=401))
    fake.script("ollama", Step(status=500))
    with pytest.raises(LLMAuthError) as caught:
        await gateway.complete(ASK)
    assert [d["message"].split(":")[0] for d in caught.value.details] == ["openai", "ollama"]


async def test_an_open_breaker_falls_back_without_calling_the_provider(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    gateway = make_gateway(llm_max_retries=0, llm_breaker_threshold=1, llm_fallbacks="ollama")
    fake.script("openai", Step(status=500))
    assert (await gateway.complete(ASK)).provider == "ollama"
    assert (await gateway.complete(ASK)).provider == "ollama"
    assert len(fake.seen("openai")) == 1


@pytest.mark.parametrize("api", ["openai", "anthropic", "ollama"])
@pytest.mark.parametrize("failure", ["break_after", "malformed_after", "error_after"])
async def test_no_retry_or_fallback_after_the_first_token(
    make_gateway: MakeGateway, fake: FakeLLMServer, api: str, failure: str
) -> None:
    model = {"openai": "gpt-4o", "anthropic": "anthropic:claude-3-5-haiku", "ollama": "ollama:x"}
    gateway = make_gateway(llm_fallbacks="openai-compatible:backup")
    fake.script(api, Step(**{failure: 2}))  # type: ignore[arg-type]
    received: list[str] = []
    with pytest.raises(LLMStreamInterrupted) as caught:
        async for chunk in gateway.stream(ChatRequest(ASK.messages, model=model[api])):
            received.append(chunk.delta)
    assert received == ["Hello ", "from "]
    assert caught.value.status == 502 and caught.value.code == "LLM_STREAM_INTERRUPTED"
    assert len(fake.seen(api)) == 1 and fake.seen("compat") == []


@pytest.mark.parametrize("failure", ["malformed_after", "error_after"])
async def test_a_bad_stream_before_the_first_token_is_retried(
    make_gateway: MakeGateway, fake: FakeLLMServer, failure: str
) -> None:
    fake.script("openai", Step(**{failure: 0}))  # type: ignore[arg-type]
    chunks = await collect(make_gateway())
    assert "".join(c.delta for c in chunks) == DEFAULT_TEXT
    assert len(fake.seen("openai")) == 2


@pytest.mark.parametrize(
    "model", ["openai:gpt-4o", "anthropic:claude-3-5-haiku", "ollama:llama3.2"]
)
async def test_closing_the_stream_closes_the_upstream_connection(
    make_gateway: MakeGateway, fake: FakeLLMServer, model: str
) -> None:
    api = model.split(":")[0]
    fake.script(api, Step(text="word " * 200, chunk_delay=0.02))
    stream = make_gateway().stream(ChatRequest(ASK.messages, model=model))
    assert (await anext(stream)).delta == "word "  # type: ignore[call-overload]
    await anext(stream)  # type: ignore[call-overload]
    await stream.aclose()  # type: ignore[attr-defined]
    (seen,) = fake.seen(api)
    assert await asyncio.to_thread(fake.wait_for_outcome, seen) == "disconnected"


async def test_cancelling_the_consumer_closes_the_upstream_connection(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    fake.script("openai", Step(text="word " * 200, chunk_delay=0.05))
    gateway = make_gateway()
    got_one = asyncio.Event()

    async def consume() -> None:
        async for _ in gateway.stream(ASK):
            got_one.set()

    task = asyncio.create_task(consume())
    await got_one.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (seen,) = fake.seen("openai")
    assert await asyncio.to_thread(fake.wait_for_outcome, seen) == "disconnected"


def test_backoff_is_full_jitter_capped_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_retries=5, base_delay=0.5, max_delay=3.0, rng=random.Random(7))
    server = ProviderFailure(FailureKind.SERVER, "500")
    for retries_done, cap in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 3.0), (4, 3.0)]:
        delays = [policy.delay(retries_done, server) for _ in range(200)]
        assert all(d is not None and 0 <= d <= cap for d in delays)
        assert max(d for d in delays if d is not None) > cap * 0.8  # spread over the window
    assert policy.delay(5, server) is None  # retries exhausted
    limited = ProviderFailure(FailureKind.RATE_LIMIT, "429", retry_after=2.5)
    assert policy.delay(0, limited) == 2.5
    assert policy.delay(0, ProviderFailure(FailureKind.AUTH, "401")) is None


def _llm_calls(outcome: str) -> float:
    labels = {"provider": "openai", "outcome": outcome}
    return REGISTRY.get_sample_value("axon_llm_duration_seconds_count", labels) or 0.0


async def test_llm_durations_are_exported_by_provider_and_outcome(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    outcomes = ("ok", "error", "interrupted", "cancelled")
    before = {outcome: _llm_calls(outcome) for outcome in outcomes}
    gateway = make_gateway(llm_max_retries=0)
    await gateway.complete(ASK)
    fake.script("openai", Step(status=500))
    with pytest.raises(LLMUnavailable):
        await gateway.complete(ASK)
    fake.script("openai", Step(break_after=1))
    with pytest.raises(LLMStreamInterrupted):
        await collect(gateway)
    stream = gateway.stream(ASK)
    await anext(stream)  # type: ignore[call-overload]
    await stream.aclose()  # type: ignore[attr-defined]
    assert {o: _llm_calls(o) - before[o] for o in outcomes} == dict.fromkeys(outcomes, 1.0)
