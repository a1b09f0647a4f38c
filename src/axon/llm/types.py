"""The LLM port: chat requests, streamed chunks and results, provider-neutral."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant"]
# Providers whose wire is OpenAI's chat completions: they take `wire_messages` and `extra`.
OPENAI_WIRE_PROVIDERS = frozenset({"openai", "openai-compatible"})


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
    # For accounting and logs; the gateway totals usage per workspace and API key.
    workspace_id: str | None = None
    request_id: str | None = None
    # What an OpenAI-wire client sent beyond text (the /v1 endpoint), for providers that
    # speak that wire: `wire_messages` go on the wire instead of `messages` (images, tool
    # calls and results kept), `extra` holds request fields sent as given (tools,
    # response_format, ...). `messages` stays their text, for estimates and other providers.
    wire_messages: tuple[Mapping[str, Any], ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    api_key_id: str | None = None
    # The key's total spend allowed: the gateway refuses to call a provider once the
    # key's recorded spend reaches it (402 KEY_BUDGET_EXCEEDED).
    budget_usd: float | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False  # counted with axon.tokens because the provider reported none
    cost_usd: float | None = None  # None: the model has no entry in the price table


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One streamed delta; the last chunk carries finish_reason and usage, and says which
    provider and model answered (after a fallback it is not the one asked for)."""

    delta: str = ""
    tool_calls: tuple[Mapping[str, Any], ...] = ()  # the provider's tool-call deltas, as sent
    finish_reason: str | None = None
    usage: Usage | None = None
    provider: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class ChatResult:
    text: str
    finish_reason: str
    provider: str
    model: str
    usage: Usage = field(default_factory=Usage)
    cached: bool = False  # served from the response cache, no provider call
    tool_calls: tuple[Mapping[str, Any], ...] = ()  # OpenAI-wire tool calls, as sent


class LLM(Protocol):
    """What the pipeline calls. `provider` is "none" when no model is configured:
    then `complete` and `stream` produce no text and the caller returns context only."""

    @property
    def provider(self) -> str: ...

    def provider_for(self, model: str | None) -> str:
        """The provider that would answer a request for `model` ("none": context only).
        Raises InvalidInput (field "model") for a model nobody can serve, so callers can
        reject it before they start streaming."""
        ...

    async def complete(self, request: ChatRequest) -> ChatResult: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]: ...
