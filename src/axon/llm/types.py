"""The LLM port: chat requests, streamed chunks and results, provider-neutral."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    messages: tuple[ChatMessage, ...]
    model: str | None = None  # "provider:model", a bare model name, or None for the default
    temperature: float = 0.2
    max_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One streamed delta; the last chunk carries finish_reason and usage."""

    delta: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class ChatResult:
    text: str
    finish_reason: str
    provider: str
    model: str
    usage: Usage = field(default_factory=Usage)


class LLM(Protocol):
    """What the pipeline calls. `provider` is "none" when no model is configured:
    then `complete` and `stream` produce no text and the caller returns context only."""

    @property
    def provider(self) -> str: ...

    async def complete(self, request: ChatRequest) -> ChatResult: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]: ...
