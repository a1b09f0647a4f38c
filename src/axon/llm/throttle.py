"""A waiting token-bucket limiter per provider: requests and tokens per minute.

Callers reserve capacity up front and sleep until it is theirs, so waiters are
served in arrival order. When `max_queue` callers already wait, or the wait
would exceed `max_wait`, the call is refused with 429 and a Retry-After.
"""

from __future__ import annotations

import asyncio
import time

from axon.llm.errors import LLMRateLimited, retry_after_header


class _Bucket:
    """`per_minute` units, refilled continuously; may go negative when reserved ahead."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.level = self.capacity
        self._at = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self._at) * self.rate)
        self._at = now

    def wait_for(self, units: float) -> float:
        self._refill()
        return max(0.0, (units - self.level) / self.rate)

    def take(self, units: float) -> None:
        self.level -= units


class Throttle:
    def __init__(self, name: str, rpm: int, tpm: int, *, max_queue: int, max_wait: float) -> None:
        self.name = name
        self._requests = _Bucket(rpm) if rpm > 0 else None
        self._tokens = _Bucket(tpm) if tpm > 0 else None
        self.max_queue = max_queue
        self.max_wait = max_wait
        self.waiting = 0

    def _clamp(self, tokens: int) -> float:
        # One request larger than the whole minute's budget may still run, alone.
        return float(min(tokens, self._tokens.capacity)) if self._tokens else 0.0

    async def acquire(self, tokens: int) -> None:
        units = self._clamp(tokens)
        wait = max(
            self._requests.wait_for(1) if self._requests else 0.0,
            self._tokens.wait_for(units) if self._tokens else 0.0,
        )
        if wait > 0 and (self.waiting >= self.max_queue or wait > self.max_wait):
            raise LLMRateLimited(
                f"too many requests to {self.name}; retry in {wait:.1f}s",
                headers=retry_after_header(wait),
            )
        if self._requests:
            self._requests.take(1)
        if self._tokens:
            self._tokens.take(units)
        if wait <= 0:
            return
        self.waiting += 1
        try:
            await asyncio.sleep(wait)
        except asyncio.CancelledError:
            self._give_back(1, units)
            raise
        finally:
            self.waiting -= 1

    def settle(self, reserved: int, used: int) -> None:
        """Correct the token reservation once the real usage is known."""
        if self._tokens:
            self._tokens.take(used - self._clamp(reserved))

    def _give_back(self, requests: int, units: float) -> None:
        if self._requests:
            self._requests.take(-requests)
        if self._tokens:
            self._tokens.take(-units)
