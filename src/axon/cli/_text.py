"""Plain-text output for people: whole paths and ids, never cut to a column width.

Lines go out whole and the terminal wraps what does not fit, so a path or a key id
can always be read and copied in one piece (a table at 80 columns cut them to
"src/flask/san…"). Control characters from indexed files are shown escaped: a
workspace file must not be able to drive the terminal.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls but tab and newline, DEL, and C1 (a lone \x9b is a CSI on some terminals).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SNIPPET_LINES = 12


def print_json(data: Any) -> None:
    # Plain print: Rich would re-wrap long lines and break the JSON for pipes.
    print(json.dumps(data, indent=2, ensure_ascii=False))


def clean(text: str) -> str:
    """`text` with control characters written as escapes (\\x1b), never sent raw."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def location(path: str | None, start: int | None, end: int | None, fallback: str) -> str:
    """`path:start-end`, the form editors and terminals open; `fallback` (a title or
    id) for contexts without a path."""
    where = clean(path or fallback)
    if not start:
        return where
    return f"{where}:{start}" if end in (None, start) else f"{where}:{start}-{end}"


def snippet(content: str, start_line: int | None, max_lines: int = SNIPPET_LINES) -> list[str]:
    """The first `max_lines` lines of `content`, numbered from `start_line` when known."""
    lines = content.splitlines() or [""]
    shown = [clean(line.expandtabs(4)) for line in lines[:max_lines]]
    if start_line:
        width = len(str(start_line + len(shown) - 1))
        shown = [f"{start_line + i:>{width}} | {line}" for i, line in enumerate(shown)]
    if len(lines) > max_lines:
        shown.append(f"... {len(lines) - max_lines} more lines")
    return shown
