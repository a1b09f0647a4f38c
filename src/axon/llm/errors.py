"""Errors the gateway raises to callers; each maps to an HTTP status and a stable code."""

from __future__ import annotations

import math

from axon.errors import AxonError, RateLimited, ServiceUnavailable


def retry_after_header(seconds: float | None) -> dict[str, str]:
    """A Retry-After header in whole seconds (at least 1), or none."""
    return {} if seconds is None else {"Retry-After": str(max(1, math.ceil(seconds)))}


class LLMError(AxonError):
    status = 502
    code = "LLM_ERROR"


class LLMAuthError(LLMError):
    """The provider refused our credentials (401/403): a configuration problem."""

    code = "LLM_AUTH"


class LLMTimeout(LLMError):
    status = 504
    code = "LLM_TIMEOUT"


class LLMUnavailable(LLMError):
    """Retries are exhausted (or the failure was not worth retrying)."""

    code = "LLM_UNAVAILABLE"


class LLMRejected(LLMError):
    """The provider refused the request itself (400/404/413/422: unknown model, too long)."""

    code = "LLM_REJECTED"


class LLMStreamInterrupted(LLMError):
    """The stream failed after text was already sent; nothing can be retried."""

    code = "LLM_STREAM_INTERRUPTED"


class CircuitOpen(ServiceUnavailable):
    code = "LLM_CIRCUIT_OPEN"


class LLMRateLimited(RateLimited):
    """Our own per-provider limiter's queue is full or the wait would be too long."""

    code = "LLM_RATE_LIMITED"


class BudgetExceeded(AxonError):
    """The API key's recorded LLM spend reached its budget (`axon keys create --budget-usd`)."""

    status = 402
    code = "KEY_BUDGET_EXCEEDED"
