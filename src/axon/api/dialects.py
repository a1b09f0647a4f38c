"""Error bodies in each protocol's own shape, chosen by the request path.

Clients of the compatible endpoints parse their vendor's error shape, so those
paths answer in it: OpenAI's `{"error": {message, type, param, code}}` under
`/v1/`, Anthropic's `{"type": "error", "error": {type, message}}` on
`/v1/messages` and a JSON-RPC error on `/mcp` (refused before the MCP transport
saw the request: no key, too large); every other path keeps Axon's own shape
(`api/errors.py`). Both vendors answer an invalid request with 400, so Axon's 422
becomes 400 there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Details = list[dict[str, Any]]
Shaper = Callable[[int, str, str, Details], tuple[int, dict[str, Any]]]

OPENAI_PREFIX = "/v1/"
ANTHROPIC_PATHS = ("/v1/messages",)
MCP_PATH = "/mcp"
_JSONRPC_INVALID_REQUEST = -32600
_JSONRPC_INTERNAL_ERROR = -32603

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


def jsonrpc_error(
    status: int, code: str, message: str, details: Details
) -> tuple[int, dict[str, Any]]:
    number = _JSONRPC_INTERNAL_ERROR if status >= 500 else _JSONRPC_INVALID_REQUEST
    error = {"code": number, "message": message, "data": {"code": code, "status": status}}
    return status, {"jsonrpc": "2.0", "id": None, "error": error}


def shaper_for(path: str) -> Shaper | None:
    """The vendor shape for `path`, or None for Axon's own."""
    if path == MCP_PATH:
        return jsonrpc_error
    if path.startswith(ANTHROPIC_PATHS):
        return anthropic_error
    if path.startswith(OPENAI_PREFIX):
        return openai_error
    return None
