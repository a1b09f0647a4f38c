"""Signing in with an API key (a session cookie in exchange) and signing out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from axon.api.deps import ServicesDep
from axon.ui.guard import LOGIN_PATH, CsrfChecked, form_fields
from axon.ui.render import page
from axon.ui.session import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    cookie_header,
    new_csrf_cookie,
    new_session,
)

router = APIRouter(prefix="/ui", include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never `//host` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return page(request, "login.html", next=safe_next(next), failed=None)


@router.post("/login", response_model=None)
async def login(request: Request, services: ServicesDep, checked: CsrfChecked) -> Response:
    fields = await form_fields(request)
    target = safe_next(fields.get("next"))
    key = await services.keys.verify(fields.get("key", "").strip())
    if key is None:
        failed = "That key is not valid: it may be mistyped, expired or revoked."
        return page(request, "login.html", 401, next=target, failed=failed)
    cookie = new_session(key)[1]
    secure = request.url.scheme == "https"
    response = RedirectResponse(target, status_code=303)
    response.headers.append(
        "set-cookie", cookie_header(SESSION_COOKIE, cookie, max_age=SESSION_SECONDS, secure=secure)
    )
    # A fresh pre-session token: one seen before signing in is worth nothing after.
    response.headers.append(
        "set-cookie",
        cookie_header(CSRF_COOKIE, new_csrf_cookie(), max_age=SESSION_SECONDS, secure=secure),
    )
    return response


@router.post("/logout")
async def logout(request: Request, checked: CsrfChecked) -> RedirectResponse:
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    secure = request.url.scheme == "https"
    cleared = cookie_header(SESSION_COOKIE, "", max_age=0, secure=secure)
    response.headers.append("set-cookie", cleared)
    return response
