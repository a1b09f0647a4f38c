"""Cut texts to a budget of word pieces, the unit the local model pays for.

Embedding cost grows with the word pieces a text has, not its characters (code
runs 2-5 characters a piece, indentation costs nothing), so the texts indexing
and search embed are cut by pieces counted with the model's own tokenizer. Cuts
fall on a piece boundary in the original text, so the text that is hashed and
cached is exactly what the model reads. Without the model package (remote or no
embedder) a fixed characters-per-piece estimate stands in.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

from axon.embeddings.errors import ModelFilesError
from axon.embeddings.model_files import packaged_model_dir, verify_model_files

log = logging.getLogger("axon.embeddings")

# A chunk's path, symbol, signature, docstring and first lines: enough to say what it
# is, and short enough for >= 100 chunks/s on 2 cores (see bench/README.md).
DOCUMENT_PIECES = 80
# An issue's title and opening sentences; the lexical side reads the whole query.
QUERY_PIECES = 32
# Estimate when the tokenizer is not installed (code and English prose average 3-4).
CHARS_PER_PIECE = 4
# Only this many characters a piece are tokenised: a budget never needs more, and a
# huge chunk is not tokenised whole just to keep its start.
SCAN_CHARS_PER_PIECE = 16


@functools.cache
def _tokenizer() -> Any:  # tokenizers.Tokenizer | None
    model_dir = packaged_model_dir()
    if model_dir is None:
        return None
    try:
        files = verify_model_files(model_dir)
    except ModelFilesError as exc:
        log.warning("word-piece budgets fall back to a character estimate: %s", exc.message)
        return None
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(files.tokenizer))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def cut_to_pieces(texts: Sequence[str], pieces: int) -> list[str]:
    """Each text cut after its first `pieces` word pieces ([CLS]/[SEP] not counted)."""
    scanned = [text[: pieces * SCAN_CHARS_PER_PIECE] for text in texts]
    tokenizer = _tokenizer()
    if tokenizer is None:
        return [text[: pieces * CHARS_PER_PIECE] for text in texts]
    out: list[str] = []
    for text, encoding in zip(
        scanned, tokenizer.encode_batch(scanned, add_special_tokens=False), strict=True
    ):
        offsets = encoding.offsets
        out.append(text if len(offsets) <= pieces else text[: offsets[pieces - 1][1]])
    return out


def query_embedding_text(query: str) -> str:
    """What search embeds of a query: its first QUERY_PIECES word pieces."""
    return cut_to_pieces([query], QUERY_PIECES)[0]
