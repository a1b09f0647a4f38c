"""Anthropic messages through the official SDK.

System messages become the `system` parameter; the remaining turns are merged so
roles alternate, as the messages API expects.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import anthropic
import httpx2  # the SDK's HTTP client

from axon.llm.failures import FailureKind, ProviderFailure, status_failure
from axon.llm.provider import HttpTimeouts, Reply, normalize_finish
from axon.llm.types import ChatChunk, ChatMessage, ChatRequest, Usage

# The API requires max_tokens; this applies when the caller sets no limit.
DEFAULT_MAX_TOKENS = 4096
# Error types Anthropic sends inside a stream that already answered 200.
_STREAM_ERROR_KINDS = {
    "overloaded_error": FailureKind.SERVER,
    "api_error": FailureKind.SERVER,
    "rate_limit_error": FailureKind.RATE_LIMIT,
    "authentication_error": FailureKind.AUTH,
    "permission_error": FailureKind.AUTH,
}


def sdk_failure(exc: Exception) -> ProviderFailure:
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderFailure(FailureKind.TIMEOUT, "the provider did not answer in time")
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderFailure(FailureKind.CONNECTION, f"connection failed: {exc}")
    if isinstance(exc, anthropic.APIStatusError):
        if exc.status_code == 200:  # an `error` event mid-stream
            body = exc.body if isinstance(exc.body, dict) else {}
            error = body.get("error")
            error = error if isinstance(error, dict) else {}
            kind = _STREAM_ERROR_KINDS.get(str(error.get("type")), FailureKind.SERVER)
            return ProviderFailure(kind, str(error.get("message") or exc.message))
        return status_failure(exc.status_code, exc.message, exc.response.headers)
    if isinstance(exc, anthropic.APIError):
        return ProviderFailure(FailureKind.SERVER, exc.message)
    # While streaming, the SDK lets its transport's errors and JSON errors through.
    if isinstance(exc, httpx2.TimeoutException):
        return ProviderFailure(FailureKind.TIMEOUT, "the provider stopped sending")
    if isinstance(exc, httpx2.TransportError):
        return ProviderFailure(FailureKind.CONNECTION, f"the stream broke: {exc!r}")
    return ProviderFailure(FailureKind.PROTOCOL, f"malformed response: {exc}")


def split_system(messages: tuple[ChatMessage, ...]) -> tuple[str | None, list[dict[str, str]]]:
    """System text joined into one parameter; consecutive same-role turns merged."""
    system = "\n\n".join(m.content for m in messages if m.role == "system") or None
    turns: list[dict[str, str]] = []
    for message in messages:
        if message.role == "system":
            continue
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] += "\n\n" + message.content
        else:
            turns.append({"role": message.role, "content": message.content})
    return system, turns


class AnthropicChat:
    name = "anthropic"

    def __init__(self, *, api_key: str, base_url: str | None, timeouts: HttpTimeouts) -> None:
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url or "https://api.anthropic.com",
            timeout=anthropic.Timeout(timeouts.read, connect=timeouts.connect),
            max_retries=0,
        )

    @staticmethod
    def _params(model: str, request: ChatRequest) -> dict[str, Any]:
        system, turns = split_system(request.messages)
        params: dict[str, Any] = {
            "model": model,
            "messages": turns,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        }  # no temperature: the messages API (SDK 2.x) no longer takes sampling parameters
        if system is not None:
            params["system"] = system
        return params

    async def complete(self, model: str, request: ChatRequest) -> Reply:
        try:
            message = await self._client.messages.create(
                **self._params(model, request), stream=False
            )
        except anthropic.APIError as exc:
            raise sdk_failure(exc) from exc
        text = "".join(block.text for block in message.content if block.type == "text")
        usage = Usage(message.usage.input_tokens, message.usage.output_tokens)
        return Reply(text, normalize_finish(message.stop_reason), usage)

    async def stream(self, model: str, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        try:
            stream = await self._client.messages.create(**self._params(model, request), stream=True)
        except anthropic.APIError as exc:
            raise sdk_failure(exc) from exc
        input_tokens: int | None = None
        output_tokens: int | None = None
        stop_reason: str | None = None
        finished = False
        try:
            async for event in stream:
                if event.type == "message_start":
                    input_tokens = event.message.usage.input_tokens
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    if event.delta.text:
                        yield ChatChunk(delta=event.delta.text)
                elif event.type == "message_delta":
                    output_tokens = event.usage.output_tokens
                    stop_reason = event.delta.stop_reason
                elif event.type == "message_stop":
                    finished = True
        except Exception as exc:
            raise sdk_failure(exc) from exc
        finally:
            await stream.close()
        if not finished:
            raise ProviderFailure(FailureKind.PROTOCOL, "the stream ended without message_stop")
        usage = None
        if input_tokens is not None and output_tokens is not None:
            usage = Usage(input_tokens, output_tokens)
        yield ChatChunk(finish_reason=normalize_finish(stop_reason), usage=usage)

    async def aclose(self) -> None:
        await self._client.close()
