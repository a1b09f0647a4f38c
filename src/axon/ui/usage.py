"""Usage: LLM tokens and cost per provider, model and workspace (GET /api/v1/usage's
totals), each with its last days, and tokens and cost per day (the ledger's days)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from axon.api.deps import PrincipalDep, ServicesDep
from axon.api.routers.usage import usage
from axon.models import LlmUsage, LlmUsageDay, utcnow
from axon.ui.charts import bars
from axon.ui.render import page

router = APIRouter(prefix="/ui", include_in_schema=False)
BAR_SPAN = 300.0
DAYS = 30
TREND_HEIGHT = 20.0  # a group's last DAYS days, one column a day
GROUPS: list[tuple[str, Callable[[LlmUsage], str]]] = [
    ("Provider", lambda i: i.provider),
    ("Model", lambda i: f"{i.provider}:{i.model}"),
    ("Workspace", lambda i: i.workspace_id or "(none)"),
]


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


def _daily(items: list[LlmUsageDay], since: date) -> list[dict[str, Any]]:
    """Tokens and cost of each day from `since` to today (days without calls too)."""
    tokens: dict[date, float] = {since + timedelta(days=n): 0.0 for n in range(DAYS)}
    cost = dict.fromkeys(tokens, 0.0)
    for item in items:
        if item.day in tokens:
            tokens[item.day] += item.input_tokens + item.output_tokens
            cost[item.day] += item.cost_usd
    token_bars = bars([(d.isoformat(), t) for d, t in tokens.items()], BAR_SPAN)
    cost_bars = bars([(d.isoformat(), c) for d, c in cost.items()], BAR_SPAN)
    return [
        {
            "day": t.label,
            "tokens": int(t.value),
            "bar": t.width,
            "cost": c.value,
            "cost_bar": c.width,
        }
        for t, c in zip(token_bars, cost_bars, strict=True)
    ]


def _trend(items: list[LlmUsageDay], since: date) -> list[float]:
    """One group's tokens on each day from `since`, as column heights (0..TREND_HEIGHT)."""
    per_day = {since + timedelta(days=n): 0.0 for n in range(DAYS)}
    for item in items:
        if item.day in per_day:
            per_day[item.day] += item.input_tokens + item.output_tokens
    return [b.width for b in bars([(d.isoformat(), v) for d, v in per_day.items()], TREND_HEIGHT)]


@router.get("/usage")
async def usage_page(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> HTMLResponse:
    report = await usage(services, principal, None)
    since = (utcnow() - timedelta(days=DAYS - 1)).date()
    own = principal.key_id if principal.restricted else None
    days = await services.llm_usage.days(since, None, own)
    groups = []
    for title, key in GROUPS:
        rows = _grouped(report.items, key)
        for row in rows:
            row["trend"] = _trend([d for d in days if key(d) == row["name"]], since)
        groups.append((title, rows))
    return page(
        request,
        "usage.html",
        report=report,
        groups=groups,
        days=_daily(days, since),
        span=BAR_SPAN,
        trend_height=TREND_HEIGHT,
    )
