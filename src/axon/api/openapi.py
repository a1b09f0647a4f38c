"""The OpenAPI document, completed with what the middleware does on every route.

Routes describe their own success model and the errors only they give
(`api/responses.py`). The middleware answers some requests before any route
runs, so its responses are added here, from the same rules it applies
(`api/security.py`, `api/middleware.py`): 400 for a Host not served here and 403
for a foreign Origin on changes, 401/403 and the security requirement where auth
is on and the path is not public, 429 where rate limits or auth are on (failed
authentications and a key's own rate are limited too), 400/413/415 on request
bodies, and every 422 in our error shape rather than FastAPI's. `/mcp`, a
transport route outside FastAPI's routing, is described here as well.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from axon.api.dialects import shaper_for
from axon.api.mcp_document import mcp_path_item
from axon.api.responses import ERROR_DESCRIPTIONS, ErrorBody
from axon.api.security import PUBLIC_PATHS, UNCHECKED_HOST_PATHS
from axon.config import Settings

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_BODY_METHODS = {"post", "put", "patch"}
_CHANGE_METHODS = _BODY_METHODS | {"delete"}
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "an Axon API key"},
    "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
# Either header carries the key.
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"apiKeyAuth": []}]
_RATE_HEADERS = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}},
}


def _error(status: int, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": _ERROR_REF}},
    }
    if headers:
        response["headers"] = headers
    return response


def complete_document(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Add the cross-cutting responses, the security schemes and requirements."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorBody"] = error_schema
    components["securitySchemes"] = SECURITY_SCHEMES
    paths = schema.setdefault("paths", {})
    paths["/mcp"] = mcp_path_item(schemas)
    for path, item in paths.items():
        for method, operation in item.items():
            _complete_operation(path, method, operation, settings)
    # FastAPI's own validation-error models are no longer referenced.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return schema


def _complete_operation(
    path: str, method: str, operation: dict[str, Any], settings: Settings
) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if shaper_for(path) is not None:
        # The compatible endpoints answer in their vendor's shape and document their own
        # errors; an invalid request there is a 400, never FastAPI's 422.
        responses.pop("422", None)
        if settings.auth_enabled and path not in PUBLIC_PATHS:
            operation["security"] = SECURITY
        if "429" in responses:
            responses["429"].setdefault("headers", _RATE_HEADERS)
        return
    limited = settings.rate_limits_enabled or settings.auth_enabled
    # FastAPI's default 422 shape -> ours; parameters and bodies can always be invalid.
    if "422" in responses or operation.get("parameters") or operation.get("requestBody"):
        responses["422"] = _error(422)
    for response in responses.values():
        # Routes answering text (heap dumps) still give their errors as JSON.
        content = response.get("content", {})
        if "application/json" not in content and any(
            media.get("schema") == _ERROR_REF for media in content.values()
        ):
            response["content"] = {"application/json": {"schema": _ERROR_REF}}
    if method in _BODY_METHODS and path.startswith("/api/"):
        for status in (400, 413, 415):
            responses.setdefault(str(status), _error(status))
    if path not in UNCHECKED_HOST_PATHS:
        responses.setdefault("400", _error(400))  # a Host that is not ours
        if method in _CHANGE_METHODS:
            responses.setdefault("403", _error(403))  # a foreign Origin
    if path in PUBLIC_PATHS:
        return
    if settings.auth_enabled:
        operation["security"] = SECURITY
        responses.setdefault("401", _error(401))
        responses.setdefault("403", _error(403))
    if limited:
        responses.setdefault("429", _error(429, _RATE_HEADERS))


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete_document(schema, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
