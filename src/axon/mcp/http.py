"""The MCP server's streamable HTTP transport as a route of the API app.

Stateless: each POST carries a whole exchange (progress notifications stream back
on it as server-sent events), so any worker or replica can answer any request and
no session outlives its request. The API's own middleware (request ids, body
limits, the key, its rpm and the rate checks) wraps it like every other route; the
tools then act as the key's Principal (see server.py).
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager

from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.types import jsonrpc_message_adapter
from pydantic import ValidationError
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from axon.api.dialects import jsonrpc_error
from axon.mcp.server import ServicesFn, build_mcp_server

MCP_PATH = "/mcp"


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    status, body = jsonrpc_error(status, code, message, [])
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


class StrictMessages:
    """A POST body must be one JSON-RPC message by the schema `/openapi.json` gives
    (`api/mcp_document.py`). The SDK's own check is pydantic's lax mode (`false` passes
    for an integer code), so the document and the behaviour would disagree; checked
    strictly here, then replayed to the transport. The body is already bounded by
    AXON_MAX_BODY_BYTES."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        body = b""
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:
            jsonrpc_message_adapter.validate_json(body, strict=True, by_name=False)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in error["loc"][1:]) or "body"
            text = f"not a JSON-RPC message: {where}: {error['msg']}"
            await _refuse(send, 400, "INVALID_MESSAGE", text[:500])
            return

        async def replay() -> Message:
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)


def mcp_route(services: ServicesFn, host: str) -> tuple[Route, AbstractAsyncContextManager[None]]:
    """The `/mcp` route and the context its session manager must run in (the app's
    lifespan)."""
    server = build_mcp_server(services)
    # Builds the session manager; the Starlette app it returns is not used (the route is
    # added to the API app itself, so `/mcp` needs no redirect to `/mcp/`).
    server.streamable_http_app(stateless_http=True, host=host)
    manager = server.session_manager
    route = Route(
        MCP_PATH,
        StrictMessages(StreamableHTTPASGIApp(manager)),
        # Stateless: there is no session to end, so DELETE is the app's 405 (with Allow).
        methods=["GET", "POST"],
        include_in_schema=False,
    )
    return route, manager.run()
