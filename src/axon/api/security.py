"""Authentication, scopes, rate limits and security headers, as one pure ASGI middleware.

Order of checks for each HTTP request:
0. except on probes and /metrics, the Host must be an allowed one (400) and a
   state-changing request's Origin, if sent, an allowed host or CORS origin (403):
   DNS rebinding and cross-site forms get nowhere, with auth off too;
1. probes, /metrics and the API docs are public and never limited;
2. with auth on, a client address with more than AXON_AUTH_FAILURE_LIMIT failed
   authentications in the window is refused (429) before its key is looked at;
   otherwise a key from `Authorization: Bearer` or `X-API-Key` is required
   (401 without or with a bad one) and must carry the route's scope (403); its
   `Principal` (workspaces, tenant, budget) goes to the routes in the scope's state,
   and a key with its own requests-per-minute limit gets 429 KEY_RPM_EXCEEDED past it;
3. with limits on, the caller (its key, or its IP when auth is off) gets one hit in
   the general bucket, plus one in the stricter bucket on expensive routes (429
   with Retry-After when either is spent);
   a dashboard page (/, /ui/...) takes the session cookie instead of a key, a page
   without one redirects to the login form, and a change made with a session (on the
   API too) must carry the session's CSRF token (axon.ui.session);
4. every response gets the security headers (`SecurityHeadersMiddleware`, outermost
   but for metrics, so refusals of the request-context layer -- 413, 415 -- and 500s
   carry them too).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from axon.api.errors import error_payload
from axon.api.middleware import ASGIApp, Message, Receive, Scope, Send
from axon.api.routers.health import PROBE_PATHS
from axon.config import Settings, split_list
from axon.models import ApiKey, ApiScope
from axon.ports import RateDecision
from axon.security.hosts import allowed_hosts, host_allowed, host_name, origin_allowed
from axon.security.keys import allows
from axon.security.principal import PRINCIPAL_STATE, Principal
from axon.security.ratelimit import Lockouts, Rate
from axon.services import Services
from axon.ui.guard import (
    LOGIN_PATH,
    STATIC_PREFIX,
    UI_HEADERS,
    UI_READ_POSTS,
    csrf_passes,
    dashboard_session,
    is_dashboard_page,
    is_ui_path,
    login_redirect,
)

log = logging.getLogger("axon.security")

UNCHECKED_HOST_PATHS = PROBE_PATHS | {"/metrics"}
PUBLIC_PATHS = PROBE_PATHS | {
    "/metrics",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    LOGIN_PATH,
}
PUBLIC_PREFIXES = (STATIC_PREFIX,)
# Prompt processing, LLM calls and quality gates cost far more than a lookup; reading
# a gate run's result (polling it) is a lookup.
EXPENSIVE_PREFIXES = (
    "/api/v1/prompts/process",
    "/api/v1/quality-gate",
    "/v1/chat/completions",
    "/v1/messages",
)
ADMIN_PREFIXES = ("/admin", "/api/v1/admin", "/api/v1/keys", "/api/v1/maintenance")
# POSTs that only ask questions: a read key may call them.
READ_POST_PREFIXES = (
    "/api/v1/prompts/process",
    "/api/v1/contexts/search",
    "/v1/chat/completions",
    "/v1/messages",
    *UI_READ_POSTS,
)
# One endpoint for many operations (MCP's JSON-RPC): any key may reach it, and each
# tool checks the scope it needs against the key left in the request's state.
PER_OPERATION_PATHS = ("/mcp",)
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_NO_REFERRER = (b"referrer-policy", b"no-referrer")
# The interactive docs load their own scripts; everything else is JSON or a stream.
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_DOC_PATHS = ("/docs", "/redoc")


def required_scope(method: str, path: str) -> ApiScope:
    if path.startswith(ADMIN_PREFIXES):
        return ApiScope.ADMIN
    if method in _READ_METHODS or (method == "POST" and path.startswith(READ_POST_PREFIXES)):
        return ApiScope.READ
    if path in PER_OPERATION_PATHS:
        return ApiScope.READ
    return ApiScope.WRITE


def is_expensive(method: str, path: str) -> bool:
    return method not in _READ_METHODS and path.startswith(EXPENSIVE_PREFIXES)


def presented_token(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return headers.get("x-api-key", "").strip() or None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The caller's address: X-Forwarded-For is believed only when the peer is a trusted proxy.

    Walks the header from the right, skipping trusted hops, so a client cannot
    spoof its address by sending its own X-Forwarded-For.
    """

    def is_trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in net for net in trusted)

    current = peer or "unknown"
    if not forwarded_for or not is_trusted(current):
        return current
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        current = hop
        if not is_trusted(hop):
            break
    return current


