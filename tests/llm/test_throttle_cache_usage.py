"""The per-provider rate limiter, the response cache and usage accounting."""

from __future__ import annotations

import asyncio
import time

import pytest

from axon.config import Settings
from axon.llm.accounting import UsageLedger
from axon.llm.errors import LLMRateLimited
from axon.llm.factory import build_llm
from axon.llm.pricing import PriceTable
from axon.llm.throttle import Throttle
from axon.llm.types import ChatMessage, ChatRequest
from axon.stores.sqlite import SQLiteDocumentStore
from tests.fakes.llm_server import DEFAULT_TEXT, FakeLLMServer, Step
from tests.llm.conftest import MakeGateway, fake_settings

ASK = ChatRequest((ChatMessage("user", "hello"),), workspace_id="ws")


async def test_throttle_makes_callers_wait_in_order() -> None:
    throttle = Throttle("t", rpm=600, tpm=0, max_queue=10, max_wait=5)  # 10 per second
    for _ in range(600):  # the first minute's budget is available at once
        await throttle.acquire(0)
    started = time.monotonic()
    finished: list[int] = []

    async def call(i: int) -> None:
        await throttle.acquire(0)
        finished.append(i)

    await asyncio.gather(*(call(i) for i in range(3)))
    assert finished == [0, 1, 2]
    assert 0.25 <= time.monotonic() - started < 1.0  # three more at 10/s


async def test_throttle_refuses_beyond_its_queue_with_retry_after() -> None:
    throttle = Throttle("t", rpm=60, tpm=0, max_queue=1, max_wait=5)
    for _ in range(60):
        await throttle.acquire(0)
    waiter = asyncio.create_task(throttle.acquire(0))
    await asyncio.sleep(0.05)
    assert throttle.waiting == 1
    with pytest.raises(LLMRateLimited) as caught:
        await throttle.acquire(0)
    assert caught.value.status == 429 and caught.value.code == "LLM_RATE_LIMITED"
    assert caught.value.headers["Retry-After"] == "2"  # behind the one already waiting
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert throttle.waiting == 0


async def test_throttle_refuses_a_wait_longer_than_max_wait() -> None:
    throttle = Throttle("t", rpm=0, tpm=6000, max_queue=10, max_wait=0.5)  # 100 tokens/s
    await throttle.acquire(6000)
    with pytest.raises(LLMRateLimited) as caught:
        await throttle.acquire(200)  # 2 s away
    assert caught.value.headers["Retry-After"] == "2"
    await throttle.acquire(20)  # 0.2 s away: waits
    throttle.settle(20, 0)  # the call used nothing: the tokens come back
    await asyncio.wait_for(throttle.acquire(20), 0.1)


async def test_gateway_answers_429_when_the_provider_budget_is_spent(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    gateway = make_gateway(llm_rate_limits={"openai": (1, 0)}, llm_rate_queue=0)
    assert (await gateway.complete(ASK)).text == DEFAULT_TEXT
    with pytest.raises(LLMRateLimited) as caught:
        await gateway.complete(ASK)
    assert int(caught.value.headers["Retry-After"]) >= 59
    assert len(fake.seen("openai")) == 1


async def test_a_spent_budget_falls_back_to_the_next_provider(
    make_gateway: MakeGateway, fake: FakeLLMServer
) -> None:
    gateway = make_gateway(
        llm_rate_limits={"openai": (1, 0)}, llm_rate_queue=0, llm_fallbacks="ollama"
    )
    await gateway.complete(ASK)
    assert (await gateway.complete(ASK)).provider == "ollama"


async def test_identical_temperature_zero_requests_are_cached(
    make_gateway: MakeGateway, fake: FakeLLMServer, ledger: UsageLedger
) -> None:
    gateway = make_gateway(llm_cache_ttl=60)
    exact = ChatRequest(ASK.messages, temperature=0, workspace_id="ws")
    first = await gateway.complete(exact)
    second = await gateway.complete(exact)
    assert (first.cached, second.cached) == (False, True)
    assert second.text == first.text and second.model == first.model
    assert len(fake.seen("openai")) == 1

    other = ChatRequest((ChatMessage("user", "hello!"),), temperature=0)
    await gateway.complete(other)  # different messages
    await gateway.complete(ChatRequest(ASK.messages, temperature=0.7))  # not deterministic
    [c async for c in gateway.stream(exact)]  # streams are never cached
    assert len(fake.seen("openai")) == 4

    (totals,) = await ledger.totals("ws")
    assert (totals.requests, totals.cached) == (3, 1)  # the others had no workspace


async def test_cache_entries_expire(make_gateway: MakeGateway, fake: FakeLLMServer) -> None:
    gateway = make_gateway(llm_cache_ttl=0.2)
    exact = ChatRequest(ASK.messages, temperature=0)
    await gateway.complete(exact)
    await asyncio.sleep(0.25)
    assert (await gateway.complete(exact)).cached is False
    assert len(fake.seen("openai")) == 2


async def test_usage_is_totalled_per_workspace_with_cost_and_failures(
    settings: Settings, fake: FakeLLMServer, usage_store: SQLiteDocumentStore
) -> None:
    ledger = UsageLedger(usage_store, PriceTable({"openai:gpt-4o": (1_000_000, 0)}))
    gateway = build_llm(fake_settings(fake, llm_max_retries=0), ledger, None)
    await gateway.complete(ASK)
    [c async for c in gateway.stream(ASK)]
    fake.script("openai", Step(break_after=2))
    with pytest.raises(Exception, match="mid-answer"):
        [c async for c in gateway.stream(ASK)]
    fake.script("openai", Step(status=500))
    with pytest.raises(Exception, match="unavailable"):
        await gateway.complete(ChatRequest(ASK.messages, workspace_id="other"))

    (ws,) = await ledger.totals("ws")
    assert (ws.provider, ws.model, ws.requests, ws.failures) == ("openai", "gpt-4o", 3, 1)
    assert ws.estimated == 1  # the broken stream reported no usage: counted locally
    assert ws.input_tokens >= 42 * 2 and ws.output_tokens >= 10
    assert ws.cost_usd == pytest.approx(ws.input_tokens)  # $1 per input token, from LLM_PRICES
    (other,) = await ledger.totals("other")
    assert (other.requests, other.failures, other.input_tokens) == (1, 1, 0)
    await gateway.aclose()


async def test_unknown_models_are_counted_as_unpriced(
    make_gateway: MakeGateway, ledger: UsageLedger
) -> None:
    await make_gateway().complete(ChatRequest(ASK.messages, model="gpt-unknown", workspace_id="w"))
    (total,) = await ledger.totals("w")
    assert (total.unpriced, total.cost_usd) == (1, 0.0)
