"""The MCP server's streamable HTTP transport as a route of the API app.

Stateless: each POST carries a whole exchange (progress notifications stream back
on it as server-sent events), so any worker or replica can answer any request and
no session outlives its request. The API's own middleware (request ids, body
limits, the key, its rpm and the rate checks) wraps it like every other route; the
tools then act as the key's Principal (see server.py).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from starlette.routing import Route

from axon.mcp.server import ServicesFn, build_mcp_server

MCP_PATH = "/mcp"


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
        StreamableHTTPASGIApp(manager),
        methods=["GET", "POST", "DELETE"],
        include_in_schema=False,
    )
    return route, manager.run()
