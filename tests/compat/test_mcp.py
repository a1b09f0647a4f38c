"""The `mcp` SDK's ClientSession against Axon: over stdio (spawning `axon mcp`) and over
streamable HTTP (`/mcp` on a real uvicorn, with API keys): every tool on an indexed
workspace, scopes per tool, read_source refusing paths out of the workspace, and
errors as tool errors carrying Axon's code."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import mcp.types as mt
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import CopilotServer

AXON = str(Path(sys.executable).with_name("axon"))
TOOLS = {
    "search_context",
    "find_symbol",
    "build_context",
    "read_source",
    "remember",
    "memory_history",
    "confirm_memory",
    "supersede_memory",
    "feedback",
    "index_workspace",
    "run_quality_gate",
    "list_workspaces",
}


@asynccontextmanager
async def http_session(copilot: CopilotServer, key: str) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(f"{copilot.url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@asynccontextmanager
async def stdio_session(copilot: CopilotServer) -> AsyncIterator[ClientSession]:
    env = dict(os.environ)  # the fixture's data folder and settings
    params = StdioServerParameters(command=AXON, args=["mcp"], env=env)
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def _call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def _error_text(result: mt.CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, mt.TextContent)
    assert "Traceback" not in block.text
    return block.text


async def _every_tool(session: ClientSession, copilot: CopilotServer) -> None:
    listed = await session.list_tools()
    assert {t.name for t in listed.tools} == TOOLS
    assert all(t.description and t.output_schema for t in listed.tools)

    workspaces = await _call(session, "list_workspaces")
    assert [w["id"] for w in workspaces["workspaces"]] == ["billing"]

    found = await _call(
        session,
        "search_context",
        query="compute_invoice_total",
        workspace="billing",
        limit=5,
        pathPrefix="billing/",
    )
    top = found["results"][0]
    assert top["path"] == "billing/invoice.py" and top["startLine"] >= 1
    assert "compute_invoice_total" in top["snippet"]
    assert all(r["path"].startswith("billing/") for r in found["results"])

    symbols = await _call(session, "find_symbol", name="compute_invoice_total", workspace="billing")
    assert [(d["path"], d["line"], d["kind"]) for d in symbols["definitions"]] == [
        ("billing/invoice.py", 4, "function")
    ]
    assert symbols["references"] == [] and symbols["truncated"] is False

    built = await _call(
        session, "build_context", prompt="How is tax rounded in invoices?", workspace="billing"
    )
    assert "subtotal * tax_rate + 0.5" in built["prompt"]
    assert built["report"]["entries"] and built["items"]

    source = await _call(
        session, "read_source", workspace="billing", path="billing/invoice.py", startLine=4
    )
    assert source["text"].startswith("def compute_invoice_total")
    assert source["totalLines"] == 7

    remembered = await _call(
        session,
        "remember",
        workspace="billing",
        kind="convention",
        text="Invoice numbers are zero-padded to eight digits.",
    )
    assert remembered["type"] == "pattern"
    again = await _call(
        session, "search_context", query="zero-padded invoice numbers", workspace="billing"
    )
    assert again["results"][0]["id"] == remembered["id"]

    await _memory_tools(session)

    voted = await _call(session, "feedback", contextIds=[top["id"]], helpful=True)
    assert set(voted["contextConfidence"]) == {top["id"]}

    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    indexed = await session.call_tool(
        "index_workspace", {"workspace": "billing", "full": True}, progress_callback=on_progress
    )
    assert not indexed.is_error, indexed.content
    summary = indexed.structured_content or {}
    assert summary["state"] == "succeeded" and summary["result"]["filesSeen"] == 4

    gate = await _call(session, "run_quality_gate", workspace="billing", checks=["lint"])
    assert gate["jobId"] and gate["state"] in {"succeeded", "failed", "running", "queued"}

    resources = await session.list_resources()
    uris = [str(r.uri) for r in resources.resources]
    assert uris == ["axon://workspaces/billing/facts"]
    facts = await session.read_resource(uris[0])
    text = facts.contents[0]
    assert isinstance(text, mt.TextResourceContents) and "billing" in text.text.lower()


async def _memory_tools(session: ClientSession) -> None:
    """A decision replaced through remember's supersedes, then by supersede_memory: the
    old ones leave searches (unless asked for), their history stays; a confirmation."""
    first = await _call(
        session,
        "remember",
        workspace="billing",
        kind="decision",
        text="Invoices are emailed as PDF attachments.",
    )
    second = await _call(
        session,
        "remember",
        workspace="billing",
        kind="decision",
        text="Invoices are emailed as links to the portal, not attachments.",
        supersedes=[first["id"]],
    )
    assert second["supersedes"] == [first["id"]]
    query = {"query": "how are invoices emailed", "workspace": "billing", "types": ["decision"]}
    current = await _call(session, "search_context", **query)
    assert [r["id"] for r in current["results"]] == [second["id"]]
    everything = await _call(session, "search_context", **query, includeSuperseded=True)
    assert {r["id"] for r in everything["results"]} == {first["id"], second["id"]}

    third = await _call(
        session,
        "remember",
        workspace="billing",
        kind="decision",
        text="Invoices are emailed as portal links with a one-time code.",
    )
    chain = await _call(
        session, "supersede_memory", contextId=second["id"], supersededBy=third["id"]
    )
    versions = chain["versions"]
    assert [v["id"] for v in versions] == [first["id"], second["id"], third["id"]]
    assert [v["current"] for v in versions] == [False, False, True]
    assert versions[0]["supersededBy"] == second["id"] and versions[0]["validTo"]
    history = await _call(session, "memory_history", contextId=first["id"])
    assert history == chain

    before = versions[2]["confidence"]
    confirmed = await _call(session, "confirm_memory", contextId=third["id"])
    assert confirmed["id"] == third["id"] and confirmed["confidence"] > before
    assert confirmed["stale"] is None

    # Closing a closed one, an unknown id, a malformed id: tool errors with the code.
    again = await session.call_tool(
        "supersede_memory", {"contextId": first["id"], "supersededBy": third["id"]}
    )
    assert "[CONTEXT_SUPERSEDED]" in _error_text(again)
    missing = await session.call_tool("memory_history", {"contextId": "ctx_missing"})
    assert "[CONTEXT_NOT_FOUND]" in _error_text(missing)
    malformed = await session.call_tool("confirm_memory", {"contextId": "../x"})
    assert "contextId" in _error_text(malformed)


async def _refusals(session: ClientSession, copilot: CopilotServer) -> None:
    outside = copilot.project.parent / "secret.txt"
    outside.write_text("not yours\n")
    (copilot.project / "escape").symlink_to(outside)
    (copilot.project / ".env").write_text("TOKEN=hunter2\n")
    for path in ("../secret.txt", str(outside), "/etc/passwd", "escape", ".env", "billing/../../x"):
        result = await session.call_tool("read_source", {"workspace": "billing", "path": path})
        text = _error_text(result)
        assert "VALIDATION_ERROR" in text and "not yours" not in text and "hunter2" not in text
    missing = await session.call_tool("search_context", {"query": "x", "workspace": "nowhere"})
    assert "[WORKSPACE_NOT_FOUND]" in _error_text(missing)
    # A typo gets the API's suggestions, from the search tool and the pipeline alike.
    for name, args in (
        ("search_context", {"query": "x", "workspace": "biling"}),
        ("build_context", {"prompt": "x", "workspace": "Billing"}),
        ("read_source", {"workspace": "billnig", "path": "billing/invoice.py"}),
    ):
        text = _error_text(await session.call_tool(name, args))
        assert f"[WORKSPACE_NOT_FOUND] workspace '{args['workspace']}' not found" in text
        assert "did you mean 'billing'?" in text, text
    bad = await session.call_tool("search_context", {"query": "", "workspace": "billing"})
    assert bad.is_error
    not_a_name = await session.call_tool("find_symbol", {"name": "a b", "workspace": "billing"})
    assert "[INVALID_SYMBOL]" in _error_text(not_a_name)
    unknown = await session.call_tool("feedback", {"interactionId": "int_missing", "helpful": True})
    assert "[INTERACTION_NOT_FOUND]" in _error_text(unknown)


async def test_mcp_over_streamable_http_every_tool_and_scopes(copilot: CopilotServer) -> None:
    async with http_session(copilot, copilot.write_key) as session:
        await _every_tool(session, copilot)
        await _refusals(session, copilot)
    async with http_session(copilot, copilot.read_key) as session:
        refused = await session.call_tool(
            "remember", {"workspace": "billing", "kind": "note", "text": "x"}
        )
        assert "[FORBIDDEN]" in _error_text(refused)
        for name, args in (
            ("index_workspace", {"workspace": "billing"}),
            ("feedback", {"contextIds": ["ctx_x"], "helpful": False}),
            ("run_quality_gate", {"workspace": "billing"}),
            ("confirm_memory", {"contextId": "ctx_x"}),
            ("supersede_memory", {"contextId": "ctx_x", "supersededBy": "ctx_y"}),
        ):
            assert "[FORBIDDEN]" in _error_text(await session.call_tool(name, args))
        # Reading a memory's history needs the read scope only.
        unknown = await session.call_tool("memory_history", {"contextId": "ctx_missing"})
        assert "[CONTEXT_NOT_FOUND]" in _error_text(unknown)
        assert (await _call(session, "list_workspaces"))["workspaces"]


async def test_mcp_http_refusals_are_json_rpc_errors(copilot: CopilotServer) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    auth = {"Authorization": f"Bearer {copilot.read_key}", "content-type": "application/json"}
    async with httpx2.AsyncClient(base_url=copilot.url) as http:
        anonymous = await http.post("/mcp", json=body)
        huge = await http.post(
            "/mcp",
            content=b'{"x": "' + b"a" * copilot.settings.max_body_bytes + b'"}',
            headers=auth,
        )
        # No body and no content type: refused before the SDK (a plain-text 400 there).
        empty = await http.post("/mcp", headers={"Authorization": auth["Authorization"]})
        ended = await http.delete("/mcp", headers={"Authorization": auth["Authorization"]})
        # The SDK alone would take `false` for an integer (lax); the document says integer.
        lax = {"jsonrpc": "2.0", "id": None, "error": {"code": False, "message": ""}}
        coerced = await http.post("/mcp", json=lax, headers=auth)
    # Stateless: no session to end; the 405 names what the endpoint takes.
    assert ended.status_code == 405 and ended.headers["allow"] == "GET, POST"
    assert ended.json()["error"]["data"]["code"] == "METHOD_NOT_ALLOWED"
    for response, status, code in (
        (anonymous, 401, "UNAUTHORIZED"),
        (huge, 413, "PAYLOAD_TOO_LARGE"),
        (empty, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (coerced, 400, "INVALID_MESSAGE"),
    ):
        assert response.status_code == status
        payload = response.json()
        assert payload["jsonrpc"] == "2.0" and payload["error"]["code"] == -32600
        assert payload["error"]["data"]["code"] == code and payload["error"]["message"]


async def test_mcp_over_stdio_spawning_axon_mcp(copilot: CopilotServer) -> None:
    async with stdio_session(copilot) as session:
        await _every_tool(session, copilot)
        await _refusals(session, copilot)


def test_mcp_is_described_as_one_json_rpc_endpoint(copilot: CopilotServer) -> None:
    import httpx

    schema = httpx.get(f"{copilot.url}/openapi.json").json()
    # The envelope only: the tools are inside the JSON-RPC body (tools/list names them).
    assert set(schema["paths"]["/mcp"]) == {"post", "get"}
    post = schema["paths"]["/mcp"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/JSONRPCMessage"}
    assert {"200", "202", "401", "413", "415"} <= set(post["responses"])
