"""Project facts: languages, stack, tooling, CI, containers, entry points,
layout and conventions, as architecture and dependency contexts.

Facts are derived from the whole file list, so they are rebuilt only when a
file appears or disappears, or a file they are read from changes.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from axon.indexing.chunks import Chunk
from axon.indexing.ignore import VIRTUAL_DIR
from axon.indexing.languages import PROSE, detect_language
from axon.indexing.manifests import Manifest, is_manifest, parse_manifest
from axon.indexing.roles import path_role
from axon.kinds import Role
from axon.models import ContextType

FACTS_PATH = f"{VIRTUAL_DIR}/project-facts"

FRAMEWORKS = {
    "django": "Django",
    "flask": "Flask",
    "fastapi": "FastAPI",
    "starlette": "Starlette",
    "aiohttp": "aiohttp",
    "tornado": "Tornado",
    "sphinx": "Sphinx",
    "docutils": "Docutils",
    "pydantic": "Pydantic",
    "sqlalchemy": "SQLAlchemy",
    "celery": "Celery",
    "numpy": "NumPy",
    "pandas": "pandas",
    "torch": "PyTorch",
    "tensorflow": "TensorFlow",
    "react": "React",
    "react-dom": "React",
    "next": "Next.js",
    "vue": "Vue",
    "nuxt": "Nuxt",
    "svelte": "Svelte",
    "@angular/core": "Angular",
    "express": "Express",
    "@nestjs/core": "NestJS",
    "fastify": "Fastify",
    "github.com/gin-gonic/gin": "Gin",
    "github.com/labstack/echo": "Echo",
    "github.com/gofiber/fiber": "Fiber",
    "actix-web": "Actix Web",
    "axum": "axum",
    "rocket": "Rocket",
    "tokio": "Tokio",
    "serde": "Serde",
    "org.springframework.boot": "Spring Boot",
    "org.springframework": "Spring",
    "io.quarkus": "Quarkus",
    "rails": "Rails",
    "sinatra": "Sinatra",
    "laravel/framework": "Laravel",
    "symfony": "Symfony",
}
TEST_RUNNERS = {
    "pytest": "pytest",
    "nose2": "nose2",
    "tox": "tox",
    "nox": "nox",
    "hypothesis": "Hypothesis",
    "jest": "Jest",
    "vitest": "Vitest",
    "mocha": "Mocha",
    "jasmine": "Jasmine",
    "ava": "AVA",
    "@playwright/test": "Playwright",
    "cypress": "Cypress",
    "junit": "JUnit",
    "org.junit": "JUnit",
    "org.testng": "TestNG",
    "rspec": "RSpec",
    "minitest": "Minitest",
    "phpunit/phpunit": "PHPUnit",
}
LINTERS = {
    "ruff": "Ruff",
    "flake8": "Flake8",
    "pylint": "Pylint",
    "mypy": "mypy",
    "pyright": "Pyright",
    "black": "Black",
    "isort": "isort",
    "pre-commit": "pre-commit",
    "eslint": "ESLint",
    "prettier": "Prettier",
    "@biomejs/biome": "Biome",
    "typescript": "TypeScript compiler",
    "stylelint": "stylelint",
    "rubocop": "RuboCop",
    "phpstan/phpstan": "PHPStan",
    "maven-checkstyle-plugin": "Checkstyle",
    "com.diffplug.spotless": "Spotless",
    "checkstyle": "Checkstyle",
}
# Config files that name a tool by merely existing.
TOOL_FILES = {
    ".flake8": "Flake8",
    ".pylintrc": "Pylint",
    "pylintrc": "Pylint",
    "mypy.ini": "mypy",
    ".mypy.ini": "mypy",
    "ruff.toml": "Ruff",
    ".ruff.toml": "Ruff",
    "pytest.ini": "pytest",
    "conftest.py": "pytest",
    "tox.ini": "tox",
    "noxfile.py": "nox",
    ".pre-commit-config.yaml": "pre-commit",
    ".golangci.yml": "golangci-lint",
    ".golangci.yaml": "golangci-lint",
    "rustfmt.toml": "rustfmt",
    ".rustfmt.toml": "rustfmt",
    "clippy.toml": "Clippy",
    ".rubocop.yml": "RuboCop",
    ".editorconfig": "EditorConfig",
    "biome.json": "Biome",
    "jest.config.js": "Jest",
    "jest.config.ts": "Jest",
    "vitest.config.ts": "Vitest",
    "vitest.config.js": "Vitest",
    ".mocharc.json": "Mocha",
    "phpunit.xml": "PHPUnit",
    "checkstyle.xml": "Checkstyle",
}
TOOL_PREFIXES = {".eslintrc": "ESLint", "eslint.config.": "ESLint", ".prettierrc": "Prettier"}
CI_FILES = {
    ".gitlab-ci.yml": "GitLab CI",
    ".travis.yml": "Travis CI",
    "azure-pipelines.yml": "Azure Pipelines",
    "Jenkinsfile": "Jenkins",
    "bitbucket-pipelines.yml": "Bitbucket Pipelines",
    ".drone.yml": "Drone",
    ".circleci/config.yml": "CircleCI",
}
_PY_TOOL_SECTIONS = {
    "ruff": "Ruff",
    "black": "Black",
    "isort": "isort",
    "mypy": "mypy",
    "pylint": "Pylint",
    "pyright": "Pyright",
    "pytest": "pytest",
    "pytest.ini_options": "pytest",
    "coverage": "coverage.py",
    "flake8": "Flake8",
    "tox": "tox",
}
_CODE_FACT_NAMES = frozenset(
    {"Dockerfile", "Makefile", "manage.py", "__main__.py", "main.go", "main.rs", "Procfile"}
)


def _matches(name: str, table: dict[str, str]) -> str | None:
    """A dependency's label: exact name, or a group/path prefix (`org.junit.jupiter:...`)."""
    lowered = name.lower()
    if lowered in table:
        return table[lowered]
    for key, label in table.items():
        if lowered.startswith((key + ":", key + "/", key + ".")) or lowered.startswith(
            key.rstrip("/") + "/v"
        ):
            return label
    return None


