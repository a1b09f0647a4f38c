"""Long, noisy queries: an issue text split into segments by kind.

A bug report pastes much that is not about the code: a version dump
(`xr.show_versions()`, `pip list`, `pip freeze`), an issue template's headings,
comments and checklists. Their words (`python-bits`, `LC_ALL`, `Expected behavior`)
match the one file that prints versions, or nothing, and outweigh the few words of
the report that name the code. Here the text is cut into prose, code, tracebacks,
version dumps and template; search reads only the first three (`focus`).

One pass over the lines, each classified by bounded checks: no pattern here can
backtrack over more than one line, and a line longer than MAX_LINE is prose or code,
never a dump.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    PROSE = "prose"
    CODE = "code"  # a fenced block
    TRACEBACK = "traceback"  # from "Traceback (most recent call last):" to its error line
    VERSIONS = "versions"  # a version or environment dump, with its caption
    TEMPLATE = "template"  # an issue template's comments, headings, checklists, tags


@dataclass(frozen=True, slots=True)
class Segment:
    kind: Kind
    text: str


BOILERPLATE = frozenset({Kind.VERSIONS, Kind.TEMPLATE})
MAX_LINE = 300  # longer lines are never a dump line, a heading or a tag
MIN_DUMP_LINES = 3  # version-like lines (a dotted version or None) that make a dump
CAPTION_WORDS = 5  # a line of so few words just before a dump introduces it

_FENCE = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})")
_TRACEBACK = "Traceback (most recent call last)"
_KEY = re.compile(r"[A-Za-z_][\w.\-]{0,40}(?: [\w.\-()]{1,40}){0,3}")
_NAME = re.compile(r"[A-Za-z_][\w.\-\[\]]{0,60}")
# A release: `3.7.3`, `v1.2`, `2.14.1,`, `1.0.4.2`, `19.10b0`; or a package's (`py-1.8.1`).
_DOTTED = re.compile(r"(?:[A-Za-z][\w.]{0,40}-)?v?\d{1,6}\.\w[\w.+\-]{0,40},?")
_PACKAGE = re.compile(r"[A-Za-z][\w.]{0,40}-v?\d{1,6}\.\w[\w.+\-]{0,40},?")
_NUMBER = re.compile(r"v?\d[\w.+\-]{0,40}")
_NONE = frozenset({"none", "null", "unknown", "n/a", "not installed", "installed"})
_PIN = re.compile(r"([A-Za-z_][\w.\-\[\]]{0,60})\s{0,4}(?:==|>=|<=|~=|!=)\s{0,4}\S{1,60}")
_SEPARATOR = re.compile(r"[-=*_~+ ]{3,}")
_UPPER_HEADER = re.compile(r"[A-Z][A-Z /]{2,40}")
_TAG_LINE = re.compile(r"</?[A-Za-z][\w-]{0,20}(?:\s[^<>]{0,200})?/?>.{0,200}")
_HEADING = re.compile(r"#{1,6}[ \t]+(.{0,200})")
_CHECKBOX = re.compile(r"[-*+][ \t]+\[[ xX]\][ \t]")
_NO_RESPONSE = frozenset({"_no response_", "no response", "n/a", "none", "-"})
# A heading that names code (`to_dict`, `Foo.bar`, `(x)`, `CamelCase`) is the report's.
_CODE_MARK = re.compile(r"[_.(`]|[a-z][A-Z]")


def _versionish(token: str) -> bool:
    return bool(_DOTTED.fullmatch(token)) or token.lower() in _NONE


def _line_class(line: str) -> int:
    """2: a version-like line (a dotted release or None); 1: a line a dump carries
    (`OS: Linux`, `machine: x86_64`, `[GCC 7.3.0]`, a header or rule); 0: any other."""
    text = line.strip()
    if not text or len(text) > MAX_LINE:
        return 0
    if _PIN.fullmatch(text):
        return 2
    key, colon, value = text.partition(":")
    if colon and _KEY.fullmatch(key.strip()):
        value = value.strip()
        head = value.split(None, 1)[0] if value else ""
        if value.lower() in _NONE or _versionish(head):
            return 2
        if not value or len(value.split()) <= 2 or _NUMBER.fullmatch(head):
            return 1
        return 0
    tokens = text.split()
    if len(tokens) >= 2 and _NAME.fullmatch(tokens[0]) and _versionish(tokens[1]):
        return 2  # `pylint 2.14.1`, `Python 3.9.6 (main, ...)`, a `pip list` row
    if sum(1 for t in tokens if _PACKAGE.fullmatch(t)) >= 2:
        return 2  # `platform linux -- Python 3.7.5, pytest-5.3.2, py-1.8.1`
    if _SEPARATOR.fullmatch(text) or _UPPER_HEADER.fullmatch(text):
        return 1
    if text[0] in "[(" and text[-1] in "])" and len(text) <= 80:
        return 1  # a compiler or build note under a version line
    return 0


def _template_line(line: str) -> bool:
    text = line.strip()
    if not text or len(text) > MAX_LINE:
        return False
    if text.lower() in _NO_RESPONSE or _CHECKBOX.match(text) or _TAG_LINE.fullmatch(text):
        return True
    heading = _HEADING.fullmatch(text)
    return heading is not None and not _CODE_MARK.search(heading.group(1))


def _caption(line: str) -> bool:
    """`Output of xr.show_versions()`, `$ pip list`, `Package Version`, `Versions:`: a
    few words, or a line ending in a colon; not a sentence of the report."""
    text = line.strip()
    if len(text) > MAX_LINE:
        return False
    return text.endswith(":") or (len(text.split()) <= CAPTION_WORDS and text[-1] not in ".!?")


def _runs(lines: list[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of dump lines holding MIN_DUMP_LINES version-like ones
    (blank lines inside a run continue it, trailing ones are not part of it)."""
    start, last, strong = -1, -1, 0
    for i, line in enumerate(lines):
        cls = _line_class(line)
        if cls:
            if start < 0:
                start, strong = i, 0
            last, strong = i, strong + (cls == 2)
        elif line.strip() and start >= 0:
            if strong >= MIN_DUMP_LINES:
                yield start, last + 1
            start = -1
    if start >= 0 and strong >= MIN_DUMP_LINES:
        yield start, last + 1


