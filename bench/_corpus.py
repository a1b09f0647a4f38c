"""Shared by the benchmarks: repository trees at a commit, their files, and test-file rules."""

from __future__ import annotations

import math
import re
import subprocess
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from axon.indexing.chunking import chunk_file, to_contexts
from axon.indexing.languages import detect_language
from axon.indexing.scanner import load, scan
from axon.models import Context, WorkspaceType
from axon.tokens import count_tokens

if TYPE_CHECKING:
    from axon.indexing import IndexReport
    from axon.services import Services

MAX_FILE_BYTES = 1024 * 1024
# Test files are not ranked (shared/bench/README.md); the retrieval benchmark keeps them
# out of the index with an `.axonignore` holding the same rules.
_TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*$|_tests?\.py$|(^|/)conftest\.py$")
TEST_IGNORE = "tests/\ntest/\ntesting/\ntest_*\n*_test.py\n*_tests.py\nconftest.py\n"


def is_test_path(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


@contextmanager
def checkout(mirror: Path, commit: str) -> Iterator[Path]:
    """The tree of `commit` in a temporary folder (`git archive`, no work tree needed)."""
    with tempfile.TemporaryDirectory(prefix="axon-bench-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(mirror), "archive", "--format=tar", commit],
            check=True,
            capture_output=True,
        ).stdout
        tar_path = Path(tmp) / "tree.tar"
        tar_path.write_bytes(archive)
        root = Path(tmp) / "tree"
        root.mkdir()
        with tarfile.open(tar_path) as tar:
            tar.extractall(root, filter="data")
        tar_path.unlink()
        yield root


@contextmanager
def git_checkout(mirror: Path, commit: str) -> Iterator[Path]:
    """A work tree of `commit` with its history, as a user's fresh clone: a clone that
    borrows the mirror's objects (`--shared`: the mirror is only read), `commit` checked
    out detached, so `git log` ends at it and every file's mtime is the checkout's."""
    with tempfile.TemporaryDirectory(prefix="axon-bench-") as tmp:
        root = Path(tmp) / "tree"
        for argv in (
            ["git", "clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(root)],
            ["git", "-C", str(root), "checkout", "--quiet", "--detach", commit],
        ):
            subprocess.run(argv, check=True, capture_output=True)
        yield root


def read_files(root: Path, *, tests: bool = False) -> dict[str, str]:
    """Workspace-relative path -> text for every indexable file (test files only with
    `tests`)."""
    files: dict[str, str] = {}
    for scanned in scan(str(root), MAX_FILE_BYTES).files:
        if not tests and is_test_path(scanned.path):
            continue
        loaded = load(scanned, MAX_FILE_BYTES)
        if not isinstance(loaded, str):
            files[scanned.path] = loaded.text
    return files


def chunk_files(workspace_id: str, files: dict[str, str]) -> list[Context]:
    contexts: list[Context] = []
    for path, text in files.items():
        language = detect_language(path)
        chunks = chunk_file(path, text, language, WorkspaceType.CODING)
        counts = [count_tokens(c.content) for c in chunks]
        contexts += to_contexts(workspace_id, path, language, chunks, counts)
    return contexts


_WORD = re.compile(r"\w+")


def plain_bm25(docs: dict[str, str], query: str, k1: float = 1.2, b: float = 0.75) -> list[str]:
    """BM25 with plain lower-case word tokens over whole documents (files, or chunks
    keyed by any id): the reference system every retrieval benchmark reports beside Axon."""
    keys = list(docs)
    counts = [Counter(_WORD.findall(docs[k].lower())) for k in keys]
    lengths = np.array([sum(d.values()) for d in counts], dtype=np.float64)
    avgdl = lengths.mean() if len(counts) else 1.0
    df: Counter[str] = Counter()
    for d in counts:
        df.update(d.keys())
    n = len(counts)
    scores = np.zeros(n)
    for term, qtf in Counter(_WORD.findall(query.lower())).items():
        if term not in df:
            continue
        idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
        tf = np.array([d.get(term, 0) for d in counts], dtype=np.float64)
        scores += qtf * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / avgdl))
    order = np.argsort(-scores, kind="stable")
    return [keys[i] for i in order if scores[i] > 0]


async def index_tree(services: Services, workspace_id: str, root: Path) -> IndexReport:
    """Register `root` as a coding workspace and index it completely, vectors included:
    progressive indexing would otherwise leave them pending and the searches lexical."""
    from axon.indexing import index_workspace
    from axon.models import Workspace

    workspace = Workspace(
        id=workspace_id, name=workspace_id, type=WorkspaceType.CODING, path=str(root)
    )
    await services.store.create_workspace(workspace)
    [report] = await index_workspace(
        services.store,
        services.search_index,
        workspace,
        max_file_bytes=services.settings.index_max_file_bytes,
    )
    await services.search_index.complete_embeddings(workspace_id)
    return report
