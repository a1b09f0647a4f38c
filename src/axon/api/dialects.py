"""Error bodies in each protocol's own shape, chosen by the request path.

Clients of the compatible endpoints parse their vendor's error shape, so those
paths answer in it: OpenAI's `{"error": {message, type, param, code}}` under
`/v1/` and Anthropic's `{"type": "error", "error": {type, message}}` on
`/v1/messages`; every other path keeps Axon's own shape (`api/errors.py`). Both
vendors answer an invalid request with 400, so Axon's 422 becomes 400 there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Details = list[dict[str, Any]]
Shaper = Callable[[int, str, str, Details], tuple[int, dict[str, Any]]]

OPENAI_PREFIX = "/v1/"
ANTHROPIC_PATHS = ("/v1/messages",)

_OPENAI_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}
_ANTHROPIC_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
}


def _vendor_status(status: int) -> int:
    return 400 if status == 422 else status


def _param(details: Details) -> str | None:
    field = details[0].get("field") if details else None
    return str(field) if field else None


def openai_error(
    status: int, code: str, message: str, details: Details
) -> tuple[int, dict[str, Any]]:
    status = _vendor_status(status)
    kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"message": message, "type": kind, "param": _param(details), "code": code.lower()}
    return status, {"error": body}


def anthropic_error(
    status: int, code: str, message: str, details: Details
) -> tuple[int, dict[str, Any]]:
    status = _vendor_status(status)
    kind = _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return status, {"type": "error", "error": {"type": kind, "message": message}}


def shaper_for(path: str) -> Shaper | None:
    """The vendor shape for `path`, or None for Axon's own."""
    if path.startswith(ANTHROPIC_PATHS):
        return anthropic_error
    if path.startswith(OPENAI_PREFIX):
        return openai_error
    return None
