"""pymongo connection-pool events -> Axon's pool metrics and "connection pool" log lines.

pymongo keeps one pool per server; the gauges add them up per backend, so a
replica set shows its total open and checked-out connections.
"""

from __future__ import annotations

from pymongo import monitoring

from axon import metrics

BACKEND = "mongodb"


class MongoPoolMetrics(monitoring.ConnectionPoolListener):
    def __init__(self, max_pool_size: int) -> None:
        self.max_pool_size = max_pool_size

    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        metrics.pool_opened(BACKEND, self.max_pool_size)

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        pass

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        metrics.pool_cleared(BACKEND, f"server {event.address[0]}:{event.address[1]} reset")

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        metrics.pool_closed(BACKEND)

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        metrics.pool_connection_opened(BACKEND)

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        pass

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        metrics.pool_connection_closed(BACKEND)

    def connection_check_out_started(
        self, event: monitoring.ConnectionCheckOutStartedEvent
    ) -> None:
        pass

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        if event.reason == monitoring.ConnectionCheckOutFailedReason.TIMEOUT:
            metrics.pool_exhausted(BACKEND, self.max_pool_size, event.duration or 0.0)

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        metrics.pool_checked_out(BACKEND)

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        metrics.pool_checked_in(BACKEND)
