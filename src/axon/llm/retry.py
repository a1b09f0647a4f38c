"""Retry delays: exponential backoff with full jitter, or the provider's Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from axon.llm.failures import ProviderFailure


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int
    base_delay: float
    max_delay: float  # also the longest Retry-After we wait for; beyond it we give up
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, retries_done: int, failure: ProviderFailure) -> float | None:
        """Seconds to wait before the next attempt, or None to stop retrying."""
        if not failure.retryable or retries_done >= self.max_retries:
            return None
        if failure.retry_after is not None:
            return failure.retry_after if failure.retry_after <= self.max_delay else None
        # Full jitter: spreads retries of many clients over the whole window.
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2**retries_done))
