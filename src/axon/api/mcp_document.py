"""`/mcp` in the OpenAPI document.

The MCP route is the SDK's streamable HTTP transport mounted as a plain route
(`mcp/http.py`), so FastAPI does not describe it. Its operations live inside the
JSON-RPC body (tools, resources, prompts: see the MCP specification), so the
document gives the envelope: the message the SDK validates (its own JSON-RPC
models' schema) and what the transport answers. The server is stateless, so a
session cannot be ended (DELETE is a 405) and GET opens a server-to-client event
stream that nothing is ever sent on.
"""

from __future__ import annotations

from typing import Any

from mcp.types import jsonrpc_message_adapter

from axon.api.responses import event_stream

_REF = "#/components/schemas/{model}"


def _jsonrpc_error_schema() -> dict[str, Any]:
    """What `dialects.jsonrpc_error` and the SDK answer a refused request with."""
    return {
        "type": "object",
        "properties": {
            "jsonrpc": {"type": "string", "const": "2.0"},
            "id": {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "data": {},
                },
                "required": ["code", "message"],
            },
        },
        "required": ["jsonrpc", "id", "error"],
    }


def mcp_path_item(schemas: dict[str, Any]) -> dict[str, Any]:
    """The path item of `/mcp`; adds the JSON-RPC message schemas to `schemas`."""
    message = jsonrpc_message_adapter.json_schema(ref_template=_REF)
    schemas.update(message.pop("$defs", {}))
    schemas["JSONRPCMessage"] = message
    schemas["JSONRPCErrorBody"] = _jsonrpc_error_schema()

    def refused(description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/JSONRPCErrorBody"}}
            },
        }

    errors = {
        "400": refused("not a JSON-RPC message, or a Host not served here"),
        "401": refused("missing or invalid API key"),
        "403": refused("the key lacks the scope, is limited to workspaces, or a foreign Origin"),
        "406": refused("the Accept header allows neither JSON nor event streams"),
        "413": refused("the body exceeds AXON_MAX_BODY_BYTES"),
        "415": refused("the body is not application/json"),
        "429": refused("a rate limit is spent"),
    }
    return {
        "post": {
            "tags": ["mcp"],
            "summary": "MCP (streamable HTTP, stateless)",
            "description": "One JSON-RPC message per request. A request is answered with "
            "an event stream of JSON-RPC messages (progress, then the response); a "
            "notification or a response with 202 and no body.",
            "operationId": "mcp_post",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/JSONRPCMessage"}}
                },
            },
            "responses": {
                "200": {
                    "description": "the JSON-RPC response, as server-sent events",
                    "content": event_stream(("message",)),
                },
                "202": {"description": "a notification or response was accepted"},
                **errors,
            },
        },
        "get": {
            "tags": ["mcp"],
            "summary": "MCP server-to-client stream",
            "description": "An event stream kept open for server-initiated messages; a "
            "stateless server sends none.",
            "operationId": "mcp_get",
            "responses": {
                "200": {"description": "server-sent events", "content": event_stream(("message",))},
                **{k: v for k, v in errors.items() if k not in {"413", "415"}},
            },
        },
    }