def is_fact_source(path: str) -> bool:
    """Whether a change to `path` can change the facts (beyond the file list itself)."""
    p = PurePosixPath(path)
    return (
        is_manifest(path)
        or p.name in TOOL_FILES
        or p.name in _CODE_FACT_NAMES
        or p.name.startswith(("Dockerfile", "docker-compose", "compose.", *TOOL_PREFIXES))
        or p.name in {"setup.py", "package.json"}
        or path in CI_FILES
        or path.startswith((".github/workflows/", ".circleci/"))
    )


@dataclass(slots=True)
class _Facts:
    paths: list[str]
    read: Callable[[str], str | None]
    chunks: list[Chunk] = field(default_factory=list)
    manifests: list[Manifest] = field(default_factory=list)

    def add(self, kind: ContextType, key: str, title: str, body: str, meta: dict[str, Any]) -> None:
        content = f"{title}\n\n{body.strip()}\n"
        self.chunks.append(
            Chunk(kind, content, 1, 1, symbol=key, symbol_kind="fact", title=title, metadata=meta)
        )


def _languages(facts: _Facts, lines_by_path: dict[str, int]) -> None:
    lines: Counter[str] = Counter()
    files: Counter[str] = Counter()
    for path, count in lines_by_path.items():
        language = detect_language(path)
        if language is not None:
            lines[language] += count
            files[language] += 1
    total = sum(lines.values()) or 1
    shares = {
        lang: {"lines": n, "files": files[lang], "share": round(n / total, 4)}
        for lang, n in lines.most_common()
    }
    code = [lang for lang in shares if lang not in PROSE]
    body = "\n".join(
        f"- {lang}: {v['share']:.1%} of lines ({v['lines']} lines, {v['files']} files)"
        for lang, v in shares.items()
    )
    if code:
        body = f"Main language: {code[0]}\n\n{body}"
    facts.add(
        ContextType.ARCHITECTURE,
        "languages",
        "Languages by share of lines",
        body or "No source files.",
        {"languages": shares, "primary": code[0] if code else None},
    )


def _layout(facts: _Facts) -> None:
    top: Counter[str] = Counter()
    second: dict[str, Counter[str]] = defaultdict(Counter)
    root_files: list[str] = []
    for path in facts.paths:
        parts = path.split("/")
        if len(parts) == 1:
            root_files.append(path)
            continue
        top[parts[0]] += 1
        if len(parts) > 2:
            second[parts[0]][parts[1]] += 1
    lines = [f"{len(facts.paths)} files indexed."]
    for folder, count in top.most_common(25):
        lines.append(f"- {folder}/ ({count} files)")
        for sub, sub_count in second[folder].most_common(6):
            lines.append(f"  - {sub}/ ({sub_count} files)")
    if root_files:
        shown = sorted(root_files)[:30]
        lines.append("Top-level files: " + ", ".join(shown))
    facts.add(
        ContextType.ARCHITECTURE,
        "layout",
        "Directory layout",
        "\n".join(lines),
        {"folders": dict(top.most_common(50)), "rootFiles": sorted(root_files)[:100]},
    )


