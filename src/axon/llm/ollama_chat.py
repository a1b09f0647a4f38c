"""Ollama's native chat API (/api/chat): JSON, or NDJSON lines when streaming."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from axon.llm.failures import FailureKind, ProviderFailure, status_failure
from axon.llm.provider import HttpTimeouts, Reply, normalize_finish
from axon.llm.types import ChatChunk, ChatRequest, Usage


def _transport_failure(exc: httpx.HTTPError, base_url: str) -> ProviderFailure:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderFailure(FailureKind.TIMEOUT, f"Ollama at {base_url} did not answer in time")
    if isinstance(exc, httpx.ConnectError):
        # Nothing was sent: the usual cause is that Ollama is not running there.
        return ProviderFailure(
            FailureKind.CONNECTION,
            f"cannot reach Ollama at {base_url} (OLLAMA_BASE_URL): {exc or 'connection refused'}",
        )
    return ProviderFailure(FailureKind.CONNECTION, f"connection to Ollama failed: {exc!r}")


def _error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:200] or "no message"
    return str(data.get("error", data)) if isinstance(data, dict) else str(data)


def _usage(data: dict[str, Any]) -> Usage | None:
    # Ollama leaves prompt_eval_count out when the prompt was cached; then we estimate.
    prompt, output = data.get("prompt_eval_count"), data.get("eval_count")
    if isinstance(prompt, int) and isinstance(output, int):
        return Usage(prompt, output)
    return None


def _parse(line: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise ProviderFailure(FailureKind.PROTOCOL, f"malformed response line: {exc}") from exc
    if not isinstance(data, dict):
        raise ProviderFailure(FailureKind.PROTOCOL, "a response line is not a JSON object")
    if "error" in data:
        raise ProviderFailure(FailureKind.SERVER, f"Ollama: {data['error']}")
    return data


def _text(data: dict[str, Any]) -> str:
    message = data.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


class OllamaChat:
    name = "ollama"

    def __init__(self, *, base_url: str, timeouts: HttpTimeouts) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect),
        )

    @staticmethod
    def _body(model: str, request: ChatRequest, stream: bool) -> dict[str, Any]:
        options: dict[str, Any] = {"temperature": request.temperature}
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        return {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "stream": stream,
            "options": options,
        }

    async def complete(self, model: str, request: ChatRequest) -> Reply:
        try:
            response = await self._client.post("/api/chat", json=self._body(model, request, False))
        except httpx.HTTPError as exc:
            raise _transport_failure(exc, self.base_url) from exc
        if response.status_code != 200:
            raise status_failure(
                response.status_code, _error_message(response.content), response.headers
            )
        data = _parse(response.text)
        return Reply(_text(data), normalize_finish(data.get("done_reason")), _usage(data))

    async def stream(self, model: str, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        body = self._body(model, request, True)
        try:
            async with self._client.stream("POST", "/api/chat", json=body) as response:
                if response.status_code != 200:
                    raw = await response.aread()
                    raise status_failure(
                        response.status_code, _error_message(raw), response.headers
                    )
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    data = _parse(line)
                    if text := _text(data):
                        yield ChatChunk(delta=text)
                    if data.get("done"):
                        finish = normalize_finish(data.get("done_reason"))
                        yield ChatChunk(finish_reason=finish, usage=_usage(data))
                        return
        except httpx.HTTPError as exc:
            raise _transport_failure(exc, self.base_url) from exc
        raise ProviderFailure(FailureKind.PROTOCOL, "the stream ended without done")

    async def aclose(self) -> None:
        await self._client.aclose()
