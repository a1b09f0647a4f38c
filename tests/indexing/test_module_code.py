"""Complete coverage: the code between definitions belongs to a context too."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from axon.config import Settings, load_settings
from axon.indexing import index_workspace
from axon.indexing.chunking import chunk_file
from axon.indexing.chunks import WINDOW_LINES, Chunk
from axon.indexing.module_code import KIND
from axon.models import Workspace, WorkspaceType
from axon.ports import SearchRequest
from axon.retrieval.tokenize import symbol_keys
from axon.services import build_services

MODULE = '''"""Shop settings and wiring."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from .app import App

# Orders above this are refused at checkout.
MAX_CART_ITEMS = 250
_no_cart_msg = """Working outside of a cart context."""


def add(item):
    return item


try:
    import fastjson as json_impl
except ImportError:
    json_impl = None

    def fallback(x):
        return x

app.register_blueprint(admin, url_prefix="/admin")
__all__ = ["add", "MAX_CART_ITEMS"]


class Cart:
    size = MAX_CART_ITEMS


if __name__ == "__main__":
    add(1)
'''


def chunks_of(path: str, text: str, language: str) -> list[Chunk]:
    return chunk_file(path, text, language, WorkspaceType.CODING)


def module_code(chunks: list[Chunk]) -> list[Chunk]:
    return [c for c in chunks if c.symbol_kind == KIND]


def test_every_python_line_outside_imports_and_docstring_is_in_a_context() -> None:
    chunks = chunks_of("shop/settings.py", MODULE, "python")
    groups = module_code(chunks)
    assert [(c.start_line, c.end_line, c.symbol) for c in groups] == [
        (10, 12, "MAX_CART_ITEMS, _no_cart_msg"),  # the comment above joins its group
        (22, 22, "json_impl"),  # try/except around a definition: looked into
        (27, 28, "__all__"),  # a registration and __all__ together
        (35, 36, None),  # the __main__ block
    ]
    assert groups[0].content.startswith("# Orders above this are refused at checkout.\n")
    assert groups[0].metadata["defines"] == ["MAX_CART_ITEMS", "_no_cart_msg"]
    assert "app.register_blueprint(admin" in groups[2].content
    # Every non-blank line is in a context except imports and the docstring (the file
    # summary, chunks[0], lists those) and the header lines of a block whose body holds
    # a definition.
    lines = MODULE.splitlines()
    spans = [(c.start_line, c.end_line) for c in chunks[1:]]
    uncovered = [
        line
        for number, line in enumerate(lines, 1)
        if line.strip() and not any(a <= number <= b for a, b in spans)
    ]
    assert uncovered == [
        '"""Shop settings and wiring."""',
        "from __future__ import annotations",
        "import typing as t",
        "if t.TYPE_CHECKING:",
        "    from .app import App",
        "try:",
        "    import fastjson as json_impl",
        "except ImportError:",
    ]
    assert "fallback" in {c.symbol for c in chunks}
    assert "import typing as t" in chunks[0].content and "Shop settings" in chunks[0].content


def test_a_module_of_imports_only_adds_no_group() -> None:
    text = '"""Re-exports."""\nfrom .a import b as b\nimport os\n\n\ndef f():\n    pass\n'
    assert module_code(chunks_of("pkg/__init__.py", text, "python")) == []


def test_long_module_level_runs_split_at_statement_boundaries() -> None:
    statements = [f"ROUTE_{i} = register(\n    'r{i}',\n)\n" for i in range(60)]
    text = "".join(statements)  # 180 lines of registrations, no definition
    groups = module_code(chunks_of("routes.py", text, "python"))
    assert len(groups) > 1
    assert all(c.end_line - c.start_line + 1 <= WINDOW_LINES for c in groups)
    # Contiguous, no overlap, nothing lost, and no statement cut in half.
    assert groups[0].start_line == 1 and groups[-1].end_line == 180
    for before, after in itertools.pairwise(groups):
        assert after.start_line == before.end_line + 1
        assert (after.start_line - 1) % 3 == 0
    assert sum(len(c.metadata["defines"]) for c in groups) == 60


def test_tree_sitter_languages_get_module_code_groups() -> None:
    js = (
        'import x from "y";\n'
        "// the cart limit\n"
        "const MAX_CART_ITEMS = 250;\n"
        'export const API = "/v1";\n'
        "function f() { return 1; }\n"
        "app.use(router);\n"
    )
    go = (
        'package main\n\nimport "fmt"\n\nconst (\n\tA = 1\n\tB = 2\n)\n\n'
        "var registry = map[string]int{}\n\nfunc main() { fmt.Println(A) }\n"
    )
    rust = 'use std::io;\n\nconst MAX: usize = 250;\nstatic NAME: &str = "x";\n\nfn main() {}\n'
    found = {
        lang: [(c.start_line, c.end_line, c.symbol) for c in module_code(chunks_of(p, t, lang))]
        for p, t, lang in [("a.js", js, "javascript"), ("a.go", go, "go"), ("a.rs", rust, "rust")]
    }
    assert found == {
        "javascript": [(2, 4, "MAX_CART_ITEMS, API"), (6, 6, None)],
        "go": [(5, 10, "A, B, registry")],
        "rust": [(3, 4, "MAX, NAME")],
    }


def test_a_group_is_found_by_each_name_it_binds() -> None:
    assert symbol_keys("app_ctx, current_app, g") == {"app_ctx", "current_app", "g"}
    assert symbol_keys("Request.register_hook") == {"request.register_hook", "register_hook"}
    assert symbol_keys(None) == set()


async def test_where_is_a_module_level_name_defined(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before module-level code was indexed, the constant's definition was in no context."""
    monkeypatch.setenv("AXON_EMBEDDER", "none")
    services = await build_services(load_settings())
    root = tmp_path / "shop"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "settings.py").write_text(MODULE)
    (root / "shop" / "cart.py").write_text(
        "from .settings import MAX_CART_ITEMS\n\n\n"
        "def check(items):\n    return len(items) <= MAX_CART_ITEMS\n"
    )
    workspace = Workspace(id="shop", name="shop", type=WorkspaceType.CODING, path=str(root))
    try:
        await services.store.create_workspace(workspace)
        await index_workspace(
            services.store, services.search_index, workspace, max_file_bytes=10**6
        )
        hits = await services.retriever.search(
            SearchRequest("where is MAX_CART_ITEMS defined", "shop", limit=5)
        )
        first = hits[0].context
        assert (first.path, first.symbol_kind, first.start_line) == ("shop/settings.py", KIND, 10)
        assert "MAX_CART_ITEMS" in hits[0].matched_entities
    finally:
        await services.close()
