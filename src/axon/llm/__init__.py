"""LLM providers and the gateway behind the `LLM` port.

`build_llm` (axon.llm.factory) makes the gateway from Settings; provider SDKs
are imported only when a provider is first used.
"""

from axon.llm.none import NoneLLM
from axon.llm.types import LLM, ChatChunk, ChatMessage, ChatRequest, ChatResult, Usage

__all__ = ["LLM", "ChatChunk", "ChatMessage", "ChatRequest", "ChatResult", "NoneLLM", "Usage"]
