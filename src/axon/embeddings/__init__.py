"""Embedders behind the `Embedder` port: local ONNX MiniLM, OpenAI, Ollama, none.

`build_embedder(settings)` picks one; `axon.services` is its only caller. The
adapters live in their own modules (`local`, `openai_api`, `ollama`, `none`)
and import their heavy dependencies only when used.
"""

from axon.embeddings.errors import EmbedderError, ModelFilesError
from axon.embeddings.factory import build_embedder
from axon.embeddings.none import NoneEmbedder

__all__ = ["EmbedderError", "ModelFilesError", "NoneEmbedder", "build_embedder"]
