"""ASGI middleware recording request counts, errors, latency and in-flight requests.

Requests are labelled with the route template (`/api/v1/workspaces/{workspace_id}`),
never the raw path, so label cardinality stays bounded.
"""

from __future__ import annotations

import time

from axon.api.middleware import ASGIApp, Message, Receive, Scope, Send
from axon.metrics import ACTIVE_CONNECTIONS, ERRORS, REQUEST_DURATION, REQUESTS

UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()
        method = scope["method"]

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        ACTIVE_CONNECTIONS.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            ACTIVE_CONNECTIONS.dec()
            route = route_template(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            REQUEST_DURATION.labels(method, route).observe(time.perf_counter() - started)
            if status >= 500:
                ERRORS.labels(route).inc()
