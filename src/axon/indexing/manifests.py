"""Dependency manifests across ecosystems, read into one shape.

Each parser takes the file's text and returns the declared dependencies; a
manifest that does not parse yields an empty result, never an exception. The
project facts (`facts.py`) and the quality gate (`quality/detect.py`: which
tools a Python project declares or configures) both read manifests here.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(slots=True)
class Manifest:
    path: str
    ecosystem: str
    name: str | None = None
    dependencies: list[str] = field(default_factory=list)
    dev_dependencies: list[str] = field(default_factory=list)
    scripts: dict[str, str] = field(default_factory=dict)  # entry points / npm scripts
    tool_sections: list[str] = field(default_factory=list)  # [tool.X] in pyproject
    tool_config: dict[str, Any] = field(default_factory=dict)  # pyproject's [tool] table

    def all_names(self) -> set[str]:
        return {d.lower() for d in self.dependencies + self.dev_dependencies}


def _req(spec: str) -> str | None:
    match = _REQ_NAME.match(spec)
    return match.group(1).lower() if match else None


def _reqs(specs: Any) -> list[str]:
    if not isinstance(specs, list):
        return []
    return [n for n in (_req(str(s)) for s in specs) if n]


def _pyproject(path: str, text: str) -> Manifest:
    data = tomllib.loads(text)
    project = data.get("project", {})
    tool = data.get("tool", {})
    m = Manifest(path, "python", project.get("name"))
    m.dependencies = _reqs(project.get("dependencies"))
    for extra in (project.get("optional-dependencies") or {}).values():
        m.dev_dependencies += _reqs(extra)
    for group in (data.get("dependency-groups") or {}).values():
        m.dev_dependencies += _reqs([g for g in group if isinstance(g, str)])
    poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    m.name = m.name or poetry.get("name")
    m.dependencies += [d.lower() for d in poetry.get("dependencies", {}) if d != "python"]
    for grp in (poetry.get("group") or {}).values():
        m.dev_dependencies += [d.lower() for d in (grp.get("dependencies") or {})]
    m.dev_dependencies += [
        d.lower() for d in (poetry.get("dev-dependencies") or {})
    ]  # Poetry < 1.2
    m.scripts = {str(k): str(v) for k, v in (project.get("scripts") or {}).items()}
    m.tool_sections = sorted(tool) if isinstance(tool, dict) else []
    m.tool_config = tool if isinstance(tool, dict) else {}
    return m


def _requirements(path: str, text: str) -> Manifest:
    m = Manifest(path, "python")
    target = m.dev_dependencies if re.search(r"dev|test|lint|doc", path) else m.dependencies
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name = _req(line)
            if name:
                target.append(name)
    return m


def _setup_cfg(path: str, text: str) -> Manifest:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    m = Manifest(path, "python", parser.get("metadata", "name", fallback=None))
    m.dependencies = _reqs(parser.get("options", "install_requires", fallback="").splitlines())
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            m.dev_dependencies += _reqs(value.splitlines())
    if parser.has_section("options.entry_points"):
        for line in parser.get("options.entry_points", "console_scripts", fallback="").splitlines():
            name, _, target = line.partition("=")
            if target:
                m.scripts[name.strip()] = target.strip()
    m.tool_sections = [s.removeprefix("tool:") for s in parser.sections()]
    return m


def _package_json(path: str, text: str) -> Manifest:
    data = json.loads(text)
    if not isinstance(data, dict):
        return Manifest(path, "javascript")
    m = Manifest(path, "javascript", data.get("name"))
    m.dependencies = sorted(data.get("dependencies") or {})
    m.dev_dependencies = sorted(
        set(data.get("devDependencies") or {}) | set(data.get("peerDependencies") or {})
    )
    m.scripts = {f"npm run {k}": str(v) for k, v in (data.get("scripts") or {}).items()}
    bins = data.get("bin")
    if isinstance(bins, str):
        m.scripts[str(data.get("name") or "bin")] = bins
    elif isinstance(bins, dict):
        m.scripts.update({str(k): str(v) for k, v in bins.items()})
    if isinstance(data.get("main"), str):
        m.scripts["main"] = data["main"]
    return m


def _go_mod(path: str, text: str) -> Manifest:
    module = re.search(r"^module\s+(\S+)", text, re.M)
    m = Manifest(path, "go", module.group(1) if module else None)
    in_block = False
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if line.startswith("require ("):
            in_block = True
        elif in_block and line == ")":
            in_block = False
        elif in_block and line:
            m.dependencies.append(line.split()[0])
        elif line.startswith("require "):
            m.dependencies.append(line.split()[1])
    return m


def _cargo(path: str, text: str) -> Manifest:
    data = tomllib.loads(text)
    m = Manifest(path, "rust", (data.get("package") or {}).get("name"))
    m.dependencies = sorted(data.get("dependencies") or {})
    m.dev_dependencies = sorted(data.get("dev-dependencies") or {})
    for binary in data.get("bin") or []:
        if isinstance(binary, dict) and "name" in binary:
            m.scripts[str(binary["name"])] = str(binary.get("path", "src/main.rs"))
    return m


def _pom(path: str, text: str) -> Manifest:
    root = ET.fromstring(text)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    artifact = root.find(f"{ns}artifactId")
    m = Manifest(path, "java", artifact.text if artifact is not None else None)
    for dep in root.iter(f"{ns}dependency"):
        group, name = dep.find(f"{ns}groupId"), dep.find(f"{ns}artifactId")
        scope = dep.find(f"{ns}scope")
        coordinate = (
            f"{group.text if group is not None else ''}:{name.text if name is not None else ''}"
        )
        target = (
            m.dev_dependencies if scope is not None and scope.text == "test" else m.dependencies
        )
        target.append(coordinate)
    for plugin in root.iter(f"{ns}plugin"):
        name = plugin.find(f"{ns}artifactId")
        if name is not None and name.text:
            m.tool_sections.append(name.text)
    return m


# Within one line: `^\s*` or a class without `\n` would scan on from every line start.
_GRADLE_DEP = re.compile(
    r"^[ \t]*(\w+)[ \t]*\(?[ \t]*['\"]([^'\":\n]+):([^'\":\n]+)(?::[^'\"\n]*)?['\"]", re.M
)


def _gradle(path: str, text: str) -> Manifest:
    m = Manifest(path, "java")
    for config, group, name in _GRADLE_DEP.findall(text):
        target = m.dev_dependencies if config.lower().startswith("test") else m.dependencies
        target.append(f"{group}:{name}")
    m.tool_sections = re.findall(r"id\s*\(?\s*['\"]([\w.-]+)['\"]", text)
    return m


def _gemfile(path: str, text: str) -> Manifest:
    m = Manifest(path, "ruby")
    m.dependencies = re.findall(r"^\s*gem\s+['\"]([^'\"]+)['\"]", text, re.M)
    return m


def _composer(path: str, text: str) -> Manifest:
    data = json.loads(text)
    if not isinstance(data, dict):
        return Manifest(path, "php")
    m = Manifest(path, "php", data.get("name"))
    m.dependencies = sorted(k for k in (data.get("require") or {}) if k != "php")
    m.dev_dependencies = sorted(data.get("require-dev") or {})
    return m


PARSERS: dict[str, Callable[[str, str], Manifest]] = {
    "pyproject.toml": _pyproject,
    "setup.cfg": _setup_cfg,
    "package.json": _package_json,
    "go.mod": _go_mod,
    "Cargo.toml": _cargo,
    "pom.xml": _pom,
    "build.gradle": _gradle,
    "build.gradle.kts": _gradle,
    "Gemfile": _gemfile,
    "composer.json": _composer,
}


def is_manifest(path: str) -> bool:
    name = PurePosixPath(path).name
    return name in PARSERS or (name.startswith("requirements") and name.endswith(".txt"))


def parse_manifest(path: str, text: str) -> Manifest | None:
    """The manifest at `path`, or None when it is not one or does not parse."""
    name = PurePosixPath(path).name
    parser = PARSERS.get(name)
    if parser is None and name.startswith("requirements") and name.endswith(".txt"):
        parser = _requirements
    if parser is None:
        return None
    try:
        return parser(path, text)
    except (ValueError, KeyError, TypeError, AttributeError, ET.ParseError, configparser.Error):
        return None
