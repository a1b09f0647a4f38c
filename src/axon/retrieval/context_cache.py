"""Parsed contexts the retriever keeps between searches.

Every search loads its strongest ~60 candidates from the document store; reading
and parsing them again for every prompt was the largest single cost of a
search (SQLite: a query plus JSON validation; MongoDB: a round trip). Entries
live `ttl` seconds at most, so usage counts and confidence changed by other
replicas show up soon after. Content changes and deletes cannot wait that
long: the lexical index reports the ids it sees change (its own writes at once,
other processes' through its change log) and those entries are forgotten before
the next read. Usage this process records is applied to the cached copies the
way the store applies it, so they stay current without a re-read.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from axon.models import Context
from axon.ports import DocumentStore


class ContextCache:
    """`ttl` 0 disables caching: every read goes to the store."""

    def __init__(
        self,
        store: DocumentStore,
        ttl: float,
        size: int = 20_000,
        clock: Callable[[], float] = time.monotonic,  # seconds; tests pass their own
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, tuple[Context, float]] = OrderedDict()
        # Bumped by every invalidation: a read that started before it must not store
        # what it read, which may predate the change.
        self._epoch = 0

    def forget(self, context_ids: Iterable[str]) -> None:
        self._epoch += 1
        for cid in context_ids:
            self._entries.pop(cid, None)

    def forget_all(self) -> None:
        self._epoch += 1
        self._entries.clear()

    def used(self, uses: Mapping[str, int], at: datetime) -> None:
        """This process added `uses` to these contexts' usage counts at `at`."""
        self._epoch += 1
        for cid, n in uses.items():
            entry = self._entries.get(cid)
            if entry is not None:
                ctx = entry[0].model_copy(
                    update={"usage_count": entry[0].usage_count + n, "updated_at": at}
                )
                self._entries[cid] = (ctx, entry[1])

    def changed(self, context_ids: Iterable[str] | None) -> None:
        """A change listener: these ids changed (None: any may have)."""
        if context_ids is None:
            self.forget_all()
        else:
            self.forget(context_ids)

    def __len__(self) -> int:
        return len(self._entries)

    async def get_contexts(self, context_ids: Sequence[str]) -> list[Context]:
        """Like `DocumentStore.get_contexts`: the ones that exist, in the given order."""
        if self.ttl <= 0:
            return await self.store.get_contexts(context_ids)
        now = self.clock()
        found: dict[str, Context] = {}
        missing: list[str] = []
        for cid in dict.fromkeys(context_ids):
            entry = self._entries.get(cid)
            if entry is not None and now - entry[1] < self.ttl:
                found[cid] = entry[0]
                self._entries.move_to_end(cid)
            else:
                missing.append(cid)
        if missing:
            epoch = self._epoch
            loaded = await self.store.get_contexts(missing)
            for ctx in loaded:
                found[ctx.id] = ctx
            if epoch == self._epoch:
                self._remember(loaded, now)
        return [found[cid] for cid in dict.fromkeys(context_ids) if cid in found]

    def _remember(self, contexts: Sequence[Context], at: float) -> None:
        for ctx in contexts:
            self._entries[ctx.id] = (ctx, at)
            self._entries.move_to_end(ctx.id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
