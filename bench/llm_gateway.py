"""Gateway overhead over a direct SDK call, against the same local fake server.

Starts the fake OpenAI server (tests/fakes/llm_server.py) in its own process and,
in one run, interleaves the same requests made with the bare `openai` SDK (the
baseline) and through Axon's gateway (breaker, retries, limiter, routing,
accounting to SQLite). Reports per set-up the median latency of a whole
non-streamed answer and the median time to first token of a streamed one,
each with its difference from the baseline.

    /work/venv/bin/python bench/llm_gateway.py --requests 300
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import openai

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fake server and port helpers live with the tests

from tests.servers import free_port, wait_for_port  # noqa: E402

from axon.config import load_settings  # noqa: E402
from axon.llm.accounting import UsageLedger  # noqa: E402
from axon.llm.factory import build_llm  # noqa: E402
from axon.llm.gateway import Gateway  # noqa: E402
from axon.llm.pricing import PriceTable  # noqa: E402
from axon.llm.types import ChatMessage, ChatRequest  # noqa: E402
from axon.stores.sqlite import SQLiteDocumentStore  # noqa: E402

# A realistic prompt: a system prompt with retrieved code, then the question.
CONTEXT = "\n".join(f"def handler_{i}(req):\n    return route(req, {i})" for i in range(150))
MESSAGES = (
    ChatMessage("system", "Answer using this context:\n" + CONTEXT),
    ChatMessage("user", "Which handler routes request 42?"),
)
SDK_MESSAGES = [{"role": m.role, "content": m.content} for m in MESSAGES]
Call = Callable[[], Awaitable[float]]


def sdk_calls(client: openai.AsyncOpenAI) -> tuple[Call, Call]:
    async def whole() -> float:
        started = time.perf_counter()
        response = await client.chat.completions.create(
            model="gpt-4o", messages=SDK_MESSAGES, temperature=0.2, max_completion_tokens=256
        )
        assert response.choices[0].message.content
        return time.perf_counter() - started

    async def first_token() -> float:
        started = time.perf_counter()
        stream = await client.chat.completions.create(
            model="gpt-4o",
            messages=SDK_MESSAGES,
            temperature=0.2,
            max_completion_tokens=256,
            stream=True,
            stream_options={"include_usage": True},
        )
        ttft = None
        async for chunk in stream:
            if ttft is None and chunk.choices and chunk.choices[0].delta.content:
                ttft = time.perf_counter() - started
        assert ttft is not None
        return ttft

    return whole, first_token


def gateway_calls(gateway: Gateway) -> tuple[Call, Call]:
    request = ChatRequest(MESSAGES, max_tokens=256, workspace_id="bench")

    async def whole() -> float:
        started = time.perf_counter()
        result = await gateway.complete(request)
        assert result.text
        return time.perf_counter() - started

    async def first_token() -> float:
        started = time.perf_counter()
        ttft = None
        async for chunk in gateway.stream(request):
            if ttft is None and chunk.delta:
                ttft = time.perf_counter() - started
        assert ttft is not None
        return ttft

    return whole, first_token


async def run(requests: int, port: int, root: Path) -> None:
    base = f"http://127.0.0.1:{port}/v1"
    store = SQLiteDocumentStore(root / "axon.db")
    await store.open()
    ledger = UsageLedger(store, PriceTable())
    common = {"openai_api_key": "sk-bench", "openai_base_url": base, "default_model": "gpt-4o"}
    setups: dict[str, tuple[Call, Call]] = {}
    client = openai.AsyncOpenAI(api_key="sk-bench", base_url=base, max_retries=0)
    setups["direct SDK (baseline)"] = sdk_calls(client)
    gateways = [
        build_llm(load_settings(data_dir=root, **common), ledger, None),
        build_llm(
            load_settings(data_dir=root, llm_rate_limits={"openai": (1_000_000, 10**9)}, **common),
            ledger,
            None,
        ),
    ]
    setups["gateway (defaults)"] = gateway_calls(gateways[0])
    setups["gateway + rate limiter"] = gateway_calls(gateways[1])

    samples: dict[str, dict[str, list[float]]] = {n: {"whole": [], "ttft": []} for n in setups}
    names = list(setups)
    for i in range(requests + 20):  # the first 20 rounds warm up connections and imports
        order = names[i % len(names) :] + names[: i % len(names)]  # rotate: no set-up goes first
        for name in order:
            whole, first_token = setups[name]
            w, t = await whole(), await first_token()
            if i >= 20:
                samples[name]["whole"].append(w)
                samples[name]["ttft"].append(t)
    await ledger.flush()

    base_whole = statistics.median(samples[names[0]]["whole"]) * 1000
    base_ttft = statistics.median(samples[names[0]]["ttft"]) * 1000
    print(f"{requests} requests per set-up, interleaved; prompt ~{len(CONTEXT) // 4} tokens")
    print(f"{'set-up':26} {'p50 answer ms':>14} {'overhead':>9} {'p50 TTFT ms':>12} {'delta':>8}")
    for name in names:
        whole_ms = statistics.median(samples[name]["whole"]) * 1000
        ttft_ms = statistics.median(samples[name]["ttft"]) * 1000
        print(
            f"{name:26} {whole_ms:14.2f} {whole_ms - base_whole:+9.2f} "
            f"{ttft_ms:12.2f} {ttft_ms - base_ttft:+8.2f}"
        )
    (usage,) = await ledger.totals("bench")
    print(f"accounted: {usage.requests} requests, {usage.input_tokens} input tokens")
    await client.close()
    for gateway in gateways:
        await gateway.aclose()
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.llm_server", "--port", str(port)], cwd=REPO
    )
    try:
        wait_for_port(port)
        with tempfile.TemporaryDirectory(prefix="axon-bench-llm-") as tmp:
            asyncio.run(run(args.requests, port, Path(tmp)))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
