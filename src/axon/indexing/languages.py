"""File names to languages, and which chunker family handles each language."""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePosixPath


class Family(StrEnum):
    PYTHON = "python"  # the `ast` chunker
    TREE_SITTER = "tree_sitter"  # grammar wheels: JS, TS/TSX, Go, Rust, Java
    MARKDOWN = "markdown"  # heading sections, front matter, tags, links
    CONFIG = "config"  # whole file while it fits, windows beyond
    TEXT = "text"  # overlapping windows


EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",
    ".rst": "restructuredtext",
    ".txt": "text",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".scala": "scala",
    ".swift": "swift",
    ".rb": "ruby",
    ".php": "php",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".sql": "sql",
    ".html": "html",
    ".htm": "html",
    ".jinja": "jinja",
    ".j2": "jinja",
    ".css": "css",
    ".scss": "scss",
    ".vue": "vue",
    ".svelte": "svelte",
    ".lua": "lua",
    ".r": "r",
    ".tex": "tex",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".xml": "xml",
    ".gradle": "gradle",
    ".proto": "protobuf",
    ".graphql": "graphql",
}

FILENAMES: dict[str, str] = {
    "Dockerfile": "dockerfile",
    "Makefile": "make",
    "Gemfile": "ruby",
    "Rakefile": "ruby",
    "Jenkinsfile": "groovy",
    "CMakeLists.txt": "cmake",
}

_FAMILIES: dict[str, Family] = {
    "python": Family.PYTHON,
    "javascript": Family.TREE_SITTER,
    "typescript": Family.TREE_SITTER,
    "tsx": Family.TREE_SITTER,
    "go": Family.TREE_SITTER,
    "rust": Family.TREE_SITTER,
    "java": Family.TREE_SITTER,
    "markdown": Family.MARKDOWN,
    "json": Family.CONFIG,
    "yaml": Family.CONFIG,
    "toml": Family.CONFIG,
    "ini": Family.CONFIG,
    "xml": Family.CONFIG,
    "gradle": Family.CONFIG,
    "dockerfile": Family.CONFIG,
    "make": Family.CONFIG,
}

# Prose formats: their windows are documentation rather than code.
PROSE = frozenset({"markdown", "restructuredtext", "text", "tex"})


def detect_language(path: str) -> str | None:
    """The language of a workspace-relative path, or None for unknown text."""
    name = PurePosixPath(path).name
    if name in FILENAMES:
        return FILENAMES[name]
    if name.startswith("Dockerfile") or name.endswith(".dockerfile"):
        return "dockerfile"
    return EXTENSIONS.get(PurePosixPath(name).suffix.lower())


def family_of(language: str | None) -> Family:
    if language is None:
        return Family.TEXT
    return _FAMILIES.get(language, Family.TEXT)
