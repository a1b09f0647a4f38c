"""How the security middleware and the dashboard's routes treat dashboard requests:
which paths are pages, who the session cookie names, and the CSRF check.

The middleware (axon.api.security) calls `dashboard_session` when a request brings no
API key, and refuses a session's change of the API without the CSRF header; a page's
form posts carry the token as a field, which `require_csrf` checks in the route.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request

from axon.api.middleware import Message, Scope
from axon.errors import Forbidden
from axon.models import ApiKey, ApiScope
from axon.security.keys import allows
from axon.services import Services
from axon.ui.session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    csrf_matches,
    request_cookies,
    session_csrf,
    verify_session,
)

UI_PREFIX = "/ui"
LOGIN_PATH = "/ui/login"
STATIC_PREFIX = "/ui/static/"
# Dashboard posts a read key may make: they change nothing stored (a prompt is stored
# in the history, as POST /api/v1/prompts/process, which a read key may call, does).
UI_READ_POSTS = ("/ui/logout", "/ui/prompt", "/ui/receipt")
# Scripts, styles and images from our own origin only: nothing inline, nothing fetched
# from elsewhere, no form posting to another site, no framing.
UI_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
)
# With `no-referrer` (the API's policy) a browser sends `Origin: null` on form posts,
# which the Origin check must refuse; pages tell their own origin only to themselves.
UI_HEADERS = (UI_CSP, (b"referrer-policy", b"same-origin"))
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_STATE = "csrf_token"
MAX_FORM_FIELDS = 50


def is_ui_path(path: str) -> bool:
    return path == "/" or path == UI_PREFIX or path.startswith(UI_PREFIX + "/")


def is_dashboard_page(method: str, path: str) -> bool:
    """A page a person opens (not its static files): without a session, the login form."""
    return method in _READ_METHODS and is_ui_path(path) and not path.startswith(STATIC_PREFIX)


async def dashboard_session(
    services: Services, scope: Scope, headers: dict[str, str]
) -> ApiKey | None:
    """The key a valid session cookie was issued for; leaves the session's CSRF token in
    the request's state for the checks that follow."""
    value = request_cookies(headers.get("cookie", "")).get(SESSION_COOKIE)
    if not value:
        return None
    key_id = value.split(".")[1] if value.count(".") == 4 else ""
    key = await services.keys.active(key_id) if len(key_id) == 16 else None
    session = verify_session(value, key) if key is not None else None
    if key is None or session is None:
        return None
    scope.setdefault("state", {})[CSRF_STATE] = session_csrf(key, session)
    return key


def csrf_passes(scope: Scope, headers: dict[str, str]) -> bool:
    """A session's change of the API must carry the CSRF header; a dashboard form's
    token is a field of its body, checked by the route (`require_csrf`)."""
    if scope["method"] in _READ_METHODS or is_ui_path(scope["path"]):
        return True
    return csrf_matches(scope.get("state", {}).get(CSRF_STATE), headers.get(CSRF_HEADER))


def login_redirect(scope: Scope) -> Message:
    target = scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        target += "?" + query
    location = f"{LOGIN_PATH}?next={quote(target, safe='')}"
    return {
        "type": "http.response.start",
        "status": 303,
        "headers": [(b"location", location.encode()), (b"cache-control", b"no-store")],
    }


def expected_csrf(request: Request) -> str | None:
    """The session's token, or without a session the double-submit cookie."""
    token = request.scope.get("state", {}).get(CSRF_STATE)
    return token if isinstance(token, str) else request.cookies.get(CSRF_COOKIE)


async def form_fields(request: Request) -> dict[str, str]:
    """A urlencoded form's fields (the last value of a repeated one); the body is
    already bounded by AXON_MAX_BODY_BYTES."""
    cached: dict[str, str] | None = getattr(request.state, "form_fields", None)
    if cached is not None:
        return cached
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: dict[str, str] = {}
    if ctype == "application/x-www-form-urlencoded":
        body = (await request.body()).decode("utf-8", "replace")
        try:
            fields = dict(parse_qsl(body, max_num_fields=MAX_FORM_FIELDS))
        except ValueError:
            raise Forbidden("too many form fields", code="BAD_FORM") from None
    request.state.form_fields = fields
    return fields


async def require_csrf(request: Request) -> None:
    """Every state-changing dashboard request proves it came from one of our pages."""
    given = request.headers.get(CSRF_HEADER) or (await form_fields(request)).get(CSRF_FIELD)
    if not csrf_matches(expected_csrf(request), given):
        raise Forbidden(
            "this form is stale or did not come from the dashboard: reload the page",
            code="CSRF_FAILED",
            details=[{"field": "csrf", "message": "missing or wrong CSRF token"}],
        )


CsrfChecked = Annotated[None, Depends(require_csrf)]


def can_write(key: ApiKey | None) -> bool:
    """Whether the caller may change things (auth off: anyone)."""
    return key is None or allows(key, ApiScope.WRITE)


def template_flags(key: ApiKey | None) -> dict[str, Any]:
    return {"can_write": can_write(key), "signed_in": key is not None}
