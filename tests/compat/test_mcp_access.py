"""MCP over HTTP as the key's Principal: a key limited to workspaces lists, reads and
changes only those (another answers like a missing one, as on the REST API), a
tenant's key sees the global tier of its tenant only, and the key's rpm and budget
apply as on the API. The official `mcp` SDK client against a real uvicorn Axon."""

from __future__ import annotations

from typing import Any

import httpx2
import mcp.types as mt
from mcp.client.session import ClientSession
from mcp.shared.exceptions import MCPError

from axon.models import ApiScope
from axon.security.keys import new_api_key
from axon.services import build_services
from tests.compat.test_mcp import _call, _error_text, http_session
from tests.conftest import CopilotServer


async def _keys(copilot: CopilotServer, **specs: dict[str, Any]) -> dict[str, str]:
    """Keys with the write scope (and read), limited as each spec says."""
    built = await build_services(copilot.settings)
    tokens = {}
    try:
        for name, limits in specs.items():
            record, tokens[name] = new_api_key(name, [ApiScope.WRITE], **limits)
            await built.store.create_api_key(record)
    finally:
        await built.close()
    return tokens


async def _rest(copilot: CopilotServer, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {copilot.write_key}"}
    async with httpx2.AsyncClient(base_url=copilot.url, headers=headers, timeout=60) as http:
        response = await http.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def _refused(session: ClientSession, tool: str, args: dict[str, Any], code: str) -> str:
    text = _error_text(await session.call_tool(tool, args))
    assert f"[{code}]" in text, (tool, text)
    return text


async def test_a_restricted_key_sees_and_reaches_only_its_workspaces(
    copilot: CopilotServer,
) -> None:
    await _rest(copilot, "POST", "/api/v1/workspaces", json={"id": "payroll", "name": "Payroll"})
    prompted = await _rest(
        copilot,
        "POST",
        "/api/v1/prompts/process",
        json={"prompt": "How is tax rounded?", "workspaceId": "billing"},
    )
    billing_context = prompted["context"]["items"][0]["id"]
    before = await _rest(copilot, "GET", f"/api/v1/contexts/{billing_context}")
    tokens = await _keys(copilot, payroll={"workspaces": ["payroll"]})

    async with http_session(copilot, tokens["payroll"]) as session:
        listed = await _call(session, "list_workspaces")
        assert [w["id"] for w in listed["workspaces"]] == ["payroll"]
        resources = await session.list_resources()
        assert [str(r.uri) for r in resources.resources] == ["axon://workspaces/payroll/facts"]
        own = await session.read_resource("axon://workspaces/payroll/facts")
        assert isinstance(own.contents[0], mt.TextResourceContents)
        try:
            await session.read_resource("axon://workspaces/billing/facts")
            raise AssertionError("another workspace's facts were readable")
        except MCPError as exc:
            assert "[WORKSPACE_NOT_FOUND]" in str(exc) and "Billing" not in str(exc)

        # Every tool on another workspace answers exactly as on a missing one.
        calls: list[tuple[str, dict[str, Any]]] = [
            ("search_context", {"query": "compute_invoice_total"}),
            ("find_symbol", {"name": "compute_invoice_total"}),
            ("build_context", {"prompt": "How is tax rounded?"}),
            ("read_source", {"path": "billing/invoice.py"}),
            ("remember", {"kind": "note", "text": "planted"}),
            ("index_workspace", {}),
            ("run_quality_gate", {"checks": ["lint"]}),
        ]
        for tool, args in calls:
            theirs = await _refused(
                session, tool, {**args, "workspace": "billing"}, "WORKSPACE_NOT_FOUND"
            )
            missing = await _refused(
                session, tool, {**args, "workspace": "nowhere"}, "WORKSPACE_NOT_FOUND"
            )
            assert theirs.replace("billing", "nowhere") == missing
        await _refused(
            session,
            "feedback",
            {"interactionId": prompted["interactionId"], "helpful": False},
            "INTERACTION_NOT_FOUND",
        )
        await _refused(
            session,
            "feedback",
            {"contextIds": [billing_context], "helpful": False},
            "CONTEXT_NOT_FOUND",
        )
        # Another workspace's memory is unknown to it: no history, confirm or supersede.
        for tool, args in (
            ("memory_history", {"contextId": billing_context}),
            ("confirm_memory", {"contextId": billing_context}),
            ("supersede_memory", {"contextId": billing_context, "supersededBy": billing_context}),
        ):
            await _refused(session, tool, args, "CONTEXT_NOT_FOUND")
        # A folder that is not one of its workspaces cannot become one through this key.
        await _refused(
            session, "index_workspace", {"path": str(copilot.project)}, "WORKSPACE_FORBIDDEN"
        )

        # Its own workspace works end to end.
        remembered = await _call(
            session,
            "remember",
            workspace="payroll",
            kind="decision",
            text="Payslips are issued on the last working day of the month.",
        )
        found = await _call(
            session, "search_context", query="payslips last working day", workspace="payroll"
        )
        assert [r["id"] for r in found["results"]] == [remembered["id"]]
        built = await _call(
            session, "build_context", prompt="When are payslips issued?", workspace="payroll"
        )
        assert remembered["id"] in {item["id"] for item in built["items"]}

    # Nothing was changed in billing: no planted note, no vote, no new workspace.
    contexts = await _rest(copilot, "GET", "/api/v1/contexts", params={"workspaceId": "billing"})
    assert all("planted" not in c["content"] for c in contexts["items"])
    after = await _rest(copilot, "GET", f"/api/v1/contexts/{billing_context}")
    assert (after["confidence"], after["usageCount"]) == (
        before["confidence"],
        before["usageCount"],
    )
    workspaces = await _rest(copilot, "GET", "/api/v1/workspaces")
    assert sorted(w["id"] for w in workspaces["items"]) == ["billing", "payroll"]
    # An unrestricted key still sees everything.
    async with http_session(copilot, copilot.read_key) as session:
        everything = await _call(session, "list_workspaces")
        assert [w["id"] for w in everything["workspaces"]] == ["billing", "payroll"]


async def test_a_tenant_keys_global_results_are_its_tenants(copilot: CopilotServer) -> None:
    await _rest(copilot, "POST", "/api/v1/workspaces", json={"id": "payroll", "name": "Payroll"})
    tokens = await _keys(
        copilot,
        acme={"workspaces": ["billing"], "tenant": "acme"},
        beta={"workspaces": ["payroll"], "tenant": "beta"},
        solo={"workspaces": ["payroll"]},
    )
    note = {"kind": "convention", "tier": "global"}
    async with http_session(copilot, copilot.write_key) as session:
        shared = (
            await _call(
                session,
                "remember",
                workspace="billing",
                **note,
                text="Zebra naming convention for everybody.",
            )
        )["id"]
    async with http_session(copilot, tokens["acme"]) as session:
        acme = (
            await _call(
                session,
                "remember",
                workspace="billing",
                **note,
                text="Zebra naming convention of acme.",
            )
        )["id"]
    async with http_session(copilot, tokens["beta"]) as session:
        beta = (
            await _call(
                session,
                "remember",
                workspace="payroll",
                **note,
                text="Zebra naming convention of beta.",
            )
        )["id"]
    stored = await _rest(copilot, "GET", f"/api/v1/contexts/{acme}")
    assert stored["tenant"] == "acme"

    async def seen(token: str, workspace: str) -> tuple[set[str], set[str]]:
        async with http_session(copilot, token) as session:
            found = await _call(
                session,
                "search_context",
                query="zebra naming convention",
                workspace=workspace,
                tiers=["global"],
            )
            built = await _call(
                session,
                "build_context",
                prompt="What is the zebra naming convention?",
                workspace=workspace,
            )
        return {r["id"] for r in found["results"]}, {i["id"] for i in built["items"]}

    searched, used = await seen(tokens["acme"], "billing")
    assert searched == {shared, acme} and acme in used and beta not in used
    searched, used = await seen(tokens["beta"], "payroll")
    assert searched == {shared, beta} and beta in used and acme not in used
    searched, used = await seen(tokens["solo"], "payroll")
    assert searched == {shared} and not used & {acme, beta}

    # A restricted key without a tenant would be writing for every tenant.
    async with http_session(copilot, tokens["solo"]) as session:
        await _refused(
            session, "remember", {"workspace": "payroll", **note, "text": "x"}, "TIER_FORBIDDEN"
        )
        # Feedback by context id reaches only the contexts the key can see.
        await _refused(
            session,
            "feedback",
            {"contextIds": [acme], "helpful": True},
            "CONTEXT_NOT_FOUND",
        )
        voted = await _call(session, "feedback", contextIds=[shared, acme], helpful=True)
        assert set(voted["contextConfidence"]) == {shared}
        # The shared global one is readable from its workspace, not its to change.
        history = await _call(session, "memory_history", contextId=shared)
        assert [v["id"] for v in history["versions"]] == [shared]
        await _refused(session, "confirm_memory", {"contextId": shared}, "CONTEXT_FORBIDDEN")
        await _refused(session, "memory_history", {"contextId": acme}, "CONTEXT_NOT_FOUND")


async def test_a_keys_rpm_and_budget_apply_over_mcp(copilot: CopilotServer) -> None:
    tokens = await _keys(copilot, slow={"rpm": 3}, broke={"budget_usd": 0.0})
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {
        "Authorization": f"Bearer {tokens['slow']}",
        "Accept": "application/json, text/event-stream",
    }
    async with httpx2.AsyncClient(base_url=copilot.url, headers=headers, timeout=60) as http:
        codes = [(await http.post("/mcp", json=body)).status_code for _ in range(3)]
        refused = await http.post("/mcp", json=body)
    assert 429 not in codes and refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == -32600 and error["data"]["code"] == "KEY_RPM_EXCEEDED"
    assert refused.headers["retry-after"]

    # A spent budget refuses what calls a model, not building context (which calls none).
    async with http_session(copilot, tokens["broke"]) as session:
        built = await _call(
            session, "build_context", prompt="How is tax rounded?", workspace="billing"
        )
        assert built["items"]
    chat = {"model": "axon/billing", "messages": [{"role": "user", "content": "hi"}]}
    async with httpx2.AsyncClient(base_url=copilot.url, timeout=60) as http:
        spent = await http.post(
            "/v1/chat/completions",
            json=chat,
            headers={"Authorization": f"Bearer {tokens['broke']}"},
        )
    assert spent.status_code == 402
