"""Exact, offline token counts.

The cl100k_base vocabulary ships inside the package (src/axon/data) and is
checked against its published sha256 when loaded; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources

import tiktoken
from tiktoken.load import load_tiktoken_bpe

CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_SPECIAL = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    path = resources.files("axon") / "data" / "cl100k_base.tiktoken"
    with resources.as_file(path) as real_path:
        ranks = load_tiktoken_bpe(str(real_path), expected_hash=CL100K_SHA256)
    return tiktoken.Encoding(
        name="cl100k_base", pat_str=_CL100K_PATTERN, mergeable_ranks=ranks, special_tokens=_SPECIAL
    )


# The pipeline counts the same retrieved chunks, fences and labels prompt after prompt;
# counts are kept by a digest of the text (not the text: bounded memory).
COUNT_CACHE_SIZE = 16_384
COUNT_CACHE_MIN_CHARS = 32  # shorter texts encode faster than they hash
_counts: OrderedDict[bytes, int] = OrderedDict()
_counts_lock = threading.Lock()


def count_tokens(text: str) -> int:
    """Token count of `text`; special-token markers in user text count as plain text."""
    if len(text) < COUNT_CACHE_MIN_CHARS:
        return len(encoding().encode_ordinary(text))
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    with _counts_lock:
        found = _counts.get(key)
        if found is not None:
            _counts.move_to_end(key)
            return found
    counted = len(encoding().encode_ordinary(text))
    with _counts_lock:
        _counts[key] = counted
        if len(_counts) > COUNT_CACHE_SIZE:
            _counts.popitem(last=False)
    return counted


def count_tokens_many(texts: Sequence[str], threads: int = 2) -> list[int]:
    """`count_tokens` for many texts; the encoder releases the GIL, so `threads` threads
    each encode an interleaved share of the texts."""
    if threads <= 1 or len(texts) < 2 * threads:
        return [count_tokens(text) for text in texts]
    encoder = encoding()

    def count(share: Sequence[str]) -> list[int]:
        return [len(encoder.encode_ordinary(text)) for text in share]

    shares = list(_pool(threads).map(count, [texts[i::threads] for i in range(threads)]))
    counts = [0] * len(texts)
    for offset, share in enumerate(shares):
        counts[offset::threads] = share
    return counts


@lru_cache(maxsize=4)
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads, thread_name_prefix="axon-tokens")
