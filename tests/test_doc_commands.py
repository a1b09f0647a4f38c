"""Every `axon ...` command and every Axon route the README and docs/*.md quote must exist.

Each command is run through the real CLI with `--help` appended: click rejects an
unknown command or option before it prints the help, so a renamed command or a
misspelt flag in the docs fails here, naming the file and line. Commands run in the
container (`docker-compose run --rm api ARGS`, `... exec api axon ARGS`) count too,
since the image's entrypoint is `axon`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.routing import Match
from typer.testing import CliRunner

from axon.api.app import create_app
from axon.cli import app
from axon.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE = re.compile(r"`([^`\n]+)`")
_SUBSHELL = re.compile(r"\$\([^()]*\)")
_OPERATORS = {"|", "||", "&", "&&", ";", ";;", "<", ">", ">>", "(", ")"}
# `docker-compose run --rm api ARGS`: ARGS go to the image's entrypoint, axon.
_COMPOSE_RUN = ("docker-compose", "run")
_LAUNCHERS = {"api", "worker", "--", "nice", "time"}


@dataclass(frozen=True)
class Quoted:
    where: str  # file:line
    argv: tuple[str, ...]  # after `axon`

    def __str__(self) -> str:
        return f"{self.where}: `axon {shlex.join(self.argv)}`"


def _words(text: str) -> list[str]:
    lexer = shlex.shlex(_SUBSHELL.sub("X", text), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        words = list(lexer)
    except ValueError:  # an unbalanced quote in prose: not a command line
        return []
    # Usage notation: `[--workspace ID]` is the option --workspace.
    return [w.strip("[]") for w in words if w.strip("[]")]


def _axon_at(words: list[str]) -> int | None:
    """Where `axon` is the program run: first (after VAR=value), or what a container runs
    (`... exec api axon`, `kubectl exec ... -- axon`); not an argument (`mongosh axon`)."""
    for index, word in enumerate(words):
        if word != "axon":
            continue
        before = words[:index]
        if all("=" in w for w in before) or (before and before[-1] in _LAUNCHERS):
            return index
    return None


def _commands(text: str) -> list[tuple[str, ...]]:
    """The argv after `axon` of each command in one shell line."""
    found: list[tuple[str, ...]] = []
    current: list[str] = []
    for word in [*_words(text), ";"]:
        if word not in _OPERATORS:
            current.append(word)
            continue
        at = _axon_at(current)
        if at is not None:
            found.append(tuple(current[at + 1 :]))
        elif tuple(current[:2]) == _COMPOSE_RUN:
            rest = [w for w in current[2:] if w != "--rm"]
            if rest and rest[0] in ("api", "worker"):
                found.append(tuple(rest[1:]))
        current = []
    return found


def quoted_commands() -> list[Quoted]:
    quoted: list[Quoted] = []
    for doc in DOCS:
        in_code = False
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            if _FENCE.match(line):
                in_code = not in_code
                continue
            pieces = [line] if in_code else _INLINE.findall(line)
            where = f"{doc.relative_to(ROOT)}:{number}"
            for piece in pieces:
                quoted += [Quoted(where, argv) for argv in _commands(piece) if argv]
    return quoted


QUOTED = quoted_commands()


def test_the_docs_quote_commands() -> None:
    # The extraction itself must keep working: the README alone quotes dozens.
    assert len(QUOTED) > 30
    assert any(q.argv[:2] == ("maintenance", "reconcile") for q in QUOTED)


@pytest.mark.parametrize("command", QUOTED, ids=str)
def test_a_quoted_command_parses(command: Quoted) -> None:
    result = CliRunner().invoke(app, [*command.argv, "--help"])
    assert result.exit_code == 0, (
        f"{command} does not parse (exit {result.exit_code}):\n{result.output}"
    )


# A route as the docs quote it: after a space, a quote or `:3000`, up to a query or `*`.
_ROUTE = re.compile(
    r"(?:^|[\s`'\"(]|:3000)(/(?:api/v1|v1|health|metrics|admin)(?:/[A-Za-z0-9_{}<>.-]*)*)"
)
_PARAM = re.compile(r"\{[^}/]*\}|<[^>/]*>")


def quoted_routes() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for doc in DOCS:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            for match in _ROUTE.finditer(line):
                found.append((f"{doc.relative_to(ROOT)}:{number}", match.group(1)))
    return found


def test_every_quoted_route_exists(settings: Settings) -> None:
    """A route the docs name (`/api/v1/jobs/{id}`, `/health/ready`, `/admin/`) is served:
    the app's own router matches it, for some method."""
    app = create_app(settings)
    documented = list(app.openapi()["paths"])

    def served(path: str) -> bool:
        scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
        if any(route.matches(scope)[0] is not Match.NONE for route in app.routes):
            return True
        # A prefix (`/admin/`) or a client's base URL (`http://localhost:3000/v1`).
        base = path.rstrip("/") + "/"
        return any(p.startswith(base) for p in documented)

    missing = [
        f"{where}: {route}"
        for where, route in quoted_routes()
        if not served(_PARAM.sub("x1", route.rstrip(".")))
    ]
    assert not missing, "routes the docs quote that the API does not serve:\n" + "\n".join(missing)
