"""Provider-neutral failures: what went wrong upstream, and whether a retry may help.

Providers translate their SDK's exceptions into `ProviderFailure`; the gateway
decides about retries, the circuit breaker and fallback from it alone.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from enum import StrEnum


class FailureKind(StrEnum):
    AUTH = "auth"  # 401/403
    TIMEOUT = "timeout"  # our deadline, the SDK's, or a 408
    CONNECTION = "connection"  # refused, reset, closed mid-body
    RATE_LIMIT = "rate_limit"  # 429
    SERVER = "server"  # 5xx, 409, overloaded
    REJECTED = "rejected"  # other 4xx: the request itself is wrong for this provider
    PROTOCOL = "protocol"  # a malformed or truncated response


RETRYABLE = frozenset(
    {
        FailureKind.TIMEOUT,
        FailureKind.CONNECTION,
        FailureKind.RATE_LIMIT,
        FailureKind.SERVER,
        FailureKind.PROTOCOL,
    }
)
# A request error is the caller's fault, not a sign the provider is unhealthy.
BREAKER_NEUTRAL = frozenset({FailureKind.REJECTED})


class ProviderFailure(Exception):
    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


def kind_for_status(status: int) -> FailureKind:
    if status in (401, 403):
        return FailureKind.AUTH
    if status == 408:
        return FailureKind.TIMEOUT
    if status == 429:
        return FailureKind.RATE_LIMIT
    if status == 409 or status >= 500:
        return FailureKind.SERVER
    return FailureKind.REJECTED


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def status_failure(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> ProviderFailure:
    retry_after = parse_retry_after(headers) if headers is not None else None
    return ProviderFailure(kind_for_status(status), message, status=status, retry_after=retry_after)