def _dumps(lines: list[str]) -> list[tuple[int, int]]:
    """The version dumps, each widened to its caption line just before it (over blank
    lines)."""
    found: list[tuple[int, int]] = []
    for start, end in _runs(lines):
        before = start - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        floor = found[-1][1] if found else 0
        if before >= floor and _caption(lines[before]):
            start = before
        found.append((start, end))
    return found


def _blocks(lines: list[str]) -> Iterator[tuple[Kind, int, int]]:
    """Fenced blocks (CODE, unclosed ones to the end) and the prose between them."""
    i, start = 0, 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        if start < i:
            yield Kind.PROSE, start, i
        mark = fence.group(1)
        end = i + 1
        while end < len(lines) and not lines[end].lstrip().startswith(mark):
            end += 1
        yield Kind.CODE, i, min(end + 1, len(lines))
        i = start = end + 1
    if start < len(lines):
        yield Kind.PROSE, start, len(lines)


def _tracebacks(lines: list[str], start: int, end: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each Python traceback: its header, the indented frames, and the
    first line after them (the exception and its message)."""
    i = start
    while i < end:
        if _TRACEBACK not in lines[i][:MAX_LINE]:
            i += 1
            continue
        j = i + 1
        while j < end and (not lines[j].strip() or lines[j][:1] in " \t"):
            j += 1
        stop = min(j + 1, end)
        yield i, stop
        i = stop


def _html_comments(text: str) -> Iterator[Segment]:
    """The text with `<!-- ... -->` comments cut out as TEMPLATE; from an unclosed one
    on, nothing can close, so the rest is text (one scan of it, not one per marker)."""
    pos = 0
    while True:
        opening = text.find("<!--", pos)
        closing = text.find("-->", opening + 4) if opening >= 0 else -1
        if closing < 0:
            yield Segment(Kind.PROSE, text[pos:])
            return
        yield Segment(Kind.PROSE, text[pos:opening])
        yield Segment(Kind.TEMPLATE, text[opening : closing + 3])
        pos = closing + 3


def segment(text: str) -> list[Segment]:
    """The text's segments: its HTML comments first, then its lines in order, each
    run of lines of one kind a segment."""
    out: list[Segment] = []
    prose: list[str] = []
    for part in _html_comments(text):
        if part.kind is Kind.TEMPLATE:
            out.append(part)
        else:
            prose.append(part.text)
    lines = "".join(prose).split("\n")
    kinds: list[Kind] = [Kind.PROSE] * len(lines)
    for kind, start, end in _blocks(lines):
        kinds[start:end] = [kind] * (end - start)
        for tb_start, tb_end in _tracebacks(lines, start, end):
            kinds[tb_start:tb_end] = [Kind.TRACEBACK] * (tb_end - tb_start)
        if kind is Kind.PROSE:
            for i in range(start, end):
                if kinds[i] is Kind.PROSE and _template_line(lines[i]):
                    kinds[i] = Kind.TEMPLATE
    for start, end in _dumps(lines):
        kinds[start:end] = [Kind.VERSIONS] * (end - start)
    start = 0
    for i in range(1, len(lines) + 1):
        if i == len(lines) or kinds[i] is not kinds[start]:
            out.append(Segment(kinds[start], "\n".join(lines[start:i])))
            start = i
    return out


def focus(text: str) -> str:
    """The text without its boilerplate (version dumps, template): what search reads
    for words, entities and exact phrases. A text that is all boilerplate stays whole."""
    kept = [s.text for s in segment(text) if s.kind not in BOILERPLATE]
    focused = "\n".join(kept)
    return focused if focused.strip() else text
