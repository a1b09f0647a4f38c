"""Embeddings from the OpenAI API (or any server speaking it), via the official SDK."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import openai
from numpy.typing import NDArray

from axon.config import Settings
from axon.embeddings._vectors import embed_in_batches
from axon.embeddings.errors import EmbedderError
from axon.tokens import encoding

DEFAULT_MODEL = "text-embedding-3-small"
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
MAX_INPUT_TOKENS = 8191  # per input, in cl100k tokens, for every OpenAI embedding model


class OpenAIEmbedder:
    """Batched calls to /v1/embeddings; long inputs are cut to the model's token limit.

    With AXON_EMBEDDING_DIMENSION set the request asks for that many dimensions
    (text-embedding-3 models shorten their vectors on request).
    """

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str,
        dimension: int,
        *,
        request_dimensions: bool = False,
        batch_size: int = 32,
    ) -> None:
        self.client = client
        self.model = model
        self.dimension = dimension
        self.request_dimensions = request_dimensions
        self.batch_size = batch_size
        self.name = f"openai/{model}" + (f"@{dimension}" if request_dimensions else "")

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIEmbedder:
        if not settings.openai_api_key:
            raise EmbedderError("AXON_EMBEDDER=openai needs OPENAI_API_KEY")
        model = settings.embedding_model or DEFAULT_MODEL
        dimension = settings.embedding_dimension or KNOWN_DIMENSIONS.get(model)
        if dimension is None:
            raise EmbedderError(
                f"unknown OpenAI embedding model {model!r}: set AXON_EMBEDDING_DIMENSION"
            )
        client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key, base_url=settings.openai_base_url, timeout=60.0
        )
        return cls(
            client,
            model,
            dimension,
            request_dimensions=settings.embedding_dimension is not None,
            batch_size=settings.embedding_batch_size,
        )

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return await embed_in_batches(
            texts, self.batch_size, self._embed_batch, self.dimension, f"OpenAI model {self.model}"
        )

    async def _embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        inputs = [_clip(text) for text in texts]
        try:
            if self.request_dimensions:
                reply = await self.client.embeddings.create(
                    model=self.model,
                    input=inputs,
                    dimensions=self.dimension,
                    encoding_format="float",
                )
            else:
                reply = await self.client.embeddings.create(
                    model=self.model, input=inputs, encoding_format="float"
                )
        except openai.OpenAIError as exc:
            raise EmbedderError(f"OpenAI embeddings request failed: {exc}") from exc
        data = sorted(reply.data, key=lambda item: item.index)
        if [item.index for item in data] != list(range(len(inputs))):
            raise EmbedderError("OpenAI embeddings reply does not match the inputs")
        return [item.embedding for item in data]


def _clip(text: str) -> str:
    """Cut text to the per-input token limit (the API rejects longer inputs)."""
    tokens = encoding().encode_ordinary(text)
    return text if len(tokens) <= MAX_INPUT_TOKENS else encoding().decode(tokens[:MAX_INPUT_TOKENS])
