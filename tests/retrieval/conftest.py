"""A small coding workspace, indexed for search, lexical-only unless a test asks for vectors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from axon.config import Settings, load_settings
from axon.models import Context, ContextType, Tier, Workspace, WorkspaceType, content_hash
from axon.services import Services, build_services

FILES: list[tuple[str, str | None, str]] = [
    (
        "src/shop/pricing.py",
        "apply_discount",
        "def apply_discount(order, code):\n"
        "    rate = lookup_rate(code)\n"
        "    return order.total * (1 - rate)\n",
    ),
    (
        "src/shop/checkout.py",
        "Checkout.finish",
        "def finish(self, order):\n"
        "    total = apply_discount(order, self.code)\n"
        "    self.gateway.charge(total)\n",
    ),
    (
        "src/shop/gateway.py",
        "PaymentGateway.charge",
        "def charge(self, amount):\n"
        "    if amount <= 0:\n"
        "        raise ValueError('amount must be positive')\n"
        "    return self.client.post('/charge', amount)\n",
    ),
    (
        "docs/discounts.md",
        None,
        "# Discounts\nDiscount codes are applied at checkout; apply_discount looks up the rate.\n",
    ),
    (
        "src/shop/rates.py",
        "lookup_rate",
        "def lookup_rate(code):\n    return RATES.get(code, 0.0)\n",
    ),
]


def make_context(
    workspace_id: str,
    path: str | None,
    symbol: str | None,
    text: str,
    *,
    tier: Tier = Tier.WORKSPACE,
    cid: str | None = None,
    updated_at: datetime | None = None,
    usage_count: int = 0,
) -> Context:
    extra = {"updated_at": updated_at, "created_at": updated_at} if updated_at else {}
    return Context(
        id=cid or f"{workspace_id}-{path or symbol or content_hash(text)[:8]}".replace("/", "_"),
        workspace_id=workspace_id,
        tier=tier,
        type=ContextType.SYMBOL if symbol else ContextType.DOCUMENTATION,
        path=path,
        start_line=1,
        end_line=text.count("\n"),
        symbol=symbol,
        language="python" if path and path.endswith(".py") else "markdown",
        content=text,
        content_hash=content_hash(text),
        usage_count=usage_count,
        **extra,
    )


async def add_workspace(services: Services, workspace_id: str) -> None:
    await services.store.create_workspace(
        Workspace(id=workspace_id, name=workspace_id, type=WorkspaceType.CODING)
    )


async def store_and_index(services: Services, contexts: list[Context]) -> None:
    await services.store.put_contexts(contexts)
    await services.search_index.index(contexts)


@pytest.fixture
def lexical_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("AXON_EMBEDDER", "none")
    return load_settings()


@pytest.fixture
async def shop(lexical_settings: Settings) -> AsyncIterator[Services]:
    services = await build_services(lexical_settings)
    try:
        await add_workspace(services, "shop")
        await store_and_index(
            services, [make_context("shop", path, sym, text) for path, sym, text in FILES]
        )
        yield services
    finally:
        await services.close()
