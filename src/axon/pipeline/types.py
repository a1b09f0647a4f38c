"""Typed values that flow between the pipeline stages.

Each stage takes the previous stage's output and returns its own, so
`orchestrator.py` reads as collect -> analyze -> retrieve -> synthesize ->
inject -> answer -> post-process.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from axon.kinds import Strategy as Strategy
from axon.kinds import TaskType as TaskType
from axon.models import CamelModel


class Source(StrEnum):
    API = "api"
    CLI = "cli"
    VSCODE = "vscode"
    EDITOR = "editor"
    CHAT = "chat"
    MCP = "mcp"
    OPENAI = "openai"
    ANTHROPIC = "anthropic"


class Intent(StrEnum):
    CODING = "coding"
    PKM = "pkm"
    GENERAL = "general"


NOTE_TASKS = frozenset(
    {TaskType.NOTE_SUMMARIZE, TaskType.NOTE_LINK, TaskType.NOTE_SEARCH, TaskType.NOTE_WRITE}
)


class ContextKind(StrEnum):
    """Budget buckets: the synthesizer splits the token budget across these."""

    CODE = "code"
    DOCS = "docs"
    CONVERSATION = "conversation"
    ERRORS = "errors"
    ARCHITECTURE = "architecture"


class ItemStatus(StrEnum):
    INCLUDED = "included"
    TRUNCATED = "truncated"
    DROPPED = "dropped"


class Entities(CamelModel):
    paths: list[str] = Field(default_factory=list)
    symbols: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    stack_frames: list[str] = Field(default_factory=list)
    technologies: list[str] = Field(default_factory=list)

    def all_terms(self) -> list[str]:
        return [*self.paths, *self.symbols, *self.errors]


class Analysis(CamelModel):
    intent: Intent
    intent_confidence: float
    task_type: TaskType
    task_confidence: float
    task_overridden: bool = False
    entities: Entities
    keywords: list[str] = Field(default_factory=list)
    ambiguity: float
    ambiguity_reasons: list[str] = Field(default_factory=list)
    clarifying_questions: list[str] = Field(default_factory=list)


class Candidate(CamelModel):
    """One piece of context the synthesizer may include."""

    id: str
    kind: ContextKind
    # "retrieval", "selection", "diagnostics", "conversation" (sent with the request),
    # "memory" (a stored turn of the conversation), "recentEdit", "workingDiff" (the
    # workspace's uncommitted changes, for a code review)
    origin: str
    content: str
    tokens: int
    score: float = 0.0
    title: str | None = None
    path: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    language: str | None = None
    tier: str | None = None
    content_hash: str | None = None
    symbol_kind: str | None = None  # a retrieved context's (`class`, `method`, ...)
    warning: str | None = None  # e.g. a memory whose linked code changed since


class ReportEntry(CamelModel):
    id: str
    kind: ContextKind
    origin: str
    path: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    status: ItemStatus
    reason: str
    tokens: int  # tokens in the prompt (0 when dropped)
    original_tokens: int
    score: float = 0.0
    warning: str | None = None


class ContextReport(CamelModel):
    model: str
    context_window: int
    budget: int
    used_tokens: int = 0
    budget_by_kind: dict[str, int] = Field(default_factory=dict)
    strategy: Strategy | None = None
    prompt_trimmed: bool = False
    entries: list[ReportEntry] = Field(default_factory=list)

    def entry(self, item_id: str) -> ReportEntry | None:
        return next((e for e in self.entries if e.id == item_id), None)


class SynthesizedContext(CamelModel):
    items: list[Candidate]  # what goes into the prompt, best first (content may be compressed)
    report: ContextReport


class Degradation(CamelModel):
    stage: str
    message: str
