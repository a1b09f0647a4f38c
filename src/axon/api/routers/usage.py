"""LLM usage: tokens and cost per workspace, API key, provider and model, and the
gateway's state. A key limited to some workspaces sees only its own spending."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic.alias_generators import to_camel

from axon.api.deps import PrincipalDep, ServicesDep, require_workspace
from axon.llm.gateway import Gateway
from axon.models import WORKSPACE_ID_PATTERN, LlmUsage
from axon.services import Services

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

_SUMS = ("requests", "failures", "cached", "estimated", "unpriced", "input_tokens", "output_tokens")


def _totals(items: list[LlmUsage]) -> dict[str, Any]:
    totals: dict[str, Any] = {to_camel(n): sum(getattr(i, n) for i in items) for n in _SUMS}
    totals["costUsd"] = round(sum(i.cost_usd for i in items), 6)
    return totals


async def _per_key(services: Services, items: list[LlmUsage]) -> list[dict[str, Any]]:
    """Totals per API key (null: auth off) beside each key's budget and limits."""
    by_key: dict[str | None, list[LlmUsage]] = defaultdict(list)
    for item in items:
        by_key[item.api_key_id].append(item)
    rows: list[dict[str, Any]] = []
    for key_id in sorted(by_key, key=lambda k: k or ""):
        row: dict[str, Any] = {"apiKeyId": key_id, **_totals(by_key[key_id])}
        key = await services.store.get_api_key(key_id) if key_id else None
        row["name"] = key.name if key else None
        row["budgetUsd"] = key.budget_usd if key else None
        row["rpm"] = key.rpm if key else None
        rows.append(row)
    return rows


@router.get("")
async def usage(
    services: ServicesDep,
    principal: PrincipalDep,
    workspace_id: Annotated[
        str | None,
        Query(alias="workspaceId", pattern=WORKSPACE_ID_PATTERN, description="one workspace"),
    ] = None,
) -> dict[str, Any]:
    """Totals since the data directory was created; without workspaceId, of every
    workspace (requests made without one are listed with workspaceId null). A key
    limited to some workspaces gets its own requests only."""
    if workspace_id is not None:
        await require_workspace(services, principal, workspace_id)
    own = principal.key_id if principal.restricted else None
    items = await services.llm_usage.totals(workspace_id, own)
    llm = services.llm
    return {
        "workspaceId": workspace_id,
        "llm": llm.status() if isinstance(llm, Gateway) else {"provider": llm.provider},
        "totals": _totals(items),
        "keys": await _per_key(services, items),
        "items": [item.dump() for item in items],
    }
