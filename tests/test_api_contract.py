"""The API as its OpenAPI document describes it: typed responses, documented errors
and security, bounded free-form JSON, and no 500 on null or deeply nested input."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Strict

from axon.api.app import create_app
from axon.api.dialects import shaper_for
from axon.api.prompt_result import ContextEvent, PromptResult
from axon.api.responses import ErrorBody, WorkspaceView
from axon.api.routers.anthropic_compat import MessagesRequest
from axon.api.routers.contexts import SupersedeBody
from axon.api.routers.indexing import ScanRequest
from axon.api.routers.openai_compat import ChatCompletionRequest
from axon.api.routers.search import SearchBody
from axon.config import Settings, load_settings
from axon.freeform import MAX_CHARS, MAX_DEPTH, MAX_NODES
from axon.models import Context, Workspace
from axon.pipeline.collector import PromptRequest
from axon.pipeline.feedback import FeedbackRequest
from axon.quality.service import GateRequest
from axon.services import Services, build_services
from axon.workspaces import ContextCreate, ContextUpdate, WorkspaceCreate, WorkspaceUpdate
from tests.test_api_foundation import assert_error

JSON_2XX = "application/json"
ERROR_REF_PREFIX = "#/components/schemas/"


def nested(depth: int) -> dict[str, Any]:
    """An object `depth` levels deep: {"a": {"a": ... {"a": 1}}}."""
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return dict(value)


def nested_text(depth: int) -> str:
    # Built as text: json.dumps itself recurses and gives up long before 2,000 levels.
    return '{"a":' * depth + "1" + "}" * depth


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
    ]


async def test_every_success_response_is_typed(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    schemas = spec["components"]["schemas"]
    checked = 0
    for path, method, op in _operations(spec):
        for status, response in op["responses"].items():
            if not status.startswith("2") or status == "204":
                continue
            if (path, status) == ("/mcp", "202"):  # a notification accepted: no body
                continue
            content = response["content"]
            if JSON_2XX not in content:  # the heap dump is text, MCP answers a stream
                assert set(content) in ({"text/plain"}, {"text/event-stream"}), (method, path)
                continue
            schema = content[JSON_2XX]["schema"]
            ref = schema.get("$ref", "")
            assert ref.startswith("#/components/schemas/"), (method, path, status, schema)
            model = schemas[ref.rsplit("/", 1)[1]]
            assert model["type"] == "object" and model["properties"], (method, path)
            checked += 1
    assert checked >= 25


async def test_errors_are_documented_in_our_shape(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path, method, op in _operations(spec):
        if shaper_for(path) is not None:  # vendor-compatible routes: their own shape, no 422
            assert "422" not in op["responses"], path
            assert ERROR_REF_PREFIX + "ErrorBody" not in json.dumps(op["responses"]), path
            continue
        for status, response in op["responses"].items():
            if int(status) >= 400 and not (path.endswith("/ready") and status == "503"):
                assert response["content"] == {"application/json": {"schema": error_ref}}, (
                    method,
                    path,
                    status,
                )
        if method in {"post", "patch"}:
            assert {"400", "413", "415", "422"} <= set(op["responses"]), (method, path)
        if "{" in path:
            assert {"404", "422"} <= set(op["responses"]), (method, path)
    responses = spec["paths"]["/api/v1/workspaces/{workspace_id}/scan"]["post"]["responses"]
    assert "409" in responses
    responses = spec["paths"]["/api/v1/interactions/{interaction_id}/feedback"]["post"]
    assert "409" in responses["responses"]
    error = spec["components"]["schemas"]["ErrorInfo"]
    assert set(error["required"]) == {"code", "message", "details", "requestId", "status"}


async def test_streaming_route_documents_server_sent_events(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    ok = spec["paths"]["/api/v1/prompts/process"]["post"]["responses"]["200"]
    assert ok["content"][JSON_2XX]["schema"] == {"$ref": "#/components/schemas/PromptResult"}
    event = ok["content"]["text/event-stream"]["schema"]
    assert set(event["properties"]["event"]["enum"]) == {
        "analysis",
        "context",
        "token",
        "done",
        "error",
    }


async def test_without_auth_no_security_is_required(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    assert set(spec["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyAuth"}
    assert all("security" not in op for _, _, op in _operations(spec))
    ours = [op for path, _, op in _operations(spec) if shaper_for(path) is None]
    assert all("401" not in op["responses"] for op in ours)


@pytest.mark.parametrize("limits", ["on", "off"])
async def test_with_auth_protected_routes_require_a_key(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, limits: str
) -> None:
    # With rate limits off, auth still answers 429: failed authentications per address
    # and a key's own requests per minute are limited.
    monkeypatch.setenv("AXON_AUTH", "on")
    monkeypatch.setenv("AXON_RATE_LIMITS", limits)
    secured = load_settings()
    services = await build_services(secured)
    try:
        app = create_app(services=services)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            spec = await _spec(http)
    finally:
        await services.close()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "an Axon API key",
    }
    assert schemes["apiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    for path, method, op in _operations(spec):
        if "/health" in path:
            assert "security" not in op and "401" not in op["responses"], path
            continue
        assert op["security"] == [{"bearerAuth": []}, {"apiKeyAuth": []}], (method, path)
        assert {"401", "403", "429"} <= set(op["responses"]), (method, path)
        assert "Retry-After" in op["responses"]["429"]["headers"]


async def test_what_main_added_is_described(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    schemas = spec["components"]["schemas"]

    def model(path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
        ref = spec["paths"][path][method]["responses"][status]["content"][JSON_2XX]["schema"]
        return dict(schemas[ref["$ref"].rsplit("/", 1)[1]])

    shown = model("/api/v1/workspaces/{workspace_id}")
    assert "embeddings" in shown["required"]
    counts = schemas[shown["properties"]["embeddings"]["$ref"].rsplit("/", 1)[1]]
    assert set(counts["required"]) == {"done", "pending", "total"}
    health = model("/health")
    assert {"embeddings", "embedder", "services"} <= set(health["required"])
    assert "startup" in health["properties"]
    usage = model("/api/v1/usage")
    assert "keys" in usage["required"]
    assert "402" in spec["paths"]["/api/v1/prompts/process"]["post"]["responses"]
    assert "402" in spec["paths"]["/v1/chat/completions"]["post"]["responses"]
    mcp = spec["paths"]["/mcp"]
    assert set(mcp) == {"post", "get"}  # stateless: DELETE is a 405
    assert mcp["post"]["requestBody"]["content"][JSON_2XX]["schema"] == {
        "$ref": "#/components/schemas/JSONRPCMessage"
    }
    assert "text/event-stream" in mcp["post"]["responses"]["200"]["content"]
    for path, method, op in _operations(spec):
        # Every route but the probes checks the Host; every change, the Origin.
        if "/health" not in path and path != "/metrics":
            assert "400" in op["responses"], (method, path)
            if method in {"post", "put", "patch", "delete"}:
                assert "403" in op["responses"], (method, path)


async def test_responses_validate_against_their_models(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    assert Workspace.model_validate(created.json()).id == "ws"
    context = await client.post(
        "/api/v1/contexts", json={"workspaceId": "ws", "type": "note", "content": "use tabs"}
    )
    assert Context.model_validate(context.json()).content == "use tabs"
    shown = WorkspaceView.model_validate((await client.get("/api/v1/workspaces/ws")).json())
    assert shown.embeddings.total == shown.embeddings.done + shown.embeddings.pending
    missing = await client.get("/api/v1/workspaces/nope")
    assert ErrorBody.model_validate(missing.json()).error.code == "WORKSPACE_NOT_FOUND"
    result = await client.post(
        "/api/v1/prompts/process", json={"prompt": "what do we use?", "workspaceId": "ws"}
    )
    assert result.status_code == 200, result.text
    parsed = PromptResult.model_validate(result.json())
    assert parsed.mode == "context_only" and parsed.response is None
    # Serialised again, the model gives back exactly what was sent.
    assert parsed.dump() == result.json()


async def test_sse_context_event_is_the_context_view(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/workspaces", json={"id": "sse", "name": "sse"})
    body = {"prompt": "what do we use?", "workspaceId": "sse", "stream": True}
    response = await client.post("/api/v1/prompts/process", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = {}
    for frame in response.text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        if "event" in fields:
            events[fields["event"]] = json.loads(fields["data"])
    context = ContextEvent.model_validate(events["context"])
    done = PromptResult.model_validate(events["done"])
    assert context.interaction_id == done.interaction_id
    assert context.report == done.context.report and context.items == done.context.items


async def test_405_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/workspaces/ws")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    response = await client.request("OPTIONS", "/api/v1/contexts")
    assert response.headers["allow"] == "GET, POST"
    # `search` could be a context id too; the literal route is the resource.
    response = await client.get("/api/v1/contexts/search/x")
    assert response.status_code == 404
    response = await client.put("/api/v1/contexts/search")
    assert response.headers["allow"] == "POST"


# -- #19-11: null where the stored value cannot be null -------------------------------------


@pytest.mark.parametrize("field", ["name", "settings"])
async def test_patch_workspace_null_is_422(client: httpx.AsyncClient, field: str) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws", "settings": {"a": 1}})
    response = await client.patch("/api/v1/workspaces/ws", json={field: None})
    assert_error(response, 422, "VALIDATION_ERROR", field)
    stored = (await client.get("/api/v1/workspaces/ws")).json()
    assert stored["name"] == "ws" and stored["settings"] == {"a": 1}


async def test_patch_workspace_path_null_clears_it(
    client: httpx.AsyncClient, tmp_path: Any
) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws", "path": str(tmp_path)})
    response = await client.patch("/api/v1/workspaces/ws", json={"path": None})
    assert response.status_code == 200 and response.json()["path"] is None


@pytest.mark.parametrize("field", ["tier", "type", "content", "confidence", "metadata"])
async def test_patch_context_null_is_422(client: httpx.AsyncClient, field: str) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    created = await client.post(
        "/api/v1/contexts", json={"workspaceId": "ws", "type": "note", "content": "keep me"}
    )
    context_id = created.json()["id"]
    response = await client.patch(f"/api/v1/contexts/{context_id}", json={field: None})
    assert_error(response, 422, "VALIDATION_ERROR", field)
    assert (await client.get(f"/api/v1/contexts/{context_id}")).json() == created.json()
    cleared = await client.patch(f"/api/v1/contexts/{context_id}", json={"title": None})
    assert cleared.status_code == 200 and cleared.json()["title"] is None


# -- #19-10: deeply nested or oversized free-form JSON -------------------------------------


def _context_body(metadata: str) -> str:
    return '{"workspaceId":"ws","type":"note","content":"x","metadata":' + metadata + "}"


async def _contexts(client: httpx.AsyncClient, workspace: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/contexts", params={"workspaceId": workspace})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_metadata_at_the_depth_limit_is_stored_and_readable(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    body = {"workspaceId": "ws", "type": "note", "content": "x", "metadata": nested(MAX_DEPTH)}
    assert (await client.post("/api/v1/contexts", json=body)).status_code == 201
    [stored] = await _contexts(client, "ws")
    assert stored["metadata"] == nested(MAX_DEPTH)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 210, 255, 400, 900])
async def test_deep_context_metadata_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, depth: int
) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    body = _context_body(nested_text(depth))
    response = await client.post(
        "/api/v1/contexts", content=body, headers={"content-type": "application/json"}
    )
    assert_error(response, 422, "VALIDATION_ERROR", "metadata")
    assert "nested deeper than" in response.json()["error"]["details"][0]["message"]
    assert await _contexts(client, "ws") == []
    context = await client.post(
        "/api/v1/contexts", json={"workspaceId": "ws", "type": "note", "content": "y"}
    )
    patch = '{"metadata":' + nested_text(depth) + "}"
    response = await client.patch(
        f"/api/v1/contexts/{context.json()['id']}",
        content=patch,
        headers={"content-type": "application/json"},
    )
    assert_error(response, 422, "VALIDATION_ERROR", "metadata")
    [stored] = await _contexts(client, "ws")
    assert stored["metadata"] == {}


async def test_json_too_deep_to_parse_is_a_client_error(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    body = _context_body(nested_text(5000))
    response = await client.post(
        "/api/v1/contexts", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()
    assert await _contexts(client, "ws") == []


@pytest.mark.parametrize("method", ["post", "patch"])
async def test_deep_workspace_settings_are_refused(client: httpx.AsyncClient, method: str) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    settings = nested(MAX_DEPTH + 1)
    if method == "post":
        body = {"id": "deep", "name": "deep", "settings": settings}
        response = await client.post("/api/v1/workspaces", json=body)
    else:
        response = await client.patch("/api/v1/workspaces/ws", json={"settings": settings})
    assert_error(response, 422, "VALIDATION_ERROR", "settings")
    listed = (await client.get("/api/v1/workspaces")).json()["items"]
    assert [(w["id"], w["settings"]) for w in listed] == [("ws", {})]


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ({"k": "x" * (MAX_CHARS + 1)}, "characters"),
        ({"k": list(range(MAX_NODES))}, "values"),
        ({"k": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}, "nested"),
    ],
)
async def test_oversized_metadata_is_refused(
    client: httpx.AsyncClient, metadata: dict[str, Any], words: str
) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    body = {"workspaceId": "ws", "type": "note", "content": "x", "metadata": metadata}
    response = await client.post("/api/v1/contexts", json=body)
    assert_error(response, 422, "VALIDATION_ERROR", "metadata")
    assert words in response.json()["error"]["message"] + str(response.json()["error"]["details"])
    assert await _contexts(client, "ws") == []


async def test_search_filters_are_bounded(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    body = {"query": "x", "workspaceId": "ws", "filters": {f"k{i}": "v" for i in range(21)}}
    assert_error(
        await client.post("/api/v1/contexts/search", json=body), 422, "VALIDATION_ERROR", "filters"
    )
    body["filters"] = {"k": "v" * 1001}
    assert_error(
        await client.post("/api/v1/contexts/search", json=body),
        422,
        "VALIDATION_ERROR",
        "filters.k",
    )


# -- the document and the behaviour agree: a boolean is a boolean, a number a number -------

REQUEST_BODIES: list[type[BaseModel]] = [
    WorkspaceCreate,
    WorkspaceUpdate,
    ContextCreate,
    ContextUpdate,
    SupersedeBody,
    SearchBody,
    ScanRequest,
    GateRequest,
    PromptRequest,
    FeedbackRequest,
    ChatCompletionRequest,
    MessagesRequest,
]


def _leaves(tp: Any, strict: bool) -> typing.Iterator[tuple[Any, bool]]:
    """The leaf types of an annotation, each with whether a `Strict` applies to it."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(tp)
        yield from _leaves(base, strict or any(isinstance(m, Strict) and m.strict for m in meta))
    elif origin in (typing.Union, types.UnionType, list, dict, tuple):
        for arg in typing.get_args(tp):
            yield from _leaves(arg, strict)
    else:
        yield tp, strict


