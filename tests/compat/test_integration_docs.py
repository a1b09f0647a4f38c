"""Every snippet in docs/integrations.md parses, and every command and URL it names
exists: `axon` sub-commands in the CLI, paths among the app's routes."""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from axon.api.app import create_app
from axon.cli import app as cli
from axon.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)
_URL = re.compile(r"http://localhost:3000[^\s\"'`)]*")


def snippets() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in _FENCE.finditer(DOC.read_text())]


def _commands() -> set[str]:
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in cli.registered_commands}
    return names | {g.name or "" for g in cli.registered_groups}


def _route_paths(settings: Settings) -> set[str]:
    """The documented API routes plus the ones kept out of the document (/mcp)."""
    app = create_app(settings)
    plain = {path for r in app.routes if isinstance(path := getattr(r, "path", None), str)}
    return set(app.openapi()["paths"]) | plain


def _check_url(url: str, paths: set[str]) -> None:
    path = urlparse(url).path.rstrip("/")
    # A base URL (the SDKs append /chat/completions, /v1/messages, ...) must prefix routes.
    assert path in paths or any(p.startswith(path + "/") for p in paths), url


def _check_axon_argv(argv: list[str], commands: set[str]) -> None:
    assert argv[0] == "axon" and argv[1] in commands, argv


def _walk(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            found += _walk(item)
    elif isinstance(value, list):
        for item in value:
            found += _walk(item)
    return found


def test_the_page_has_a_snippet_for_every_client() -> None:
    text = DOC.read_text()
    for client in ("Claude Code", "Cursor", "VS Code", "Continue", "Open WebUI", "Anthropic SDK"):
        assert f"## {client}" in text or client in text
    assert {lang for lang, _ in snippets()} == {"bash", "json", "yaml", "python"}


@pytest.mark.parametrize(("lang", "body"), snippets(), ids=lambda v: v[:20] if len(v) > 6 else v)
def test_snippet_parses_and_names_what_exists(lang: str, body: str, settings: Settings) -> None:
    commands, paths = _commands(), _route_paths(settings)
    urls = _URL.findall(body)
    if lang in {"json", "yaml"}:
        config = json.loads(body) if lang == "json" else yaml.safe_load(body)
        servers = [d for d in _walk(config) if "command" in d or "url" in d or "apiBase" in d]
        assert servers, body
        for server in servers:
            if "command" in server:
                _check_axon_argv([server["command"], *server["args"]], commands)
            for key in ("url", "apiBase"):
                if key in server:
                    _check_url(server[key], paths)
    elif lang == "python":
        ast.parse(body)
    else:
        for line in body.strip().splitlines():
            argv = shlex.split(line)
            if argv[:3] == ["claude", "mcp", "add"]:
                if "--" in argv:
                    _check_axon_argv(argv[argv.index("--") + 1 :], commands)
                else:
                    assert argv[argv.index("--transport") + 1] == "http"
    assert urls or lang != "python" or "base_url" not in body
    for url in urls:
        _check_url(url, paths)
