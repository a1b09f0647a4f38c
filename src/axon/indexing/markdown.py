"""Markdown notes: one chunk per heading section, front matter, tags and links.

Links are recorded as written (`outlinks`); turning them into backlinks needs
every note in the workspace, which `axon.indexing.backlinks` does after a scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any

import yaml

from axon.indexing.chunks import Chunk, fit
from axon.models import ContextType

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_WIKI = re.compile(r"(!?)\[\[([^\]\[|#\n]*)(#[^\]\[|\n]*)?(?:\|([^\]\[\n]*))?\]\]")
_MD_LINK = re.compile(r"(?<!!)\[[^\[\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# A tag starts a word: not inside URLs, anchors `(#top)`, entities `&#39;` or words `a#b`.
_TAG = re.compile(r"(?<![\w#/&;:.()\[\]-])#([A-Za-z_][\w/-]*)")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(slots=True)
class Section:
    heading_path: list[str]
    start: int  # 1-based line numbers
    end: int
    lines: list[str] = field(default_factory=list)


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """(front matter, body, number of lines the front matter took)."""
    if not text.startswith("---"):
        return {}, text, 0
    lines = text.splitlines(keepends=True)
    if lines[0].strip() != "---":
        return {}, text, 0
    for i in range(1, len(lines)):
        if lines[i].strip() in {"---", "..."}:
            try:
                data = yaml.safe_load("".join(lines[1:i]))
            except yaml.YAMLError:
                return {"_error": "front matter is not valid YAML"}, "".join(lines[i + 1 :]), i + 1
            meta = _json_safe(data) if isinstance(data, dict) else {}
            return meta if isinstance(meta, dict) else {}, "".join(lines[i + 1 :]), i + 1
    return {}, text, 0


def _json_safe(value: Any) -> Any:
    """YAML dates and odd keys become plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def front_matter_tags(meta: dict[str, Any]) -> list[str]:
    raw = meta.get("tags", meta.get("tag"))
    if isinstance(raw, str):
        items: list[Any] = re.split(r"[,\s]+", raw)
    elif isinstance(raw, list):
        items = raw
    else:
        return []
    return [str(t).strip().lstrip("#") for t in items if str(t).strip().lstrip("#")]


def sections(body: str, offset: int) -> list[Section]:
    """Split on ATX headings outside fenced code; the text before the first heading
    is a section with an empty heading path."""
    found = [Section([], offset + 1, offset + 1)]
    stack: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(body.splitlines(keepends=True), start=offset + 1):
        marker = _FENCE.match(line)
        if marker is not None:
            token = marker.group(1)[0] * 3
            fence = None if fence == token else (fence or token)
        heading = _HEADING.match(line) if fence is None else None
        if heading is not None:
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2).strip()))
            found.append(Section([h for _, h in stack], number, number))
        found[-1].lines.append(line)
        found[-1].end = number
    return [s for s in found if s.heading_path or "".join(s.lines).strip()]


def _prose(text: str) -> str:
    """Text without fenced or inline code, where tags and links are not meant."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        marker = _FENCE.match(line)
        if marker is not None:
            token = marker.group(1)[0] * 3
            fence = None if fence == token else (fence or token)
            continue
        if fence is None:
            out.append(_INLINE_CODE.sub("", line))
    return "\n".join(out)


def tags_in(text: str) -> list[str]:
    prose = "\n".join(line for line in _prose(text).splitlines() if not _HEADING.match(line))
    return sorted({m.group(1).rstrip("/") for m in _TAG.finditer(prose)})


def links_in(text: str) -> list[dict[str, str]]:
    """Wiki links ([[Note]], [[Note|alias]], [[Note#Heading]]) and relative markdown links."""
    prose = _prose(text)
    links: list[dict[str, str]] = []
    for match in _WIKI.finditer(prose):
        target = match.group(2).strip()
        if target:
            link = {"kind": "wiki", "target": target}
            if match.group(3):
                link["heading"] = match.group(3)[1:].strip()
            links.append(link)
    for match in _MD_LINK.finditer(prose):
        target = match.group(1)
        if _SCHEME.match(target) or target.startswith(("#", "/")):
            continue  # URLs, mail links, in-page anchors, site-absolute paths
        path, _, anchor = target.partition("#")
        link = {"kind": "markdown", "target": path}
        if anchor:
            link["heading"] = anchor
        links.append(link)
    unique = {tuple(sorted(link.items())): link for link in links}
    return list(unique.values())


def chunk_markdown(path: str, text: str, note: bool) -> list[Chunk]:
    """One chunk per heading section; `note` (PKM workspaces) types them as notes."""
    meta, body, offset = split_front_matter(text)
    note_tags = front_matter_tags(meta)
    title = str(meta.get("title") or PurePosixPath(path).stem)
    kind = ContextType.NOTE if note else ContextType.DOCUMENTATION
    chunks: list[Chunk] = []
    for section in sections(body, offset):
        content = "".join(section.lines)
        heading = " > ".join(section.heading_path)
        metadata: dict[str, Any] = {
            "headingPath": section.heading_path,
            "noteTitle": title,
            "tags": sorted(set(note_tags) | set(tags_in(content))),
            "outlinks": links_in(content),
        }
        if meta:
            metadata["frontMatter"] = meta
        chunk = Chunk(
            kind,
            content,
            section.start,
            section.end,
            symbol=heading or title,
            symbol_kind="section",
            title=f"{title} > {heading}" if heading else title,
            metadata=metadata,
        )
        chunks += fit(chunk)
    if not chunks and meta:
        # A note made only of front matter still says something.
        chunks.append(
            Chunk(
                kind,
                yaml.safe_dump(meta, sort_keys=False, allow_unicode=True),
                1,
                max(offset, 1),
                symbol=title,
                symbol_kind="section",
                title=title,
                metadata={
                    "headingPath": [],
                    "noteTitle": title,
                    "tags": note_tags,
                    "outlinks": [],
                    "frontMatter": meta,
                },
            )
        )
    return chunks
