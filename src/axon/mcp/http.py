"""The MCP server's streamable HTTP transport as a route of the API app.

Stateless: each POST carries a whole exchange (progress notifications stream back
on it as server-sent events), so any worker or replica can answer any request and
no session outlives its request. The API's own middleware (request ids, body
limits, the key and rate checks) wraps it like every other route.
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager

from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from axon.api.dialects import jsonrpc_error
from axon.mcp.server import ServicesFn, build_mcp_server
from axon.security.principal import PRINCIPAL_STATE, Principal

MCP_PATH = "/mcp"
RESTRICTED_MESSAGE = (
    "keys limited to workspaces or a tenant cannot use /mcp yet: "
    "the MCP tools do not check workspace limits; use the REST API or an unrestricted key"
)


class RefuseRestrictedKeys:
    """The MCP tools check scopes but not a key's workspace or tenant limits, so a
    limited key is refused before the transport rather than let through to every
    workspace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get(PRINCIPAL_STATE)
        if isinstance(principal, Principal) and (principal.restricted or principal.tenant):
            status, body = jsonrpc_error(403, "KEY_RESTRICTED", RESTRICTED_MESSAGE, [])
            payload = json.dumps(body).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        await self.app(scope, receive, send)


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
        RefuseRestrictedKeys(StreamableHTTPASGIApp(manager)),
        methods=["GET", "POST", "DELETE"],
        include_in_schema=False,
    )
    return route, manager.run()
