"""Pick the chunker for a file and turn its chunks into Contexts with stable ids."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from axon.indexing.chunks import MAX_CHUNK_CHARS, Chunk, window_chunks
from axon.indexing.languages import PROSE, Family, family_of
from axon.indexing.markdown import chunk_markdown
from axon.indexing.python_chunks import chunk_python
from axon.indexing.roles import role_of
from axon.indexing.treesitter_chunks import chunk_tree_sitter
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

# Version of what the chunkers make of a file. Bump it whenever a chunker's output can
# change for the same bytes (new context kinds, other boundaries, other metadata):
# files chunked under an older version are re-chunked by the next plain run, which
# otherwise skips them on their unchanged size and mtime.
# 1: module-level code contexts (module_code.py) and roles.
CHUNKING_RULES = 1


def chunk_file(
    path: str, text: str, language: str | None, workspace_type: WorkspaceType
) -> list[Chunk]:
    if not text.strip():
        return []
    family = family_of(language)
    if family is Family.PYTHON:
        chunks = chunk_python(path, text)
        if chunks is not None:
            return chunks
        # Unparseable Python (py2, templates, syntax errors) is still worth finding as text.
        return window_chunks(text, ContextType.FILE, metadata={"parseError": True})
    if family is Family.TREE_SITTER and language is not None:
        return chunk_tree_sitter(path, text, language)
    if family is Family.MARKDOWN:
        return chunk_markdown(path, text, note=workspace_type is WorkspaceType.PKM)
    if family is Family.CONFIG and len(text) <= MAX_CHUNK_CHARS:
        return [
            Chunk(ContextType.FILE, text, 1, text.count("\n") + 1, symbol_kind="config", title=path)
        ]
    kind = ContextType.DOCUMENTATION if language in PROSE else ContextType.FILE
    return window_chunks(text, kind, title=path)


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
