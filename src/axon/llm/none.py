"""The `none` provider: context-only mode, no model is called."""

from __future__ import annotations

from collections.abc import AsyncIterator

from axon.llm.types import ChatChunk, ChatRequest, ChatResult, Usage


class NoneLLM:
    """Answers every request with no text and finish reason "context_only"."""

    provider = "none"

    def provider_for(self, model: str | None) -> str:
        return "none"

    async def complete(self, request: ChatRequest) -> ChatResult:
        return ChatResult(
            text="", finish_reason="context_only", provider="none", model="none", usage=Usage()
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        yield ChatChunk(finish_reason="context_only", usage=Usage())
