"""Usage counts of contexts, written in batches.

Every processed prompt uses up to twenty contexts; one write per prompt would
compete with the reads the next prompts need. Uses are counted in memory and
written once per `interval` (and on shutdown), in as few `record_usage` calls
as the largest per-context count in the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterable

from axon.ports import DocumentStore

log = logging.getLogger("axon.pipeline")


class UsageRecorder:
    def __init__(self, store: DocumentStore, interval: float = 1.0) -> None:
        self.store = store
        self.interval = interval
        self._pending: Counter[str] = Counter()
        self._timer: asyncio.Task[None] | None = None

    def add(self, context_ids: Iterable[str]) -> None:
        self._pending.update(context_ids)
        if self._pending and (self._timer is None or self._timer.done()):
            self._timer = asyncio.create_task(self._flush_later(), name="axon-usage")

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.interval)
        await self._write()

    async def flush(self) -> None:
        """Write what is pending now (tests, shutdown)."""
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        await self._write()

    async def _write(self) -> None:
        pending, self._pending = self._pending, Counter()
        try:
            for round_ in range(max(pending.values(), default=0)):
                await self.store.record_usage([cid for cid, n in pending.items() if n > round_])
        except Exception as exc:
            log.warning("recording usage of %d contexts failed: %s", len(pending), exc)
