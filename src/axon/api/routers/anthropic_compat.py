"""Anthropic-compatible endpoint: `POST /v1/messages`, whole or streamed.

Clients that take an Anthropic base URL work against Axon: the response is a
Messages API `message`, a stream has its event names (message_start,
content_block_start, ping, content_block_delta, content_block_stop,
message_delta, message_stop) and errors Anthropic's shape. The workspace is
chosen as on the OpenAI endpoint (`api/compat.py`); the answer comes from
whichever upstream the gateway routes to. Text conversations only: content
blocks other than text and fields such as tools are refused with a clear 400
rather than dropped. Axon's additions are those of the OpenAI endpoint: the
`X-Axon-Interaction-Id` and, when degraded, `Warning` headers, and an `axon` field
in a whole message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from axon.api import compat
from axon.api.deps import PrincipalDep, ServicesDep
from axon.api.dialects import anthropic_error
from axon.api.rendering import json_response
from axon.api.responses import event_stream
from axon.api.sse import EventStreamResponse
from axon.errors import AxonError, InvalidInput
from axon.llm.types import ChatChunk, ChatMessage
from axon.pipeline import Answer, Pipeline, Prepared
from axon.pipeline.types import Source

router = APIRouter(prefix="/v1", tags=["anthropic-compatible"])

MAX_MESSAGES = 1000
# Fields a client may send that change nothing here.
_IGNORED_FIELDS = {"metadata"}
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


class Block(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=64)
    text: str | None = None


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str | list[Block]


class MessagesRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=300)
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
    max_tokens: StrictInt = Field(ge=1)
    system: str | list[Block] | None = None
    stream: StrictBool = False
    temperature: StrictFloat | None = Field(default=None, ge=0, le=1)


class AnthropicErrorDetail(BaseModel):
    type: str
    message: str


class AnthropicErrorResponse(BaseModel):
    type: Literal["error"]
    error: AnthropicErrorDetail


class TextBlock(BaseModel):
    type: Literal["text"]
    text: str


class MessageUsage(BaseModel):
    input_tokens: int
    output_tokens: int


class MessageResponse(BaseModel):
    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[TextBlock]
    stop_reason: str
    stop_sequence: str | None = None
    usage: MessageUsage
    axon: dict[str, Any] = Field(description="Axon's extension: interaction id, context report")


_ERRORS = compat.error_responses(
    AnthropicErrorResponse,
    "missing or invalid API key (x-api-key or Authorization: Bearer)",
    "invalid request (Anthropic's error shape)",
)


def _text(content: str | list[Block], field: str) -> str:
    if isinstance(content, str):
        return content
    others = sorted({b.type for b in content if b.type != "text"})
    if others:
        raise InvalidInput.field(
            field, f"only text content blocks are supported here, not {', '.join(others)}"
        )
    return "\n".join(b.text or "" for b in content)


def _conversation(body: MessagesRequest) -> compat.Conversation:
    extra = sorted(set(body.model_extra or {}) - _IGNORED_FIELDS)
    if extra:
        raise InvalidInput.field(
            extra[0], f"not supported on Axon's /v1/messages: {', '.join(extra)}"
        )
    system = [] if body.system is None else [_text(body.system, "system")]
    turns = [
        ChatMessage(m.role, _text(m.content, f"messages.{i}.content"))
        for i, m in enumerate(body.messages)
    ]
    return compat.split_last_user_turn([s for s in system if s.strip()], turns)


def _usage(answer: Answer, run: Prepared) -> MessageUsage:
    return MessageUsage(
        input_tokens=answer.usage.input_tokens or run.prompt.tokens,
        output_tokens=answer.usage.output_tokens,
    )


def _stop_reason(finish: str) -> str:
    return _STOP_REASONS.get(finish, finish)


_STREAM_EVENTS = (
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
)


@router.post(
    "/messages",
    response_model=None,
    responses={
        200: {
            "model": MessageResponse,
            "description": "a message, or with `stream: true` the Messages API's events",
            "content": event_stream(_STREAM_EVENTS),
        },
        **_ERRORS,
    },
)
async def messages(
    body: MessagesRequest,
    services: ServicesDep,
    principal: PrincipalDep,
    x_axon_workspace: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Anthropic's Messages API, with the workspace's context injected into the last
    user turn. The interaction id comes back in the `X-Axon-Interaction-Id` header."""
    selection = compat.select(body.model, x_axon_workspace)
    conversation = _conversation(body)
    pipeline = services.pipeline
    run = await compat.prepare(pipeline, selection, conversation, Source.ANTHROPIC, principal)
    base = pipeline.chat_request(run)
    request = replace(
        base,
        messages=compat.enriched_messages(run, conversation),
        max_tokens=body.max_tokens,
        temperature=base.temperature if body.temperature is None else body.temperature,
    )
    if body.stream:
        parts = pipeline.stream(run, request)
        first = await compat.first_part(pipeline, run, parts)
        stream = EventStreamResponse(_events(pipeline, run, body.model, first, parts))
        stream.headers.update(compat.response_headers(run))
        return stream
    answer = await compat.complete(pipeline, run, request)
    message = MessageResponse(
        id=f"msg_{run.interaction_id}",
        type="message",
        role="assistant",
        model=body.model,
        content=[TextBlock(type="text", text=answer.text or "")],
        stop_reason=_stop_reason(answer.finish_reason),
        usage=_usage(answer, run),
        axon={
            "interactionId": run.interaction_id,
            "workspaceId": run.collected.workspace.id,
            "provider": answer.provider,
            "model": answer.model,
            "context": run.context.report.dump(),
            "latency": dict(run.latency),
            "degraded": [d.dump() for d in run.degraded],
        },
    )
    response = json_response(message.model_dump())
    response.headers.update(compat.response_headers(run))
    return response


def _event(name: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps({"type": name, **data}, separators=(",", ":"))
    return f"event: {name}\ndata: {payload}\n\n".encode()


async def _events(
    pipeline: Pipeline,
    run: Prepared,
    model: str,
    first: str | ChatChunk | Answer,
    parts: AsyncGenerator[str | ChatChunk | Answer, None],
) -> AsyncIterator[bytes]:
    start: dict[str, Any] = {
        "id": f"msg_{run.interaction_id}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": run.prompt.tokens, "output_tokens": 0},
    }
    # The opening events go out in the same write as the first token (or whatever comes
    # first): fewer wake-ups of the client before its first token.
    opening = (
        _event("message_start", {"message": start})
        + _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        + _event("ping", {})
    )
    answer: Answer | None = None
    try:
        part = first
        while not isinstance(part, Answer):
            if isinstance(part, str):
                text = {"type": "text_delta", "text": part}
                yield opening + _event("content_block_delta", {"index": 0, "delta": text})
                opening = b""
            part = await anext(parts)
        answer = part
        await pipeline.finish(run, answer)
    except AxonError as exc:
        yield opening + _event("error", anthropic_error(exc.status, exc.code, exc.message, [])[1])
        return
    finally:
        await parts.aclose()
    if answer.error is not None:  # broke mid-answer: stored with the partial text
        err = answer.error
        yield opening + _event("error", anthropic_error(err.status, err.code, err.message, [])[1])
        return
    yield opening + _event("content_block_stop", {"index": 0})
    delta = {"stop_reason": _stop_reason(answer.finish_reason), "stop_sequence": None}
    yield _event(
        "message_delta",
        {"delta": delta, "usage": {"output_tokens": _usage(answer, run).output_tokens}},
    )
    yield _event("message_stop", {})