def _manifests(facts: _Facts) -> None:
    for path in facts.paths:
        if not is_manifest(path):
            continue
        text = facts.read(path)
        manifest = parse_manifest(path, text) if text is not None else None
        if manifest is None:
            continue
        facts.manifests.append(manifest)
        deps = manifest.dependencies
        dev = manifest.dev_dependencies
        if not deps and not dev:
            continue
        body = f"{manifest.ecosystem} manifest {path}" + (
            f" for {manifest.name}" if manifest.name else ""
        )
        if deps:
            body += "\n\nDependencies: " + ", ".join(sorted(set(deps)))
        if dev:
            body += "\n\nDevelopment dependencies: " + ", ".join(sorted(set(dev)))
        facts.add(
            ContextType.DEPENDENCY,
            f"dependencies:{path}",
            f"Dependencies ({path})",
            body,
            {
                "manifest": path,
                "ecosystem": manifest.ecosystem,
                "name": manifest.name,
                "dependencies": sorted(set(deps)),
                "devDependencies": sorted(set(dev)),
            },
        )


def _stack(facts: _Facts) -> None:
    frameworks: set[str] = set()
    tests: set[str] = set()
    linters: set[str] = set()
    for manifest in facts.manifests:
        for dep in manifest.dependencies + manifest.dev_dependencies:
            for table, found in (
                (FRAMEWORKS, frameworks),
                (TEST_RUNNERS, tests),
                (LINTERS, linters),
            ):
                label = _matches(dep, table)
                if label:
                    found.add(label)
        for section in manifest.tool_sections:
            label = _PY_TOOL_SECTIONS.get(section) or LINTERS.get(section)
            if label:
                (tests if label in {"pytest", "tox", "coverage.py"} else linters).add(label)
        if manifest.ecosystem == "go":
            tests.add("go test")
        elif manifest.ecosystem == "rust":
            tests.add("cargo test")
        for command in manifest.scripts.values():
            for runner in ("jest", "vitest", "mocha", "pytest", "playwright"):
                if re.search(rf"\b{runner}\b", command):
                    tests.add(TEST_RUNNERS.get(runner, TEST_RUNNERS.get(f"@{runner}/test", runner)))
    for path in facts.paths:
        name = PurePosixPath(path).name
        label = TOOL_FILES.get(name) or next(
            (v for k, v in TOOL_PREFIXES.items() if name.startswith(k)), None
        )
        if label:
            (tests if label in set(TEST_RUNNERS.values()) | {"tox", "nox"} else linters).add(label)
        if name.endswith("_test.go"):
            tests.add("go test")
    ecosystems = sorted({m.ecosystem for m in facts.manifests})
    lines = [
        "Ecosystems: " + (", ".join(ecosystems) or "none detected"),
        "Frameworks and libraries: " + (", ".join(sorted(frameworks)) or "none detected"),
        "Test runners: " + (", ".join(sorted(tests)) or "none detected"),
        "Linters, formatters and type checkers: " + (", ".join(sorted(linters)) or "none detected"),
        "Manifests: " + (", ".join(m.path for m in facts.manifests) or "none"),
    ]
    facts.add(
        ContextType.ARCHITECTURE,
        "stack",
        "Tech stack and tools",
        "\n".join(lines),
        {
            "ecosystems": ecosystems,
            "frameworks": sorted(frameworks),
            "testRunners": sorted(tests),
            "linters": sorted(linters),
            "manifests": [m.path for m in facts.manifests],
        },
    )


