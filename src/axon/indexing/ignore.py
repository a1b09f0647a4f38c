"""Which paths a scan leaves out: built-in excludes, .gitignore files (nested
ones apply below their own folder) and .axonignore files.

Precedence, lowest first: built-in excludes, .gitignore, .axonignore. An
.axonignore negation (`!dist/`) can bring back what the others exclude.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatchcase

from pathspec import GitIgnoreSpec

EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "_darcs",
        "node_modules",
        "bower_components",
        "jspm_packages",
        ".venv",
        "venv",
        ".virtualenv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".tox",
        ".nox",
        ".cache",
        ".eggs",
        ".gradle",
        ".idea",
        "dist",
        "build",
        "out",
        ".next",
        ".nuxt",
        ".svelte-kit",
        ".turbo",
        "coverage",
        "htmlcov",
        "site-packages",
        "vendor",
        ".terraform",
        ".obsidian",
        ".trash",
        ".axon",
    }
)
# Contexts that come from no single file (project facts, sub-project lists) use paths in
# this folder; the scanner never lists it, so no real file can collide with them.
VIRTUAL_DIR = ".axon"
EXCLUDED_DIR_GLOBS = ("*.egg-info",)
# `target` is build output only next to a Cargo or Maven/Gradle manifest.
TARGET_MANIFESTS = frozenset({"Cargo.toml", "pom.xml", "build.gradle", "build.gradle.kts"})

LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "poetry.lock",
        "Pipfile.lock",
        "pdm.lock",
        "uv.lock",
        "Cargo.lock",
        "composer.lock",
        "Gemfile.lock",
        "go.sum",
        "packages.lock.json",
    }
)
# Secrets never enter the context base, whatever the ignore files say.
SECRET_GLOBS = (".env", ".env.*", "*.pem", "*.key", "*.p12", "*.pfx", "id_rsa*", "id_ed25519*")


def is_secret_name(name: str) -> bool:
    """A file name that holds secrets (`.env`, keys): never read, shown or diffed."""
    return any(fnmatchcase(name, g) for g in SECRET_GLOBS)


# Generated or machine-managed text: minified bundles, source maps, lock files and gettext
# translation catalogs (one copy of every message per language; `!*.po` brings them back).
GENERATED_GLOBS = ("*.min.js", "*.min.css", "*.map", "*.lock", ".DS_Store", "*.po")

BINARY_EXTENSIONS = frozenset(
    """
    .png .jpg .jpeg .gif .bmp .ico .icns .webp .tif .tiff .psd .svgz .heic
    .mp3 .wav .ogg .flac .m4a .mp4 .mov .avi .mkv .webm
    .zip .tar .gz .tgz .bz2 .xz .zst .7z .rar .jar .war .ear .whl .egg
    .pyc .pyo .pyd .so .dylib .dll .exe .o .a .lib .obj .class .wasm .bin .dat
    .pdf .doc .docx .xls .xlsx .ppt .pptx .odt .ods .odp .epub
    .ttf .otf .woff .woff2 .eot
    .db .sqlite .sqlite3 .parquet .feather .npy .npz .pkl .pickle .h5 .onnx .pt
    .mo .pbxproj
    """.split()  # noqa: SIM905 - a word list reads better than 80 quoted strings
)

IGNORE_FILES = (".gitignore", ".axonignore")


@dataclass(frozen=True, slots=True)
class _Spec:
    base: str  # folder of the ignore file, relative to the workspace ("" at the root)
    spec: GitIgnoreSpec


def builtin_reason(name: str, is_dir: bool) -> str | None:
    """Why the built-in rules exclude an entry named `name`, or None."""
    if is_dir:
        if name in EXCLUDED_DIRS or any(fnmatchcase(name, g) for g in EXCLUDED_DIR_GLOBS):
            return "excluded"
        return None
    if is_secret_name(name):
        return "secret"
    if name in LOCK_FILES or any(fnmatchcase(name, g) for g in GENERATED_GLOBS):
        return "excluded"
    if os.path.splitext(name)[1].lower() in BINARY_EXTENSIONS:
        return "binary"
    return None


def _decide(specs: tuple[_Spec, ...], rel: str, is_dir: bool) -> bool | None:
    """True: ignored, False: explicitly re-included, None: no rule matched."""
    decision: bool | None = None
    for item in specs:
        if item.base:
            if not rel.startswith(item.base + "/"):
                continue
            local = rel[len(item.base) + 1 :]
        else:
            local = rel
        result = item.spec.check_file(local + "/" if is_dir else local).include
        if result is not None:
            decision = result
    return decision


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    """The ignore files in effect for one folder; `descend` adds a folder's own files."""

    git: tuple[_Spec, ...] = ()
    axon: tuple[_Spec, ...] = ()

    def descend(self, base: str, git_lines: list[str], axon_lines: list[str]) -> IgnoreRules:
        git = self.git + ((_Spec(base, GitIgnoreSpec.from_lines(git_lines)),) if git_lines else ())
        axon = self.axon
        if axon_lines:
            axon = (*axon, _Spec(base, GitIgnoreSpec.from_lines(axon_lines)))
        return IgnoreRules(git, axon)

    def reason(self, rel: str, name: str, is_dir: bool) -> str | None:
        """Why `rel` (workspace-relative, forward slashes) is left out, or None to keep it."""
        if not is_dir and is_secret_name(name):
            return "secret"
        axon = _decide(self.axon, rel, is_dir)
        if axon is not None:
            return "ignored" if axon else None
        builtin = builtin_reason(name, is_dir)
        if builtin is not None:
            return builtin
        return "ignored" if _decide(self.git, rel, is_dir) else None
