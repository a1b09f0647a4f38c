"""Python files chunked with `ast`: functions, classes, methods, the module-level code
between them, and a file summary."""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass, field

from axon.indexing.chunks import Chunk, fit
from axon.indexing.module_code import Statement, module_chunks
from axon.indexing.summary import FileSummary
from axon.models import ContextType

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass(slots=True)
class _Walk:
    lines: list[str]
    chunks: list[Chunk] = field(default_factory=list)

    def source(self, node: _Def) -> tuple[int, int, str]:
        start = min([d.lineno for d in node.decorator_list] + [node.lineno])
        end = node.end_lineno or node.lineno
        if not isinstance(node, ast.ClassDef):
            return start, end, "".join(self.lines[start - 1 : end])
        # A class shows its own code; member bodies are elided (each member has its own context).
        out: list[str] = []
        line = start
        for member in node.body:
            if not isinstance(member, _DEFS) or member.body[0].lineno == member.lineno:
                continue
            body_start = member.body[0].lineno
            out += self.lines[line - 1 : body_start - 1]
            indent = self.lines[body_start - 1][: member.body[0].col_offset]
            out.append(f"{indent}...\n")
            line = (member.end_lineno or body_start) + 1
        out += self.lines[line - 1 : end]
        return start, end, "".join(out)

    def visit(self, body: list[ast.stmt], scope: str | None) -> None:
        for node in body:
            if isinstance(node, _DEFS):
                self.add(node, scope)
            elif scope is None and isinstance(node, ast.If | ast.Try | ast.With):
                # Module-level definitions guarded by `if TYPE_CHECKING:` / `try: ... except`.
                for block in _blocks(node):
                    self.visit(block, scope)

    def add(self, node: _Def, scope: str | None) -> None:
        name = f"{scope}.{node.name}" if scope else node.name
        if isinstance(node, ast.ClassDef):
            kind = "class"
        else:
            kind = "method" if scope is not None else "function"
        start, end, content = self.source(node)
        meta: dict[str, object] = {}
        doc = ast.get_docstring(node, clean=True)
        if doc:
            meta["docstring"] = doc.split("\n\n", 1)[0][:300]
        if node.decorator_list:
            meta["decorators"] = [
                "@" + self.lines[d.lineno - 1][d.col_offset : d.col_offset + 100].rstrip()
                for d in node.decorator_list
            ]
        self.chunks += fit(Chunk(ContextType.SYMBOL, content, start, end, name, kind, None, meta))
        if isinstance(node, ast.ClassDef):
            self.visit(node.body, name)


def _blocks(node: ast.If | ast.Try | ast.With) -> list[list[ast.stmt]]:
    if isinstance(node, ast.If):
        return [node.body, node.orelse]
    if isinstance(node, ast.With):
        return [node.body]
    return [node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody]


def _has_definition(node: ast.If | ast.Try | ast.With) -> bool:
    return any(isinstance(n, _DEFS) for n in ast.walk(node))


def _bound_names(node: ast.stmt) -> tuple[str, ...]:
    """Names a module-level statement binds (`X = ...`, `X: T = ...`, `a, b = ...`)."""
    names: list[str] = []
    for sub in ast.walk(node):
        targets: list[ast.expr] = []
        if isinstance(sub, ast.Assign):
            targets = sub.targets
        elif isinstance(sub, ast.AnnAssign | ast.AugAssign):
            targets = [sub.target]
        for target in targets:
            elts = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
            names += [e.id for e in elts if isinstance(e, ast.Name)]
    return tuple(names)


def _statements(body: list[ast.stmt], docstring: ast.stmt | None) -> list[Statement]:
    """Top-level statements that are not definitions; blocks holding definitions
    (`if TYPE_CHECKING:`, `try: ... except`) are looked into."""
    found: list[Statement] = []
    for node in body:
        if isinstance(node, _DEFS):
            continue
        if isinstance(node, ast.If | ast.Try | ast.With) and _has_definition(node):
            for block in _blocks(node):
                found += _statements(block, None)
            continue
        only_imports = all(
            isinstance(n, ast.Import | ast.ImportFrom)
            for n in ast.walk(node)
            if isinstance(n, ast.stmt) and not isinstance(n, ast.If | ast.Try | ast.With)
        )
        end = node.end_lineno or node.lineno
        found.append(
            Statement(node.lineno, end, only_imports or node is docstring, _bound_names(node))
        )
    return found


def _summary(tree: ast.Module, lines: list[str], summary: FileSummary) -> None:
    summary.doc = ast.get_docstring(tree, clean=True)
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            source = "".join(lines[node.lineno - 1 : node.end_lineno or node.lineno])
            summary.imports.append(" ".join(source.split())[:200])
        elif isinstance(node, ast.ClassDef):
            summary.names.append(f"class {node.name}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            summary.names.append(f"def {node.name}")
        elif isinstance(node, ast.Assign):
            summary.names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            summary.names.append(node.target.id)


# CPython keeps the AST constructor's recursion counter per interpreter, not per thread:
# two files parsed at once (the indexer prepares two batches at a time) can fail with
# "SystemError: AST constructor recursion depth mismatch" (seen indexing this repository;
# python/cpython#106905). Parsing is a small part of chunking, so one at a time.
_PARSE_LOCK = threading.Lock()


def parse_python(path: str, text: str) -> ast.Module | None:
    """The file's tree; None when it does not parse (py2, templates, syntax errors)."""
    try:
        with _PARSE_LOCK:
            return ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def chunk_python(path: str, text: str, tree: ast.Module) -> list[Chunk]:
    """Symbol chunks plus a file summary."""
    lines = text.splitlines(keepends=True)
    walk = _Walk(lines)
    walk.visit(tree.body, None)
    summary = FileSummary(path, "python", len(lines))
    _summary(tree, lines, summary)
    first = tree.body[0] if tree.body else None
    docstring = first if summary.doc is not None else None
    covered = [(c.start_line, c.end_line) for c in walk.chunks]
    module = module_chunks(lines, covered, _statements(tree.body, docstring), comment="#")
    return [summary.chunk(), *sorted(walk.chunks + module, key=lambda c: c.start_line)]
