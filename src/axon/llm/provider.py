"""What the gateway needs from one provider adapter.

Adapters speak one wire protocol each and raise only `ProviderFailure`; retries,
breakers, limits, fallback and accounting live in the gateway, once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from axon.llm.types import ChatChunk, ChatRequest, Usage


@dataclass(frozen=True, slots=True)
class Reply:
    """A whole answer; `usage` is None when the provider did not report it."""

    text: str
    finish_reason: str
    usage: Usage | None
    tool_calls: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class HttpTimeouts:
    connect: float
    read: float  # the longest silence allowed while a response is arriving


class ChatProvider(Protocol):
    name: str

    async def complete(self, model: str, request: ChatRequest) -> Reply: ...

    def stream(self, model: str, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """Text deltas, then one chunk with finish_reason (and usage when reported).

        Closing the iterator early closes the upstream connection. A stream that
        ends without a finish raises ProviderFailure(PROTOCOL).
        """
        ...

    async def aclose(self) -> None: ...


# Every provider's stop reasons in OpenAI's vocabulary, which the rest of Axon uses.
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "refusal": "content_filter",
    "tool_use": "tool_calls",
}


def normalize_finish(reason: str | None) -> str:
    if not reason:
        return "stop"
    return _FINISH.get(reason, reason)
