"""Chunking along structure: code symbols, markdown sections, windows, ids."""

from __future__ import annotations

from axon.indexing.chunking import chunk_file, context_id, to_contexts
from axon.indexing.chunks import MAX_CHUNK_CHARS, WINDOW_OVERLAP, Chunk, window_chunks
from axon.indexing.languages import detect_language
from axon.indexing.markdown import chunk_markdown, links_in, tags_in
from axon.models import ContextType, WorkspaceType
from tests.indexing.conftest import FIXTURES

PROJECT = FIXTURES / "project"


def symbols(path: str) -> dict[str, Chunk]:
    text = (PROJECT / path).read_text(encoding="utf-8")
    chunks = chunk_file(path, text, detect_language(path), WorkspaceType.CODING)
    return {c.symbol: c for c in chunks if c.symbol is not None}


def kinds(path: str) -> dict[str, str | None]:
    return {name: c.symbol_kind for name, c in symbols(path).items()}


def test_python_symbols_methods_decorators_and_summary() -> None:
    path = "src/shapes/geometry.py"
    text = (PROJECT / path).read_text(encoding="utf-8")
    chunks = chunk_file(path, text, "python", WorkspaceType.CODING)
    found = {c.symbol: c for c in chunks if c.symbol}
    assert {k: c.symbol_kind for k, c in found.items()} == {
        "UNIT": "module-code",
        "Circle": "class",
        "Circle.area": "method",
        "Circle.diameter": "method",
        "Square": "class",
        "Square.__init__": "method",
        "Square.area": "method",
        "make_circle": "function",
        "fetch_shape": "function",
    }
    circle = found["Circle"]
    assert circle.content.startswith("@dataclass\nclass Circle:")  # decorator included
    assert (circle.start_line, circle.end_line) == (11, 23)
    assert "math.pi" not in circle.content  # member bodies live in the members' contexts
    assert "def area(self) -> float:\n        ...\n" in circle.content
    diameter = found["Circle.diameter"]
    assert diameter.content.lstrip().startswith("@property")
    assert diameter.metadata["decorators"] == ["@property"]
    assert (
        found["make_circle"].metadata["docstring"]
        == "Build a circle, defaulting to the unit circle."
    )
    summary = chunks[0]
    assert summary.type is ContextType.FILE and summary.symbol_kind == "module"
    assert "Geometry primitives: circles and squares." in summary.content
    assert summary.metadata["imports"] == [
        "from __future__ import annotations",
        "import math",
        "from dataclasses import dataclass",
    ]
    assert summary.metadata["topLevel"] == [
        "UNIT",
        "class Circle",
        "class Square",
        "def make_circle",
        "def fetch_shape",
    ]


def test_tree_sitter_languages() -> None:
    assert kinds("web/app.js") == {
        "greet": "function",
        "Greeter": "class",
        "Greeter.constructor": "method",
        "Greeter.hello": "method",
        "add": "function",
    }
    assert kinds("web/widget.tsx") == {
        "WidgetProps": "interface",
        "Size": "type",
        "Color": "enum",
        "Widget": "function",
        "Store": "class",
        "Store.add": "method",
    }
    assert kinds("goapp/main.go") == {
        "Server": "struct",
        "Runner": "interface",
        "Server.Start": "method",
        "main": "function",
    }
    rust_text = (PROJECT / "rustlib/src/lib.rs").read_text(encoding="utf-8")
    rust_chunks = chunk_file("rustlib/src/lib.rs", rust_text, "rust", WorkspaceType.CODING)
    assert [(c.symbol, c.symbol_kind) for c in rust_chunks[1:]] == [
        ("Point", "struct"),
        ("Point", "impl"),
        ("Point.norm", "method"),
        ("Shape", "trait"),
        ("Shape.area", "method"),
        ("Kind", "enum"),
        ("helper", "function"),
        ("fmt::Display for Point", "impl"),
        ("Point.fmt", "method"),  # methods of `impl Trait for Point` belong to Point
    ]
    assert rust_chunks[1].content.startswith("/// A point in the plane.\n#[derive(Debug, Clone)]")
    java = kinds("javaapp/src/main/java/demo/App.java")
    assert java == {
        "App": "class",
        "App.App": "constructor",
        "App.run": "method",
        "App.main": "method",
        "Service": "interface",
        "Service.serve": "method",
    }
    go = symbols("goapp/main.go")
    assert go["Server.Start"].content.startswith("// Start starts the server.\nfunc (s *Server)")
    assert (go["Server.Start"].start_line, go["Server.Start"].end_line) == (19, 22)
    store = symbols("web/widget.tsx")["Store"]
    assert store.content.startswith("export class Store")
    assert "this.items.push" not in store.content and "{ ... }" in store.content


