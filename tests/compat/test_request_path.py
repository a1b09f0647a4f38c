"""What a copilot request costs Axon beyond its pipeline (bench/proxy.py measures it):
no dependency of any route runs in FastAPI's thread pool, and a compatible stream's
opening (OpenAI's role chunk; Anthropic's message_start, content_block_start and
ping) reaches the client in the same write as the first token. The app in-process,
driven over ASGI so each write (`http.response.body` message) is seen."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from axon.api.app import create_app
from axon.config import Settings, load_settings
from axon.services import build_services
from axon.workspaces import WorkspaceCreate, create_workspace
from tests.conftest import upstream_env
from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture
async def app(
    settings: Settings, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FastAPI]:
    for name, value in upstream_env(fake).items():
        monkeypatch.setenv(name, value)
    services = await build_services(load_settings())
    try:
        await create_workspace(services.store, WorkspaceCreate(id="billing", name="Billing"))
        yield create_app(services=services)
    finally:
        await services.close()


def _sync_dependencies(dependant: Dependant) -> list[str]:
    found = []
    for dep in dependant.dependencies:
        call = dep.call
        if call is not None and not inspect.iscoroutinefunction(call):
            found.append(getattr(call, "__qualname__", repr(call)))
        found += _sync_dependencies(dep)
    return found


def _api_routes(routes: Sequence[BaseRoute]) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        included = getattr(route, "original_router", None)  # an included router
        if included is not None:
            found += _api_routes(included.routes)
    return found


def test_no_route_dependency_runs_in_the_thread_pool(app: FastAPI) -> None:
    # FastAPI runs a plain `def` dependency in its thread pool: a thread hop and a GIL
    # hand-off on every request, which a loaded machine turns into milliseconds.
    routes = _api_routes(app.routes)
    assert len(routes) > 30
    offenders = {r.path: _sync_dependencies(r.dependant) for r in routes}
    assert {path: deps for path, deps in offenders.items() if deps} == {}
    assert all(inspect.iscoroutinefunction(r.endpoint) for r in routes)


def test_the_copilot_routes_are_matched_first(app: FastAPI) -> None:
    # Routing walks the routers in order on every request; the copilot paths lead.
    first = [r.path for r in _api_routes(app.routes)][:3]
    assert first == ["/v1/chat/completions", "/v1/models", "/v1/models/{model_id:path}"]


async def _writes(app: FastAPI, path: str, body: dict[str, Any]) -> list[bytes]:
    """The response body writes of one request, in order."""
    payload = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"axon.test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("axon.test", 80),
    }
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    bodies = [{"type": "http.request", "body": payload, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if bodies:
            return bodies.pop()
        await done.wait()  # the client stays connected until the response ends
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), 30)
    done.set()
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200, sent
    return [m["body"] for m in sent[1:] if m.get("body")]


async def test_openai_role_chunk_shares_the_first_tokens_write(app: FastAPI) -> None:
    body = {
        "model": "axon/billing",
        "stream": True,
        "messages": [{"role": "user", "content": "How are invoices totalled?"}],
    }
    writes = await _writes(app, "/v1/chat/completions", body)
    events = [e for e in writes[0].decode().split("\n\n") if e]
    deltas = [json.loads(e.removeprefix("data: "))["choices"][0]["delta"] for e in events]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1]["content"] and len(deltas) == 2
    assert writes[-1] == b"data: [DONE]\n\n"


async def test_anthropic_opening_events_share_the_first_tokens_write(app: FastAPI) -> None:
    body = {
        "model": "axon/billing",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "How are invoices totalled?"}],
    }
    writes = await _writes(app, "/v1/messages", body)
    names = [e.split("\n")[0] for e in writes[0].decode().split("\n\n") if e]
    assert names == [
        "event: message_start",
        "event: content_block_start",
        "event: ping",
        "event: content_block_delta",
    ]
    assert writes[-1].startswith(b"event: message_stop")
