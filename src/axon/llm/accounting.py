"""Token and cost accounting: measure each request, total it per workspace and API key.

Increments are summed in memory per (workspace, key, provider, model) and written
to the store in one batch a moment later, so accounting adds neither latency
nor a write per request. `flush` writes at once (before reading totals, and on
shutdown); a crash loses at most the last `flush_delay` seconds of counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date

from axon.llm.errors import BudgetExceeded
from axon.llm.pricing import PriceTable
from axon.llm.types import ChatMessage, ChatRequest, Usage
from axon.models import LlmUsage, LlmUsageDay, utcnow
from axon.ports import DocumentStore
from axon.tokens import count_tokens

log = logging.getLogger("axon.llm")

# Chat formats wrap each message in a few tokens of markup, plus a few to prime the reply.
_PER_MESSAGE = 4
_PER_REQUEST = 3


def estimate_input_tokens(messages: Sequence[ChatMessage]) -> int:
    return _PER_REQUEST + sum(_PER_MESSAGE + count_tokens(m.content) for m in messages)


class UsageLedger:
    def __init__(self, store: DocumentStore, prices: PriceTable, flush_delay: float = 1.0) -> None:
        self._store = store
        self._prices = prices
        self._flush_delay = flush_delay
        self._pending: dict[tuple[str | None, str | None, str, str], LlmUsage] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[None]] = set()

    def measure(
        self,
        provider: str,
        model: str,
        messages: Sequence[ChatMessage],
        reported: Usage | None,
        text: str,
    ) -> Usage:
        """The provider's usage, or a local count when it reported none; priced."""
        usage = reported or Usage(
            estimate_input_tokens(messages), count_tokens(text), estimated=True
        )
        cost = self._prices.cost(provider, model, usage)
        return Usage(usage.input_tokens, usage.output_tokens, usage.estimated, cost)

    def record(
        self,
        request: ChatRequest,
        provider: str,
        model: str,
        usage: Usage | None,
        *,
        failed: bool = False,
        cached: bool = False,
    ) -> None:
        usage = usage or Usage()
        key = (request.workspace_id, request.api_key_id, provider, model)
        total = self._pending.get(key) or LlmUsage(
            workspace_id=request.workspace_id,
            api_key_id=request.api_key_id,
            provider=provider,
            model=model,
        )
        total.requests += 1
        total.failures += failed
        total.cached += cached
        total.estimated += usage.estimated
        total.unpriced += usage.cost_usd is None and not cached
        total.input_tokens += usage.input_tokens
        total.output_tokens += usage.output_tokens
        total.cost_usd += usage.cost_usd or 0.0
        total.updated_at = utcnow()
        self._pending[key] = total
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._flush_delay, self._write)

    def _write(self) -> None:
        """Hand everything pending to one background write."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = list(self._pending.values()), {}
        if batch:
            task = asyncio.create_task(self._store_batch(batch))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    async def _store_batch(self, batch: list[LlmUsage]) -> None:
        for increment in batch:
            try:
                await self._store.add_llm_usage(increment)
            except Exception:
                log.exception("could not record LLM usage for %s", increment.model)

    async def flush(self) -> None:
        self._write()
        while self._writes:
            await asyncio.gather(*list(self._writes))

    async def totals(
        self, workspace_id: str | None, api_key_id: str | None = None
    ) -> list[LlmUsage]:
        await self.flush()
        return await self._store.list_llm_usage(workspace_id, api_key_id)

    async def days(
        self, since: date, workspace_id: str | None = None, api_key_id: str | None = None
    ) -> list[LlmUsageDay]:
        """The totals per UTC day from `since` on."""
        await self.flush()
        return await self._store.list_llm_usage_days(since, workspace_id, api_key_id)

    async def spent(self, api_key_id: str) -> float:
        """The key's recorded spend in USD, this process's unwritten counts included."""
        stored = await self._store.list_llm_usage(api_key_id=api_key_id)
        pending = [u for u in self._pending.values() if u.api_key_id == api_key_id]
        return sum(u.cost_usd for u in (*stored, *pending))

    async def check_budget(self, request: ChatRequest) -> None:
        """Refuse (402 KEY_BUDGET_EXCEEDED) a call by a key whose spend reached its budget.
        Calls already in flight still finish, so a key can overshoot by their cost."""
        if request.api_key_id is None or request.budget_usd is None:
            return
        spent = await self.spent(request.api_key_id)
        if spent >= request.budget_usd:
            raise BudgetExceeded(
                f"API key {request.api_key_id} has spent ${spent:.4f} of its "
                f"${request.budget_usd:g} LLM budget",
                details=[{"field": "budgetUsd", "message": "LLM budget spent"}],
            )
