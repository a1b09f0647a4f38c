"""Server-sent events as a plain ASGI response.

`EventStreamResponse` sends events as they come, a heartbeat comment while
the source is quiet, and watches the connection itself: when the client goes
away it cancels the source at once (which closes the upstream model call),
rather than noticing only at the next write.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

HEARTBEAT_SECONDS = 15.0


def sse_event(event: str, data: Any, event_id: int | str) -> bytes:
    """One event; the JSON payload is one line, so no `data:` splitting is needed."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\nevent: {event}\ndata: {payload}\n\n".encode()


async def with_heartbeats(events: AsyncIterator[bytes], every: float) -> AsyncIterator[bytes]:
    """`events`, plus a comment line whenever nothing was sent for `every` seconds."""
    pending: asyncio.Future[bytes] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=every)
            if not done:
                yield b": heartbeat\n\n"
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield item
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


class EventStreamResponse(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncIterator[bytes],
        heartbeat: float = HEARTBEAT_SECONDS,
        *,
        ready: bytes = b"",
    ) -> None:
        """`ready`: the first events, when they are already at hand; they go out right
        behind the headers, before any task is started, so the client reads both in one
        wake-up (a relayed model stream's first token, bench/README.md "Copilot proxy
        TTFT")."""
        # Like StreamingResponse: no body attribute, so no Content-Length header.
        self.status_code = 200
        self.background = None
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no"})
        self.events = events
        self.heartbeat = heartbeat
        self.ready = ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if self.ready:
            await send({"type": "http.response.body", "body": self.ready, "more_body": True})
        pump = asyncio.create_task(self._pump(send))
        watch = asyncio.create_task(self._until_disconnect(receive))
        try:
            await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, watch):
                task.cancel()
            results = await asyncio.gather(pump, watch, return_exceptions=True)
        if pump.done() and not pump.cancelled() and results[0] is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _pump(self, send: Send) -> None:
        async for chunk in with_heartbeats(self.events, self.heartbeat):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def _until_disconnect(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
