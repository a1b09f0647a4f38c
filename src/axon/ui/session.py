"""Dashboard sessions and CSRF tokens, signed so that every worker and replica can check
them without shared state.

A session cookie reads `v1.<key id>.<expires>.<nonce>.<signature>`. The signature is an
HMAC whose key is derived from the API key's stored hash: only the store knows it, a
revoked or expired key ends its sessions at once, and the browser never holds the key
itself (the cookie is HttpOnly, SameSite=Strict).

CSRF: with a session, the token is an HMAC of the session's nonce (a synchronizer token
nobody can compute without the session); without one (auth off, or the login form),
it is the random `axon_csrf` cookie, repeated in the form (double submit). State-changing
requests carry it in the `csrf` form field or the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie

from axon.models import ApiKey

SESSION_COOKIE = "axon_session"
CSRF_COOKIE = "axon_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SESSION_SECONDS = 12 * 3600
_VERSION = "v1"
_KEY_ID_RE = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True, slots=True)
class Session:
    key_id: str
    expires: int
    nonce: str


def _signing_key(key: ApiKey) -> bytes:
    return hmac.new(bytes.fromhex(key.key_hash), b"axon-dashboard-session", "sha256").digest()


def _sign(key: ApiKey, message: str) -> str:
    return hmac.new(_signing_key(key), message.encode(), hashlib.sha256).hexdigest()


def new_session(key: ApiKey, now: float | None = None) -> tuple[Session, str]:
    """A session for `key` and its cookie value; it ends no later than the key does."""
    expires = int(now if now is not None else time.time()) + SESSION_SECONDS
    if key.expires_at is not None:
        expires = min(expires, int(key.expires_at.timestamp()))
    session = Session(key.id, expires, secrets.token_urlsafe(18))
    body = f"{_VERSION}.{session.key_id}.{session.expires}.{session.nonce}"
    return session, f"{body}.{_sign(key, body)}"


def parse_session(value: str) -> Session | None:
    """The claims of a cookie value, unchecked (`verify_session` checks them)."""
    parts = value.split(".")
    if len(parts) != 5 or parts[0] != _VERSION or not parts[2].isdigit():
        return None
    if _KEY_ID_RE.fullmatch(parts[1]) is None or len(parts[2]) > 12:
        return None
    return Session(parts[1], int(parts[2]), parts[3])


def verify_session(value: str, key: ApiKey, now: float | None = None) -> Session | None:
    """The session if `value` was signed for this (active) key and has not expired."""
    session = parse_session(value)
    if session is None or session.key_id != key.id:
        return None
    body, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature, _sign(key, body)):
        return None
    if session.expires <= (now if now is not None else time.time()):
        return None
    return session


def session_csrf(key: ApiKey, session: Session) -> str:
    return _sign(key, f"csrf.{session.nonce}")


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def request_cookies(header: str) -> dict[str, str]:
    """The request's cookies; a malformed header is no cookies rather than an error."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def cookie_header(name: str, value: str, *, max_age: int, secure: bool) -> str:
    """A Set-Cookie value the page's scripts cannot read and other sites never send."""
    flags = f"Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict"
    return f"{name}={value}; {flags}{'; Secure' if secure else ''}"
