"""Per-key LLM budgets over the prompt API, and spend per key in GET /api/v1/usage."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from axon.api.app import create_app
from axon.config import Settings
from axon.models import ApiScope
from axon.security.keys import new_api_key
from axon.services import Services, build_services
from tests.fakes.llm_server import FakeLLMServer
from tests.llm.conftest import fake_settings

PROCESS = "/api/v1/prompts/process"
COST = (42 * 2.5 + 5 * 10) / 1e6  # one answer of the fake (42 in, 5 out) at gpt-4o prices


@pytest.fixture
def auto_create_workspaces() -> str:
    return "w"  # the prompts' workspace, created on first use


@pytest.fixture
async def secured(
    settings: Settings, fake: FakeLLMServer
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    on = fake_settings(fake, llm_max_retries=0).model_copy(
        update={"data_dir": settings.data_dir, "auth": "on", "rate_limits": "off"}
    )
    services = await build_services(on)
    transport = httpx.ASGITransport(app=create_app(services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            yield http, services
    finally:
        await services.close()


async def _key(services: Services, **limits: object) -> tuple[str, dict[str, str]]:
    record, token = new_api_key("k", [ApiScope.WRITE], **limits)  # type: ignore[arg-type]
    await services.store.create_api_key(record)
    return record.id, {"X-API-Key": token}


async def test_a_key_over_its_budget_gets_402_and_others_go_on(
    secured: tuple[httpx.AsyncClient, Services], fake: FakeLLMServer
) -> None:
    http, services = secured
    capped_id, capped = await _key(services, budget_usd=COST * 1.5, workspaces=["w"])
    free_id, free = await _key(services)
    body = {"prompt": "What is Axon?", "workspaceId": "w"}
    assert (await http.post(PROCESS, json=body, headers=capped)).status_code == 200
    assert (await http.post(PROCESS, json=body, headers=capped)).status_code == 200
    calls = len(fake.seen())
    for stream in (False, True):
        refused = await http.post(PROCESS, json={**body, "stream": stream}, headers=capped)
        assert refused.status_code == 402, refused.text
        error = refused.json()["error"]
        assert error["code"] == "KEY_BUDGET_EXCEEDED" and "budget" in error["message"]
        assert error["requestId"] == refused.headers["x-request-id"]
    assert len(fake.seen()) == calls  # the provider was not called
    assert (await http.post(PROCESS, json=body, headers=free)).status_code == 200

    # Spend per key: a restricted key sees only its own, an unrestricted one all.
    own = (await http.get("/api/v1/usage", headers=capped)).json()
    assert [k["apiKeyId"] for k in own["keys"]] == [capped_id]
    assert own["keys"][0]["costUsd"] == pytest.approx(2 * COST)
    assert own["keys"][0]["budgetUsd"] == pytest.approx(COST * 1.5)
    assert own["totals"]["requests"] == 2 and {i["apiKeyId"] for i in own["items"]} == {capped_id}
    everything = (await http.get("/api/v1/usage", headers=free)).json()
    assert {k["apiKeyId"] for k in everything["keys"]} == {capped_id, free_id}
    assert everything["totals"]["costUsd"] == pytest.approx(3 * COST)
