"""The code graph: definitions and references extracted at indexing time (ast for
Python, tree-sitter for the rest), stored with each file, and looked up through
GET /api/v1/workspaces/{id}/symbols/{name} and `axon refs`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from axon.api.app import create_app
from axon.cli import app as cli_app
from axon.config import Settings
from axon.indexing import chunking
from axon.indexing.chunking import parse_file
from axon.indexing.languages import detect_language
from axon.models import WorkspaceType
from axon.ports import CodeSymbol, SymbolRole
from axon.services import Services
from tests.indexing.conftest import add_workspace, run_index

DEF, REF = SymbolRole.DEFINITION, SymbolRole.REFERENCE
FIXTURE = Path(__file__).parent.parent / "fixtures" / "indexing" / "project"


def symbols_of(path: str, text: str) -> list[CodeSymbol]:
    return parse_file(path, text, detect_language(path), WorkspaceType.CODING).symbols


def edges(symbols: list[CodeSymbol]) -> set[tuple[str, str, str, int, str | None, str | None]]:
    return {(s.role.value, s.kind, s.name, s.line, s.scope, s.target) for s in symbols}


PACKAGE_MODULE = '''"""Views."""
from . import helpers
from .globals import current_app as app_proxy
import pkg.signals as signals
from base import Base


class View(Base):
    methods = ["GET"]

    @helpers.cached
    def dispatch(self, request):
        handler = self.find_handler(request)
        signals.request_started.send(app_proxy)
        return handler(request)

    def find_handler(self, request):
        return helpers.lookup(request.path)


def make_view():
    return View()
'''


def test_python_definitions_and_references_resolve_imports_and_self() -> None:
    found = edges(symbols_of("src/pkg/views.py", PACKAGE_MODULE))
    module = "src.pkg.views"
    assert {
        ("definition", "class", "View", 8, "View", None),
        ("definition", "attribute", "methods", 9, "View.methods", None),
        ("definition", "method", "dispatch", 12, "View.dispatch", None),
        ("definition", "method", "find_handler", 17, "View.find_handler", None),
        ("definition", "function", "make_view", 21, "make_view", None),
    } <= found
    assert {
        # Relative imports resolve against the file's package.
        ("reference", "import", "helpers", 2, None, "src.pkg.helpers"),
        ("reference", "import", "current_app", 3, None, "src.pkg.globals.current_app"),
        ("reference", "import", "signals", 4, None, "pkg.signals"),
        ("reference", "inherit", "Base", 8, "View", "base.Base"),
        ("reference", "decorator", "cached", 11, "View", "src.pkg.helpers.cached"),
        ("reference", "call", "find_handler", 13, "View.dispatch", f"{module}.View.find_handler"),
        ("reference", "call", "send", 14, "View.dispatch", "pkg.signals.request_started.send"),
        (
            "reference",
            "attribute",
            "request_started",
            14,
            "View.dispatch",
            "pkg.signals.request_started",
        ),
        ("reference", "name", "app_proxy", 14, "View.dispatch", "src.pkg.globals.current_app"),
        ("reference", "call", "lookup", 18, "View.find_handler", "src.pkg.helpers.lookup"),
        ("reference", "call", "View", 22, "make_view", f"{module}.View"),
    } <= found
    # A local variable called is a call of an unresolved name, never a definition.
    assert ("reference", "call", "handler", 15, "View.dispatch", None) in found
    assert not any(s[0] == "definition" and s[2] == "handler" for s in found)


def test_a_package_init_resolves_relative_imports_inside_the_package() -> None:
    found = edges(symbols_of("pkg/__init__.py", "from .app import Flask\n"))
    assert found == {("reference", "import", "Flask", 1, None, "pkg.app.Flask")}


def test_unparseable_python_and_prose_have_no_symbols() -> None:
    assert symbols_of("old.py", "print 'py2'\n") == []
    assert symbols_of("README.md", "# Title\n\ncall_me()\n") == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "goapp/main.go",
            {
                ("definition", "method", "Start", 20, "Server.Start", None),
                ("reference", "call", "ListenAndServe", 21, "Server.Start", None),
                ("reference", "import", "http", 6, None, None),
                ("reference", "call", "Start", 27, "main", None),
            },
        ),
        (
            "javaapp/src/main/java/demo/App.java",
            {
                ("definition", "method", "run", 14, "App.run", None),
                ("reference", "call", "run", 19, "App.main", None),
                ("reference", "call", "App", 19, "App.main", None),  # new App(...)
                ("reference", "import", "List", 3, None, None),
            },
        ),
        (
            "rustlib/src/lib.rs",
            {
                ("definition", "method", "norm", 11, "Point.norm", None),
                ("definition", "method", "fmt", 30, "Point.fmt", None),  # impl Display for Point
                ("reference", "inherit", "Display", 29, None, None),
                ("reference", "call", "sqrt", 12, "Point.norm", None),
            },
        ),
        (
            "web/app.js",
            {
                ("definition", "function", "greet", 4, "greet", None),
                ("definition", "method", "hello", 13, "Greeter.hello", None),
                ("reference", "import", "format", 2, None, None),
                ("reference", "call", "format", 5, "greet", None),
            },
        ),
        (
            "web/widget.tsx",
            {
                ("definition", "interface", "WidgetProps", 3, "WidgetProps", None),
                ("definition", "method", "add", 21, "Store.add", None),
                ("reference", "import", "React", 1, None, None),
            },
        ),
    ],
)
def test_tree_sitter_languages_definitions_and_references(
    path: str, expected: set[tuple[str, str, str, int, str | None, str | None]]
) -> None:
    assert expected <= edges(symbols_of(path, (FIXTURE / path).read_text()))


def test_typescript_and_java_inheritance_are_references() -> None:
    ts = "class Cart extends Base implements Priced, Shown {}\n"
    assert {("inherit", "Base"), ("inherit", "Priced"), ("inherit", "Shown")} <= {
        (s.kind, s.name) for s in symbols_of("cart.ts", ts)
    }
    java = "class Cart extends Base implements Priced {}\n"
    assert {("inherit", "Base"), ("inherit", "Priced")} <= {
        (s.kind, s.name) for s in symbols_of("Cart.java", java)
    }


def test_a_file_keeps_at_most_the_limit_of_symbols_definitions_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chunking, "MAX_FILE_SYMBOLS", 10)
    text = "".join(f"call_{n}()\n" for n in range(50)) + "def defined_last(): pass\n"
    found = symbols_of("calls.py", text)
    assert len(found) == 10
    assert found[0].role is DEF and found[0].name == "defined_last"
    # The same reference twice on a line is stored once.
    assert len(symbols_of("twice.py", "f(); f()\n")) == 1


async def test_symbols_are_stored_and_follow_each_file_incrementally(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = tree("project")
    workspace = await add_workspace(services, root)
    await run_index(services, workspace)
    found = await services.store.find_symbols("ws", "make_circle", 50)
    assert [(s.role, s.path, s.line) for s in found] == [
        (DEF, "src/shapes/geometry.py", 34),
        (REF, "src/shapes/cli.py", 3),
        (REF, "src/shapes/cli.py", 7),
    ]
    # Same bytes, new mtime: the symbols stay as they are.
    cli = root / "src" / "shapes" / "cli.py"
    cli.write_bytes(cli.read_bytes())
    await run_index(services, workspace)
    assert len(await services.store.find_symbols("ws", "make_circle", 50)) == 3
    # An edit replaces that file's part of the graph only.
    cli.write_text("from shapes.geometry import make_circle as mc\n\n\ndef main():\n    mc(1)\n")
    await run_index(services, workspace)
    found = await services.store.find_symbols("ws", "make_circle", 50)
    assert [(s.path, s.line, s.kind) for s in found] == [
        ("src/shapes/geometry.py", 34, "function"),
        ("src/shapes/cli.py", 1, "import"),
    ]
    assert [s.target for s in await services.store.find_symbols("ws", "mc", 50)] == [
        "shapes.geometry.make_circle"
    ]
    cli.unlink()
    await run_index(services, workspace)
    assert len(await services.store.find_symbols("ws", "make_circle", 50)) == 1
    assert await services.store.delete_workspace("ws")
    assert await services.store.find_symbols("ws", "make_circle", 50) == []


@pytest.fixture
async def project(services: Services, tree: Callable[[str], Path]) -> httpx.AsyncClient:
    await run_index(services, await add_workspace(services, tree("project")))
    transport = httpx.ASGITransport(app=create_app(services=services))
    return httpx.AsyncClient(transport=transport, base_url="http://axon.test")


async def test_symbols_api_lists_definitions_and_references(project: httpx.AsyncClient) -> None:
    response = await project.get("/api/v1/workspaces/ws/symbols/make_circle")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["workspaceId"] == "ws" and body["name"] == "make_circle"
    assert body["definitions"] == [
        {
            "workspaceId": "ws",
            "path": "src/shapes/geometry.py",
            "line": 34,
            "kind": "function",
            "symbol": "make_circle",
        }
    ]
    assert [(r["path"], r["line"], r["kind"], r["in"]) for r in body["references"]] == [
        ("src/shapes/cli.py", 3, "import", None),
        ("src/shapes/cli.py", 7, "call", "main"),
    ]
    assert body["references"][0]["target"] == "shapes.geometry.make_circle"
    assert body["references"][0]["resolved"] is True and body["truncated"] is False


async def test_a_dotted_name_narrows_definitions_to_that_owner(
    project: httpx.AsyncClient,
) -> None:
    both = (await project.get("/api/v1/workspaces/ws/symbols/area")).json()
    assert {d["symbol"] for d in both["definitions"]} >= {"Circle.area", "Square.area"}
    circle = (await project.get("/api/v1/workspaces/ws/symbols/Circle.area")).json()
    assert [d["symbol"] for d in circle["definitions"] if d["path"].endswith(".py")] == [
        "Circle.area"
    ]
    # `make_circle(...).area()` cannot be resolved without types: it stays, unresolved.
    assert [(r["path"], r["resolved"]) for r in circle["references"]] == [
        ("src/shapes/cli.py", False)
    ]


async def test_a_root_workspace_looks_names_up_in_its_sub_projects(
    services: Services, tree: Callable[[str], Path]
) -> None:
    root = await add_workspace(services, tree("root"), WorkspaceType.ROOT, wid="mono")
    await run_index(services, root)
    transport = httpx.ASGITransport(app=create_app(services=services))
    async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
        body = (await http.get("/api/v1/workspaces/mono/symbols/create_app")).json()
    assert body["workspaceId"] == "mono"
    assert [(d["workspaceId"], d["path"], d["line"]) for d in body["definitions"]] == [
        ("mono.api", "api/server.py", 4)
    ]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/workspaces/nope/symbols/make_circle", 404, "WORKSPACE_NOT_FOUND"),
        ("/api/v1/workspaces/ws/symbols/not%20a%20name", 422, "INVALID_SYMBOL"),
        ("/api/v1/workspaces/ws/symbols/a..b", 422, "INVALID_SYMBOL"),
        ("/api/v1/workspaces/ws/symbols/" + "x" * 201, 422, "VALIDATION_ERROR"),
    ],
)
async def test_symbols_api_bad_input_gets_our_error_shape(
    project: httpx.AsyncClient, path: str, status: int, code: str
) -> None:
    response = await project.get(path)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and "requestId" in error


def test_axon_refs_prints_definitions_then_references(
    settings: Settings, tree: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AXON_EMBEDDER", "none")
    runner = CliRunner()
    indexed = runner.invoke(cli_app, ["index", str(tree("project")), "-w", "shapes"])
    assert indexed.exit_code == 0, indexed.output
    done = runner.invoke(cli_app, ["refs", "make_circle", "-w", "shapes"])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [
        "1 definitions:",
        "  src/shapes/geometry.py:34  function make_circle",
        "2 references:",
        "  src/shapes/cli.py:3  import -> shapes.geometry.make_circle",
        "  src/shapes/cli.py:7  call in main -> shapes.geometry.make_circle",
    ]
    as_json = json.loads(
        runner.invoke(cli_app, ["refs", "make_circle", "-w", "shapes", "--json"]).stdout
    )
    assert [d["path"] for d in as_json["definitions"]] == ["src/shapes/geometry.py"]
    missing = runner.invoke(cli_app, ["refs", "make_circle", "-w", "shapez"])
    assert missing.exit_code != 0 and "shapes" in missing.output  # suggested
    bad = runner.invoke(cli_app, ["refs", "not a name", "-w", "shapes"])
    assert bad.exit_code != 0 and "not an identifier" in bad.output
