"""Pick the embedder that the settings ask for.

AXON_EMBEDDER unset means "the local model if it is installed": a server
without the model package still starts, lexical-only, with a WARN log and the
reason shown by /health. An explicitly chosen embedder that cannot be built is
a start-up error; nothing silently replaces it.
"""

from __future__ import annotations

import logging

from axon.config import Settings
from axon.embeddings.errors import EmbedderError, ModelFilesError
from axon.embeddings.local import LocalEmbedder
from axon.embeddings.model_files import locate_model_dir
from axon.embeddings.none import NoneEmbedder
from axon.ports import Embedder

log = logging.getLogger("axon.embeddings")


def build_embedder(settings: Settings) -> Embedder:
    """Return the configured embedder; models load lazily on first use."""
    choice = settings.embedder
    if choice is None:
        if settings.model_dir is not None:
            return _local(settings)
        try:
            return _local(settings)
        except ModelFilesError as exc:
            log.warning(
                "local embedding model unavailable, using lexical-only search: %s", exc.message
            )
            return NoneEmbedder(reason=exc.message)
    if choice == "none":
        return NoneEmbedder()
    if choice == "local":
        return _local(settings)
    # Remote adapters import their SDKs only when chosen, keeping start-up fast.
    if choice == "openai":
        from axon.embeddings.openai_api import OpenAIEmbedder

        return OpenAIEmbedder.from_settings(settings)
    if choice == "ollama":
        from axon.embeddings.ollama import OllamaEmbedder

        return OllamaEmbedder.from_settings(settings)
    raise EmbedderError(f"unknown embedder {choice!r}")


def _local(settings: Settings) -> LocalEmbedder:
    return LocalEmbedder(
        model_dir=locate_model_dir(settings.model_dir),
        cache_dir=settings.data_dir / "models",
        batch_size=settings.embedding_batch_size,
        threads=settings.embedding_threads,
        max_tokens=settings.embedding_max_tokens,
    )
