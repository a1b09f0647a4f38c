"""A scriptable fake LLM server speaking three wire protocols.

- OpenAI chat completions at /v1/chat/completions (and /compat/v1/... for a second,
  "OpenAI-compatible" server): JSON, or SSE `data:` chunks ending in [DONE].
- Anthropic messages at /v1/messages: JSON, or SSE with typed events.
- Ollama chat at /api/chat: JSON, or NDJSON lines ending with `done: true`.

Each API has a queue of `Step`s; a request takes the next one (or answers normally
when the queue is empty). Every request is recorded with how it ended, so a test
can prove for instance that the client closed the connection mid-stream.

Run standalone (for benchmarks): python -m tests.fakes.llm_server --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from tests import servers

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_TEXT = "Hello from the fake model."
ROUTES = {
    "/v1/chat/completions": "openai",
    "/compat/v1/chat/completions": "compat",
    "/v1/messages": "anthropic",
    "/api/chat": "ollama",
}


@dataclass
class Step:
    """What the fake does with one request."""

    status: int = 200
    text: str = DEFAULT_TEXT
    delay: float = 0.0  # before the response starts
    chunk_delay: float = 0.0  # between streamed chunks
    retry_after: str | None = None  # Retry-After header on an error status
    break_after: int | None = None  # streamed: drop the connection after N text chunks
    malformed_after: int | None = None  # streamed: send an unparseable chunk after N
    error_after: int | None = None  # streamed: send the protocol's in-band error after N
    stall_after: int | None = None  # streamed: go silent for `stall` seconds after N
    stall: float = 0.0
    usage: bool = True  # report token usage
    input_tokens: int = 42
    message: str = "scripted failure"
    # OpenAI wire: answer with these tool calls (finish_reason "tool_calls")
    tool_calls: list[dict[str, Any]] | None = None


@dataclass
class Seen:
    api: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    outcome: str = "pending"  # completed | disconnected | broken | error


class _Drop(Exception):
    """Raised inside the app to make uvicorn drop the connection mid-body."""


def chunks_of(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


@dataclass
class FakeLLMServer:
    port: int = field(default_factory=servers.free_port)
    _scripts: dict[str, deque[Step]] = field(default_factory=dict)
    _seen: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    # -- scripting and inspection (thread-safe: the server runs in its own thread) ----
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, api: str, *steps: Step) -> None:
        assert api in ROUTES.values(), api
        with self._lock:
            self._scripts.setdefault(api, deque()).extend(steps)

    def seen(self, api: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self._seen if api is None or s.api == api]

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._seen.clear()

    def wait_for_outcome(self, seen: Seen, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while seen.outcome == "pending" and time.monotonic() < deadline:
            time.sleep(0.01)
        return seen.outcome

    def _next(self, api: str) -> Step:
        with self._lock:
            queue = self._scripts.get(api)
            return queue.popleft() if queue else Step()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> FakeLLMServer:
        config = uvicorn.Config(
            self,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        servers.wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- ASGI --------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        api = ROUTES.get(scope["path"])
        if api is None or scope["method"] != "POST":
            await _json(send, 404, {"error": f"no route {scope['path']}"})
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        body = json.loads(raw or b"{}")
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        seen = Seen(api, body, headers, time.monotonic())
        with self._lock:
            self._seen.append(seen)
        step = self._next(api)
        if step.delay:
            await asyncio.sleep(step.delay)
        protocol = _PROTOCOLS[api]
        if step.status != 200:
            extra = {"retry-after": step.retry_after} if step.retry_after else {}
            await _json(send, step.status, protocol.error(step.status, step.message), extra)
            seen.outcome = "error"
            return
        if not body.get("stream"):
            await _json(send, 200, protocol.whole(body, step))
            seen.outcome = "completed"
            return
        await _stream(seen, protocol, body, step, receive, send)


async def _json(
    send: Send, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
) -> None:
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _stream(
    seen: Seen, protocol: _Protocol, body: dict[str, Any], step: Step, receive: Receive, send: Send
) -> None:
    gone = asyncio.Event()

    async def listen() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    listener = asyncio.create_task(listen())
    content_type = b"application/x-ndjson" if protocol is _OLLAMA else b"text/event-stream"
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", content_type)],
            }
        )
        for part in protocol.stream(body, step):
            if gone.is_set():
                seen.outcome = "disconnected"
                return
            if part is _DROP:
                seen.outcome = "broken"
                raise _Drop("scripted connection drop")
            if part is _STALL:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(gone.wait(), step.stall)
                continue
            try:
                await send({"type": "http.response.body", "body": part, "more_body": True})
            except OSError:
                seen.outcome = "disconnected"
                return
            if step.chunk_delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(gone.wait(), step.chunk_delay)
        await send({"type": "http.response.body", "body": b""})
        seen.outcome = "completed"
    finally:
        listener.cancel()


_DROP = b"<drop>"
_STALL = b"<stall>"


class _Protocol(ABC):
    @abstractmethod
    def error(self, status: int, message: str) -> dict[str, Any]: ...

    @abstractmethod
    def whole(self, body: dict[str, Any], step: Step) -> dict[str, Any]: ...

    def stream(self, body: dict[str, Any], step: Step) -> list[bytes]:
        """The body parts in order; _DROP where the connection is to be dropped."""
        parts: list[bytes] = []
        pieces = chunks_of(step.text)
        for i, piece in enumerate(pieces):
            for after, special in (
                (step.break_after, _DROP),
                (step.malformed_after, self.malformed()),
                (step.error_after, self.in_band_error(step.message)),
            ):
                if after == i:
                    return [*self.opening(body), *parts, special]
            if step.stall_after == i:
                parts.append(_STALL)
            parts.append(self.delta(body, piece))
        return [*self.opening(body), *parts, *self.closing(body, step, len(pieces))]

    def opening(self, body: dict[str, Any]) -> list[bytes]:
        return []

    @abstractmethod
    def delta(self, body: dict[str, Any], text: str) -> bytes: ...

    @abstractmethod
    def closing(self, body: dict[str, Any], step: Step, n: int) -> list[bytes]: ...

    @abstractmethod
    def malformed(self) -> bytes: ...

    @abstractmethod
    def in_band_error(self, message: str) -> bytes: ...


def _sse(data: dict[str, Any] | str, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "").encode() + f"data: {text}\n\n".encode()


class _OpenAIProtocol(_Protocol):
    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status, "server_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": kind}}

    def _usage(self, step: Step, n: int) -> dict[str, int]:
        return {
            "prompt_tokens": step.input_tokens,
            "completion_tokens": n,
            "total_tokens": step.input_tokens + n,
        }

    def whole(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        reply: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "?"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls" if step.tool_calls else "stop",
                    "message": {"role": "assistant", "content": step.text},
                }
            ],
        }
        if step.tool_calls:
            reply["choices"][0]["message"]["tool_calls"] = step.tool_calls
        if step.usage:
            reply["usage"] = self._usage(step, len(chunks_of(step.text)))
        return reply

    def _chunk(self, body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> bytes:
        return _sse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": body.get("model", "?"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    def opening(self, body: dict[str, Any]) -> list[bytes]:
        return [self._chunk(body, {"role": "assistant", "content": ""}, None)]

    def delta(self, body: dict[str, Any], text: str) -> bytes:
        return self._chunk(body, {"content": text}, None)

    def closing(self, body: dict[str, Any], step: Step, n: int) -> list[bytes]:
        parts = [self._chunk(body, {}, "stop")]
        if step.tool_calls:
            calls = [{"index": i, **call} for i, call in enumerate(step.tool_calls)]
            parts = [
                self._chunk(body, {"tool_calls": calls}, None),
                self._chunk(body, {}, "tool_calls"),
            ]
        if step.usage and (body.get("stream_options") or {}).get("include_usage"):
            parts.append(
                _sse(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": body.get("model", "?"),
                        "choices": [],
                        "usage": self._usage(step, n),
                    }
                )
            )
        return [*parts, _sse("[DONE]")]

    def malformed(self) -> bytes:
        return b'data: {"choices": [{"delta": \n\n'

    def in_band_error(self, message: str) -> bytes:
        return _sse({"error": {"message": message, "type": "server_error"}})


class _AnthropicProtocol(_Protocol):
    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = {401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}
        return {
            "type": "error",
            "error": {"type": kind.get(status, "api_error"), "message": message},
        }

    def whole(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "?"),
            "content": [{"type": "text", "text": step.text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": step.input_tokens,
                "output_tokens": len(chunks_of(step.text)),
            },
        }

    def opening(self, body: dict[str, Any]) -> list[bytes]:
        start = {
            "type": "message_start",
            "message": {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "?"),
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 42, "output_tokens": 1},
            },
        }
        block = {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        }
        return [
            _sse(start, "message_start"),
            _sse(block, "content_block_start"),
            _sse({"type": "ping"}, "ping"),
        ]

    def delta(self, body: dict[str, Any], text: str) -> bytes:
        return _sse(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            },
            "content_block_delta",
        )

    def closing(self, body: dict[str, Any], step: Step, n: int) -> list[bytes]:
        return [
            _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
            _sse(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": n},
                },
                "message_delta",
            ),
            _sse({"type": "message_stop"}, "message_stop"),
        ]

    def malformed(self) -> bytes:
        return b'event: content_block_delta\ndata: {"type": "content_block_delta", \n\n'

    def in_band_error(self, message: str) -> bytes:
        return _sse(
            {"type": "error", "error": {"type": "overloaded_error", "message": message}}, "error"
        )


class _OllamaProtocol(_Protocol):
    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"error": message}

    def _final(self, body: dict[str, Any], step: Step, content: str, n: int) -> dict[str, Any]:
        final: dict[str, Any] = {
            "model": body.get("model", "?"),
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": content},
            "done": True,
            "done_reason": "stop",
            "total_duration": 1000,
        }
        if step.usage:
            final.update(prompt_eval_count=step.input_tokens, eval_count=n)
        return final

    def whole(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        return self._final(body, step, step.text, len(chunks_of(step.text)))

    def delta(self, body: dict[str, Any], text: str) -> bytes:
        line = {
            "model": body.get("model", "?"),
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": text},
            "done": False,
        }
        return json.dumps(line).encode() + b"\n"

    def closing(self, body: dict[str, Any], step: Step, n: int) -> list[bytes]:
        return [json.dumps(self._final(body, step, "", n)).encode() + b"\n"]

    def malformed(self) -> bytes:
        return b'{"model": "x", "message": \n'

    def in_band_error(self, message: str) -> bytes:
        return json.dumps({"error": message}).encode() + b"\n"


_OPENAI, _ANTHROPIC, _OLLAMA = _OpenAIProtocol(), _AnthropicProtocol(), _OllamaProtocol()
_PROTOCOLS: dict[str, _Protocol] = {
    "openai": _OPENAI,
    "compat": _OPENAI,
    "anthropic": _ANTHROPIC,
    "ollama": _OLLAMA,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = FakeLLMServer(port=args.port)
    uvicorn.run(server, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
