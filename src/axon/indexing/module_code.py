"""The code between definitions, chunked in coherent groups.

Constants, registrations, `__all__`, proxies such as `current_app = LocalProxy(...)`
and `if __name__ == "__main__":` blocks belong to no function or class, yet they are
what a question like "where is X defined" needs. Each run of top-level statements
between two definitions becomes one `module-code` symbol context (split at statement
boundaries when longer than a window), named after the names it binds. A run holding
only imports and the module docstring is left to the file summary, which lists both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from axon.indexing.chunks import WINDOW_LINES, Chunk, fit
from axon.models import ContextType

KIND = "module-code"
MAX_NAMES = 6  # names in a group's symbol (`a, b, c`); the rest are in its text


@dataclass(frozen=True, slots=True)
class Statement:
    """A top-level statement that is not a definition: its lines, whether only the
    file summary needs it (an import, the module docstring), and the names it binds."""

    start: int
    end: int
    summary_only: bool = False
    names: tuple[str, ...] = ()


def module_chunks(
    lines: Sequence[str],
    covered: Sequence[tuple[int, int]],
    statements: Sequence[Statement],
    comment: str | None = None,
) -> list[Chunk]:
    """Chunks for every statement outside the `covered` (definition) line spans; with
    `comment` (a line-comment prefix), the comment lines right above a group join it."""
    taken = bytearray(len(lines) + 2)
    for start, end in covered:
        for line in range(max(start, 1), min(end, len(lines)) + 1):
            taken[line] = 1
    free = [s for s in sorted(statements, key=lambda s: s.start) if not taken[s.start]]
    if comment is not None:
        free = [_with_comments(lines, taken, s, comment) for s in free]
    chunks: list[Chunk] = []
    group: list[Statement] = []
    for stmt in free:
        # A definition between two statements ends the group; so does the window size.
        if group and (
            any(taken[group[-1].end + 1 : stmt.start])
            or stmt.end - group[0].start + 1 > WINDOW_LINES
        ):
            chunks += _group_chunk(lines, group)
            group = []
        group.append(stmt)
    if group:
        chunks += _group_chunk(lines, group)
    return chunks


def _with_comments(
    lines: Sequence[str], taken: bytearray, stmt: Statement, comment: str
) -> Statement:
    start = stmt.start
    while start > 1 and not taken[start - 1] and lines[start - 2].lstrip().startswith(comment):
        start -= 1
    if start == stmt.start:
        return stmt
    return Statement(start, stmt.end, stmt.summary_only, stmt.names)


def _group_chunk(lines: Sequence[str], group: list[Statement]) -> list[Chunk]:
    # The imports and docstring a group starts with are the file summary's.
    while group and group[0].summary_only:
        group = group[1:]
    if not group:
        return []
    start, end = group[0].start, max(s.end for s in group)
    names = list(dict.fromkeys(n for s in group for n in s.names))
    symbol = ", ".join(names[:MAX_NAMES]) or None
    content = "".join(lines[start - 1 : end])
    if not content.strip():
        return []
    meta: dict[str, object] = {"defines": names[:200]} if names else {}
    return fit(Chunk(ContextType.SYMBOL, content, start, end, symbol, KIND, None, meta))
