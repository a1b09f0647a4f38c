"""A decision naming code goes stale when that code changes; confirming clears it."""

from __future__ import annotations

from pathlib import Path

import httpx

from axon.indexing import index_workspace
from axon.services import Services
from tests.evolution.conftest import remember

PRICING = "def apply_discount(order, code):\n    return order.total * (1 - RATES[code])\n"


async def _index(services: Services, wid: str) -> None:
    workspace = await services.store.get_workspace(wid)
    assert workspace is not None
    await index_workspace(services.store, services.search_index, workspace, max_file_bytes=1 << 20)


async def test_editing_a_linked_function_marks_its_decision_stale(
    client: httpx.AsyncClient, services: Services, tmp_path: Path
) -> None:
    folder = tmp_path / "shop"
    (folder / "src").mkdir(parents=True)
    source = folder / "src" / "pricing.py"
    source.write_text(PRICING)
    created = await client.post(
        "/api/v1/workspaces", json={"id": "shop", "name": "shop", "path": str(folder)}
    )
    assert created.status_code == 201, created.text
    await _index(services, "shop")
    decision = await remember(
        client, "shop", "apply_discount() never discounts below zero; rates come from RATES."
    )
    assert [link["symbol"] for link in decision["links"]] == ["apply_discount"]
    query = {"workspaceId": "shop", "query": "apply_discount discount rule", "types": ["decision"]}
    before = (await client.post("/api/v1/contexts/search", json=query)).json()["results"][0]

    source.write_text(PRICING.replace("1 - RATES[code]", "max(0, 1 - RATES[code])"))
    await _index(services, "shop")
    stale = (await client.get(f"/api/v1/contexts/{decision['id']}")).json()
    assert stale["stale"]["reason"].startswith("linked code changed since this was written")
    assert "src/pricing.py apply_discount changed" in stale["stale"]["reason"]
    after = (await client.post("/api/v1/contexts/search", json=query)).json()["results"][0]
    assert after["id"] == decision["id"] and after["score"] < before["score"] * 0.6

    answer = await client.post(
        "/api/v1/prompts/process",
        json={"workspaceId": "shop", "prompt": "What is the rule for apply_discount?"},
    )
    entries = answer.json()["context"]["report"]["entries"]
    [entry] = [e for e in entries if e["id"] == decision["id"]]
    assert entry["warning"] == "linked code changed since this was written"

    confirmed = await client.post(f"/api/v1/contexts/{decision['id']}/confirm")
    assert confirmed.json()["stale"] is None
    await _index(services, "shop")  # nothing changed since the confirmation
    assert (await client.get(f"/api/v1/contexts/{decision['id']}")).json()["stale"] is None

    source.unlink()
    await _index(services, "shop")
    gone = (await client.get(f"/api/v1/contexts/{decision['id']}")).json()
    assert "apply_discount is gone" in gone["stale"]["reason"]
