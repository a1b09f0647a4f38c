"""Gateways pointed at the fake LLM server (`fake`, from tests/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from axon.config import Settings, load_settings
from axon.llm.accounting import UsageLedger
from axon.llm.factory import build_llm
from axon.llm.gateway import Gateway
from axon.llm.pricing import PriceTable
from axon.stores.memory_cache import MemoryCache
from axon.stores.sqlite import SQLiteDocumentStore
from tests.fakes.llm_server import FakeLLMServer

MakeGateway = Callable[..., Gateway]


def fake_settings(fake: FakeLLMServer, **overrides: object) -> Settings:
    """Every provider configured against the fake; fast retries for tests."""
    base: dict[str, object] = {
        "openai_api_key": "sk-test-openai",
        "openai_base_url": f"{fake.url}/v1",
        "anthropic_api_key": "sk-ant-test",
        "anthropic_base_url": fake.url,
        "ollama_base_url": fake.url,
        "openai_compatible_base_url": f"{fake.url}/compat/v1",
        "default_model": "gpt-4o",
        "llm_max_retries": 2,
        "llm_retry_base_delay": 0.01,
        "llm_connect_timeout": 2,
        "llm_timeout": 5,
        "llm_read_timeout": 5,
    }
    return load_settings(**{**base, **overrides})


@pytest.fixture
async def usage_store(tmp_path: Path) -> AsyncIterator[SQLiteDocumentStore]:
    store = SQLiteDocumentStore(tmp_path / "usage.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def ledger(usage_store: SQLiteDocumentStore) -> UsageLedger:
    return UsageLedger(usage_store, PriceTable())


@pytest.fixture
async def make_gateway(
    settings: Settings, fake: FakeLLMServer, ledger: UsageLedger
) -> AsyncIterator[MakeGateway]:
    """`make_gateway(clock=..., **settings overrides)`; depends on `settings` for a clean
    environment."""
    built: list[Gateway] = []

    def make(clock: Callable[[], float] = time.monotonic, **overrides: object) -> Gateway:
        gateway = build_llm(fake_settings(fake, **overrides), ledger, MemoryCache(), clock)
        built.append(gateway)
        return gateway

    yield make
    await ledger.flush()
    for gateway in built:
        await gateway.aclose()
