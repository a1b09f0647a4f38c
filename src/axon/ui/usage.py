"""Usage: LLM tokens and cost per provider, model and workspace (GET /api/v1/usage's
totals), and tokens per day from the prompt history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from axon.api.deps import PrincipalDep, ServicesDep
from axon.api.routers.usage import usage
from axon.models import LlmUsage, utcnow
from axon.ui.charts import bars
from axon.ui.overview import SCANNED_INTERACTIONS, recent_interactions
from axon.ui.render import page

router = APIRouter(prefix="/ui", include_in_schema=False)
BAR_SPAN = 300.0
DAYS = 30


def _grouped(items: list[LlmUsage], key: Callable[[LlmUsage], str]) -> list[dict[str, Any]]:
    """Rows of summed tokens and cost per group, the costliest (then busiest) first."""
    sums: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"requests": 0, "input": 0, "output": 0, "cost": 0.0}
    )
    for item in items:
        row = sums[key(item)]
        row["requests"] += item.requests
        row["input"] += item.input_tokens
        row["output"] += item.output_tokens
        row["cost"] += item.cost_usd
    rows = [{"name": name, **row} for name, row in sums.items()]
    rows.sort(key=lambda r: (-r["cost"], -(r["input"] + r["output"]), r["name"]))
    drawn = bars([(r["name"], float(r["input"] + r["output"])) for r in rows], BAR_SPAN)
    for row, bar in zip(rows, drawn, strict=True):
        row["bar"] = bar.width
    return rows


@router.get("/usage")
async def usage_page(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> HTMLResponse:
    report = await usage(services, principal, None)
    items = report.items
    groups = [
        ("Provider", _grouped(items, lambda i: i.provider)),
        ("Model", _grouped(items, lambda i: f"{i.provider}:{i.model}")),
        ("Workspace", _grouped(items, lambda i: i.workspace_id or "(none)")),
    ]
    # Tokens per day: the ledger keeps totals only, the prompt history has dates.
    since = (utcnow() - timedelta(days=DAYS - 1)).date()
    per_day: dict[str, int] = {(since + timedelta(days=n)).isoformat(): 0 for n in range(DAYS)}
    for interaction in await recent_interactions(services, principal):
        day = interaction.timestamp.date().isoformat()
        if day in per_day:
            per_day[day] += int(interaction.tokens.get("totalTokens", 0))
    drawn = bars([(d, float(t)) for d, t in per_day.items()], BAR_SPAN)
    days = [{"day": b.label, "tokens": int(b.value), "bar": b.width} for b in drawn]
    return page(
        request,
        "usage.html",
        report=report,
        groups=groups,
        days=days,
        span=BAR_SPAN,
        scanned=SCANNED_INTERACTIONS,
    )
