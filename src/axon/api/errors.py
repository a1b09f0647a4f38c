"""Every error leaves the API as `{"error": {code, message, details, requestId}}`, except
on the OpenAI- and Anthropic-compatible paths, which answer in their vendor's shape
(`api/dialects.py`).

Unexpected exceptions become the same shape in `middleware.RequestContextMiddleware`.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from axon.api.dialects import shaper_for
from axon.errors import AxonError
from axon.logs import request_id_var

log = logging.getLogger("axon.api")

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


def error_body(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or [],
            "requestId": request_id_var.get(),
            "status": status,
        }
    }


def error_payload(
    path: str, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> tuple[int, dict[str, Any]]:
    """The status and body of an error on `path`, in the shape that path's clients parse."""
    shape = shaper_for(path)
    if shape is None:
        return status, error_body(status, code, message, details)
    return shape(status, code, message, details or [])


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    *,
    path: str = "",
) -> JSONResponse:
    status, body = error_payload(path, status, code, message, details)
    return JSONResponse(body, status, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "settings", "x") -> "settings.x"; query and path parameters keep their name.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        first = next(err for err in errors if err.get("type") == "json_invalid")
        reason = (first.get("ctx") or {}).get("error", "malformed JSON")
        return error_response(
            400,
            "INVALID_JSON",
            "request body is not valid JSON",
            [{"field": "body", "message": str(reason)}],
            path=request.url.path,
        )
    details = []
    for err in errors:
        message = str(err.get("msg", "invalid value"))
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        details.append(
            {
                "field": _field_name(tuple(err.get("loc", ()))),
                "message": message,
                "type": err.get("type"),
            }
        )
    names = ", ".join(d["field"] for d in details[:5])
    return error_response(
        422, "VALIDATION_ERROR", f"invalid request: {names}", details, path=request.url.path
    )


async def _axon(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AxonError)
    if exc.status >= 500:
        log.error("request failed: %s", exc.message, extra={"code": exc.code})
    return error_response(
        exc.status, exc.code, exc.message, exc.details, exc.headers, path=request.url.path
    )


@lru_cache(maxsize=256)
def _template(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def documented_methods(request: Request) -> list[str] | None:
    """The methods the OpenAPI document gives the resource at this path (Starlette's 405
    names only the first matching route's). Where templates overlap
    (`/contexts/search` and `/contexts/{context_id}`), the most literal one wins."""
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    matching = [t for t in paths if _template(t).match(request.url.path)]
    if not matching:
        return None
    best = min(matching, key=lambda t: t.count("{"))
    return sorted(method.upper() for method in paths[best])


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    message = str(exc.detail) if exc.detail else code.replace("_", " ").lower()
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and message == "Not Found":
        message = f"no route for {request.method} {request.url.path}"
    allowed = documented_methods(request) if exc.status_code == 405 else None
    if allowed:
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed here; use {', '.join(allowed)}"
    return error_response(exc.status_code, code, message, headers=headers, path=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(AxonError, _axon)
    app.add_exception_handler(StarletteHTTPException, _http)