@dataclass(frozen=True)
class SecurityPolicy:
    auth: bool
    limits: bool
    rate: Rate
    expensive_rate: Rate
    auth_failures: Rate
    trusted: tuple[Network, ...]
    hosts: tuple[str, ...]
    cors_origins: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> SecurityPolicy:
        return cls(
            auth=settings.auth_enabled,
            limits=settings.rate_limits_enabled,
            rate=Rate.parse(settings.rate_limit),
            expensive_rate=Rate.parse(settings.rate_limit_expensive),
            auth_failures=Rate.parse(settings.auth_failure_limit),
            hosts=allowed_hosts(split_list(settings.allowed_hosts), settings.host),
            cors_origins=tuple(o.lower().rstrip("/") for o in split_list(settings.cors_origins)),
            trusted=tuple(
                ipaddress.ip_network(n, strict=False) for n in split_list(settings.trusted_proxies)
            ),
        )


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, policy: SecurityPolicy) -> None:
        self.app = app
        self.policy = policy
        self.lockouts = Lockouts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra_headers: list[tuple[bytes, bytes]] = []

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra_headers]
            await send(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        # Probes and metrics come from orchestrators and scrapers by pod address.
        if path not in UNCHECKED_HOST_PATHS:
            refusal = self._foreign(scope["method"], headers)
            if refusal is not None:
                await self._refuse(path, send_secured, *refusal)
                return
        if (
            path in PUBLIC_PATHS
            or path.startswith(PUBLIC_PREFIXES)
            or scope["method"] == "OPTIONS"
            or not (self.policy.auth or self.policy.limits)
        ):
            await self.app(scope, receive, send_secured)
            return
        services: Services = scope["app"].state.services

        peer = scope.get("client")
        address = client_ip(
            peer[0] if peer else None, headers.get("x-forwarded-for"), self.policy.trusted
        )
        key: ApiKey | None = None
        if self.policy.auth:
            # Before any key is looked at: an address that failed too often is refused.
            locked = self.lockouts.remaining(address)
            if locked > 0:
                await self._refuse_failures(path, send_secured, locked)
                return
            token = presented_token(headers)
            if token is not None:
                key = await services.keys.verify(token)
            else:
                # The dashboard's browser holds a session cookie instead of the key.
                key = await dashboard_session(services, scope, headers)
                if key is None and is_dashboard_page(scope["method"], path):
                    await send_secured(login_redirect(scope))
                    await send_secured({"type": "http.response.body", "body": b""})
                    return
            if key is None:
                await self._auth_failed(services, path, send_secured, address, token is None)
                return
            if token is None and not csrf_passes(scope, headers):
                await self._refuse(
                    path,
                    send_secured,
                    403,
                    "CSRF_FAILED",
                    "a change made with a dashboard session needs its CSRF token",
                    "csrf",
                )
                return
            needed = required_scope(scope["method"], path)
            if not allows(key, needed):
                await self._refuse(
                    path,
                    send_secured,
                    403,
                    "FORBIDDEN",
                    f"this API key lacks the '{needed}' scope",
                    "scope",
                )
                return
            if needed is ApiScope.ADMIN and key.workspaces is not None:
                # Admin routes (heap dumps, maintenance) span every workspace.
                await self._refuse(
                    path,
                    send_secured,
                    403,
                    "FORBIDDEN",
                    "a key limited to some workspaces cannot use admin routes",
                    "scope",
                )
                return
            state = scope.setdefault("state", {})
            state["api_key_id"] = key.id
            state["api_key"] = key  # for checks made past the routing (MCP tools)
            state[PRINCIPAL_STATE] = Principal.of(key)  # what it may see: principal.py
            if key.rpm is not None:
                refused = await self._key_rpm(services, key, extra_headers)
                if refused is not None:
                    await self._refuse(
                        path,
                        send_secured,
                        429,
                        "KEY_RPM_EXCEEDED",
                        refused[0],
                        retry_after=refused[1],
                    )
                    return

        if self.policy.limits:
            identity = f"key:{key.id}" if key is not None else f"ip:{address}"
            decision = await self._limit(services, identity, scope["method"], path)
            if decision is not None:
                extra_headers += _rate_headers(decision)
                if not decision.allowed:
                    retry = str(max(1, math.ceil(decision.reset_after)))
                    await self._refuse(
                        path,
                        send_secured,
                        429,
                        "RATE_LIMITED",
                        f"rate limit of {decision.limit} requests exceeded; retry in {retry}s",
                        retry_after=retry,
                    )
                    return
        await self.app(scope, receive, send_secured)

    def _foreign(self, method: str, headers: dict[str, str]) -> tuple[int, str, str, str] | None:
        """(status, code, message, field) when the Host, or the Origin of a change, is not
        one of ours; None when the request may go on."""
        host = headers.get("host", "")
        if not host_allowed(host_name(host), self.policy.hosts):
            return (400, "HOST_NOT_ALLOWED", f"host '{host[:100]}' is not served here", "host")
        origin = headers.get("origin")
        if (
            origin is not None
            and method not in _READ_METHODS
            and not origin_allowed(origin, self.policy.hosts, self.policy.cors_origins)
        ):
            message = f"cross-origin requests from '{origin[:100]}' may not change anything"
            return (403, "ORIGIN_NOT_ALLOWED", message, "origin")
        return None

    async def _auth_failed(
        self, services: Services, path: str, send: Send, address: str, missing: bool
    ) -> None:
        """401, counted per client address; past AXON_AUTH_FAILURE_LIMIT, 429 (and the
        address is locked out until the window resets)."""
        rate = self.policy.auth_failures
        try:
            decision = await services.rate_limiter.hit(
                f"authfail:ip:{address}", rate.limit, rate.window_seconds
            )
        except Exception as exc:
            log.error("rate limiter unavailable, failed authentication not counted: %s", exc)
            decision = None
        if decision is not None and not decision.allowed:
            self.lockouts.lock(address, decision.reset_after)
            log.warning("client %s locked out after %d failed authentications", address, rate.limit)
            await self._refuse_failures(path, send, decision.reset_after)
            return
        message = "an API key is required" if missing else "invalid, expired or revoked API key"
        await self._refuse(path, send, 401, "UNAUTHORIZED", message)

    async def _refuse_failures(self, path: str, send: Send, seconds: float) -> None:
        retry = str(max(1, math.ceil(seconds)))
        await self._refuse(
            path,
            send,
            429,
            "AUTH_FAILURES_LIMITED",
            f"too many failed authentications from this address; retry in {retry}s",
            retry_after=retry,
        )

    @staticmethod
    async def _key_rpm(
        services: Services, key: ApiKey, extra_headers: list[tuple[bytes, bytes]]
    ) -> tuple[str, str] | None:
        """The key's own requests-per-minute budget: (message, retry-after) when spent."""
        assert key.rpm is not None
        try:
            decision = await services.rate_limiter.hit(f"rpm:key:{key.id}", key.rpm, 60.0)
        except Exception as exc:
            log.error("rate limiter unavailable, key rpm not enforced: %s", exc)
            return None
        if decision.allowed:
            return None
        retry = str(max(1, math.ceil(decision.reset_after)))
        extra_headers += _rate_headers(decision)
        return f"this API key is limited to {key.rpm} requests per minute; retry in {retry}s", retry

    async def _limit(
        self, services: Services, identity: str, method: str, path: str
    ) -> RateDecision | None:
        """The tightest decision of the buckets this request counts against."""
        buckets = [("all", self.policy.rate)]
        if is_expensive(method, path):
            buckets.append(("expensive", self.policy.expensive_rate))
        decisions: list[RateDecision] = []
        for name, rate in buckets:
            try:
                decision = await services.rate_limiter.hit(
                    f"{name}:{identity}", rate.limit, rate.window_seconds
                )
            except Exception as exc:
                # A broken limiter must not take the API down with it.
                log.error("rate limiter unavailable, request not limited: %s", exc)
                return None
            decisions.append(decision)
            if not decision.allowed:
                return decision
        return min(decisions, key=lambda d: d.remaining)

    @staticmethod
    async def _refuse(
        path: str,
        send: Send,
        status: int,
        code: str,
        message: str,
        field: str = "authorization",
        *,
        retry_after: str | None = None,
    ) -> None:
        if status == 429:
            field = "rate"
        details = [{"field": field, "message": message}]
        shown_status, payload = error_payload(path, status, code, message, details)
        body = json.dumps(payload)
        headers = [(b"content-type", b"application/json")]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="axon"'))
        if retry_after is not None:
            headers.append((b"retry-after", retry_after.encode()))
        await send({"type": "http.response.start", "status": shown_status, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode()})


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response, whichever layer made it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(SECURITY_HEADERS)
        if is_ui_path(scope["path"]):
            headers += UI_HEADERS
        else:
            headers.append(_NO_REFERRER)
            if not scope["path"].startswith(_DOC_PATHS):
                headers.append(_API_CSP)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_secured)


def _rate_headers(decision: RateDecision) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-ratelimit-limit", str(decision.limit).encode()),
        (b"x-ratelimit-remaining", str(decision.remaining).encode()),
        (b"x-ratelimit-reset", str(math.ceil(decision.reset_after)).encode()),
    ]


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add CORS (when origins are configured) outside the auth and limit checks."""
    app.add_middleware(SecurityMiddleware, policy=SecurityPolicy.from_settings(settings))
    origins = split_list(settings.cors_origins)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Retry-After", "X-RateLimit-Remaining"],
            max_age=600,
        )
