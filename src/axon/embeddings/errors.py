"""Errors raised while choosing or loading an embedder."""

from __future__ import annotations

from axon.errors import ServiceUnavailable


class EmbedderError(ServiceUnavailable):
    """The configured embedder cannot produce vectors (missing model, bad reply, ...)."""

    code = "EMBEDDER_UNAVAILABLE"


class ModelFilesError(EmbedderError):
    """A model file is missing or does not match its pinned sha256."""

    code = "MODEL_FILES_INVALID"