def _lax_scalars(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
    if model in seen:
        return []
    seen.add(model)
    lax: list[str] = []
    for name, info in model.model_fields.items():
        strict = any(isinstance(m, Strict) and m.strict for m in info.metadata)
        for leaf, leaf_strict in _leaves(info.annotation, strict):
            if leaf in (bool, int, float) and not leaf_strict:
                lax.append(f"{model.__name__}.{name}")
            elif isinstance(leaf, type) and issubclass(leaf, BaseModel):
                lax += _lax_scalars(leaf, seen)
    return lax


async def test_every_request_body_is_checked_for_strict_scalars(
    client: httpx.AsyncClient,
) -> None:
    spec = await _spec(client)
    documented = set()
    for path, _, op in _operations(spec):
        if "requestBody" in op and path != "/mcp":  # the MCP SDK validates its messages
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            refs = [schema, *schema.get("anyOf", [])]
            documented |= {r["$ref"].rsplit("/", 1)[1] for r in refs if "$ref" in r}
    # A new body model must join REQUEST_BODIES (and so the strictness check below).
    assert documented == {m.__name__ for m in REQUEST_BODIES}


def test_request_booleans_and_numbers_refuse_strings() -> None:
    """A JSON string is never taken for a boolean or a number (pydantic's lax mode
    would take "true" and "5"): the schema says boolean/integer/number, so must the
    validation."""
    seen: set[type[BaseModel]] = set()
    assert [f for m in REQUEST_BODIES for f in _lax_scalars(m, seen)] == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/prompts/process",
            {"prompt": "x", "workspaceId": "ws", "stream": "true"},
            "stream",
        ),
        (
            "/api/v1/prompts/process",
            {"prompt": "x", "workspaceId": "ws", "budget": "500"},
            "budget",
        ),
        ("/api/v1/contexts/search", {"query": "x", "workspaceId": "ws", "limit": "5"}, "limit"),
        (
            "/api/v1/contexts/search",
            {"query": "x", "workspaceId": "ws", "includeContent": 0},
            "includeContent",
        ),
        (
            "/api/v1/contexts",
            {"workspaceId": "ws", "type": "note", "content": "x", "confidence": "0.5"},
            "confidence",
        ),
        ("/api/v1/quality-gate/execute", {"workspaceId": "ws", "wait": "yes"}, "wait"),
        ("/api/v1/workspaces/ws/scan", {"full": 1}, "full"),
    ],
)
async def test_coerced_scalars_are_422(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    await client.post("/api/v1/workspaces", json={"id": "ws", "name": "ws"})
    assert_error(await client.post(path, json=body), 422, "VALIDATION_ERROR", field)
