"""Token counts: exact (the encoder's own count), cached by digest, bounded."""

from __future__ import annotations

from axon import tokens
from axon.tokens import COUNT_CACHE_MIN_CHARS, COUNT_CACHE_SIZE, count_tokens, encoding


def test_cached_counts_equal_the_encoders_count() -> None:
    texts = [
        "def handler(request):\n    return render(request, 'index.html')\n" * 3,
        "x",
        "",
        "naïve café — ünïcödé text 🙂 " * 4,
        "<|endoftext|> is plain text here " * 2,
    ]
    for text in texts:
        expected = len(encoding().encode_ordinary(text))
        assert count_tokens(text) == expected
        assert count_tokens(text) == expected  # second time: from the cache when long


def test_similar_texts_are_counted_separately() -> None:
    base = "alpha beta gamma delta " * 4
    assert count_tokens(base + "x") != count_tokens(base + " xylophone quantum")


def test_the_cache_is_bounded() -> None:
    for i in range(COUNT_CACHE_SIZE + 50):
        count_tokens(f"{i:08d} " + "w" * COUNT_CACHE_MIN_CHARS)
    assert len(tokens._counts) == COUNT_CACHE_SIZE
