"""Usage counts of contexts, written in batches.

Every processed prompt uses up to twenty contexts; one write per prompt would
compete with the reads the next prompts need. Uses are counted in memory and
written once per `interval` (and on shutdown) in one `record_usage` call with
each context's count. `written` is told the ids afterwards (the retriever's
context cache updates its copies, so this process never ranks with old counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from axon.models import utcnow
from axon.ports import DocumentStore

log = logging.getLogger("axon.pipeline")
# Usage only nudges ranking, so counts may wait a few seconds: one write then covers
# every prompt of the interval (a stop or crash loses at most this much counting).
WRITE_INTERVAL_SECONDS = 5.0


class UsageRecorder:
    def __init__(
        self,
        store: DocumentStore,
        interval: float = WRITE_INTERVAL_SECONDS,
        written: Callable[[Mapping[str, int], datetime], None] | None = None,
    ) -> None:
        self.store = store
        self.interval = interval
        self.written = written
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
        if not pending:
            return
        try:
            await self.store.record_usage(pending)
        except Exception as exc:
            log.warning("recording usage of %d contexts failed: %s", len(pending), exc)
            return
        if self.written is not None:
            self.written(pending, utcnow())
