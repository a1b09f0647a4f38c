"""Embeddings from an Ollama server (POST /api/embed)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np
from numpy.typing import NDArray

from axon.config import Settings
from axon.embeddings._vectors import embed_in_batches
from axon.embeddings.errors import EmbedderError

DEFAULT_MODEL = "nomic-embed-text"
KNOWN_DIMENSIONS = {
    "nomic-embed-text": 768,
    "all-minilm": 384,
    "mxbai-embed-large": 1024,
    "snowflake-arctic-embed": 1024,
    "bge-m3": 1024,
}


class OllamaEmbedder:
    """Batched /api/embed calls; Ollama truncates inputs to the model's context itself."""

    def __init__(
        self,
        base_url: str,
        model: str,
        dimension: int,
        *,
        batch_size: int = 32,
        timeout: float = 120.0,
    ) -> None:
        self.model = model
        self.dimension = dimension
        self.batch_size = batch_size
        self.name = f"ollama/{model}"
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> OllamaEmbedder:
        model = settings.embedding_model or DEFAULT_MODEL
        dimension = settings.embedding_dimension or KNOWN_DIMENSIONS.get(model.split(":")[0])
        if dimension is None:
            raise EmbedderError(
                f"unknown Ollama embedding model {model!r}: set AXON_EMBEDDING_DIMENSION"
            )
        return cls(
            settings.ollama_base_url, model, dimension, batch_size=settings.embedding_batch_size
        )

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return await embed_in_batches(
            texts, self.batch_size, self._embed_batch, self.dimension, f"Ollama model {self.model}"
        )

    async def _embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        body = {"model": self.model, "input": list(texts), "truncate": True}
        try:
            response = await self._client.post("/api/embed", json=body)
        except httpx.HTTPError as exc:
            raise EmbedderError(f"Ollama at {self._client.base_url} is unreachable: {exc}") from exc
        if response.status_code != 200:
            raise EmbedderError(
                f"Ollama /api/embed answered {response.status_code}: {_error_text(response)}"
            )
        try:
            embeddings = response.json()["embeddings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbedderError("Ollama /api/embed reply has no 'embeddings'") from exc
        if not isinstance(embeddings, list) or len(embeddings) != len(texts):
            raise EmbedderError("Ollama /api/embed reply does not match the inputs")
        return embeddings


def _error_text(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except ValueError:
        return response.text[:200]
