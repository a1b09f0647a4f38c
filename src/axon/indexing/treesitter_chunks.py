"""JavaScript, TypeScript/TSX, Go, Rust and Java chunked with tree-sitter.

Grammars come from the installed `tree-sitter-*` wheels; nothing is fetched.
One table per language says which nodes are definitions, which of those hold
members (classes, impls, traits), and which nodes only wrap definitions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import tree_sitter
import tree_sitter_go
import tree_sitter_java
import tree_sitter_javascript
import tree_sitter_rust
import tree_sitter_typescript

from axon.indexing.chunks import Chunk, fit
from axon.indexing.module_code import Statement, module_chunks
from axon.indexing.summary import FileSummary
from axon.models import ContextType

_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
_PREFIXES = _COMMENTS | {"decorator", "attribute_item", "annotation"}


@dataclass(frozen=True, slots=True)
class LangSpec:
    grammar: Callable[[], object]
    definitions: dict[str, str]  # node type -> symbol kind
    containers: frozenset[str]  # definition types whose body holds members
    wrappers: frozenset[str] = frozenset()  # nodes to look inside (export, mod bodies)
    imports: frozenset[str] = frozenset()
    package: str | None = None  # node naming the file's package (Go, Java)


_JS_DEFS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "method_definition": "method",
}
_TS_DEFS = {
    **_JS_DEFS,
    "abstract_class_declaration": "class",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
    "function_signature": "function",
}
_JS_CONTAINERS = frozenset({"class_declaration", "abstract_class_declaration"})

SPECS: dict[str, LangSpec] = {
    "javascript": LangSpec(
        tree_sitter_javascript.language,
        _JS_DEFS,
        _JS_CONTAINERS,
        frozenset({"export_statement"}),
        frozenset({"import_statement"}),
    ),
    "typescript": LangSpec(
        tree_sitter_typescript.language_typescript,
        _TS_DEFS,
        _JS_CONTAINERS,
        frozenset({"export_statement"}),
        frozenset({"import_statement"}),
    ),
    "tsx": LangSpec(
        tree_sitter_typescript.language_tsx,
        _TS_DEFS,
        _JS_CONTAINERS,
        frozenset({"export_statement"}),
        frozenset({"import_statement"}),
    ),
    "go": LangSpec(
        tree_sitter_go.language,
        {"function_declaration": "function", "method_declaration": "method", "type_spec": "type"},
        frozenset(),
        frozenset({"type_declaration"}),
        frozenset({"import_declaration"}),
        "package_clause",
    ),
    "rust": LangSpec(
        tree_sitter_rust.language,
        {
            "function_item": "function",
            "function_signature_item": "function",
            "struct_item": "struct",
            "enum_item": "enum",
            "union_item": "union",
            "trait_item": "trait",
            "impl_item": "impl",
            "type_item": "type",
            "macro_definition": "macro",
            "mod_item": "module",
        },
        frozenset({"impl_item", "trait_item", "mod_item"}),
        frozenset(),
        frozenset({"use_declaration", "extern_crate_declaration"}),
    ),
    "java": LangSpec(
        tree_sitter_java.language,
        {
            "class_declaration": "class",
            "interface_declaration": "interface",
            "enum_declaration": "enum",
            "record_declaration": "record",
            "annotation_type_declaration": "annotation",
            "method_declaration": "method",
            "constructor_declaration": "constructor",
        },
        frozenset(
            {
                "class_declaration",
                "interface_declaration",
                "enum_declaration",
                "record_declaration",
            }
        ),
        frozenset({"enum_body_declarations"}),
        frozenset({"import_declaration"}),
        "package_declaration",
    ),
}

_local = threading.local()


@cache
def tree_sitter_language(name: str) -> tree_sitter.Language:
    return tree_sitter.Language(SPECS[name].grammar())


def _parser(name: str) -> tree_sitter.Parser:
    # Parsers are not thread-safe; index jobs may chunk on several threads.
    parsers: dict[str, tree_sitter.Parser] = _local.__dict__.setdefault("parsers", {})
    if name not in parsers:
        parsers[name] = tree_sitter.Parser(tree_sitter_language(name))
    return parsers[name]


def node_text(node: tree_sitter.Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def go_receiver(node: tree_sitter.Node) -> str:
    receiver = node.child_by_field_name("receiver")
    for param in receiver.named_children if receiver else []:
        kind = param.child_by_field_name("type")
        while kind is not None and kind.type in {"pointer_type", "generic_type"}:
            kind = kind.named_children[0] if kind.named_children else None
        if kind is not None:
            return node_text(kind)
    return ""


@dataclass(slots=True)
class _Walk:
    language: str
    spec: LangSpec
    source: bytes
    chunks: list[Chunk] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def name_of(self, node: tree_sitter.Node) -> str:
        if node.type == "impl_item":
            trait, target = node.child_by_field_name("trait"), node.child_by_field_name("type")
            return f"{node_text(trait)} for {node_text(target)}" if trait else node_text(target)
        if node.type == "method_declaration" and self.language == "go":
            receiver = go_receiver(node)
            name = node_text(node.child_by_field_name("name"))
            return f"{receiver}.{name}" if receiver else name
        return node_text(node.child_by_field_name("name"))

    def kind_of(self, node: tree_sitter.Node, scope: str | None) -> str:
        kind = self.spec.definitions[node.type]
        if node.type == "type_spec":
            value = node.child_by_field_name("type")
            if value is not None and value.type in {"struct_type", "interface_type"}:
                return value.type.removesuffix("_type")
        if kind == "function" and scope is not None:
            return "method"
        return kind

    def extent(self, node: tree_sitter.Node) -> tuple[int, int, int]:
        """(start byte, end byte, first line) including `export` and the doc comments,
        decorators or attributes right above."""
        outer = node
        parent = node.parent
        if parent is not None and (
            parent.type == "export_statement"
            or (
                parent.type == "type_declaration"  # but not a `type ( A ...; B ... )` group
                and sum(c.type == "type_spec" for c in parent.named_children) == 1
            )
        ):
            outer = parent
        start_byte, start_row = outer.start_byte, outer.start_point.row
        prev = outer.prev_named_sibling
        while prev is not None and prev.type in _PREFIXES and prev.end_point.row >= start_row - 1:
            start_byte, start_row = prev.start_byte, prev.start_point.row
            prev = prev.prev_named_sibling
        return start_byte, outer.end_byte, start_row + 1

    def content(self, node: tree_sitter.Node, start: int, end: int, members: bool) -> str:
        if not members:
            return self.source[start:end].decode("utf-8", "replace")
        # Containers show their own code; member bodies are elided (members get contexts).
        out: list[bytes] = []
        at = start
        for member in self.members(node):
            body = member.child_by_field_name("body")
            if body is None or member.type not in self.spec.definitions:
                continue
            if member.type in self.spec.containers:
                continue
            out += [self.source[at : body.start_byte], b"{ ... }"]
            at = body.end_byte
        out.append(self.source[at:end])
        return b"".join(out).decode("utf-8", "replace")

    def members(self, node: tree_sitter.Node) -> list[tree_sitter.Node]:
        body = node.child_by_field_name("body")
        if body is None:
            return []
        found: list[tree_sitter.Node] = []
        for child in body.named_children:
            if child.type in self.spec.wrappers:
                found += child.named_children
            else:
                found.append(child)
        return found

    def visit(self, nodes: list[tree_sitter.Node], scope: str | None) -> None:
        for node in nodes:
            if node.type in self.spec.definitions:
                self.add(node, scope)
            elif node.type in self.spec.wrappers:
                self.visit(node.named_children, scope)
            elif node.type in {"lexical_declaration", "variable_declaration"}:
                self.add_bound_functions(node, scope)

    def add(self, node: tree_sitter.Node, scope: str | None, name: str | None = None) -> None:
        name = name or self.name_of(node)
        if not name:
            return
        full = f"{scope}.{name}" if scope else name
        kind = self.kind_of(node, scope)
        is_container = node.type in self.spec.containers
        start, end, first = self.extent(node)
        last = node.end_point.row + 1
        text = self.content(node, start, end, is_container)
        self.chunks += fit(Chunk(ContextType.SYMBOL, text, first, last, full, kind))
        if scope is None:
            self.names.append(f"{kind} {name}")
        if is_container:
            # Methods of `impl Trait for Type` belong to Type, like those of `impl Type`.
            target = node.child_by_field_name("type") if node.type == "impl_item" else None
            member_scope = full
            if target is not None:
                member_scope = f"{scope}.{node_text(target)}" if scope else node_text(target)
            self.visit(self.members(node), member_scope)

    def add_bound_functions(self, node: tree_sitter.Node, scope: str | None) -> None:
        """`const f = () => ...` and `let C = class {...}` count as definitions."""
        for declarator in node.named_children:
            value = declarator.child_by_field_name("value")
            if declarator.type != "variable_declarator" or value is None:
                continue
            if value.type in _FUNCTION_VALUES or value.type == "class":
                kind = "class" if value.type == "class" else "function"
                name = node_text(declarator.child_by_field_name("name"))
                start, end, first = self.extent(node)
                text = self.source[start:end].decode("utf-8", "replace")
                full = f"{scope}.{name}" if scope else name
                chunk = Chunk(ContextType.SYMBOL, text, first, node.end_point.row + 1, full, kind)
                self.chunks += fit(chunk)
                if scope is None:
                    self.names.append(f"{kind} {name}")


_BINDINGS = frozenset(
    {"variable_declarator", "const_spec", "var_spec", "const_item", "static_item"}
)


def bound_names(node: tree_sitter.Node) -> tuple[str, ...]:
    """Names a top-level declaration binds (`const X = ...`, Go `const`/`var` specs,
    Rust `const`/`static`), looked for a few levels down (export, groups)."""
    names: list[str] = []
    level = [node]
    for _ in range(3):
        below: list[tree_sitter.Node] = []
        for item in level:
            if item.type in _BINDINGS:
                name = node_text(item.child_by_field_name("name"))
                if name:
                    names.append(name)
            else:
                below += item.named_children
        level = below
    return tuple(names)


def _statements(root: tree_sitter.Node, spec: LangSpec) -> list[Statement]:
    found = []
    for child in root.named_children:
        if child.type in _COMMENTS:
            continue  # `//` lines right above a group join it (module_chunks)
        summary_only = child.type in spec.imports or child.type == spec.package
        start, end = child.start_point.row + 1, child.end_point.row + 1
        found.append(Statement(start, end, summary_only, bound_names(child)))
    return found


def _leading_doc(root: tree_sitter.Node) -> str | None:
    comments = []
    for child in root.named_children:
        if child.type not in _COMMENTS:
            break
        comments.append(node_text(child))
    return "\n".join(comments) or None


def parse_tree_sitter(text: str, language: str) -> tuple[bytes, tree_sitter.Tree]:
    """(the source bytes, their tree) of a file in one of SPECS' languages."""
    source = text.encode("utf-8", "surrogatepass")
    return source, _parser(language).parse(source)


def chunk_tree_sitter(
    path: str, text: str, language: str, parsed: tuple[bytes, tree_sitter.Tree]
) -> list[Chunk]:
    spec = SPECS[language]
    source, tree = parsed
    root = tree.root_node
    walk = _Walk(language, spec, source)
    walk.visit(root.named_children, None)
    summary = FileSummary(path, language, text.count("\n") + (not text.endswith("\n")))
    summary.doc = _leading_doc(root)
    summary.names = walk.names
    for child in root.named_children:
        if child.type in spec.imports:
            summary.imports.append(" ".join(node_text(child).split())[:200])
        elif spec.package is not None and child.type == spec.package:
            summary.package = " ".join(node_text(child).split()).rstrip(";")
    lines = text.splitlines(keepends=True)
    covered = [(c.start_line, c.end_line) for c in walk.chunks]
    module = module_chunks(lines, covered, _statements(root, spec), comment="//")
    return [summary.chunk(), *sorted(walk.chunks + module, key=lambda c: c.start_line)]
