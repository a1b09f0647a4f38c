"""Request middleware as plain ASGI, so streaming responses pass through untouched.

It gives every request an id (kept from `X-Request-Id` when sane), rejects
bodies that are too large or not JSON before any handler runs, answers HEAD
wherever GET is answered (the GET response without its body), turns an
unexpected exception into our JSON 500 (logged once, with the request id), and
writes one access-log line per request.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from axon.api.errors import error_payload
from axon.logs import request_id_var

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("axon.access")
log = logging.getLogger("axon.api")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
# Paths whose request bodies must be JSON (the REST API and the compatible endpoints).
_JSON_PREFIXES = ("/api/", "/v1/")
# Every POST here is a JSON-RPC message, so one without a JSON body is refused here, in
# the protocol's shape, rather than by the MCP SDK (a plain-text 400).
_JSON_ONLY_PATHS = ("/mcp",)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, quiet_paths: frozenset[str]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.quiet_paths = quiet_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        responded = False
        head = scope["method"] == "HEAD"

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        async def reject(code: int, err: str, text: str, field: str | None) -> None:
            details = [{"field": field, "message": text}] if field else []
            status, payload = error_payload(scope["path"], code, err, text, details)
            body = json.dumps(payload)
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send_with_id({"type": "http.response.body", "body": body.encode()})

        try:
            problem = self._precheck(scope["method"], scope["path"], headers)
            if problem is not None:
                await reject(*problem)
                return
            if scope["method"] in _BODY_METHODS and "content-length" not in headers:
                # Chunked upload: buffer it (up to the limit) so the size check happens
                # before any handler reads a byte.
                buffered = await self._read_limited(receive)
                if buffered is None:
                    await reject(*self._too_large())
                    return
                receive = _replay(buffered, receive)
            await self._call_app(scope, receive, send_with_id, head)
        except Exception as exc:
            # Handled here, inside the request's context, so the 500 has its request id
            # and security headers; not re-raised, so the server does not log it again.
            log.error("unhandled error: %s", exc, exc_info=exc)
            if not responded:
                await reject(500, "INTERNAL_ERROR", "internal error; see the server log", None)
        finally:
            if scope["path"] not in self.quiet_paths or status >= 400:
                level = logging.ERROR if status >= 500 else logging.INFO
                access_log.log(
                    level,
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "durationMs": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            request_id_var.reset(token)

    async def _call_app(self, scope: Scope, receive: Receive, send: Send, head: bool) -> None:
        if not head:
            await self.app(scope, receive, send)
            return
        # The routes see a GET; the server, which keeps the original scope, still knows
        # it answers a HEAD. The route the router picks is copied back for metrics.
        inner = {**scope, "method": "GET"}
        try:
            await self.app(inner, receive, send)
        finally:
            if "route" in inner:
                scope["route"] = inner["route"]

    async def _read_limited(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> tuple[int, str, str, str]:
        return (
            413,
            "PAYLOAD_TOO_LARGE",
            f"request body exceeds {self.max_body_bytes} bytes",
            "body",
        )

    def _precheck(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, str, str, str] | None:
        if method not in _BODY_METHODS:
            return None
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return (400, "BAD_REQUEST", "invalid Content-Length header", "content-length")
            if int(length) > self.max_body_bytes:
                return self._too_large()
        has_body = length not in (None, "0") or "transfer-encoding" in headers
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        needs_json = (path.startswith(_JSON_PREFIXES) and has_body) or path in _JSON_ONLY_PATHS
        if needs_json and ctype != "application/json":
            return (
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "request body must be application/json",
                "content-type",
            )
        return None
