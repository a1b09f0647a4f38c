"""Rendering a dashboard page: one Jinja2 environment, autoescaped everywhere."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from axon import __version__
from axon.models import ApiKey
from axon.ui.guard import expected_csrf, template_flags
from axon.ui.session import CSRF_COOKIE, cookie_header, new_csrf_cookie

TEMPLATES = Path(__file__).parent / "templates"
_CSRF_COOKIE_SECONDS = 7 * 24 * 3600
NAV = (
    ("/", "Overview"),
    ("/ui/search", "Search"),
    ("/ui/prompt", "Prompt"),
    ("/ui/memory", "Memory"),
    ("/ui/usage", "Usage"),
    ("/ui/gate", "Quality gate"),
    ("/ui/jobs", "Jobs"),
)


def _when(value: Any) -> str:
    """A timestamp as the pages show it: UTC to the second ('' when unknown)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def _number(value: Any, digits: int = 0) -> str:
    if value is None:
        return ""
    return f"{value:,.{digits}f}" if isinstance(value, int | float) else str(value)


# Autoescape on for every template (HTML and SVG alike): workspace content is hostile.
environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["when"] = _when
environment.filters["number"] = _number


def caller(request: Request) -> ApiKey | None:
    key: ApiKey | None = request.scope.get("state", {}).get("api_key")
    return key


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """The page, with the CSRF token its forms carry; without a session, a double-submit
    cookie is issued on the first page."""
    csrf = expected_csrf(request)
    issue = csrf is None
    if csrf is None:
        csrf = new_csrf_cookie()
    key = caller(request)
    html = environment.get_template(template).render(
        request_path=request.url.path,
        status=status,
        nav=NAV,
        csrf_token=csrf,
        version=__version__,
        key_name=key.name if key else None,
        **template_flags(key),
        **values,
    )
    response = HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})
    if issue:
        secure = request.url.scheme == "https"
        response.headers.append(
            "set-cookie",
            cookie_header(CSRF_COOKIE, csrf, max_age=_CSRF_COOKIE_SECONDS, secure=secure),
        )
    return response
