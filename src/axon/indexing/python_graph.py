"""Definitions and references of a Python file, from the `ast` tree its chunker parsed.

Definitions: functions, classes, methods, and names bound at module or class level.
References: imports, calls, base classes and decorators, and the uses of names the file
imports or defines at top level; an attribute access is kept where its owner resolves
(`self.x` in a method of C is `C.x`, `mod.f` through `import pkg.mod as mod` is
`pkg.mod.f`). Targets are dotted names: a module's is its path with `/` as `.` (so
`src/pkg/mod.py` is `src.pkg.mod`), and an absolute import names the tail of it.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from axon.ports import CodeSymbol, SymbolRole

_DEF = SymbolRole.DEFINITION
_REF = SymbolRole.REFERENCE
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LEAVES = (ast.expr_context, ast.Constant)  # nothing below them names anything
_BUILTINS = frozenset(dir(builtins))


def module_name(path: str) -> str:
    """`src/pkg/mod.py` -> `src.pkg.mod`; a package's `__init__.py` is the package."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@dataclass(slots=True)
class _Graph:
    path: str
    module: str
    is_package: bool
    found: list[CodeSymbol] = field(default_factory=list)
    # Top-level names: what each stands for (an import's dotted target, or this module's).
    bound: dict[str, str] = field(default_factory=dict)

    def define(self, name: str, kind: str, line: int, scope: str | None) -> None:
        qualified = f"{scope}.{name}" if scope else name
        self.found.append(CodeSymbol(self.path, name, _DEF, kind, line, qualified))

    def refer(self, name: str, kind: str, line: int, scope: str | None, target: str | None) -> None:
        self.found.append(CodeSymbol(self.path, name, _REF, kind, line, scope, target))

    def resolve_from(self, node: ast.ImportFrom) -> str:
        """The module an `from X import ...` names, relative levels resolved."""
        if not node.level:
            return node.module or ""
        package = self.module.split(".") if self.module else []
        if not self.is_package:
            package = package[:-1]
        base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
        return ".".join([*base, *([node.module] if node.module else [])])

    def collect_top_level(self, body: list[ast.stmt]) -> None:
        """Bind every top-level name first, so a use above its definition resolves."""
        for node in body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.bound[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom):
                source = self.resolve_from(node)
                for alias in node.names:
                    if alias.name != "*":
                        self.bound[alias.asname or alias.name] = f"{source}.{alias.name}"
            elif isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                self.bound[node.name] = f"{self.module}.{node.name}"
            else:
                for name in _assigned(node):
                    self.bound[name] = f"{self.module}.{name}"

    def dotted(self, node: ast.expr) -> str | None:
        """`a.b.c` as a dotted target when its first name is bound at top level."""
        if isinstance(node, ast.Name):
            return self.bound.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = self.dotted(node.value)
            return f"{owner}.{node.attr}" if owner else None
        return None

    def walk(self, body: list[ast.stmt], scope: str | None, cls: str | None) -> None:
        for node in body:
            self.statement(node, scope, cls)

    def statement(self, node: ast.stmt, scope: str | None, cls: str | None) -> None:
        if isinstance(node, _FUNCTIONS):
            kind = "method" if cls is not None and scope == cls else "function"
            self.define(node.name, kind, node.lineno, scope)
            inner = f"{scope}.{node.name}" if scope else node.name
            for expr in [*node.decorator_list, *_annotations(node)]:
                self.expression(expr, scope, cls, decorator=expr in node.decorator_list)
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                if default is not None:
                    self.expression(default, scope, cls)
            self.walk(node.body, inner, cls)
        elif isinstance(node, ast.ClassDef):
            self.define(node.name, "class", node.lineno, scope)
            inner = f"{scope}.{node.name}" if scope else node.name
            for base in [*node.bases, *(k.value for k in node.keywords)]:
                name = _last_name(base)
                if name:
                    self.refer(name, "inherit", base.lineno, inner, self.dotted(base))
                self.expression(base, scope, cls, skip=base)
            for decorator in node.decorator_list:
                self.expression(decorator, scope, cls, decorator=True)
            self.walk(node.body, inner, inner)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                self.refer(alias.name.rsplit(".", 1)[-1], "import", node.lineno, scope, alias.name)
        elif isinstance(node, ast.ImportFrom):
            source = self.resolve_from(node)
            for alias in node.names:
                if alias.name != "*":
                    target = f"{source}.{alias.name}"
                    self.refer(alias.name, "import", node.lineno, scope, target)
        else:
            if scope is None or scope == cls:  # module or class level binds a symbol
                kind = "variable" if scope is None else "attribute"
                for name in _assigned(node):
                    self.define(name, kind, node.lineno, scope)
            for child in _children(node):
                if isinstance(child, ast.stmt):
                    self.statement(child, scope, cls)
                elif isinstance(child, ast.expr):
                    self.expression(child, scope, cls)
                else:  # handlers, match cases, with-items
                    for sub in _children(child):
                        if isinstance(sub, ast.stmt):
                            self.statement(sub, scope, cls)
                        elif isinstance(sub, ast.expr):
                            self.expression(sub, scope, cls)

    def expression(
        self,
        root: ast.expr,
        scope: str | None,
        cls: str | None,
        *,
        decorator: bool = False,
        skip: ast.expr | None = None,
    ) -> None:
        if decorator and not isinstance(root, ast.Call):  # `@cached`, `@helpers.cached`
            name = _last_name(root)
            if name:
                self.refer(name, "decorator", root.lineno, scope, self.target(root, cls))
            skip = root
        # One pass, parents before children: a call marks its callee, which is then
        # recorded as the call only.
        done: set[int] = {id(skip)} if skip is not None else set()
        for node in _nodes(root):
            if id(node) in done:
                continue
            if isinstance(node, ast.Call):
                done.add(id(node.func))
                name = _last_name(node.func)
                if name and not _is_builtin(node.func, self.bound):
                    line = node.func.lineno
                    self.refer(name, "call", line, scope, self.target(node.func, cls))
            elif isinstance(node, ast.Name):
                if node.id in self.bound and isinstance(node.ctx, ast.Load):
                    self.refer(node.id, "name", node.lineno, scope, self.bound[node.id])
            elif isinstance(node, ast.Attribute):
                target = self.target(node, cls)
                if target is not None:
                    self.refer(node.attr, "attribute", node.lineno, scope, target)

    def target(self, node: ast.expr, cls: str | None) -> str | None:
        if isinstance(node, ast.Attribute):
            owner = node.value
            if cls is not None and isinstance(owner, ast.Name) and owner.id in {"self", "cls"}:
                return f"{self.module}.{cls}.{node.attr}"
        return self.dotted(node)


