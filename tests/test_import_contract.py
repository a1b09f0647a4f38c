"""The boundary docs/architecture.md states, enforced: the core imports no database
driver and no adapter module, directly or through another module at run time.

The adapters (`axon.stores`), the composition root (`axon.services`) and the
driving adapters (`axon.api`, `axon.cli`, `axon.ui`, `axon.mcp`) may import them;
every other module of the package is core (pipeline, retrieval, indexing, llm,
evolution, quality, embeddings, security, ...), so a new module is core unless it is
placed among those. An import under `if TYPE_CHECKING:` runs nothing, so it does not
carry the walk further; it is still a direct import and may not name a driver or an
adapter.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import axon

DRIVERS = ("sqlite3", "pymongo", "redis", "qdrant_client", "arq")
ADAPTERS = "axon.stores"
# Allowed to import drivers and adapters: they are the outside of the hexagon.
OUTSIDE = (ADAPTERS, "axon.services", "axon.api", "axon.cli", "axon.ui", "axon.mcp")
SOURCE = Path(axon.__file__).resolve().parent


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _forbidden(name: str) -> bool:
    return name.split(".")[0] in DRIVERS or _within(name, ADAPTERS)


@dataclass(frozen=True, slots=True)
class Import:
    name: str  # the module, or module.attribute for `from m import a`
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, package: str) -> list[Import]:
    """Every import in the file, at any depth (functions, branches)."""
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for inner in child.body:
                    visit_node(inner, True)
                for inner in child.orelse:
                    visit_node(inner, type_only)
            else:
                visit_node(child, type_only)

    def visit_node(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(a.name, node.lineno, type_only) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            found.append(Import(module, node.lineno, type_only))
            found.extend(Import(f"{module}.{a.name}", node.lineno, type_only) for a in node.names)
        visit(node, type_only)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
    return found


def _modules(source: Path) -> dict[str, Path]:
    top = source.name
    modules: dict[str, Path] = {}
    for path in sorted(source.rglob("*.py")):
        parts = (top, *path.relative_to(source).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def import_violations(source: Path) -> list[str]:
    """What the core imports that it may not, each as `module:line -> chain`."""
    modules = _modules(source)

    def package_of(module: str) -> str:
        is_package = modules[module].name == "__init__.py"
        return module if is_package else module.rpartition(".")[0]

    imports = {m: _imports(p, package_of(m)) for m, p in modules.items()}

    def loaded(name: str) -> list[str]:
        """The package's modules that importing `name` runs (its packages' too)."""
        parts = name.split(".")
        return [m for i in range(1, len(parts) + 1) if (m := ".".join(parts[:i])) in modules]

    def runtime_chain(start: str) -> list[str] | None:
        """The first path from `start` to a driver or adapter at run time, if any."""
        seen = {start}
        stack = [[start]]
        while stack:
            path = stack.pop()
            for imp in imports[path[-1]]:
                if imp.type_only:
                    continue
                if _forbidden(imp.name):
                    return [*path, imp.name]
                for module in loaded(imp.name):
                    if module not in seen:
                        seen.add(module)
                        stack.append([*path, module])
        return None

    def outside(module: str) -> bool:
        return any(_within(module, package) for package in OUTSIDE)

    problems: dict[tuple[str, int], str] = {}  # one per import statement
    for module in sorted(m for m in modules if not outside(m)):
        for imp in imports[module]:
            where = (module, imp.line)
            if where in problems:
                continue
            if _forbidden(imp.name):
                problems[where] = f"{module}:{imp.line} imports {imp.name}"
            elif not imp.type_only:
                # Core modules are checked themselves; what leads out of the core at run
                # time is an outside module (the composition root, an entry point).
                for entered in filter(outside, loaded(imp.name)):
                    if (chain := runtime_chain(entered)) is not None:
                        problems[where] = (
                            f"{module}:{imp.line} imports {imp.name}, which loads {chain[-1]}"
                            f" ({' -> '.join(chain)})"
                        )
                        break
    return list(problems.values())


def test_the_core_imports_no_driver_and_no_adapter() -> None:
    checked = _modules(SOURCE)
    for package in ("axon.pipeline", "axon.retrieval", "axon.indexing", "axon.llm"):
        assert package in checked  # the contract covers what the architecture names
    problems = import_violations(SOURCE)
    assert not problems, "the core imports drivers or adapters:\n" + "\n".join(problems)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "axon" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "axon"


def test_the_contract_names_each_kind_of_violation(tmp_path: Path) -> None:
    source = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "stores/__init__.py": "",
            "stores/qdrant.py": "import qdrant_client\n",
            "services.py": "from axon.stores import qdrant\n",
            "helpers.py": "import axon.services\n",
            "pipeline/__init__.py": "",
            "pipeline/stage.py": "def f():\n    import sqlite3\n",
            "pipeline/typed.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from axon.services import Services\n"
            ),
            "retrieval/__init__.py": "",
            "retrieval/ranking.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from axon.stores.qdrant import Index\n"
            ),
            "retrieval/fusion.py": "from ..stores.qdrant import Index\n",
            "indexing/__init__.py": "from axon import helpers\n",
            "llm/__init__.py": "from redis.asyncio import Redis\n",
        },
    )
    assert import_violations(source) == [
        "axon.helpers:1 imports axon.services, which loads axon.stores"
        " (axon.services -> axon.stores)",
        "axon.llm:1 imports redis.asyncio",
        "axon.pipeline.stage:2 imports sqlite3",
        "axon.retrieval.fusion:1 imports axon.stores.qdrant",
        "axon.retrieval.ranking:3 imports axon.stores.qdrant",
    ]
