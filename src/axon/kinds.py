"""Names and limits every layer shares, in a module that imports nothing heavy.

The CLI declares its options with these before it knows which command will run,
so `axon --help` must not pay for pydantic, numpy or the server. `axon.models`,
`axon.pipeline.types`, `axon.quality.models` and `axon.retrieval` re-export them.
"""

from __future__ import annotations

from enum import StrEnum

# Search request limits, checked by the API, the CLI and the retriever alike.
MAX_QUERY_CHARS = 32_000
MAX_LIMIT = 100

# A root's child is `<root>.<sub-project>` (`work.api`): readable, and safe in URL paths
# and in `axon/<workspace>/<model>` model names, where a `/` would be ambiguous.
CHILD_SEPARATOR = "."


def short_name(workspace_id: str) -> str:
    """A child's name within its root (`work.api` -> `api`); other ids are their own."""
    return workspace_id.rpartition(CHILD_SEPARATOR)[2]


class Tier(StrEnum):
    WORKSPACE = "workspace"
    HYBRID = "hybrid"
    GLOBAL = "global"


class ContextType(StrEnum):
    FILE = "file"
    SYMBOL = "symbol"
    DOCUMENTATION = "documentation"
    NOTE = "note"
    DEPENDENCY = "dependency"
    ARCHITECTURE = "architecture"
    CONVERSATION = "conversation"
    ERROR = "error"
    DECISION = "decision"
    PATTERN = "pattern"
    COMMIT = "commit"  # a recent commit of the workspace's git history


class Role(StrEnum):
    """What a context is for in its project; the task decides how much each counts."""

    IMPLEMENTATION = "implementation"
    TEST = "test"
    DOCS = "docs"
    EXAMPLE = "example"
    CONFIG = "config"
    GENERATED = "generated"


class EvidenceSource(StrEnum):
    """Where a context's knowledge came from; each has its own confidence prior."""

    INDEXED = "indexed"  # chunks of workspace files (and gate results): backed by a source
    MANUAL = "manual"  # written by a person (API, CLI, MCP `remember`)
    CAPTURED = "captured"  # extracted from an exchange with the model
    CONVERSATION = "conversation"  # an earlier turn of a conversation


class WorkspaceType(StrEnum):
    CODING = "coding"
    PKM = "pkm"
    ROOT = "root"


class ApiScope(StrEnum):
    """What a key may do: read (GET), write (changes) and admin (keys, maintenance)."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class TaskType(StrEnum):
    BUG_FIX = "bug_fix"
    FEATURE_ADD = "feature_add"
    REFACTOR = "refactor"
    CODE_REVIEW = "code_review"
    EXPLAIN = "explain"
    TEST = "test"
    DOCUMENTATION = "documentation"
    DEPLOYMENT = "deployment"
    PERFORMANCE = "performance"
    SECURITY = "security"
    GENERAL_QUERY = "general_query"
    NOTE_SUMMARIZE = "note_summarize"
    NOTE_LINK = "note_link"
    NOTE_SEARCH = "note_search"
    NOTE_WRITE = "note_write"


class Strategy(StrEnum):
    """Where retrieved context goes in the prompt."""

    PREFIX = "prefix"
    INLINE = "inline"
    SUFFIX = "suffix"
    HYBRID = "hybrid"


class CheckKind(StrEnum):
    TESTS = "tests"
    LINT = "lint"
    TYPES = "types"
