"""LLM providers and the gateway behind the `LLM` port."""

from axon.llm.none import NoneLLM
from axon.llm.types import LLM, ChatChunk, ChatMessage, ChatRequest, ChatResult, Usage

__all__ = ["LLM", "ChatChunk", "ChatMessage", "ChatRequest", "ChatResult", "NoneLLM", "Usage"]
