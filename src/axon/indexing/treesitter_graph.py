"""Definitions and references of a JavaScript, TypeScript, Go, Rust or Java file, from
the tree-sitter tree its chunker parsed.

Definitions are the chunker's (functions, classes, methods, types, top-level bindings);
references are calls and constructions (the callee's last name), imported names, and
base classes, interfaces and implemented traits. Targets are left to the lookup: without
a type checker, `a.b()` only says that some `b` is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import tree_sitter

from axon.indexing.treesitter_chunks import (
    SPECS,
    bound_names,
    go_receiver,
    node_text,
    tree_sitter_language,
)
from axon.ports import CodeSymbol, SymbolRole

# Node types whose callee (the first field present) is referenced as a call.
_CALLS: dict[str, tuple[str, ...]] = {
    "call_expression": ("function",),
    "new_expression": ("constructor",),
    "method_invocation": ("name",),
    "object_creation_expression": ("type",),
    "macro_invocation": ("macro",),
}
# Fields that hold the last name of a member access or a path.
_MEMBER_FIELDS = ("property", "field", "name")
_NAMES = frozenset(
    {
        "identifier",
        "property_identifier",
        "field_identifier",
        "type_identifier",
        "shorthand_property_identifier",
    }
)
# Where a base type or trait is named, and what of it is the reference.
_HERITAGE = frozenset(
    {"class_heritage", "extends_clause", "implements_clause", "superclass", "super_interfaces"}
)


def _last_name(node: tree_sitter.Node | None) -> str:
    """`a.b.c`, `a::b::c`, `pkg.C<T>` -> the last plain name, or ''."""
    while node is not None:
        if node.type in _NAMES:
            return node_text(node)
        inner = next(
            (c for f in _MEMBER_FIELDS if (c := node.child_by_field_name(f)) is not None), None
        )
        parts = node.named_children
        if inner is None and parts and node.type == "generic_type":  # List<T>: List
            inner = parts[0]
        elif inner is None and parts and node.type == "scoped_type_identifier":  # a.b.C: C
            inner = parts[-1]
        node = inner
    return ""


@dataclass(slots=True)
class _Graph:
    path: str
    language: str
    found: list[CodeSymbol] = field(default_factory=list)
    _names: dict[int, str | None] = field(default_factory=dict)  # definition node id -> name

    def refer(self, name: str, kind: str, node: tree_sitter.Node, scope: str | None) -> None:
        if name:
            line = node.start_point.row + 1
            self.found.append(CodeSymbol(self.path, name, SymbolRole.REFERENCE, kind, line, scope))

    def define(self, name: str, kind: str, node: tree_sitter.Node, scope: str | None) -> None:
        qualified = f"{scope}.{name}" if scope else name
        line = node.start_point.row + 1
        self.found.append(CodeSymbol(self.path, name, SymbolRole.DEFINITION, kind, line, qualified))

    def walk(self, root: tree_sitter.Node) -> None:
        spec = SPECS[self.language]
        for child in root.named_children:
            for name in bound_names(child):
                self.define(name, "variable", child, None)
        # The grammar's query engine finds the nodes of interest; Python only sees those.
        captures = tree_sitter.QueryCursor(_query(self.language)).captures(root)
        for node in captures.get("definition", []):
            self.definition(node, spec.definitions[node.type])
        for node in captures.get("call", []):
            fields = _CALLS[node.type]
            callee = next((c for f in fields if (c := node.child_by_field_name(f))), None)
            self.refer(_last_name(callee), "call", node, self.scope_of(node))
        for node in captures.get("import", []):
            self.imports(node, self.scope_of(node))
        for node in captures.get("heritage", []):
            scope = self.scope_of(node)
            parts = node.named_children or [node]
            for part in parts:
                if part.type == "type_list":  # Java: implements A, B
                    parts += part.named_children
                else:
                    self.refer(_last_name(part), "inherit", part, scope)
        for node in captures.get("declarator", []):
            value = node.child_by_field_name("value")
            scope = self.scope_of(node)
            if value is not None and value.type in {"arrow_function", "function_expression"}:
                name = node_text(node.child_by_field_name("name"))
                if scope is not None and name:  # top-level ones are bindings already
                    self.define(name, "function", node, scope)

    def scope_of(self, node: tree_sitter.Node) -> str | None:
        """The qualified name of the innermost definition around `node`."""
        definitions = SPECS[self.language].definitions
        parent = node.parent
        while parent is not None and parent.type not in definitions:
            parent = parent.parent
        return None if parent is None else self.qualified(parent)

    def qualified(self, node: tree_sitter.Node) -> str | None:
        """A definition's qualified name (`impl` blocks: their type's), memoized: every
        reference inside it asks."""
        if node.id in self._names:
            return self._names[node.id]
        scope = self.scope_of(node)
        if node.type == "impl_item":  # `impl Trait for Type`: members belong to Type
            own = _last_name(node.child_by_field_name("type"))
        elif node.type == "method_declaration" and self.language == "go":
            receiver, own = go_receiver(node), node_text(node.child_by_field_name("name"))
            scope = receiver or scope
        else:
            own = node_text(node.child_by_field_name("name"))
        name = (f"{scope}.{own}" if scope else own) if own else scope
        self._names[node.id] = name
        return name

    def definition(self, node: tree_sitter.Node, kind: str) -> None:
        if node.type == "impl_item":
            trait = node.child_by_field_name("trait")
            if trait is not None:
                self.refer(_last_name(trait), "inherit", trait, self.scope_of(node))
            return
        name = node_text(node.child_by_field_name("name"))
        qualified = self.qualified(node)
        if not name or qualified is None:
            return
        scope = qualified[: -len(name) - 1] or None
        if kind == "function" and scope is not None:
            kind = "method"
        line = node.start_point.row + 1
        self.found.append(CodeSymbol(self.path, name, SymbolRole.DEFINITION, kind, line, qualified))

    def imports(self, node: tree_sitter.Node, scope: str | None) -> None:
        """Every imported name: JS specifiers and default imports, Java's and Rust's last
        path segments, Go's package (the last part of its path)."""
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type == "import_spec":  # Go: "net/http" -> http, or its alias
                alias = current.child_by_field_name("name")
                path = node_text(current.child_by_field_name("path")).strip('"`')
                self.refer(node_text(alias) or path.rsplit("/", 1)[-1], "import", current, scope)
                continue
            if current.type in {"import_specifier", "scoped_identifier"}:
                self.refer(_last_name(current), "import", current, scope)
                continue
            if current.type in {"identifier", "type_identifier"}:
                self.refer(node_text(current), "import", current, scope)
                continue
            if current.type == "string":
                continue  # a JS import's source
            stack += current.named_children


@cache
def _query(language: str) -> tree_sitter.Query:
    """One pattern per node type of interest that the language's grammar has."""
    spec = SPECS[language]
    grammar = tree_sitter_language(language)
    wanted = {
        **dict.fromkeys(spec.definitions, "definition"),
        **dict.fromkeys(_CALLS, "call"),
        **dict.fromkeys(spec.imports, "import"),
        **dict.fromkeys(_HERITAGE, "heritage"),
        "variable_declarator": "declarator",
    }
    patterns = [f"({t}) @{c}" for t, c in wanted.items() if grammar.id_for_node_kind(t, True)]
    return tree_sitter.Query(grammar, "\n".join(patterns))


def treesitter_symbols(path: str, language: str, root: tree_sitter.Node) -> list[CodeSymbol]:
    graph = _Graph(path, language)
    graph.walk(root)
    return graph.found
