"""Dashboard pages: server time per page and asset bytes per page.

Builds (once, then reuses) the pipeline benchmark's workspace of 50,000 contexts
(bench/pipeline.py's `build_workspace`), adds a few interactions, jobs and hand-written
decisions, then requests every page in-process over ASGI (the app and the client in
one process: no network in the figure) and reports the p50 and p95 per page. The
baseline, measured in the same run, is the JSON API call each page is built on.

    python bench/ui.py [--contexts 50000] [--data-dir DIR] [--requests 60]
        [--out bench/results/ui.txt]

Targets (issue 14): every page p50 <= 50 ms on 50,000 contexts; no page loads more
than 300 KB of assets (the page itself, its stylesheet, script and icon).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from axon.api.app import create_app
from axon.config import load_settings
from axon.models import ContextType
from axon.pipeline import PromptRequest
from axon.ports import ContextFilter
from axon.services import Services, build_services
from axon.workspaces import ContextCreate, add_context
from pipeline import PROMPTS, WORKSPACE, build_workspace, percentile

MAX_PAGE_BYTES = 300 * 1024
_ASSET_RE = re.compile(r'(?:href|src)="(/ui/static/[^"?]+)')


async def seed(services: Services) -> str:
    """History for the pages that show it: prompts, a decision; returns a context id."""
    for prompt in PROMPTS[:20]:
        run = await services.pipeline.prepare(PromptRequest(prompt=prompt, workspace_id=WORKSPACE))
        await services.pipeline.finish(run, await services.pipeline.complete(run))
    await services.pipeline.drain()
    decisions = await services.store.count_contexts(
        ContextFilter(workspace_id=WORKSPACE, types=[ContextType.DECISION])
    )
    if not decisions:
        for n in range(10):
            body = ContextCreate(
                workspace_id=WORKSPACE,
                type=ContextType.DECISION,
                title=f"Decision {n}",
                content=f"We decided point {n}: keep amounts in integer cents.",
            )
            await add_context(services.store, body, services.search_index)
    page = await services.store.list_contexts(ContextFilter(workspace_id=WORKSPACE), 1)
    return page.items[0].id


def pages(context_id: str) -> list[tuple[str, str]]:
    """(page, the API call it is built on) pairs."""
    ws = WORKSPACE
    return [
        ("/", "/health/ready"),
        (f"/ui/workspaces/{ws}", f"/api/v1/contexts?workspaceId={ws}&limit=50"),
        (f"/ui/workspaces/{ws}?type=symbol", f"/api/v1/contexts?workspaceId={ws}&type=symbol"),
        (f"/ui/workspaces/{ws}/files", f"/api/v1/workspaces/{ws}"),
        (f"/ui/contexts/{context_id}", f"/api/v1/contexts/{context_id}"),
        (f"/ui/search?workspace={ws}&q=how+are+fixtures+torn+down", "search"),
        ("/ui/prompt", f"/api/v1/workspaces/{ws}"),
        (f"/ui/memory?workspace={ws}", f"/api/v1/contexts?workspaceId={ws}&type=decision"),
        ("/ui/usage", "/api/v1/usage"),
        ("/ui/gate", "/api/v1/jobs"),
        ("/ui/jobs", "/api/v1/jobs"),
    ]


async def timed(client: httpx.AsyncClient, path: str, n: int) -> tuple[list[float], int]:
    """Milliseconds per request (after two warm-ups) and the body size of the last one."""
    size = 0
    times: list[float] = []
    for i in range(n + 2):
        began = time.perf_counter()
        if path == "search":
            response = await client.post(
                "/api/v1/contexts/search",
                json={"query": "how are fixtures torn down", "workspaceId": WORKSPACE},
            )
        else:
            response = await client.get(path)
        elapsed = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
        size = len(response.content)
        if i >= 2:
            times.append(elapsed)
    return times, size


async def asset_bytes(client: httpx.AsyncClient, html: str) -> int:
    total = 0
    for asset in sorted(set(_ASSET_RE.findall(html))):
        total += len((await client.get(asset)).content)
    return total


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contexts", type=int, default=50_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/axon-bench-ui"))
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "AXON_DATA_DIR": str(args.data_dir),
            "AXON_EMBEDDER": "none",
            "AXON_AUTH": "off",
            "AXON_RATE_LIMITS": "off",
            # Search results would be answered from the cache after the first request.
            "AXON_CACHE_TTL_QUERY_RESULTS": "0",
        }
    )
    os.environ.pop("LLM_PROVIDER", None)
    logging.disable(logging.INFO)  # one access-log line per request would be the figure
    services = await build_services(load_settings())
    lines: list[str] = []
    try:
        await build_workspace(services, args.contexts, args.mirrors)
        count = await services.store.count_contexts(ContextFilter(workspace_id=WORKSPACE))
        context_id = await seed(services)
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            lines.append(
                f"dashboard benchmark: {count} contexts, {args.requests} requests per page, "
                f"in-process ASGI, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}"
            )
            lines.append(
                f"{'page':58} {'p50 ms':>7} {'p95 ms':>7} {'API p50':>8} {'ratio':>6} "
                f"{'HTML KB':>8} {'assets KB':>9}"
            )
            worst = 0.0
            heaviest = 0
            for path, api in pages(context_id):
                times, size = await timed(client, path, args.requests)
                base, _ = await timed(client, api, args.requests)
                html = (await client.get(path)).text
                assets = await asset_bytes(client, html)
                p50, api50 = statistics.median(times), statistics.median(base)
                worst = max(worst, p50)
                heaviest = max(heaviest, size + assets)
                lines.append(
                    f"{path[:58]:58} {p50:7.2f} {percentile(times, 0.95):7.2f} {api50:8.2f} "
                    f"{p50 / api50:6.2f} {size / 1024:8.1f} {assets / 1024:9.1f}"
                )
            lines.append(
                f"slowest page p50 {worst:.2f} ms (target <= 50); heaviest page with its "
                f"assets {heaviest / 1024:.1f} KB (target <= {MAX_PAGE_BYTES // 1024})"
            )
    finally:
        await services.close()
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
