"""LLM usage: tokens and cost per workspace, API key, provider and model, and the
gateway's state. A key limited to some workspaces sees only its own spending."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from axon.api.deps import PrincipalDep, ServicesDep, require_workspace
from axon.api.responses import errors
from axon.llm.gateway import Gateway
from axon.models import WORKSPACE_ID_PATTERN, CamelModel, LlmUsage
from axon.services import Services

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])


class GatewayState(CamelModel):
    provider: str
    model: str = Field(description="the default model")
    fallbacks: list[str]
    breakers: dict[str, str] = Field(description="circuit breaker state by provider")


class NoGateway(CamelModel):
    """No model provider is configured: prompts answer context-only."""

    provider: str


class UsageTotals(CamelModel):
    requests: int
    failures: int
    cached: int
    estimated: int
    unpriced: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class KeyUsage(UsageTotals):
    """One API key's totals beside its budget and limits (`apiKeyId` null: auth off)."""

    api_key_id: str | None
    name: str | None = Field(description="the key's name; null when auth is off")
    budget_usd: float | None = Field(description="total LLM spend allowed, if limited")
    rpm: int | None = Field(description="requests per minute allowed, if limited")


class UsageReport(CamelModel):
    workspace_id: str | None
    llm: GatewayState | NoGateway
    totals: UsageTotals
    keys: list[KeyUsage]
    items: list[LlmUsage]


def _sums(items: Sequence[LlmUsage]) -> dict[str, int | float]:
    return {
        "requests": sum(i.requests for i in items),
        "failures": sum(i.failures for i in items),
        "cached": sum(i.cached for i in items),
        "estimated": sum(i.estimated for i in items),
        "unpriced": sum(i.unpriced for i in items),
        "input_tokens": sum(i.input_tokens for i in items),
        "output_tokens": sum(i.output_tokens for i in items),
        "cost_usd": round(sum(i.cost_usd for i in items), 6),
    }


def usage_totals(items: Sequence[LlmUsage]) -> UsageTotals:
    """The sums of usage items, as GET /api/v1/usage totals them."""
    return UsageTotals.model_validate(_sums(items))


async def _per_key(services: Services, items: list[LlmUsage]) -> list[KeyUsage]:
    """Totals per API key (null: auth off) beside each key's budget and limits."""
    by_key: dict[str | None, list[LlmUsage]] = defaultdict(list)
    for item in items:
        by_key[item.api_key_id].append(item)
    rows: list[KeyUsage] = []
    for key_id in sorted(by_key, key=lambda k: k or ""):
        key = await services.store.get_api_key(key_id) if key_id else None
        rows.append(
            KeyUsage.model_validate(
                {
                    **_sums(by_key[key_id]),
                    "api_key_id": key_id,
                    "name": key.name if key else None,
                    "budget_usd": key.budget_usd if key else None,
                    "rpm": key.rpm if key else None,
                }
            )
        )
    return rows


@router.get("", responses=errors(404))
async def usage(
    services: ServicesDep,
    principal: PrincipalDep,
    workspace_id: Annotated[
        str | None,
        Query(alias="workspaceId", pattern=WORKSPACE_ID_PATTERN, description="one workspace"),
    ] = None,
) -> UsageReport:
    """Totals since the data directory was created; without workspaceId, of every
    workspace (requests made without one are listed with workspaceId null). A key
    limited to some workspaces gets its own requests only."""
    if workspace_id is not None:
        await require_workspace(services, principal, workspace_id)
    own = principal.key_id if principal.restricted else None
    items = await services.llm_usage.totals(workspace_id, own)
    llm = services.llm
    return UsageReport(
        workspace_id=workspace_id,
        llm=GatewayState(**llm.status())
        if isinstance(llm, Gateway)
        else NoGateway(provider=llm.provider),
        totals=usage_totals(items),
        keys=await _per_key(services, items),
        items=items,
    )
