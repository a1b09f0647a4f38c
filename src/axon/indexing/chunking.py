"""Pick the chunker for a file (and its code-graph extractor), and turn its chunks into
Contexts with stable ids."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from axon.indexing.chunks import MAX_CHUNK_CHARS, Chunk, window_chunks
from axon.indexing.languages import PROSE, Family, family_of
from axon.indexing.markdown import chunk_markdown
from axon.indexing.python_chunks import chunk_python, parse_python
from axon.indexing.python_graph import python_symbols
from axon.indexing.roles import role_of
from axon.indexing.treesitter_chunks import chunk_tree_sitter, parse_tree_sitter
from axon.indexing.treesitter_graph import treesitter_symbols
from axon.models import (
    Context,
    ContextType,
    Evidence,
    EvidenceSource,
    Tier,
    WorkspaceType,
    content_hash,
    utcnow,
)
from axon.ports import CodeSymbol, SymbolRole

# Version of what the chunkers make of a file. Bump it whenever a chunker's output can
# change for the same bytes (new context kinds, other boundaries, other metadata):
# files chunked under an older version are re-chunked by the next plain run, which
# otherwise skips them on their unchanged size and mtime.
# 1: module-level code contexts (module_code.py) and roles.
# 2: the code graph (python_graph.py, treesitter_graph.py) extracted with the chunks.
CHUNKING_RULES = 2
MAX_FILE_SYMBOLS = 20_000


@dataclass(frozen=True, slots=True)
class ParsedFile:
    chunks: list[Chunk]
    symbols: list[CodeSymbol]  # the file's part of the code graph (code files only)


def chunk_file(
    path: str, text: str, language: str | None, workspace_type: WorkspaceType
) -> list[Chunk]:
    return parse_file(path, text, language, workspace_type).chunks


def parse_file(
    path: str, text: str, language: str | None, workspace_type: WorkspaceType
) -> ParsedFile:
    """The file's chunks and, for code, its definitions and references (one parse)."""
    if not text.strip():
        return ParsedFile([], [])
    family = family_of(language)
    if family is Family.PYTHON:
        tree = parse_python(path, text)
        if tree is None:  # still worth finding as text
            return ParsedFile(
                window_chunks(text, ContextType.FILE, metadata={"parseError": True}), []
            )
        return ParsedFile(chunk_python(path, text, tree), _bounded(python_symbols(path, tree)))
    if family is Family.TREE_SITTER and language is not None:
        parsed = parse_tree_sitter(text, language)
        chunks = chunk_tree_sitter(path, text, language, parsed)
        return ParsedFile(chunks, _bounded(treesitter_symbols(path, language, parsed[1].root_node)))
    if family is Family.MARKDOWN:
        return ParsedFile(chunk_markdown(path, text, note=workspace_type is WorkspaceType.PKM), [])
    if family is Family.CONFIG and len(text) <= MAX_CHUNK_CHARS:
        chunk = Chunk(
            ContextType.FILE, text, 1, text.count("\n") + 1, symbol_kind="config", title=path
        )
        return ParsedFile([chunk], [])
    kind = ContextType.DOCUMENTATION if language in PROSE else ContextType.FILE
    return ParsedFile(window_chunks(text, kind, title=path), [])


def _bounded(symbols: list[CodeSymbol]) -> list[CodeSymbol]:
    """Each symbol once, at most MAX_FILE_SYMBOLS of them (definitions first): a
    generated file of a million calls must not become a million rows."""
    unique = list(dict.fromkeys(symbols))
    if len(unique) <= MAX_FILE_SYMBOLS:
        return unique
    unique.sort(key=lambda s: s.role is not SymbolRole.DEFINITION)
    return unique[:MAX_FILE_SYMBOLS]


def context_id(workspace_id: str, path: str, chunk: Chunk, ordinal: int) -> str:
    """Same workspace, path, kind, symbol and ordinal: same id, so re-indexing an
    unchanged symbol keeps its usage counts and confidence."""
    key = "\0".join(
        (workspace_id, path, chunk.type, chunk.symbol_kind or "", chunk.symbol or "", str(ordinal))
    )
    return "ctx_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def to_contexts(
    workspace_id: str,
    path: str,
    language: str | None,
    chunks: Sequence[Chunk],
    token_counts: Sequence[int],
) -> list[Context]:
    seen: Counter[tuple[str, str | None, str | None]] = Counter()
    now = utcnow()
    evidence = Evidence.prior(EvidenceSource.INDEXED)  # read-only: shared by the batch
    contexts = []
    for chunk, tokens in zip(chunks, token_counts, strict=True):
        key = (chunk.type, chunk.symbol_kind, chunk.symbol)
        ordinal = seen[key]
        seen[key] += 1
        # Every field comes typed from the chunkers, so validation would only cost time.
        contexts.append(
            Context.model_construct(
                id=context_id(workspace_id, path, chunk, ordinal),
                workspace_id=workspace_id,
                type=chunk.type,
                title=chunk.title or (f"{path}: {chunk.symbol}" if chunk.symbol else path),
                path=path,
                start_line=chunk.start_line,
                end_line=chunk.end_line,
                language=language,
                symbol=chunk.symbol,
                symbol_kind=chunk.symbol_kind,
                content=chunk.content,
                content_hash=content_hash(chunk.content),
                token_count=tokens,
                metadata={**chunk.metadata, "role": role_of(path, chunk.type, language).value},
                tier=Tier.WORKSPACE,
                created_at=now,
                updated_at=now,
                valid_from=now,
                usage_count=0,
                evidence=evidence,
                confidence=evidence.mean,
            )
        )
    return contexts