def _ci_and_containers(facts: _Facts) -> None:
    ci: dict[str, list[str]] = defaultdict(list)
    images: list[str] = []
    dockerfiles: list[str] = []
    compose: dict[str, list[str]] = {}
    for path in facts.paths:
        name = PurePosixPath(path).name
        if path in CI_FILES:
            ci[CI_FILES[path]].append(path)
        elif path.startswith(".github/workflows/") and name.endswith((".yml", ".yaml")):
            ci["GitHub Actions"].append(path)
        if name.startswith("Dockerfile") or name.endswith(".dockerfile"):
            dockerfiles.append(path)
            text = facts.read(path) or ""
            images += re.findall(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", text, re.M | re.I)
        elif name.startswith(("docker-compose", "compose.")) and name.endswith((".yml", ".yaml")):
            text = facts.read(path) or ""
            compose[path] = _compose_services(text)
    lines = []
    for system, files in sorted(ci.items()):
        lines.append(f"CI: {system} ({', '.join(sorted(files))})")
    if dockerfiles:
        lines.append(f"Dockerfiles: {', '.join(dockerfiles)}")
        lines.append(f"Base images: {', '.join(sorted(set(images)))}")
    for path, services in compose.items():
        lines.append(f"Compose file {path}: services {', '.join(services) or 'none'}")
    if lines:
        facts.add(
            ContextType.ARCHITECTURE,
            "ci-containers",
            "CI and containers",
            "\n".join(lines),
            {
                "ci": {k: sorted(v) for k, v in ci.items()},
                "dockerfiles": dockerfiles,
                "baseImages": sorted(set(images)),
                "compose": compose,
            },
        )


def _compose_services(text: str) -> list[str]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    services = data.get("services") if isinstance(data, dict) else None
    return sorted(str(k) for k in services) if isinstance(services, dict) else []


def _entry_points(facts: _Facts) -> None:
    points: list[str] = []
    for manifest in facts.manifests:
        points += [
            f"{name} -> {target} ({manifest.path})" for name, target in manifest.scripts.items()
        ]
    for path in facts.paths:
        p = PurePosixPath(path)
        if (
            p.name in {"__main__.py", "manage.py", "Procfile"}
            or p.name == "main.go"
            or (p.suffix == ".rs" and (p.name == "main.rs" or "bin" in p.parts))
            or (p.suffix == ".py" and p.parent.name == "bin")
        ):
            points.append(path)
    if points:
        facts.add(
            ContextType.ARCHITECTURE,
            "entry-points",
            "Entry points",
            "\n".join(f"- {p}" for p in points[:100]),
            {"entryPoints": points[:200]},
        )


def _conventions(facts: _Facts) -> None:
    found: dict[str, Any] = {}
    sources: list[str] = []
    for path in facts.paths:
        name = PurePosixPath(path).name
        if "/" in path:
            continue  # conventions come from the project root's config
        text = facts.read(path) if name in _CONVENTION_READERS else None
        if text is None:
            continue
        try:
            before = dict(found)
            _CONVENTION_READERS[name](text, found)
        except (ValueError, KeyError, TypeError, AttributeError, configparser.Error):
            continue
        if found != before:
            sources.append(path)
    go = any(p.endswith(".go") for p in facts.paths)
    rust = any(p.endswith(".rs") for p in facts.paths)
    if go:
        found.setdefault("formatter", "gofmt")
    if rust:
        found.setdefault("formatter", "rustfmt")
    if not found:
        return
    labels = {
        "formatter": "Formatter",
        "lineLength": "Line length",
        "lintSelect": "Lint rules selected",
        "lintIgnore": "Lint rules ignored",
        "indent": "Indentation",
        "typeChecking": "Type checking",
        "targetVersion": "Target version",
        "quotes": "Quotes",
        "eslintExtends": "ESLint presets",
    }
    lines = []
    for key, value in found.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        lines.append(f"- {labels.get(key, key)}: {shown}")
    facts.add(
        ContextType.ARCHITECTURE,
        "conventions",
        "Coding conventions",
        "\n".join(lines) + (f"\n\nFrom: {', '.join(sources)}" if sources else ""),
        {**found, "sources": sources},
    )


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,\s]+", value) if v.strip()]
    return [str(v) for v in value] if isinstance(value, list) else []


def _read_pyproject(text: str, found: dict[str, Any]) -> None:
    tool = tomllib.loads(text).get("tool", {})
    ruff = tool.get("ruff", {})
    lint = ruff.get("lint", ruff)
    if "ruff" in tool:
        found.setdefault("formatter", "ruff format" if "format" in ruff else "ruff")
    if "black" in tool:
        found["formatter"] = "black"
    length = ruff.get("line-length") or tool.get("black", {}).get("line-length")
    if length:
        found["lineLength"] = int(length)
    if lint.get("select") or lint.get("extend-select"):
        found["lintSelect"] = _as_list(lint.get("select", [])) + _as_list(
            lint.get("extend-select", [])
        )
    if lint.get("ignore"):
        found["lintIgnore"] = _as_list(lint["ignore"])
    target = ruff.get("target-version") or tool.get("black", {}).get("target-version")
    if target:
        found["targetVersion"] = target if isinstance(target, str) else ", ".join(target)
    mypy = tool.get("mypy")
    if isinstance(mypy, dict):
        found["typeChecking"] = "mypy strict" if mypy.get("strict") else "mypy"


