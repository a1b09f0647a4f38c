"""OpenAI-compatible endpoints: `POST /v1/chat/completions` and `GET /v1/models`.

Unmodified OpenAI clients work against Axon's base URL: responses and stream
chunks have OpenAI's shapes (`chat.completion`, `chat.completion.chunk`,
`usage`, `[DONE]`) and errors OpenAI's (`api/dialects.py`). Axon's additions
ride beside them: the `X-Axon-Interaction-Id` header (for feedback), a `Warning`
header when the answer is degraded (retrieval failed: no context), and, in a
whole response, an `axon` field with the context report and `degraded`. Fields Axon does not
use (tools, response_format, seed, ...) and non-text content (images, tool
calls and results) go to the upstream as sent when it speaks OpenAI's wire.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from axon.api import compat
from axon.api.deps import PrincipalDep, ServicesDep
from axon.api.dialects import openai_error
from axon.api.rendering import json_response
from axon.api.responses import event_stream
from axon.api.sse import EventStreamResponse
from axon.errors import AxonError, InvalidInput, NotFound
from axon.llm.types import OPENAI_WIRE_PROVIDERS, ChatChunk, ChatMessage, ChatRequest
from axon.pipeline import Answer, Pipeline, Prepared
from axon.pipeline.types import Source
from axon.workspaces import all_workspaces

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MAX_MESSAGES = 1000
# Request fields Axon reads itself; every other field is passed to the upstream.
_OWN_FIELDS = {
    "model",
    "messages",
    "stream",
    "stream_options",
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "n",
}
_TEXT_ROLES = {"user", "assistant"}


class WireMessage(BaseModel):
    """One message as OpenAI's API takes it; fields beyond role and content are kept."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=300)
    messages: list[WireMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: StrictBool = False
    stream_options: dict[str, Any] | None = None
    temperature: StrictFloat | None = Field(default=None, ge=0, le=2)
    max_tokens: StrictInt | None = Field(default=None, ge=1)
    max_completion_tokens: StrictInt | None = Field(default=None, ge=1)
    n: StrictInt | None = Field(default=None, ge=1, le=1, description="only one choice is produced")


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorResponse(BaseModel):
    error: OpenAIErrorDetail


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str | None
    tool_calls: list[dict[str, Any]] | None = None


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: str
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage
    system_fingerprint: str | None = None
    axon: dict[str, Any] = Field(description="Axon's extension: interaction id, context report")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


_ERRORS = compat.error_responses(
    OpenAIErrorResponse, "missing or invalid API key", "invalid request (OpenAI's error shape)"
)


def _text_of(content: str | list[dict[str, Any]] | None) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "\n".join(
        str(part.get("text", "")) for part in content if part.get("type") == "text"
    ).strip()


def _needs_wire(body: ChatCompletionRequest) -> bool:
    """Whether the messages carry anything plain text cannot (images, tool calls)."""
    return any(
        m.role not in {"system", "developer", *_TEXT_ROLES}
        or not isinstance(m.content, str | None)
        or bool(m.model_extra)
        for m in body.messages
    )


def _conversation(body: ChatCompletionRequest) -> compat.Conversation:
    system = [_text_of(m.content) for m in body.messages if m.role in {"system", "developer"}]
    turns = [
        ChatMessage("user" if m.role == "user" else "assistant", _text_of(m.content))
        for m in body.messages
        if m.role in _TEXT_ROLES
    ]
    return compat.split_last_user_turn([s for s in system if s], turns)


def _wire_messages(body: ChatCompletionRequest, run: Prepared) -> tuple[dict[str, Any], ...]:
    """The client's messages as sent, after Axon's system prompt, with the last user
    turn's text replaced by the enriched request (its other parts kept)."""
    last = max(i for i, m in enumerate(body.messages) if m.role == "user")
    enriched = compat.enriched_prompt(run)
    messages: list[dict[str, Any]] = [{"role": "system", "content": run.prompt.system}]
    for index, message in enumerate(body.messages):
        wire = message.model_dump(exclude_none=True)
        if index == last:
            if isinstance(message.content, list):
                others = [p for p in message.content if p.get("type") != "text"]
                wire["content"] = [{"type": "text", "text": enriched}, *others]
            else:
                wire["content"] = enriched
        messages.append(wire)
    return tuple(messages)


def _chat_request(
    pipeline: Pipeline,
    run: Prepared,
    body: ChatCompletionRequest,
    conversation: compat.Conversation,
) -> ChatRequest:
    extra = {k: v for k, v in (body.model_extra or {}).items() if k not in _OWN_FIELDS}
    wire = _needs_wire(body)
    if extra or wire:
        provider = pipeline.services.llm.provider_for(run.collected.request.model)
        if provider not in OPENAI_WIRE_PROVIDERS:
            what = ", ".join(sorted(extra)) or "non-text messages"
            raise InvalidInput.field(
                next(iter(sorted(extra)), "messages"),
                f"the upstream provider '{provider}' cannot take {what}; "
                "choose an OpenAI or OpenAI-compatible model",
            )
    base = pipeline.chat_request(run)
    limit = body.max_completion_tokens or body.max_tokens
    return replace(
        base,
        messages=compat.enriched_messages(run, conversation),
        temperature=base.temperature if body.temperature is None else body.temperature,
        max_tokens=limit,
        wire_messages=_wire_messages(body, run) if wire else None,
        extra=extra,
    )


def _usage(answer: Answer, run: Prepared) -> CompletionUsage:
    prompt = answer.usage.input_tokens or run.prompt.tokens
    completion = answer.usage.output_tokens
    return CompletionUsage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def _extension(run: Prepared, answer: Answer) -> dict[str, Any]:
    return {
        "interactionId": run.interaction_id,
        "workspaceId": run.collected.workspace.id,
        "workspaceCreated": run.collected.workspace_created,
        "provider": answer.provider,
        "model": answer.model,
        "context": run.context.report.dump(),
        "latency": dict(run.latency),
        "degraded": [d.dump() for d in run.degraded],
    }


@router.post(
    "/chat/completions",
    response_model=None,
    responses={
        200: {
            "model": ChatCompletion,
            "description": "a chat.completion, or with `stream: true` chat.completion.chunk "
            "events ending in `data: [DONE]`",
            "content": event_stream(),
        },
        **_ERRORS,
    },
)
async def chat_completions(
    body: ChatCompletionRequest,
    services: ServicesDep,
    principal: PrincipalDep,
    x_axon_workspace: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """OpenAI's chat completions, with the workspace's context injected into the last
    user turn. The interaction id comes back in the `X-Axon-Interaction-Id` header."""
    selection = compat.select(body.model, x_axon_workspace)
    conversation = _conversation(body)
    pipeline = services.pipeline
    run = await compat.prepare(pipeline, selection, conversation, Source.OPENAI, principal)
    request = _chat_request(pipeline, run, body, conversation)
    if body.stream:
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        parts = pipeline.stream(run, request)
        first = await compat.first_part(pipeline, run, parts)
        events = _chunks(pipeline, run, body.model, first, parts, include_usage)
        # The first token is in hand, so its chunk is made now and written with the headers.
        stream = EventStreamResponse(events, ready=await anext(events))
        stream.headers.update(compat.response_headers(run))
        return stream
    answer = await compat.complete(pipeline, run, request)
    completion = ChatCompletion(
        id=f"chatcmpl-{run.interaction_id}",
        object="chat.completion",
        created=int(time.time()),
        model=body.model,
        choices=[
            Choice(
                index=0,
                message=AssistantMessage(
                    role="assistant",
                    content=answer.text if answer.text or not answer.tool_calls else None,
                    tool_calls=[dict(c) for c in answer.tool_calls] or None,
                ),
                finish_reason=answer.finish_reason,
            )
        ],
        usage=_usage(answer, run),
        axon=_extension(run, answer),
    )
    response = json_response(completion.model_dump(exclude_none=True))
    response.headers.update(compat.response_headers(run))
    return response


def _data(payload: dict[str, Any] | str) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


async def _chunks(
    pipeline: Pipeline,
    run: Prepared,
    model: str,
    first: str | ChatChunk | Answer,
    parts: AsyncGenerator[str | ChatChunk | Answer, None],
    include_usage: bool,
) -> AsyncIterator[bytes]:
    head = {
        "id": f"chatcmpl-{run.interaction_id}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return _data({**head, "choices": [choice]})

    # The role chunk goes out in the same write as the first token (or whatever comes
    # first): one wake-up of the client less before its first token.
    role = chunk({"role": "assistant", "content": ""})
    answer: Answer | None = None
    try:
        part = first
        while True:
            if isinstance(part, Answer):
                answer = part
                break
            if isinstance(part, str):
                yield role + chunk({"content": part})
            else:
                yield role + chunk({"tool_calls": [dict(c) for c in part.tool_calls]})
            role = b""
            part = await anext(parts)
        await pipeline.finish(run, answer)
    except AxonError as exc:
        yield role + _data(openai_error(exc.status, exc.code, exc.message, exc.details)[1])
        return
    finally:
        await parts.aclose()
    if answer.error is not None:  # broke mid-answer: stored with the partial text
        err = answer.error
        yield role + _data(openai_error(err.status, err.code, err.message, err.details)[1])
        return
    yield role + chunk({}, answer.finish_reason)
    if include_usage:
        usage = _usage(answer, run).model_dump()
        yield _data({**head, "choices": [], "usage": usage})
    yield _data("[DONE]")


@router.get("/models", responses=_ERRORS)
async def models(services: ServicesDep, principal: PrincipalDep) -> ModelList:
    """One `axon/<workspace>` model per workspace the caller may use."""
    cards = [
        _card(workspace.id, int(workspace.created_at.timestamp()))
        for workspace in await all_workspaces(services.store)
        if principal.can_access(workspace.id)
    ]
    return ModelList(object="list", data=cards)


@router.get("/models/{model_id:path}", responses=_ERRORS)
async def model(model_id: str, services: ServicesDep, principal: PrincipalDep) -> ModelCard:
    selection = compat.select(model_id, None)
    workspace = await services.store.get_workspace(selection.workspace_id)
    if workspace is None or not principal.can_access(workspace.id):
        raise NotFound(f"model '{model_id}' not found", code="MODEL_NOT_FOUND")
    return _card(workspace.id, int(workspace.created_at.timestamp()))


def _card(workspace_id: str, created: int) -> ModelCard:
    return ModelCard(
        id=f"{compat.MODEL_PREFIX}/{workspace_id}", object="model", created=created, owned_by="axon"
    )
