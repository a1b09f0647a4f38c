"""LLM usage: tokens and cost per workspace, provider and model, and the gateway's state."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic.alias_generators import to_camel

from axon.api.deps import ServicesDep, require_workspace
from axon.llm.gateway import Gateway
from axon.models import ID_PATTERN, LlmUsage

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

_SUMS = ("requests", "failures", "cached", "estimated", "unpriced", "input_tokens", "output_tokens")


def _totals(items: list[LlmUsage]) -> dict[str, Any]:
    totals: dict[str, Any] = {to_camel(n): sum(getattr(i, n) for i in items) for n in _SUMS}
    totals["costUsd"] = round(sum(i.cost_usd for i in items), 6)
    return totals


@router.get("")
async def usage(
    services: ServicesDep,
    workspace_id: Annotated[
        str | None, Query(alias="workspaceId", pattern=ID_PATTERN, description="one workspace")
    ] = None,
) -> dict[str, Any]:
    """Totals since the data directory was created; without workspaceId, of every
    workspace (requests made without one are listed with workspaceId null)."""
    if workspace_id is not None:
        await require_workspace(services, workspace_id)
    items = await services.llm_usage.totals(workspace_id)
    llm = services.llm
    return {
        "workspaceId": workspace_id,
        "llm": llm.status() if isinstance(llm, Gateway) else {"provider": llm.provider},
        "totals": _totals(items),
        "items": [item.dump() for item in items],
    }
