"""`POST /api/v1/contexts/search` and `axon search`: results, breakdowns and bad input."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from axon.api.app import create_app
from axon.cli import app as cli_app
from axon.services import Services

SEARCH = "/api/v1/contexts/search"


@pytest.fixture
async def api(shop: Services) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(services=shop))
    return httpx.AsyncClient(transport=transport, base_url="http://axon.test")


async def test_search_returns_ranked_results_with_breakdown_path_and_lines(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post(
        SEARCH, json={"query": "apply_discount", "workspaceId": "shop", "limit": 3}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert 1 <= len(results) <= 3
    first = results[0]
    assert (first["path"], first["symbol"], first["startLine"]) == (
        "src/shop/pricing.py",
        "apply_discount",
        1,
    )
    assert set(first["breakdown"]) == {
        "lexical",
        "dense",
        "boosts",
        "freshness",
        "usage",
        "confidence",
        "role",
        "graph",
        "change",
        "cochange",
        "final",
    }
    assert first["role"] == "implementation" and first["breakdown"]["role"] == 1.0
    assert first["breakdown"]["graph"] == 0.0  # the code graph's term is off by default
    assert first["breakdown"]["change"] == first["breakdown"]["cochange"] == 0.0  # git: off
    assert first["score"] == first["breakdown"]["final"]
    assert [r["rank"] for r in results] == list(range(1, len(results) + 1))
    # The literal route wins over /contexts/{id}, which still answers GET for real ids.
    assert (await api.get("/api/v1/contexts/search")).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"query": "", "workspaceId": "shop"}, 422, "query"),
        ({"query": "   ", "workspaceId": "shop"}, 422, "query"),
        ({"query": "x" * 40_000, "workspaceId": "shop"}, 422, "query"),
        ({"query": "a", "workspaceId": "shop", "limit": 0}, 422, "limit"),
        ({"query": "a", "workspaceId": "shop", "limit": 10_000}, 422, "limit"),
        ({"query": "a", "workspaceId": "nope"}, 404, "workspaceId"),
        ({"query": "a", "workspaceId": "shop", "tiers": ["galactic"]}, 422, "tiers.0"),
        ({"query": "a", "workspaceId": "shop", "types": ["poem"]}, 422, "types.0"),
        (
            {"query": "a", "workspaceId": "shop", "filters": {"colour": "red"}},
            422,
            "filters.colour",
        ),
        ({"query": "a"}, 422, "workspaceId"),
    ],
)
async def test_bad_input_gets_a_clear_4xx_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, Any], status: int, field: str
) -> None:
    response = await api.post(SEARCH, json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert field in [d["field"] for d in error["details"]]


async def test_a_one_megabyte_query_is_refused_before_parsing(api: httpx.AsyncClient) -> None:
    response = await api.post(SEARCH, json={"query": "x" * 1024 * 1024, "workspaceId": "shop"})
    assert response.status_code in (413, 422)
    assert response.json()["error"]["code"] in ("PAYLOAD_TOO_LARGE", "VALIDATION_ERROR")


async def test_deleting_contexts_and_workspaces_through_the_api_removes_them_from_search(
    api: httpx.AsyncClient,
) -> None:
    created = await api.post(
        "/api/v1/contexts",
        json={"workspaceId": "shop", "type": "decision", "content": "We settle in Zorkmids."},
    )
    assert created.status_code == 201
    cid = created.json()["id"]
    found = await api.post(SEARCH, json={"query": "zorkmids", "workspaceId": "shop"})
    assert [r["id"] for r in found.json()["results"]] == [cid]
    patched = await api.patch(f"/api/v1/contexts/{cid}", json={"content": "We settle in euros."})
    assert patched.status_code == 200
    gone = await api.post(SEARCH, json={"query": "zorkmids", "workspaceId": "shop"})
    assert gone.json()["results"] == []
    assert (await api.delete(f"/api/v1/contexts/{cid}")).status_code == 204
    euros = await api.post(SEARCH, json={"query": "euros", "workspaceId": "shop"})
    assert euros.json()["results"] == []
    assert (await api.delete("/api/v1/workspaces/shop")).status_code == 204
    await api.post("/api/v1/workspaces", json={"id": "shop", "name": "again"})
    empty = await api.post(SEARCH, json={"query": "apply_discount", "workspaceId": "shop"})
    assert empty.json()["results"] == []


def test_cli_search_reads_stdin_and_prints_json_in_rank_order(shop: Services) -> None:
    runner = CliRunner()
    trace = 'File "/x/src/shop/gateway.py", line 3, in charge\nValueError: amount must be positive'
    result = runner.invoke(
        cli_app, ["search", "-", "--workspace", "shop", "--limit", "2", "--json"], input=trace
    )
    assert result.exit_code == 0, result.output
    results = json.loads(result.stdout)["results"]
    assert results[0]["path"] == "src/shop/gateway.py"
    assert {"path", "startLine", "endLine", "symbol", "tier", "type", "score"} <= set(results[0])
    assert len(results) == 2 and results[0]["score"] >= 0
    bad = runner.invoke(cli_app, ["search", "x", "--workspace", "missing"])
    assert bad.exit_code == 1 and "not found" in bad.output
    table = runner.invoke(
        cli_app, ["search", "apply_discount", "-w", "shop"], env={"COLUMNS": "200"}
    )
    assert table.exit_code == 0 and "pricing.py" in table.stdout
    fixed = runner.invoke(cli_app, ["maintenance", "reconcile", "--workspace", "shop"])
    assert fixed.exit_code == 0 and "shop: indexed 0, removed 0, unchanged 5" in fixed.stdout
