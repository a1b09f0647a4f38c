"""Per-request cost of the operations middleware (metrics, API-key auth, rate limits).

Runs the real app in-process over ASGI and measures requests/s for GET
/api/v1/workspaces/{id} (a store read) in three set-ups built in the same run:
auth and limits off (the embedded default, the baseline), auth on with a valid
key, and auth plus rate limits on. Prints the median of --repeat runs and each
set-up's ratio to the baseline.

    /work/venv/bin/python bench/security_overhead.py --requests 2000 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from axon.api.app import create_app
from axon.config import load_settings
from axon.models import ApiScope, Workspace, WorkspaceType
from axon.security.keys import new_api_key
from axon.services import build_services

SETUPS = {
    "baseline (auth off, limits off)": {"auth": "off", "rate_limits": "off"},
    "auth on": {"auth": "on", "rate_limits": "off"},
    "auth + rate limits on": {"auth": "on", "rate_limits": "on", "rate_limit": "1000000/1h"},
}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    async with contextlib.AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        clients: dict[str, httpx.AsyncClient] = {}
        for i, (name, overrides) in enumerate(SETUPS.items()):
            settings = load_settings(data_dir=tmp / str(i), embedder="none", **overrides)
            services = await build_services(settings)
            stack.push_async_callback(services.close)
            await services.store.create_workspace(
                Workspace(id="bench", name="bench", type=WorkspaceType.CODING)
            )
            record, token = new_api_key("bench", [ApiScope.READ])
            await services.store.create_api_key(record)
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=create_app(services=services)),
                    base_url="http://localhost",  # a default allowed host
                    headers={"X-API-Key": token},
                )
            )
        rates: dict[str, list[float]] = {name: [] for name in SETUPS}
        # Set-ups take turns, so load from other processes hits them alike.
        for round_ in range(args.repeat + 1):
            for name, http in clients.items():
                started = time.perf_counter()
                for _ in range(args.requests if round_ else 100):
                    response = await http.get("/api/v1/workspaces/bench")
                    assert response.status_code == 200, response.text
                if round_:  # round 0 warms up
                    rates[name].append(args.requests / (time.perf_counter() - started))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    baseline = next(iter(medians.values()))
    print(f"{'set-up':<34} {'req/s (median)':>15} {'vs baseline':>12}")
    for name, rate in medians.items():
        print(f"{name:<34} {rate:>15.0f} {rate / baseline:>11.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