# Fields that never hold a node: skipped without a look (this runs on every node).
_SCALARS = frozenset(
    {"id", "attr", "arg", "name", "module", "level", "kind", "type_comment", "conversion"}
)
_NODE_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes` as a list, without its per-node generator."""
    fields = _NODE_FIELDS.get(type(node))
    if fields is None:
        fields = _NODE_FIELDS[type(node)] = tuple(f for f in node._fields if f not in _SCALARS)
    found: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            if not isinstance(value, _LEAVES):
                found.append(value)
        elif isinstance(value, list):
            found += [v for v in value if isinstance(v, ast.AST)]
    return found


def _nodes(root: ast.AST) -> list[ast.AST]:
    """Every node under `root` (itself included), each parent before its children."""
    order = [root]
    position = 0
    while position < len(order):
        order += _children(order[position])
        position += 1
    return order


def _is_builtin(func: ast.expr, bound: dict[str, str]) -> bool:
    """`len(x)`, `isinstance(...)`: calls of a builtin no file of the workspace defines."""
    return isinstance(func, ast.Name) and func.id in _BUILTINS and func.id not in bound


def _assigned(node: ast.stmt) -> list[str]:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    names: list[str] = []
    for target in targets:
        elts = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
        names += [e.id for e in elts if isinstance(e, ast.Name)]
    return names


def _annotations(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    args += [a for a in (node.args.vararg, node.args.kwarg) if a is not None]
    found = [a.annotation for a in args if a.annotation is not None]
    return [*found, node.returns] if node.returns is not None else found


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):  # Generic[T], list[int]
        return _last_name(node.value)
    return None


def python_symbols(path: str, tree: ast.Module) -> list[CodeSymbol]:
    graph = _Graph(path, module_name(path), PurePosixPath(path).stem == "__init__")
    graph.collect_top_level(tree.body)
    graph.walk(tree.body, None, None)
    return graph.found
