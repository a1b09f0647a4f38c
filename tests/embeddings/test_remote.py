"""OpenAI (real SDK) and Ollama embedders against a local fake server."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from axon.config import Settings, load_settings
from axon.embeddings import EmbedderError, build_embedder
from axon.embeddings.ollama import OllamaEmbedder
from axon.embeddings.openai_api import MAX_INPUT_TOKENS, OpenAIEmbedder
from axon.tokens import count_tokens
from tests.embeddings.fake_server import FakeEmbeddingServer, fake_vector, running_fake
from tests.servers import free_port

TEXTS = ["def add(a, b): return a + b", "how do I retry requests?", "x", "ünïcode 🚀", "last"]


@pytest.fixture
def fake() -> Iterator[FakeEmbeddingServer]:
    with running_fake() as server:
        yield server


def unit(vector: list[float]) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    return array / np.linalg.norm(array)


def openai_settings(settings: Settings, fake: FakeEmbeddingServer, **extra: object) -> Settings:
    return load_settings(
        embedder="openai",
        openai_api_key="sk-test",
        openai_base_url=f"{fake.url}/v1",
        embedding_batch_size=2,
        **extra,
    )


async def test_openai_batches_sorts_and_normalises(
    settings: Settings, fake: FakeEmbeddingServer
) -> None:
    embedder = build_embedder(openai_settings(settings, fake))
    assert isinstance(embedder, OpenAIEmbedder)
    assert (embedder.name, embedder.dimension) == ("openai/text-embedding-3-small", 1536)

    vectors = await embedder.embed(TEXTS)

    assert vectors.shape == (5, 1536) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for text, row in zip(TEXTS, vectors, strict=True):
        np.testing.assert_allclose(row, unit(fake_vector(text, 1536)), atol=1e-6)
    assert [len(r["body"]["input"]) for r in fake.requests] == [2, 2, 1]
    first = fake.requests[0]
    assert first["headers"]["authorization"] == "Bearer sk-test"
    assert first["body"]["model"] == "text-embedding-3-small"
    assert "dimensions" not in first["body"]


async def test_openai_requested_dimension_and_model(
    settings: Settings, fake: FakeEmbeddingServer
) -> None:
    embedder = build_embedder(
        openai_settings(
            settings, fake, embedding_model="text-embedding-3-large", embedding_dimension=256
        )
    )
    vectors = await embedder.embed(["one"])
    assert vectors.shape == (1, 256)
    assert embedder.name == "openai/text-embedding-3-large@256"
    assert fake.requests[0]["body"]["dimensions"] == 256
    assert fake.requests[0]["body"]["model"] == "text-embedding-3-large"


async def test_openai_clips_inputs_to_the_token_limit(
    settings: Settings, fake: FakeEmbeddingServer
) -> None:
    embedder = build_embedder(openai_settings(settings, fake))
    long_text = "token " * (MAX_INPUT_TOKENS + 500)
    await embedder.embed([long_text, "short"])
    sent = fake.requests[0]["body"]["input"]
    assert count_tokens(sent[0]) == MAX_INPUT_TOKENS
    assert sent[1] == "short"


async def test_openai_errors_are_clear(settings: Settings, fake: FakeEmbeddingServer) -> None:
    embedder = build_embedder(openai_settings(settings, fake))
    fake.fail_with = (401, {"error": {"message": "Incorrect API key", "type": "invalid_request"}})
    with pytest.raises(EmbedderError, match="Incorrect API key"):
        await embedder.embed(["a"])
    fake.fail_with = None
    fake.wrong_dimension = True
    with pytest.raises(EmbedderError, match="1537-dimensional vectors, expected 1536"):
        await embedder.embed(["a"])


def test_openai_needs_a_key_and_a_known_dimension(settings: Settings) -> None:
    with pytest.raises(EmbedderError, match="OPENAI_API_KEY"):
        build_embedder(load_settings(embedder="openai"))
    with pytest.raises(EmbedderError, match="AXON_EMBEDDING_DIMENSION"):
        build_embedder(
            load_settings(embedder="openai", openai_api_key="k", embedding_model="my-embedder")
        )


async def test_ollama_batches_and_normalises(settings: Settings, fake: FakeEmbeddingServer) -> None:
    embedder = build_embedder(
        load_settings(
            embedder="ollama",
            ollama_base_url=fake.url,
            embedding_model="all-minilm:latest",
            embedding_batch_size=2,
        )
    )
    assert isinstance(embedder, OllamaEmbedder)
    assert (embedder.name, embedder.dimension) == ("ollama/all-minilm:latest", 384)

    vectors = await embedder.embed(TEXTS)

    assert vectors.shape == (5, 384)
    for text, row in zip(TEXTS, vectors, strict=True):
        np.testing.assert_allclose(row, unit(fake_vector(text, 384)), atol=1e-6)
    assert [r["path"] for r in fake.requests] == ["/api/embed"] * 3
    assert fake.requests[0]["body"] == {
        "model": "all-minilm:latest",
        "input": TEXTS[:2],
        "truncate": True,
    }
    assert (await embedder.embed([])).shape == (0, 384)


async def test_ollama_errors_are_clear(settings: Settings, fake: FakeEmbeddingServer) -> None:
    embedder = build_embedder(
        load_settings(embedder="ollama", ollama_base_url=fake.url, embedding_dimension=8)
    )
    assert embedder.name == "ollama/nomic-embed-text"
    fake.fail_with = (404, {"error": 'model "nomic-embed-text" not found, try pulling it first'})
    with pytest.raises(EmbedderError, match=r"answered 404: model \"nomic-embed-text\" not found"):
        await embedder.embed(["a"])
    fake.fail_with = None
    with pytest.raises(EmbedderError, match="384-dimensional vectors, expected 8"):
        await embedder.embed(["a"])

    closed = build_embedder(
        load_settings(embedder="ollama", ollama_base_url=f"http://127.0.0.1:{free_port()}")
    )
    with pytest.raises(EmbedderError, match="unreachable"):
        await closed.embed(["a"])


def test_ollama_unknown_model_needs_a_dimension(settings: Settings) -> None:
    with pytest.raises(EmbedderError, match="AXON_EMBEDDING_DIMENSION"):
        build_embedder(load_settings(embedder="ollama", embedding_model="my-model"))