def _read_ini(text: str, found: dict[str, Any]) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    for section in ("flake8", "pycodestyle", "pylint.FORMAT", "tool:pytest"):
        if not parser.has_section(section):
            continue
        for key in ("max-line-length", "max_line_length"):
            if parser.has_option(section, key):
                found.setdefault("lineLength", int(parser.get(section, key)))
        if parser.has_option(section, "select"):
            found.setdefault("lintSelect", _as_list(parser.get(section, "select")))
        for key in ("ignore", "extend-ignore"):
            if parser.has_option(section, key):
                found.setdefault("lintIgnore", _as_list(parser.get(section, key)))
    if parser.has_section("mypy"):
        strict = parser.get("mypy", "strict", fallback="false").lower() == "true"
        found.setdefault("typeChecking", "mypy strict" if strict else "mypy")


def _read_editorconfig(text: str, found: dict[str, Any]) -> None:
    style = re.search(r"^\s*indent_style\s*=\s*(\w+)", text, re.M)
    size = re.search(r"^\s*indent_size\s*=\s*(\w+)", text, re.M)
    if style:
        found.setdefault("indent", style.group(1) + (f" ({size.group(1)})" if size else ""))
    length = re.search(r"^\s*max_line_length\s*=\s*(\d+)", text, re.M)
    if length:
        found.setdefault("lineLength", int(length.group(1)))


def _read_prettier(text: str, found: dict[str, Any]) -> None:
    data = json.loads(text)
    found.setdefault("formatter", "prettier")
    if isinstance(data, dict):
        if "printWidth" in data:
            found.setdefault("lineLength", int(data["printWidth"]))
        if "singleQuote" in data:
            found["quotes"] = "single" if data["singleQuote"] else "double"
        if "tabWidth" in data or "useTabs" in data:
            found.setdefault(
                "indent", "tabs" if data.get("useTabs") else f"spaces ({data.get('tabWidth', 2)})"
            )


def _read_eslint(text: str, found: dict[str, Any]) -> None:
    data = json.loads(text)
    if isinstance(data, dict):
        if data.get("extends"):
            found["eslintExtends"] = _as_list(data["extends"])
        if isinstance(data.get("rules"), dict):
            found["lintSelect"] = sorted(data["rules"])[:50]


def _read_rustfmt(text: str, found: dict[str, Any]) -> None:
    data = tomllib.loads(text)
    found["formatter"] = "rustfmt"
    if "max_width" in data:
        found["lineLength"] = int(data["max_width"])


_CONVENTION_READERS: dict[str, Callable[[str, dict[str, Any]], None]] = {
    "pyproject.toml": _read_pyproject,
    "setup.cfg": _read_ini,
    "tox.ini": _read_ini,
    ".flake8": _read_ini,
    "mypy.ini": _read_ini,
    ".editorconfig": _read_editorconfig,
    ".prettierrc": _read_prettier,
    ".prettierrc.json": _read_prettier,
    ".eslintrc.json": _read_eslint,
    ".eslintrc": _read_eslint,
    "rustfmt.toml": _read_rustfmt,
    ".rustfmt.toml": _read_rustfmt,
}


def _is_test(path: str) -> bool:
    return path_role(path, detect_language(path)) is Role.TEST


def project_facts(
    paths: Iterable[str],
    lines_by_path: dict[str, int],
    read: Callable[[str], str | None],
    *,
    code: bool = True,
) -> list[Chunk]:
    """Fact chunks for a workspace; `code` False (notes vaults) keeps only the layout."""
    facts = _Facts(sorted(paths), read)
    _layout(facts)
    if code:
        # The stack is the project's own: a test suite's fixtures (a sample Spring app,
        # a Go module to parse) say nothing about what the project is built with.
        facts.paths = [p for p in facts.paths if not _is_test(p)]
        lines_by_path = {p: n for p, n in lines_by_path.items() if not _is_test(p)}
        _languages(facts, lines_by_path)
        _manifests(facts)
        _stack(facts)
        _ci_and_containers(facts)
        _entry_points(facts)
        _conventions(facts)
    return facts.chunks
