"""Entities named in a prompt: paths, modules, symbols, errors and stack-trace frames.

Pure functions over text, shared by retrieval (boosts) and the prompt analyzer.
Everything is found by shape, never by a list of known projects: a path has a
separator or a file extension, a symbol is CamelCase, snake_case, UPPER_SNAKE, `called()` or
`quoted`, an error is a `...Error`/`...Exception` name or a `Name: message` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_ENTITIES = 64

_PY_FRAME = re.compile(r'File "(?P<path>[^"\n]+)", line (?P<line>\d+)(?:, in (?P<func>[\w<>.]+))?')
_JS_FRAME = re.compile(
    r"\bat (?:(?P<func>[\w$.<>\[\] ]{1,200}?) \()?"
    r"(?P<path>[^\s()]+?\.[A-Za-z]{1,5}):(?P<line>\d+)(?::\d+)?\)?"
)
_JAVA_FRAME = re.compile(
    r"\bat (?P<func>[\w$]+(?:\.[\w$<>]+)+)\((?P<path>[\w$]+\.(?:java|kt|scala)):(?P<line>\d+)\)"
)
_PATH = re.compile(
    r"(?<![\w/.-])(?:[\w.-]+/)*[\w-]+\.(?:py|pyi|js|jsx|mjs|cjs|ts|tsx|java|kt|go|rs|rb|php|c|h|cc|cpp|hpp|cs|swift|scala|md|rst|txt|toml|yaml|yml|json|cfg|ini|html|css|sh)\b"
)
_SLASH_PATH = re.compile(r"(?<![\w:/.-])(?:[\w.-]{2,}/)+[\w.-]{2,}")
_DOTTED = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?![\w(])")
_DOTTED_FULL = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_CALL = re.compile(r"(?<![\w.])((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\(")
_BACKTICK = re.compile(r"`([^`\n]{1,200})`")
# One quantifier per run of letters, never a repeated group of them: `(?:[A-Z]\w*)+`
# followed by `\b` tries every split of a long capitalised run (exponential time).
_CAMEL = re.compile(
    r"(?<![\w.])(?:[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*|[A-Z]{2,}[a-z]\w*|[a-z]+[0-9]*[A-Z]\w*)\b"
)
_SNAKE = re.compile(r"(?<![\w.])_*[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# Constants and settings (`MAX_CART_ITEMS`, `SEND_FILE_MAX_AGE_DEFAULT`); each `_`
# starts a new part, so no run can be split two ways.
_UPPER_SNAKE = re.compile(r"(?<![\w.])_*[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
_ERROR_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning|Exit|Interrupt)\b")
# Horizontal space only (`\s*` after `^` would span lines, scanning the rest of the text
# from every line start), and a module prefix split at its dots, one way only.
_ERROR_LINE = re.compile(
    r"^[ \t]*(?:\w+\.)*(?P<name>[A-Z]\w*(?:Error|Exception|Warning))"
    r"[ \t]*:[ \t]*(?P<msg>.{3,300})$",
    re.MULTILINE,
)
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
# Dotted words that are prose or URLs, not code: "e.g.", "i.e.", domain names.
_NOT_CODE = re.compile(r"^(?:e\.g|i\.e|etc|vs|www\.|https?)|\.(?:com|org|net|io|html?)$", re.I)
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class Frame:
    path: str
    line: int
    function: str | None


@dataclass(slots=True)
class QueryEntities:
    paths: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)  # dotted names that may be modules
    symbols: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # exception names
    messages: list[str] = field(default_factory=list)  # error message text after "Name:"
    frames: list[Frame] = field(default_factory=list)

    def all_names(self) -> list[str]:
        return [*self.paths, *self.modules, *self.symbols, *self.errors]


def _add(items: list[str], value: str) -> None:
    if len(value) > 1 and value not in items and len(items) < MAX_ENTITIES:
        items.append(value)


def _clean_path(path: str) -> str:
    path = path.replace("\\", "/").strip("'\"`.,;:()[]")
    # Stack traces carry absolute paths: keep what follows site-packages or the last
    # root-like folder, so a suffix match against workspace-relative paths works.
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return path.lstrip("./")


def module_to_path(dotted: str) -> str:
    return dotted.replace(".", "/") + ".py"


def extract_entities(text: str) -> QueryEntities:
    found = QueryEntities()
    text = _URL.sub(" ", text)
    for rx in (_PY_FRAME, _JAVA_FRAME, _JS_FRAME):
        for m in rx.finditer(text):
            path = _clean_path(m.group("path"))
            func = m.group("func")
            if len(found.frames) < MAX_ENTITIES:
                found.frames.append(Frame(path, int(m.group("line")), func))
            _add(found.paths, path)
            if func and not func.startswith("<"):
                _add(found.symbols, func.rsplit(".", 1)[-1] if rx is _JAVA_FRAME else func)
    for rx in (_PATH, _SLASH_PATH):
        for m in rx.finditer(text):
            path = _clean_path(m.group())
            if "/" in path or rx is _PATH:
                _add(found.paths, path)
    for m in _ERROR_LINE.finditer(text):
        _add(found.errors, m.group("name"))
        _add(found.messages, m.group("msg").strip())
    for m in _ERROR_NAME.finditer(text):
        _add(found.errors, m.group())
    for m in _BACKTICK.finditer(text):
        inner = m.group(1).strip().rstrip("()")
        if _PATH.fullmatch(inner):
            _add(found.paths, _clean_path(inner))
        elif _IDENT.match(inner):
            _add(found.symbols, inner)
        elif _DOTTED_FULL.fullmatch(inner) and not _NOT_CODE.search(inner):
            _add(found.modules, inner)
    for m in _CALL.finditer(text):
        name = m.group(1)
        _add(found.symbols, name.rsplit(".", 1)[-1])
    for m in _DOTTED.finditer(text):
        dotted = m.group()
        if not _NOT_CODE.search(dotted) and not _PATH.fullmatch(dotted):
            _add(found.modules, dotted)
    for rx in (_CAMEL, _SNAKE, _UPPER_SNAKE):
        for m in rx.finditer(text):
            _add(found.symbols, m.group() if rx is _CAMEL else m.group().strip("_"))
    for dotted in found.modules:
        _add(found.symbols, dotted.rsplit(".", 1)[-1])
    return found


def candidate_paths(entities: QueryEntities) -> list[str]:
    """Paths to look up: explicit ones plus the files a dotted module name may live in."""
    paths = list(entities.paths)
    for dotted in entities.modules:
        parts = dotted.split(".")
        # `pkg.mod.Class.method`: any prefix of two or more parts may be the module.
        for end in range(len(parts), 1, -1):
            prefix = ".".join(parts[:end])
            _add(paths, module_to_path(prefix))
            _add(paths, prefix.replace(".", "/") + "/__init__.py")
    return paths
