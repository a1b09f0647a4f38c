"""A circuit breaker per provider.

Closed: calls pass and consecutive failures are counted. After `threshold` of
them it opens: calls fail fast for `cooldown` seconds. Then it is half-open:
exactly one probe call passes; its success closes the breaker, its failure opens
it again for another cooldown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from axon.llm.errors import CircuitOpen, retry_after_header


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        threshold: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,  # seconds; tests pass their own
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self.clock() - self._opened_at < self.cooldown:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def before_call(self) -> None:
        """Let the call through, or raise CircuitOpen with the seconds left to wait."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return
        assert self._opened_at is not None
        wait = max(0.0, self._opened_at + self.cooldown - self.clock())
        raise CircuitOpen(
            f"{self.name} is failing; calls are paused for {wait:.0f}s",
            headers=retry_after_header(wait if wait > 0 else self.cooldown),
        )

    def on_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probe_in_flight = False

    def on_failure(self) -> None:
        self._failures += 1
        if self._probe_in_flight or self._failures >= self.threshold:
            self._opened_at = self.clock()
        self._probe_in_flight = False

    def on_abandon(self) -> None:
        """The call ended without a verdict (the client left): free the probe slot."""
        self._probe_in_flight = False
