"""Chart geometry for server-rendered SVG: the templates draw the rectangles, this
module only says where they go (no inline style: the CSP forbids it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    width: float  # in the chart's own units (0..span)


@dataclass(frozen=True, slots=True)
class Segment:
    label: str
    value: float
    x: float
    width: float


def bars(
    values: Sequence[tuple[str, float]], span: float, scales: Mapping[str, float] | None = None
) -> list[Bar]:
    """Horizontal bars spanning `span` at a label's scale (`scales`, by default the
    largest value); negative values draw as empty bars (their number is still shown)."""
    top = max((v for _, v in values), default=0.0)
    drawn: list[Bar] = []
    for label, value in values:
        scale = scales.get(label, top) if scales is not None else top
        drawn.append(Bar(label, value, span * max(0.0, value) / scale if scale > 0 else 0.0))
    return drawn


def stacked(parts: Sequence[tuple[str, float]], total: float, span: float) -> list[Segment]:
    """Segments side by side on one bar of `span` that stands for `total` (a budget):
    what exceeds it is cut at the end of the bar."""
    segments: list[Segment] = []
    x = 0.0
    for label, value in parts:
        if value <= 0:
            continue
        width = min(span - x, span * value / total) if total > 0 else 0.0
        if width <= 0:
            break
        segments.append(Segment(label, value, x, width))
        x += width
    return segments


def highlight(text: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, matched) runs where any term occurs, case-insensitively.
    Plain substring search, left to right, the longest term first where several start:
    no regular expression, and each term's next occurrence is looked up only once it is
    passed, so the work stays about len(text) x len(terms)."""
    wanted = sorted({t.casefold() for t in terms if t.strip()}, key=len, reverse=True)
    if not text:
        return []
    folded = text.casefold()
    if not wanted or len(folded) != len(text):  # a fold that changes lengths: no mapping
        return [(text, False)]
    runs: list[tuple[str, bool]] = []
    following = {term: folded.find(term) for term in wanted}
    at = 0
    while True:
        for term, pos in following.items():
            if 0 <= pos < at:
                following[term] = folded.find(term, at)
        found = [(pos, -len(term)) for term, pos in following.items() if pos >= 0]
        if not found:
            break
        pos, negative = min(found)
        if pos > at:
            runs.append((text[at:pos], False))
        runs.append((text[pos : pos - negative], True))
        at = pos - negative
    if at < len(text):
        runs.append((text[at:], False))
    return runs
