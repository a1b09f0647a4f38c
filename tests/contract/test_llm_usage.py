"""LLM usage totals: every DocumentStore adapter adds increments atomically."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from axon.models import LlmUsage, utcnow
from axon.ports import DocumentStore


def usage(ws: str | None, model: str = "gpt-4o", **counters: float) -> LlmUsage:
    return LlmUsage(workspace_id=ws, provider="openai", model=model, **counters)  # type: ignore[arg-type]


async def test_increments_add_up_per_workspace_provider_and_model(store: DocumentStore) -> None:
    assert await store.list_llm_usage() == []
    await store.add_llm_usage(
        usage("ws1", requests=1, input_tokens=10, output_tokens=5, cost_usd=0.5)
    )
    await store.add_llm_usage(
        usage("ws1", requests=1, failures=1, estimated=1, input_tokens=3, cost_usd=0.25)
    )
    await store.add_llm_usage(usage("ws1", model="gpt-4o-mini", requests=1, cached=1))
    await store.add_llm_usage(usage("ws2", requests=2, unpriced=2, output_tokens=7))
    await store.add_llm_usage(usage(None, requests=1, input_tokens=1))

    ws1 = await store.list_llm_usage("ws1")
    assert [(u.workspace_id, u.model) for u in ws1] == [("ws1", "gpt-4o"), ("ws1", "gpt-4o-mini")]
    first = ws1[0]
    assert (first.requests, first.failures, first.estimated, first.cached) == (2, 1, 1, 0)
    assert (first.input_tokens, first.output_tokens) == (13, 5)
    assert first.cost_usd == pytest.approx(0.75)
    assert ws1[1].cached == 1 and ws1[1].requests == 1

    everything = await store.list_llm_usage()
    assert [(u.workspace_id, u.model) for u in everything] == [
        (None, "gpt-4o"),
        ("ws1", "gpt-4o"),
        ("ws1", "gpt-4o-mini"),
        ("ws2", "gpt-4o"),
    ]
    assert everything[-1].unpriced == 2 and everything[-1].output_tokens == 7
    assert await store.list_llm_usage("nobody") == []


async def test_concurrent_increments_are_not_lost(store: DocumentStore) -> None:
    await asyncio.gather(
        *(store.add_llm_usage(usage("ws", requests=1, input_tokens=2)) for _ in range(40))
    )
    (total,) = await store.list_llm_usage("ws")
    assert total.requests == 40 and total.input_tokens == 80


async def test_updated_at_is_the_latest_increment(store: DocumentStore) -> None:
    earlier = utcnow() - timedelta(hours=1)
    await store.add_llm_usage(usage("ws", requests=1).model_copy(update={"updated_at": earlier}))
    later = utcnow()
    await store.add_llm_usage(usage("ws", requests=1).model_copy(update={"updated_at": later}))
    (total,) = await store.list_llm_usage("ws")
    assert total.updated_at == later


async def test_totals_are_kept_per_api_key(store: DocumentStore) -> None:
    await store.add_llm_usage(usage("ws", requests=1, cost_usd=0.25))  # auth off
    for key, cost in [("k1", 0.5), ("k1", 0.25), ("k2", 1.0)]:
        await store.add_llm_usage(
            usage("ws", requests=1, cost_usd=cost).model_copy(update={"api_key_id": key})
        )
    await store.add_llm_usage(
        usage("other", requests=1, cost_usd=2.0).model_copy(update={"api_key_id": "k1"})
    )
    k1 = await store.list_llm_usage(api_key_id="k1")
    assert [(u.workspace_id, u.api_key_id, u.requests) for u in k1] == [
        ("other", "k1", 1),
        ("ws", "k1", 2),
    ]
    assert sum(u.cost_usd for u in k1) == pytest.approx(2.75)
    (only,) = await store.list_llm_usage("ws", "k2")
    assert only.cost_usd == pytest.approx(1.0)
    in_ws = await store.list_llm_usage("ws")
    assert [u.api_key_id for u in in_ws] == [None, "k1", "k2"]


async def test_usage_is_also_kept_per_utc_day(store: DocumentStore) -> None:
    today = utcnow()
    yesterday = today - timedelta(days=1)
    long_ago = today - timedelta(days=40)
    for at, cost, key in [
        (long_ago, 4.0, None),
        (yesterday, 0.5, "k1"),
        (yesterday, 0.25, "k1"),
        (today, 1.0, "k1"),
        (today, 2.0, "k2"),
    ]:
        increment = usage("ws", requests=1, input_tokens=10, cost_usd=cost)
        await store.add_llm_usage(
            increment.model_copy(update={"updated_at": at, "api_key_id": key})
        )
    await store.add_llm_usage(
        usage("other", requests=1, cost_usd=8.0).model_copy(update={"updated_at": today})
    )

    days = await store.list_llm_usage_days(yesterday.date())
    assert [(d.day, d.workspace_id, d.api_key_id, d.requests) for d in days] == [
        (yesterday.date(), "ws", "k1", 2),
        (today.date(), "other", None, 1),
        (today.date(), "ws", "k1", 1),
        (today.date(), "ws", "k2", 1),
    ]
    assert days[0].cost_usd == pytest.approx(0.75) and days[0].input_tokens == 20
    assert [d.cost_usd for d in await store.list_llm_usage_days(today.date(), "ws", "k2")] == [2.0]
    every_day = await store.list_llm_usage_days(long_ago.date(), "ws")
    assert sum(d.cost_usd for d in every_day) == pytest.approx(7.75)
    # The all-time totals are unchanged by the days beside them.
    assert sum(u.cost_usd for u in await store.list_llm_usage("ws")) == pytest.approx(7.75)
    assert await store.list_llm_usage_days(today.date() + timedelta(days=1)) == []
