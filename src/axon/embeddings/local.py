"""all-MiniLM-L6-v2 on ONNX Runtime: offline, CPU, no torch.

On first use the pinned weights are verified, the encoder graph is built from
them (or read back from AXON_DATA_DIR/models/<weights-sha256>.onnx and its
memory-mapped weights file, whose hashes are checked) and one ONNX Runtime
session is opened. Hashes of these big files are recomputed only when a file
changed since it was last hashed (`HashRecord`). Texts are tokenised
with the model's tokenizer.json, truncated to 256 word pieces as
sentence-transformers does, sorted by length and padded per batch, so short
chunks never pay for long ones. Inference runs in a worker thread so the event
loop stays free.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from axon.embeddings.errors import EmbedderError
from axon.embeddings.model_files import (
    BUILDER_VERSION,
    MODEL_NAME,
    HashRecord,
    ModelFiles,
    verify_model_files,
    write_atomically,
)

if TYPE_CHECKING:
    from onnx import ModelProto

log = logging.getLogger("axon.embeddings")

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model (the default)
POSITIONS = 512  # the longest input the position embeddings allow
DIMENSION = 384
# Padded tokens per inference call. Past this, activations spill out of the CPU
# caches and long texts get slower per text, not faster (see bench/README.md).
MAX_BATCH_TOKENS = 1024


@dataclass(frozen=True, slots=True)
class _Runtime:
    tokenizer: Any  # tokenizers.Tokenizer
    session: Any  # onnxruntime.InferenceSession
    # One batch at a time: parallel runs would only fight over the same cores,
    # and a query waits for at most one batch of an indexing job.
    run_lock: threading.Lock = field(default_factory=threading.Lock)


# Loaded models, shared by every LocalEmbedder of the process (the API, the job
# runner and tests build several), keyed by model folder and thread count.
_RUNTIMES: dict[tuple[Path, int], _Runtime] = {}
_RUNTIMES_LOCK = threading.Lock()


class OnnxCache:
    """Serialised encoder graphs keyed by the weights' sha256.

    Each entry is the graph (`<sha>.onnx`, small) with its weights in a file of
    their own (`<sha>.onnx.data`): ONNX Runtime memory-maps external weights instead
    of parsing them out of the protobuf, which cut opening a session from ~0.9 s to
    ~0.2 s (bench/README.md). A sidecar JSON written last records both files' sha256
    and the builder version; an entry that fails a check is rebuilt, never trusted.
    """

    def __init__(
        self, directory: Path, builder_version: int, record: HashRecord | None = None
    ) -> None:
        self.directory = directory
        self.builder_version = builder_version
        self.record = record or HashRecord(None)

    def paths(self, weights_sha256: str) -> tuple[Path, Path]:
        return (
            self.directory / f"{weights_sha256}.onnx",
            self.directory / f"{weights_sha256}.onnx.json",
        )

    def load(self, weights_sha256: str) -> Path | None:
        """The cached graph's path if it is present, current and intact."""
        model_path, meta_path = self.paths(weights_sha256)
        data_path = self.directory / f"{weights_sha256}{_DATA_SUFFIX}"
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("builderVersion") != self.builder_version:
                return None
            intact = self.record.sha256(model_path) == meta.get("onnxSha256") and (
                self.record.sha256(data_path) == meta.get("dataSha256")
            )
        except (OSError, ValueError, AttributeError):
            return None
        if not intact:
            log.warning("cached ONNX model %s failed its hash check; rebuilding", model_path)
            return None
        return model_path

    def store(self, weights_sha256: str, model: ModelProto) -> Path | None:
        """Write the graph and its weights; None when the directory is not writable."""
        model_path, meta_path = self.paths(weights_sha256)
        data_name = f"{weights_sha256}{_DATA_SUFFIX}"
        graph, data = _split_weights(model, data_name)
        meta = {
            "onnxSha256": hashlib.sha256(graph).hexdigest(),
            "dataSha256": hashlib.sha256(data).hexdigest(),
            "builderVersion": self.builder_version,
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomically(self.directory / data_name, data)
            write_atomically(model_path, graph)
            write_atomically(meta_path, json.dumps(meta).encode())
        except OSError as exc:
            # A read-only data dir costs a rebuild next start, not a failure now.
            log.warning("could not cache the ONNX model in %s: %s", self.directory, exc)
            return None
        return model_path


_DATA_SUFFIX = ".onnx.data"
HASH_RECORD = "hashes.json"  # HashRecord of the model files and the cached graphs
_EXTERNAL_MIN_BYTES = 1024  # smaller tensors (shapes, scalars) stay in the graph
_ALIGN = 4096  # page-aligned offsets, so each tensor maps on its own pages


def _split_weights(model: ModelProto, data_name: str) -> tuple[bytes, bytes]:
    """The serialised graph with its large initializers moved to `data_name`, and the
    bytes of that file. `model` itself is left as it was."""
    from onnx import ModelProto
    from onnx.external_data_helper import set_external_data

    graph = ModelProto()
    graph.CopyFrom(model)
    data = bytearray()
    for tensor in graph.graph.initializer:
        if len(tensor.raw_data) < _EXTERNAL_MIN_BYTES:
            continue
        data += bytes(-len(data) % _ALIGN)
        set_external_data(tensor, data_name, offset=len(data), length=len(tensor.raw_data))
        data += tensor.raw_data
        tensor.ClearField("raw_data")
    return graph.SerializeToString(), bytes(data)


class LocalEmbedder:
    """The default Embedder: 384-d, L2-normalised all-MiniLM-L6-v2 vectors.

    `max_tokens` (AXON_EMBEDDING_MAX_TOKENS) is where texts are cut, 256 word
    pieces by default as in sentence-transformers. `batch_tokens` caps the padded
    tokens of one inference call; it changes speed only, never the vectors.
    """

    dimension = DIMENSION

    def __init__(
        self,
        model_dir: Path,
        cache_dir: Path,
        batch_size: int = 32,
        threads: int = 2,
        max_tokens: int = MAX_TOKENS,
        batch_tokens: int = MAX_BATCH_TOKENS,
    ) -> None:
        self.model_dir = model_dir
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.threads = threads
        self.max_tokens = max_tokens
        self.batch_tokens = batch_tokens
        # Vectors depend on the cut, so a non-default one is part of the name (and of
        # every cache key built from it).
        suffix = "" if max_tokens == MAX_TOKENS else f"@{max_tokens}t"
        self.name = f"local/{MODEL_NAME}{suffix}"

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return await asyncio.to_thread(self.embed_sync, list(texts))

    def embed_sync(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Blocking form of `embed`, for callers already off the event loop."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        runtime = self.load()
        pieces = [self._cut(e.ids) for e in runtime.tokenizer.encode_batch(list(texts))]
        for batch in self._batches([len(ids) for ids in pieces]):
            out[batch] = self._run(runtime, [pieces[i] for i in batch])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        unit: NDArray[np.float32] = out / np.maximum(norms, 1e-12)
        return unit

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Indices grouped shortest first, at most `batch_size` texts and
        `batch_tokens` padded tokens a group, so padding and cache misses stay small."""
        batches: list[list[int]] = []
        current: list[int] = []
        for i in sorted(range(len(lengths)), key=lengths.__getitem__):
            # Sorted ascending, so text i sets the padded width of the group it joins.
            if current and (
                len(current) >= self.batch_size
                or (len(current) + 1) * lengths[i] > self.batch_tokens
            ):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches

    def _cut(self, ids: list[int]) -> list[int]:
        """[CLS] + the first max_tokens - 2 word pieces + [SEP], as the tokenizer's own
        truncation would give; the shared tokenizer truncates at POSITIONS."""
        return ids if len(ids) <= self.max_tokens else [*ids[: self.max_tokens - 1], ids[-1]]

    def _run(self, runtime: _Runtime, pieces: list[list[int]]) -> NDArray[np.float32]:
        ids = np.zeros((len(pieces), max(len(p) for p in pieces)), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, piece in enumerate(pieces):
            ids[row, : len(piece)] = piece
            mask[row, : len(piece)] = 1
        # One text per input, so every token belongs to segment 0.
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with runtime.run_lock:
            (pooled,) = runtime.session.run(["sentence_embedding"], feeds)
        return np.asarray(pooled, dtype=np.float32)

    def load(self) -> _Runtime:
        """Verify the files and open the session once per process; later calls reuse it."""
        key = (self.model_dir.resolve(), self.threads)
        with _RUNTIMES_LOCK:
            runtime = _RUNTIMES.get(key)
            if runtime is None:
                record = HashRecord(self.cache_dir / HASH_RECORD)
                files = verify_model_files(self.model_dir, record)
                runtime = _RUNTIMES[key] = self._open(files, record)
                record.save()
                log.info(
                    "local embedding model loaded",
                    extra={"model": MODEL_NAME, "threads": self.threads},
                )
        return runtime

    def _open(self, files: ModelFiles, record: HashRecord) -> _Runtime:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(files.tokenizer))
        tokenizer.enable_truncation(max_length=POSITIONS)
        tokenizer.no_padding()  # padded per batch in _run
        cache = OnnxCache(self.cache_dir, BUILDER_VERSION, record)
        graph: Path | bytes | None = cache.load(files.weights_sha256)
        if graph is None:
            from axon.embeddings.bert_onnx import build_bert_encoder

            built = build_bert_encoder(files.weights)
            graph = cache.store(files.weights_sha256, built) or built.SerializeToString()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: on a shared 2-core host spinning
        # steals the CPU from the event loop and other work (and measured slower there).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(
                str(graph) if isinstance(graph, Path) else graph,
                sess_options=options,
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise EmbedderError(f"could not open the ONNX model for {MODEL_NAME}: {exc}") from exc
        return _Runtime(tokenizer=tokenizer, session=session)
