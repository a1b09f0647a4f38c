"""What the API answers, as models: the error body and the responses routes share.

Every route names its success model (`response_model=`) and the errors only it can
give (`responses=errors(404, 409)`); the errors that middleware gives on every route
(400 bad JSON, 401/403 auth, 413/415 bodies, 422 validation, 429 limits) are added
to the OpenAPI document in one place, `api/openapi.py`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from axon.models import CamelModel, Context, Interaction, Job, Workspace
from axon.ports import EmbeddingStatus


class ErrorDetail(BaseModel):
    """One problem, usually with one field (`field` is dotted: `settings.theme`)."""

    # Some errors add context (e.g. `type`, the validation rule, or `suggestions`).
    model_config = ConfigDict(extra="allow")

    field: str
    message: str


class ErrorInfo(CamelModel):
    code: str = Field(description="stable machine-readable code, e.g. WORKSPACE_NOT_FOUND")
    message: str
    details: list[ErrorDetail]
    request_id: str | None = Field(description="the X-Request-Id of the request")
    status: int = Field(description="the HTTP status, repeated")


class ErrorBody(BaseModel):
    """`{"error": {code, message, details, requestId, status}}`: every error on /api/v1."""

    error: ErrorInfo


ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON, a header is malformed, or the Host is not served here",
    401: "No API key, or an invalid, expired or revoked one",
    402: "The API key's LLM budget is spent",
    403: "The API key lacks the scope or the workspace, or a foreign Origin tried a change",
    404: "The resource does not exist",
    409: "The request conflicts with the current state",
    413: "The body exceeds AXON_MAX_BODY_BYTES",
    415: "The body is not application/json",
    422: "A field is missing or invalid; `details` names each field",
    429: "A rate limit, or the client's failed authentications, is spent; "
    "retry after `Retry-After` seconds",
    502: "The model provider failed",
    503: "A backend or the model provider is unavailable",
    504: "The model provider did not answer in time",
}


def event_stream(events: tuple[str, ...] = (), *, with_ids: bool = False) -> dict[str, Any]:
    """The `text/event-stream` content of a streaming route: each event has `data`
    (one line of JSON) and, when the stream names its events, `event` (and `id` where
    it numbers them)."""
    properties: dict[str, Any] = {
        "data": {"type": "string", "contentMediaType": "application/json"}
    }
    required = ["data"]
    if events:
        properties["event"] = {"type": "string", "enum": list(events)}
        required.append("event")
    if with_ids:
        properties["id"] = {"type": "string"}
        required.append("id")
    schema = {"type": "object", "properties": properties, "required": required}
    return {"text/event-stream": {"schema": schema}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status answered with the error body."""
    return {
        status: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }


class WorkspaceList(CamelModel):
    items: list[Workspace]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class ContextList(CamelModel):
    items: list[Context]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class ContextHistory(BaseModel):
    """A supersede chain, oldest version first."""

    items: list[Context]


class JobList(CamelModel):
    items: list[Job]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class InteractionList(CamelModel):
    items: list[Interaction]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class EmbeddingCounts(BaseModel):
    """Of a workspace's indexed contexts: with their vector, waiting for it, and both."""

    done: int
    pending: int
    total: int

    @classmethod
    def of(cls, status: EmbeddingStatus) -> EmbeddingCounts:
        return cls(done=status.done, pending=status.pending, total=status.done + status.pending)


class WorkspaceView(Workspace):
    """One workspace, with the embedding progress read from its search index."""

    embeddings: EmbeddingCounts
