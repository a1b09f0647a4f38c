"""POST /api/v1/prompts/process (JSON), history, feedback and bad input, in-process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from axon.api.app import create_app
from axon.config import load_settings
from axon.ports import ContextFilter, SearchRequest
from axon.services import Services, build_services
from tests.conftest import corrupt_search_index


@pytest.fixture
def auto_create_workspaces() -> str:
    # The workspaces these tests send prompts to without indexing them first.
    return "test-workspace,shop,proj,big,w,hist,fb,fb2,cap,down"


PROCESS = "/api/v1/prompts/process"


async def _interaction_count(services: Services) -> int:
    return len((await services.store.list_interactions(None, 200)).items)


async def _add_context(client: httpx.AsyncClient, workspace: str, **fields: Any) -> str:
    body = {"workspaceId": workspace, "type": "symbol", **fields}
    response = await client.post("/api/v1/contexts", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_runbook_prompt_on_a_fresh_install(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = {
        "prompt": "What is this project about?",
        "workspaceId": "test-workspace",
        "source": "api",
    }
    response = await client.post(PROCESS, json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["mode"] == "context_only" and data["response"] is None
    assert data["provider"] == "none" and data["workspaceCreated"] is True
    assert set(data) >= {
        "requestId",
        "interactionId",
        "analysis",
        "context",
        "prompt",
        "response",
        "usage",
        "latency",
    }
    assert data["requestId"] == response.headers["x-request-id"]
    assert set(data["latency"]) >= {
        "collect",
        "analyze",
        "retrieve",
        "synthesize",
        "inject",
        "postprocess",
        "total",
    }
    assert data["prompt"]["messages"][-1] == {"role": "user", "content": body["prompt"]}
    workspace = await services.store.get_workspace("test-workspace")
    assert workspace is not None and workspace.type == "coding"
    again = await client.post(PROCESS, json=body)
    assert again.json()["workspaceCreated"] is False
    stored = await services.store.get_interaction(data["interactionId"])
    assert stored is not None and stored.outcome == "context_only"
    assert stored.latency_ms["retrieve"] >= 0 and stored.tokens["promptTokens"] > 0


async def test_retrieved_context_is_injected_and_reported(
    client: httpx.AsyncClient, services: Services
) -> None:
    await client.post("/api/v1/workspaces", json={"id": "shop", "name": "shop"})
    source = (
        "def apply_discount(order, code):\n    if code.expired:\n"
        "        raise ValueError('expired')\n"
    )
    context_id = await _add_context(
        client,
        "shop",
        content=source,
        path="shop/discounts.py",
        symbol="apply_discount",
        startLine=10,
        endLine=12,
        language="python",
    )
    await _add_context(client, "shop", type="documentation", content="# Shipping\nWe ship weekly.")
    response = await client.post(
        PROCESS,
        json={
            "prompt": "Why does apply_discount raise ValueError: expired?",
            "workspaceId": "shop",
        },
    )
    data = response.json()
    assert data["analysis"]["taskType"] == "bug_fix"
    entries = {e["id"]: e for e in data["context"]["report"]["entries"]}
    assert entries[context_id]["status"] == "included"
    user = data["prompt"]["messages"][-1]["content"]
    assert "[REFERENCE 1] shop/discounts.py lines 10-12" in user and source in user
    stored = await services.store.get_interaction(data["interactionId"])
    assert stored is not None and context_id in stored.context_ids
    await services.pipeline.drain()
    used = await services.store.get_context(context_id)
    assert used is not None and used.usage_count == 1


@pytest.mark.needs_model
async def test_overview_questions_get_docs_and_architecture_not_only_code(
    client: httpx.AsyncClient,
) -> None:
    """Code outnumbers docs; the task's budget for docs and architecture still gets
    candidates of those kinds, found by a search of their own."""
    await client.post("/api/v1/workspaces", json={"id": "proj", "name": "proj"})
    for n in range(30):
        await _add_context(
            client,
            "proj",
            content=f"def project_step_{n}(project):\n    return project.about({n})\n",
            path=f"src/step_{n}.py",
            symbol=f"project_step_{n}",
        )
    readme = await _add_context(
        client,
        "proj",
        type="documentation",
        path="README.md",
        content="# Ledger\nThis project is a double-entry bookkeeping service for shops.",
    )
    stack = await _add_context(
        client,
        "proj",
        type="architecture",
        title="Stack",
        content="Stack: Python 3.12, FastAPI, PostgreSQL; entry point ledger.app:main",
    )
    response = await client.post(
        PROCESS, json={"prompt": "What is this project about?", "workspaceId": "proj"}
    )
    assert response.status_code == 200, response.text
    entries = {e["id"]: e for e in response.json()["context"]["report"]["entries"]}
    assert entries[readme]["status"] == "included"
    assert entries[stack]["status"] == "included"


async def test_budget_override_and_report_tokens(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/workspaces", json={"id": "big", "name": "big"})
    for n in range(6):
        body = "\n".join(f"def step_{n}_{k}(x):\n    return x + {k}" for k in range(60))
        await _add_context(client, "big", content=body, path=f"pkg/m{n}.py", symbol=f"step_{n}_0")
    response = await client.post(
        PROCESS,
        json={"prompt": "Explain step_1_0 and step_2_0", "workspaceId": "big", "budget": 300},
    )
    report = response.json()["context"]["report"]
    assert report["budget"] == 300 and report["usedTokens"] <= 300
    assert {e["status"] for e in report["entries"]} >= {"dropped"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "", "workspaceId": "w"}, "prompt"),
        ({"prompt": "   \n ", "workspaceId": "w"}, "prompt"),
        ({"prompt": "x" * 32_001, "workspaceId": "w"}, "prompt"),
        ({"prompt": "hi", "workspaceId": "bad id!"}, "workspaceId"),
        ({"prompt": "hi"}, "workspaceId"),
        ({"prompt": "hi", "workspaceId": "w", "budget": 10}, "budget"),
        ({"prompt": "hi", "workspaceId": "w", "budget": 9_000}, "budget"),
        ({"prompt": "hi", "workspaceId": "w", "budget": "lots"}, "budget"),
        ({"prompt": "hi", "workspaceId": "w", "source": "fax"}, "source"),
        ({"prompt": "hi", "workspaceId": "w", "taskType": "dance"}, "taskType"),
        (
            {"prompt": "hi", "workspaceId": "w", "metadata": {"cursor": {"line": 0}}},
            "metadata.cursor.line",
        ),
        (
            {"prompt": "hi", "workspaceId": "w", "metadata": {"openFiles": "a.py"}},
            "metadata.openFiles",
        ),
        ({"prompt": "hi", "workspaceId": "w", "metadata": {"colour": "red"}}, "metadata.colour"),
        (
            {"prompt": "hi", "workspaceId": "w", "metadata": {"openFiles": ["a"] * 51}},
            "metadata.openFiles",
        ),
        (
            {
                "prompt": "hi",
                "workspaceId": "w",
                "metadata": {"diagnostics": [{"severity": "bad"}]},
            },
            "metadata.diagnostics.0.message",
        ),
        (
            {"prompt": "hi", "workspaceId": "w", "metadata": {"selectedCode": "x" * 100_001}},
            "metadata.selectedCode",
        ),
        ({"prompt": "hi", "workspaceId": "w", "metadata": "not an object"}, "metadata"),
        (
            {
                "prompt": "hi",
                "workspaceId": "w",
                "conversation": [{"role": "system", "content": "x"}],
            },
            "conversation.0.role",
        ),
    ],
)
async def test_bad_input_is_rejected_with_field_details(
    client: httpx.AsyncClient, services: Services, body: dict[str, Any], field: str
) -> None:
    response = await client.post(PROCESS, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in [d["field"] for d in error["details"]], error
    assert error["requestId"] == response.headers["x-request-id"]
    assert await _interaction_count(services) == 0
    assert await services.store.get_workspace("w") is None  # nothing half-written


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        PROCESS, content=b'{"prompt": "hi",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_JSON"


@pytest.fixture
async def strict_client(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    monkeypatch.setenv("AXON_AUTO_CREATE_WORKSPACES", "false")
    monkeypatch.setenv("MAX_PROMPT_CHARS", "100")
    built = await build_services(load_settings())
    transport = httpx.ASGITransport(app=create_app(services=built))
    async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
        yield http, built
    await built.close()


async def test_unknown_workspace_is_404_without_auto_create(
    strict_client: tuple[httpx.AsyncClient, Services],
) -> None:
    client, services = strict_client
    response = await client.post(PROCESS, json={"prompt": "hi", "workspaceId": "nope"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "WORKSPACE_NOT_FOUND"
    assert response.json()["error"]["details"][0]["field"] == "workspaceId"
    too_long = await client.post(PROCESS, json={"prompt": "y" * 101, "workspaceId": "nope"})
    assert too_long.status_code == 422 and "100 characters" in too_long.text
    assert await _interaction_count(services) == 0


async def test_history_lists_processed_prompts(client: httpx.AsyncClient) -> None:
    for n in range(3):
        await client.post(PROCESS, json={"prompt": f"question {n}", "workspaceId": "hist"})
    await client.post(PROCESS, json={"prompt": "", "workspaceId": "hist"})
    first = (await client.get("/api/v1/prompts/history?workspaceId=hist&limit=2")).json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    rest = (
        await client.get(
            f"/api/v1/prompts/history?workspaceId=hist&limit=2&cursor={first['nextCursor']}"
        )
    ).json()
    prompts = {i["prompt"] for i in first["items"] + rest["items"]}
    assert prompts == {"question 0", "question 1", "question 2"}
    item = first["items"][0]
    assert {
        "timestamp",
        "analysis",
        "contextIds",
        "tokens",
        "latencyMs",
        "model",
        "outcome",
    } <= set(item)
    missing = await client.get("/api/v1/prompts/history?workspaceId=ghost")
    assert missing.status_code == 404
    bad = await client.get("/api/v1/prompts/history?limit=0")
    assert bad.status_code == 422


async def test_helpful_feedback_raises_confidence_a_bounded_step(
    client: httpx.AsyncClient, services: Services
) -> None:
    await client.post("/api/v1/workspaces", json={"id": "fb", "name": "fb"})
    context_id = await _add_context(
        client, "fb", content="def rotate_keys():\n    pass", symbol="rotate_keys", confidence=0.5
    )
    data = (
        await client.post(PROCESS, json={"prompt": "explain rotate_keys", "workspaceId": "fb"})
    ).json()
    await services.pipeline.drain()
    url = f"/api/v1/interactions/{data['interactionId']}/feedback"
    response = await client.post(url, json={"helpful": True, "comment": "spot on"})
    assert response.status_code == 201, response.text
    context = await services.store.get_context(context_id)
    assert context is not None
    # Hand-written at 0.5: Beta(3, 3), one helpful vote makes it Beta(4, 3).
    assert context.confidence == pytest.approx(4 / 7)
    assert context.evidence.votes == 1 and context.evidence.strength == pytest.approx(7)
    assert response.json()["contextConfidence"][context_id] == pytest.approx(4 / 7, abs=1e-4)
    assert context.usage_count == 2  # included once, rated once
    assert (await client.post(url, json={"rating": 1})).status_code == 409


async def test_feedback_bad_input(client: httpx.AsyncClient) -> None:
    data = (await client.post(PROCESS, json={"prompt": "hello", "workspaceId": "fb2"})).json()
    url = f"/api/v1/interactions/{data['interactionId']}/feedback"
    assert (await client.post(url, json={})).status_code == 422
    assert (await client.post(url, json={"rating": 6})).status_code == 422
    assert (await client.post(url, json={"helpful": "very"})).status_code == 422
    assert (await client.post(url, json={"rating": 3, "comment": "x" * 2001})).status_code == 422
    missing = await client.post("/api/v1/interactions/int_nope/feedback", json={"helpful": False})
    assert missing.status_code == 404


async def test_decisions_are_captured_in_the_background(
    client: httpx.AsyncClient, services: Services
) -> None:
    prompt = "We decided to use PostgreSQL for the orders service. How should I migrate?"
    data = (await client.post(PROCESS, json={"prompt": prompt, "workspaceId": "cap"})).json()
    await services.pipeline.drain()
    page = await services.store.list_contexts(ContextFilter(workspace_id="cap"), 10)
    (captured,) = page.items
    assert captured.tier == "hybrid" and captured.type == "decision"
    assert captured.confidence == 0.3
    assert captured.content == "We decided to use PostgreSQL for the orders service."
    assert captured.metadata["interactionId"] == data["interactionId"]
    hits = await services.retriever.search(
        SearchRequest(query="PostgreSQL orders service", workspace_id="cap")
    )
    assert [h.context.id for h in hits] == [captured.id]  # indexed, hybrid tier


async def test_retrieval_failure_degrades_to_an_answer_without_context(
    client: httpx.AsyncClient, services: Services, data_dir: Path
) -> None:
    await client.post("/api/v1/workspaces", json={"id": "down", "name": "down"})
    await _add_context(client, "down", content="def beat():\n    pass", symbol="beat")
    await corrupt_search_index(services, data_dir)
    response = await client.post(PROCESS, json={"prompt": "explain beat()", "workspaceId": "down"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert [d["stage"] for d in data["degraded"]] == ["retrieve"]
    assert data["context"]["items"] == [] and data["mode"] == "context_only"
    assert response.headers["warning"].startswith('199 axon "retrieval failed (')
    streamed = await client.post(
        PROCESS, json={"prompt": "explain beat()", "workspaceId": "down", "stream": True}
    )
    assert streamed.status_code == 200
    assert streamed.headers["warning"].startswith('199 axon "retrieval failed (')
    context_event = next(
        json.loads(line.removeprefix("data: "))
        for block in streamed.text.split("\n\n")
        if "event: context" in block
        for line in block.splitlines()
        if line.startswith("data: ")
    )
    assert [d["stage"] for d in context_event["degraded"]] == ["retrieve"]
    stored = await services.store.get_interaction(data["interactionId"])
    assert stored is not None and stored.outcome == "degraded"


async def test_repeated_uses_are_counted_in_one_write_and_seen_by_the_next_search(
    client: httpx.AsyncClient, services: Services
) -> None:
    await client.post("/api/v1/workspaces", json={"id": "shop", "name": "shop"})
    context_id = await _add_context(
        client,
        "shop",
        content="def refund_order(order):\n    return order.total\n",
        path="shop/refunds.py",
        symbol="refund_order",
        language="python",
    )
    body = {"prompt": "How does refund_order compute the refund?", "workspaceId": "shop"}
    for _ in range(3):
        assert (await client.post(PROCESS, json=body)).status_code == 200
    await services.pipeline.drain()  # one flush: counts of 3 in one record_usage call
    stored = await services.store.get_context(context_id)
    assert stored is not None and stored.usage_count == 3
    hits = await services.retriever.search(
        SearchRequest(query="refund_order", workspace_id="shop", limit=1)
    )
    assert hits[0].context.id == context_id and hits[0].context.usage_count == 3
