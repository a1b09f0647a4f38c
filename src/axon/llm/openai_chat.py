"""OpenAI chat completions through the official SDK; also any OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from axon.llm.failures import FailureKind, ProviderFailure, status_failure
from axon.llm.provider import HttpTimeouts, Reply, normalize_finish
from axon.llm.types import ChatChunk, ChatRequest, Usage

# A placeholder: local servers ignore the key, but the SDK refuses to run without one.
_NO_KEY = "not-needed"
_PATH = "/chat/completions"


def sdk_failure(exc: Exception) -> ProviderFailure:
    """The SDK's exception (or a decode error while streaming) as a ProviderFailure."""
    if isinstance(exc, openai.APITimeoutError):
        return ProviderFailure(FailureKind.TIMEOUT, "the provider did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderFailure(FailureKind.CONNECTION, f"connection failed: {exc}")
    if isinstance(exc, openai.APIStatusError):
        return status_failure(exc.status_code, exc.message, exc.response.headers)
    if isinstance(exc, openai.APIError):
        # An error object inside a stream that already answered 200.
        return ProviderFailure(FailureKind.SERVER, exc.message)
    return ProviderFailure(FailureKind.PROTOCOL, f"malformed response: {exc}")


class OpenAIChat:
    def __init__(
        self,
        name: str,
        *,
        api_key: str | None,
        base_url: str | None,
        timeouts: HttpTimeouts,
        organization: str | None = None,
    ) -> None:
        self.name = name
        # max_retries=0: the gateway retries, with its own backoff, breaker and fallback.
        self._client = openai.AsyncOpenAI(
            api_key=api_key or _NO_KEY,
            base_url=base_url or "https://api.openai.com/v1",
            organization=organization,
            timeout=openai.Timeout(timeouts.read, connect=timeouts.connect),
            max_retries=0,
        )
        # OpenAI's own API wants max_completion_tokens; compatible servers know max_tokens.
        self._max_tokens_field = "max_completion_tokens" if name == "openai" else "max_tokens"

    def _params(self, model: str, request: ChatRequest) -> dict[str, Any]:
        messages: list[Any] = (
            [dict(m) for m in request.wire_messages]
            if request.wire_messages is not None
            else [{"role": m.role, "content": m.content} for m in request.messages]
        )
        params: dict[str, Any] = {
            **request.extra,
            "model": model,
            "messages": messages,
            "temperature": request.temperature,
        }
        if request.max_tokens is not None:
            params[self._max_tokens_field] = request.max_tokens
        return params

    # Both calls go through the SDK's own request method rather than `create()`, which
    # first re-walks the whole body against its typed-dict declarations: for chat
    # parameters an identity transform (none declares an alias or a format), but 0.4 ms
    # idle and a few ms under load on each first token's path (bench/README.md, "Copilot
    # proxy TTFT"). The SDK still builds, authenticates and sends the request, maps the
    # errors and parses the stream; fields Axon passes through reach the upstream as sent.
    async def complete(self, model: str, request: ChatRequest) -> Reply:
        try:
            response = await self._client.post(
                _PATH,
                body={**self._params(model, request), "stream": False},
                cast_to=ChatCompletion,
                options={"security": {"bearer_auth": True}},
            )
        except openai.APIError as exc:
            raise sdk_failure(exc) from exc
        if not response.choices:
            raise ProviderFailure(FailureKind.PROTOCOL, "the response has no choices")
        choice = response.choices[0]
        usage = None
        if response.usage is not None:
            usage = Usage(response.usage.prompt_tokens, response.usage.completion_tokens)
        calls = tuple(c.model_dump(exclude_none=True) for c in choice.message.tool_calls or ())
        return Reply(
            choice.message.content or "", normalize_finish(choice.finish_reason), usage, calls
        )

    async def stream(self, model: str, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        try:
            stream = await self._client.post(
                _PATH,
                body={
                    **self._params(model, request),
                    "stream": True,
                    "stream_options": {"include_usage": True},
                },
                cast_to=ChatCompletion,
                stream=True,
                stream_cls=openai.AsyncStream[ChatCompletionChunk],
                options={"security": {"bearer_auth": True}},
            )
        except openai.APIError as exc:
            raise sdk_failure(exc) from exc
        finish: str | None = None
        usage: Usage | None = None
        try:
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices[:1]:
                    if choice.delta is not None and choice.delta.content:
                        yield ChatChunk(delta=choice.delta.content)
                    if choice.delta is not None and choice.delta.tool_calls:
                        calls = choice.delta.tool_calls
                        yield ChatChunk(tool_calls=tuple(c.model_dump() for c in calls))
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except Exception as exc:
            raise sdk_failure(exc) from exc
        finally:
            await stream.close()
        if finish is None:
            raise ProviderFailure(FailureKind.PROTOCOL, "the stream ended without a finish")
        yield ChatChunk(finish_reason=normalize_finish(finish), usage=usage)

    async def aclose(self) -> None:
        await self._client.close()
