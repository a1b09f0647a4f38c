"""Cost of a request from a price table: USD per million input and output tokens.

List prices are per provider (`openai:gpt-4o`): a model name alone says nothing
about who serves it, so a self-hosted OpenAI-compatible server answering as
`gpt-4o` is not billed at OpenAI's price. A dated or `-latest` variant
(`gpt-4o-2024-08-06`, `claude-3-5-haiku-20241022`) uses its family's price.
LLM_PRICES adds entries or overrides these; a bare model name there applies to
every provider. Models of local providers (Ollama, OpenAI-compatible servers)
cost nothing unless LLM_PRICES prices them; other unknown models are unpriced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from axon.llm.types import Usage

# USD per 1M tokens (input, output); list prices, override with LLM_PRICES.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "openai:gpt-4o": (2.50, 10.00),
    "openai:gpt-4o-mini": (0.15, 0.60),
    "openai:gpt-4.1": (2.00, 8.00),
    "openai:gpt-4.1-mini": (0.40, 1.60),
    "openai:gpt-4.1-nano": (0.10, 0.40),
    "openai:gpt-4-turbo": (10.00, 30.00),
    "openai:gpt-4": (30.00, 60.00),
    "openai:gpt-3.5-turbo": (0.50, 1.50),
    "openai:o3-mini": (1.10, 4.40),
    "anthropic:claude-3-5-haiku": (0.80, 4.00),
    "anthropic:claude-3-5-sonnet": (3.00, 15.00),
    "anthropic:claude-3-7-sonnet": (3.00, 15.00),
    "anthropic:claude-sonnet-4": (3.00, 15.00),
    "anthropic:claude-opus-4": (15.00, 75.00),
    "anthropic:claude-3-haiku": (0.25, 1.25),
}
# Providers that run on the operator's own hardware: no per-token bill by default.
LOCAL_PROVIDERS = frozenset({"ollama", "openai-compatible"})
_VARIANT = re.compile(r"^-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)$")


class PriceTable:
    def __init__(self, overrides: Mapping[str, tuple[float, float]] | None = None) -> None:
        self._prices = {**DEFAULT_PRICES, **(overrides or {})}

    def _lookup(self, name: str) -> tuple[float, float] | None:
        if name in self._prices:
            return self._prices[name]
        for key, price in self._prices.items():
            if name.startswith(key) and _VARIANT.match(name[len(key) :]):
                return price
        return None

    def price(self, provider: str, model: str) -> tuple[float, float] | None:
        for name in (f"{provider}:{model}", model):
            if (price := self._lookup(name)) is not None:
                return price
        return (0.0, 0.0) if provider in LOCAL_PROVIDERS else None

    def cost(self, provider: str, model: str, usage: Usage) -> float | None:
        price = self.price(provider, model)
        if price is None:
            return None
        return (usage.input_tokens * price[0] + usage.output_tokens * price[1]) / 1_000_000
