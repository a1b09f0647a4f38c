"""The unit every chunker produces, and the windowing shared by all of them."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from axon.models import ContextType

WINDOW_LINES = 60
WINDOW_OVERLAP = 10
# Beyond this a chunk is split into windows, so no single context swamps a token budget.
MAX_CHUNK_CHARS = 12_000
_WINDOW_CHARS = 4_000


@dataclass(slots=True)
class Chunk:
    type: ContextType
    content: str
    start_line: int
    end_line: int
    symbol: str | None = None
    symbol_kind: str | None = None
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _pieces(lines: list[str], first_line: int) -> list[tuple[int, int, str]]:
    """(start, end, text) windows of at most WINDOW_LINES lines / _WINDOW_CHARS chars,
    overlapping by WINDOW_OVERLAP lines; a single over-long line is cut by characters."""
    ends = list(accumulate(len(line) for line in lines))  # ends[k]: chars in lines[0..k]
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(lines):
        before = ends[i - 1] if i else 0
        j = min(i + WINDOW_LINES, bisect_right(ends, before + _WINDOW_CHARS, lo=i))
        if j == i:
            line = lines[i]
            for at in range(0, len(line), _WINDOW_CHARS):
                out.append((first_line + i, first_line + i, line[at : at + _WINDOW_CHARS]))
            i += 1
            continue
        out.append((first_line + i, first_line + j - 1, "".join(lines[i:j])))
        if j >= len(lines):
            break
        i = max(j - WINDOW_OVERLAP, i + 1)
    return out


def window_chunks(
    text: str,
    type: ContextType,
    *,
    first_line: int = 1,
    symbol: str | None = None,
    symbol_kind: str | None = None,
    title: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> list[Chunk]:
    """Overlapping windows over `text`; blank windows are dropped."""
    pieces = [p for p in _pieces(text.splitlines(keepends=True), first_line) if p[2].strip()]
    chunks = []
    for number, (start, end, content) in enumerate(pieces, start=1):
        meta = dict(metadata or {})
        if len(pieces) > 1:
            meta.update(part=number, parts=len(pieces))
        chunks.append(
            Chunk(type, content, start, end, symbol, symbol_kind, title, meta),
        )
    return chunks


def fit(chunk: Chunk) -> list[Chunk]:
    """The chunk itself, or windows over it when it is too large for one context."""
    if len(chunk.content) <= MAX_CHUNK_CHARS:
        return [chunk]
    return window_chunks(
        chunk.content,
        chunk.type,
        first_line=chunk.start_line,
        symbol=chunk.symbol,
        symbol_kind=chunk.symbol_kind,
        title=chunk.title,
        metadata=chunk.metadata,
    )