def test_summary_lists_imports_for_tree_sitter_files() -> None:
    text = (PROJECT / "goapp/main.go").read_text(encoding="utf-8")
    summary = chunk_file("goapp/main.go", text, "go", WorkspaceType.CODING)[0]
    assert summary.symbol_kind == "module"
    assert "Package: package main" in summary.content
    assert summary.metadata["imports"] == ['import ( "fmt" "net/http" )']
    assert "// Package main runs the demo server." in summary.content


def test_unparseable_python_falls_back_to_windows() -> None:
    chunks = chunk_file("old.py", "print 'py2'\n" * 3, "python", WorkspaceType.CODING)
    assert [c.metadata.get("parseError") for c in chunks] == [True]


def test_windows_overlap_and_cut_long_lines() -> None:
    text = "".join(f"line {i}\n" for i in range(1, 151))
    chunks = window_chunks(text, ContextType.DOCUMENTATION)
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 60), (51, 110), (101, 150)]
    assert chunks[1].content.startswith("line 51\n") and WINDOW_OVERLAP == 10
    minified = window_chunks("x" * 10_000, ContextType.FILE)
    assert [len(c.content) for c in minified] == [4000, 4000, 2000]
    assert all(c.start_line == 1 for c in minified)


def test_large_symbols_are_split_with_parts() -> None:
    body = "".join(f"    total += {i}\n" for i in range(2000))
    text = f"def big():\n    total = 0\n{body}    return total\n"
    chunks = [c for c in chunk_file("big.py", text, "python", WorkspaceType.CODING) if c.symbol]
    assert len(chunks) > 1 and all(c.symbol == "big" for c in chunks)
    assert all(len(c.content) <= MAX_CHUNK_CHARS for c in chunks)
    assert [c.metadata["part"] for c in chunks] == list(range(1, len(chunks) + 1))


def test_markdown_sections_front_matter_tags_links() -> None:
    text = (FIXTURES / "vault" / "Projects" / "Axon.md").read_text(encoding="utf-8")
    chunks = chunk_markdown("Projects/Axon.md", text, note=True)
    assert [c.metadata["headingPath"] for c in chunks] == [
        ["Axon"],
        ["Axon", "Goals"],
        ["Axon", "Snippets"],
    ]
    assert all(c.type is ContextType.NOTE for c in chunks)
    assert chunks[0].metadata["frontMatter"] == {"tags": ["project", "ai"], "status": "active"}
    assert chunks[0].start_line == 7  # after the front matter
    assert chunks[1].metadata["tags"] == ["ai", "goal", "project"]
    snippets = chunks[2]
    assert "#notatag" in snippets.content  # kept as text ...
    assert snippets.metadata["tags"] == ["ai", "project"]  # ... but not a tag inside code
    assert snippets.metadata["outlinks"] == []  # nor is the [[link]] in the code block
    assert chunks[0].metadata["outlinks"] == [
        {"kind": "wiki", "target": "Home", "heading": "Inbox"}
    ]


def test_link_and_tag_syntax() -> None:
    text = (
        "See [[Note]], [[Other|alias]], ![[Embed.png]], [md](sub/page.md#part), "
        "[web](https://example.com), [anchor](#top) and `[[code]]`. #tag #nested/tag "
        "not#tag, a URL https://x.org/#frag, and a heading:\n# Title #nottag"
    )
    links = links_in(text)
    assert {(x["kind"], x["target"]) for x in links} == {
        ("wiki", "Note"),
        ("wiki", "Other"),
        ("wiki", "Embed.png"),
        ("markdown", "sub/page.md"),
    }
    assert tags_in(text) == ["nested/tag", "tag"]


def test_context_ids_are_deterministic_and_distinct() -> None:
    chunk = Chunk(ContextType.SYMBOL, "def f(): pass\n", 1, 1, "f", "function")
    twin = Chunk(ContextType.SYMBOL, "def f(): return 2\n", 5, 5, "f", "function")
    first = to_contexts("ws", "a.py", "python", [chunk, twin], [5, 6])
    again = to_contexts("ws", "a.py", "python", [chunk, twin], [5, 6])
    assert [c.id for c in first] == [c.id for c in again]
    assert first[0].id != first[1].id  # same symbol twice: the ordinal tells them apart
    assert first[0].id == context_id("ws", "a.py", chunk, 0)
    assert context_id("other", "a.py", chunk, 0) != first[0].id
