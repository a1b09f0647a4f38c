"""Collector: validates and normalises an incoming prompt request.

Field shapes and per-field limits live in the pydantic models below (unknown
fields are rejected); limits that depend on settings (prompt length, budget
range) and the workspace lookup happen in `Collector.collect`. Text is cleaned
of control characters only: tabs, newlines and carriage returns stay, so code
in the prompt reaches the model byte for byte otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt
from pydantic.alias_generators import to_camel

from axon.errors import Conflict, InvalidInput
from axon.evolution.conversation import CONVERSATION_ID_PATTERN
from axon.models import WORKSPACE_ID_PATTERN, Workspace, WorkspaceType
from axon.pipeline.types import Source, Strategy, TaskType
from axon.pipeline.windows import MIN_BUDGET, context_window
from axon.ports import DocumentStore
from axon.security.principal import FULL_ACCESS, Principal
from axon.workspaces import find_workspace

# C0 controls except \t \n \r, DEL, C1 controls, and lone surrogates (JSON can carry them
# as \ud800 escapes; they cannot be encoded for the model).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

MAX_SELECTED_CHARS = 100_000
MAX_PATH_CHARS = 4096
MAX_OPEN_FILES = 50
MAX_RECENT_EDITS = 20
MAX_EDIT_CHARS = 20_000
MAX_DIAGNOSTICS = 100
MAX_DIAGNOSTIC_CHARS = 2_000
MAX_CONVERSATION_TURNS = 20


def strip_controls(text: str) -> str:
    return _CONTROL_RE.sub("", text)


Clean = Annotated[str, AfterValidator(strip_controls)]
PathText = Annotated[Clean, Field(min_length=1, max_length=MAX_PATH_CHARS)]


class _Input(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Cursor(_Input):
    line: StrictInt = Field(ge=1, le=10_000_000)
    column: StrictInt = Field(default=1, ge=1, le=1_000_000)


class RecentEdit(_Input):
    file: PathText
    diff: Clean = Field(min_length=1, max_length=MAX_EDIT_CHARS)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"


class Diagnostic(_Input):
    message: Clean = Field(min_length=1, max_length=MAX_DIAGNOSTIC_CHARS)
    severity: Severity = Severity.ERROR
    file: PathText | None = None
    line: StrictInt | None = Field(default=None, ge=1, le=10_000_000)
    column: StrictInt | None = Field(default=None, ge=1, le=1_000_000)
    source: Clean | None = Field(default=None, max_length=100)
    code: Clean | None = Field(default=None, max_length=100)


class PromptMetadata(_Input):
    """What an editor knows about where the user is."""

    file: PathText | None = None
    language: Clean | None = Field(default=None, min_length=1, max_length=64)
    cursor: Cursor | None = None
    selected_code: Clean | None = Field(default=None, min_length=1, max_length=MAX_SELECTED_CHARS)
    open_files: list[PathText] = Field(default_factory=list, max_length=MAX_OPEN_FILES)
    recent_edits: list[RecentEdit] = Field(default_factory=list, max_length=MAX_RECENT_EDITS)
    diagnostics: list[Diagnostic] = Field(default_factory=list, max_length=MAX_DIAGNOSTICS)


class Turn(_Input):
    role: str = Field(pattern=r"^(user|assistant)$")
    content: Clean = Field(min_length=1)


class PromptRequest(_Input):
    """Body of POST /api/v1/prompts/process."""

    prompt: Clean = Field(min_length=1)
    workspace_id: str = Field(pattern=WORKSPACE_ID_PATTERN)
    source: Source = Source.API
    metadata: PromptMetadata = Field(default_factory=PromptMetadata)
    conversation: list[Turn] = Field(default_factory=list, max_length=MAX_CONVERSATION_TURNS)
    # Axon remembers the turns of a conversation with an id and recalls them in its
    # later turns (axon.evolution.conversation).
    conversation_id: str | None = Field(default=None, pattern=CONVERSATION_ID_PATTERN)
    stream: StrictBool = False
    model: Clean | None = Field(default=None, min_length=1, max_length=200)
    task_type: TaskType | None = None
    budget: StrictInt | None = None
    strategy: Strategy | None = None


@dataclass(frozen=True, slots=True)
class CollectedPrompt:
    request: PromptRequest
    workspace: Workspace
    model: str
    window: int
    workspace_created: bool


class Collector:
    """Applies the limits that depend on settings and resolves the workspace."""

    def __init__(
        self,
        store: DocumentStore,
        *,
        max_prompt_chars: int,
        max_token_limit: int,
        default_model: str,
        auto_create: frozenset[str],
    ) -> None:
        self.store = store
        self.max_prompt_chars = max_prompt_chars
        self.max_token_limit = max_token_limit
        self.default_model = default_model
        self.auto_create = auto_create

    async def collect(
        self, request: PromptRequest, principal: Principal = FULL_ACCESS
    ) -> CollectedPrompt:
        """The checked request and its workspace (a 404 unless the caller may use it)."""
        self._check_limits(request)
        model = request.model or self.default_model
        window = context_window(model)
        if request.budget is not None:
            ceiling = min(self.max_token_limit, window)
            if not MIN_BUDGET <= request.budget <= ceiling:
                raise InvalidInput.field(
                    "budget",
                    f"budget must be between {MIN_BUDGET} and {ceiling} tokens "
                    f"(MAX_TOKEN_LIMIT {self.max_token_limit}, {model} window {window})",
                )
        workspace, created = await self._workspace(request.workspace_id, principal)
        return CollectedPrompt(request, workspace, model, window, created)

    def _check_limits(self, request: PromptRequest) -> None:
        problems: list[dict[str, str]] = []
        limit = self.max_prompt_chars
        if not request.prompt.strip():
            problems.append({"field": "prompt", "message": "prompt is empty"})
        if len(request.prompt) > limit:
            problems.append(
                {
                    "field": "prompt",
                    "message": f"prompt exceeds {limit} characters (MAX_PROMPT_CHARS)",
                }
            )
        for index, turn in enumerate(request.conversation):
            if len(turn.content) > limit:
                problems.append(
                    {
                        "field": f"conversation.{index}.content",
                        "message": f"turn exceeds {limit} characters (MAX_PROMPT_CHARS)",
                    }
                )
        if problems:
            raise InvalidInput(f"invalid request: {problems[0]['message']}", details=problems)

    async def _workspace(self, workspace_id: str, principal: Principal) -> tuple[Workspace, bool]:
        if principal.can_access(workspace_id):
            workspace = await self.store.get_workspace(workspace_id)
            if workspace is not None:
                return workspace, False
        if workspace_id not in self.auto_create or not principal.can_access(workspace_id):
            # A child by its short name, else a 404 naming the closest workspaces the
            # caller may use.
            return await find_workspace(self.store, workspace_id, principal=principal), False
        try:
            fresh = Workspace(id=workspace_id, name=workspace_id, type=WorkspaceType.CODING)
            return await self.store.create_workspace(fresh), True
        except Conflict:
            # Another request created it first.
            existing = await self.store.get_workspace(workspace_id)
            if existing is None:
                raise
            return existing, False
