"""Shrinking an over-long context item to a token target.

Keeps what a reader needs to find their way: the first line, the lines that
mention the query's terms (each with the signature of its enclosing block),
then the other signatures (definitions, headings), and
replaces every gap with one marker line saying how many lines were elided.
When the item must shrink further, lower-priority kept lines go first
(binary search on how many to keep); a last resort cuts the text by tokens.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache

from axon.tokens import count_tokens, encoding

# Modifiers are taken possessively and the typed-declaration branch has none: words
# that both a modifier and a type could match must not be split every possible way.
_SIGNATURE = re.compile(
    r"^\s*(?:(?:export|public|private|protected|internal|static|abstract|final|async|pub(?:\([\w:]+\))?|"
    r"unsafe|default|override|virtual)\s+)*+"
    r"(?:def|class|function|func|fn|impl|struct|enum|trait|interface|type|module|package|"
    r"CREATE\s+(?:TABLE|VIEW|FUNCTION|INDEX)|const\s+\w+\s*=\s*(?:async\s*)?\()"
    r"|^\s*(?!return\b|throw\b|else\b|new\b|await\b)(?:[\w<>\[\],.?]+\s+)+\w+\s*\([^;]*\)"
    r"\s*(?:throws [\w., ]+)?\{?\s*$"
    r"|^\s*@\w+|^#{1,6}\s",
    re.IGNORECASE,
)


def elision_marker(count: int) -> str:
    return f"… [{count} line{'s' if count != 1 else ''} elided] …"


def _render(lines: Sequence[str], keep: set[int]) -> str:
    out: list[str] = []
    gap = 0
    for index, line in enumerate(lines):
        if index in keep:
            if gap:
                out.append(elision_marker(gap))
                gap = 0
            out.append(line)
        else:
            gap += 1
    if gap:
        out.append(elision_marker(gap))
    return "\n".join(out)


# The same chunks are compressed prompt after prompt, with the query's terms changing.
@lru_cache(maxsize=2048)
def _signatures(text: str) -> tuple[int, ...]:
    return tuple(i for i, line in enumerate(text.splitlines()) if _SIGNATURE.match(line))


@lru_cache(maxsize=256)
def _any_term(lowered: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in lowered))


def _priority(text: str, lines: Sequence[str], terms: Sequence[str]) -> list[int]:
    """Line numbers worth keeping, most important first."""
    lowered = tuple(dict.fromkeys(t.lower() for t in terms if len(t) > 2))
    signatures = _signatures(text)
    ordered = [0]
    if lowered:
        mentions = _any_term(lowered)
        for i, line in enumerate(lines):
            if mentions.search(line.lower()):
                # A matching line, preceded by the signature of the block it sits in.
                enclosing = bisect_right(signatures, i)
                ordered += [*signatures[max(0, enclosing - 1) : enclosing], i]
    return list(dict.fromkeys([*ordered, *signatures]))


def cut_tokens(text: str, target: int) -> str:
    """The first `target` tokens of `text` and a marker (a last resort)."""
    tokens = encoding().encode_ordinary(text)
    if len(tokens) <= target:
        return text
    marker = "\n… [truncated] …"
    keep = max(0, target - count_tokens(marker))
    return encoding().decode(tokens[:keep]) + marker


def compress(text: str, target: int, terms: Sequence[str]) -> tuple[str, int]:
    """`text` shrunk to at most `target` tokens, and its token count."""
    lines = text.splitlines()
    priority = _priority(text, lines, terms)
    full = _render(lines, set(priority))
    tokens = count_tokens(full)
    if tokens <= target:
        return full, tokens
    low, high = 0, len(priority) - 1  # find the most priority lines that fit
    best: tuple[str, int] | None = None
    while low <= high:
        mid = (low + high) // 2
        candidate = _render(lines, set(priority[: mid + 1]))
        size = count_tokens(candidate)
        if size <= target:
            best = (candidate, size)
            low = mid + 1
        else:
            high = mid - 1
    if best is not None:
        return best
    cut = cut_tokens(text, target)
    return cut, count_tokens(cut)
