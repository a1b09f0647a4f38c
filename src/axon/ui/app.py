"""Mounting the dashboard on the API's app: its routers, its static files, and errors
on its pages answered as pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from axon.errors import AxonError
from axon.ui import auth, gate, jobs, memory, overview, prompt, search, usage, workspace
from axon.ui.guard import STATIC_PREFIX, is_ui_path
from axon.ui.render import page

STATIC = Path(__file__).parent / "static"
ROUTERS = (
    overview.router,
    auth.router,
    workspace.router,
    search.router,
    prompt.router,
    memory.router,
    usage.router,
    gate.router,
    jobs.router,
)


class _Static(StaticFiles):
    """Our scripts and styles: cacheable, versioned by the `?v=` the pages add."""

    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=3600"
        return response


def install_ui(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.mount(STATIC_PREFIX.rstrip("/"), _Static(directory=STATIC), name="ui-static")
    for kind in (AxonError, RequestValidationError, StarletteHTTPException):
        app.exception_handlers[kind] = _as_page(app.exception_handlers[kind])


def _as_page(api_handler: Any) -> Any:
    """An error on a page (not on the API, nor on a form's fetch) as a readable page in
    the dashboard's frame; everywhere else the API's own error shape."""

    async def handle(request: Request, exc: Exception) -> Response:
        path = request.url.path
        if not is_ui_path(path) or path.startswith(STATIC_PREFIX) or _wants_json(request):
            response: Response = await api_handler(request, exc)
            return response
        status, code, message, details = _describe(exc)
        suggestions = [s for d in details for s in d.get("suggestions", [])]
        return page(
            request,
            "error.html",
            status,
            code=code,
            message=message,
            suggestions=suggestions,
        )

    return handle


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _describe(exc: Exception) -> tuple[int, str, str, list[dict[str, Any]]]:
    if isinstance(exc, AxonError):
        return exc.status, exc.code, exc.message, list(exc.details or [])
    if isinstance(exc, RequestValidationError):
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors())
        return 422, "VALIDATION_ERROR", f"invalid input: {fields}", []
    assert isinstance(exc, StarletteHTTPException)
    message = "no such page" if exc.status_code == 404 else str(exc.detail)
    return exc.status_code, "NOT_FOUND" if exc.status_code == 404 else "HTTP_ERROR", message, []
