"""A clock for tests: monotonic seconds that move only when the test says so, so
cool-downs, windows and TTLs are exact rather than a race between a sleep and the
event loop."""

from __future__ import annotations


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
