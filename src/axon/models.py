"""Domain types shared by every layer.

Attributes are snake_case in Python and camelCase on the wire and in MongoDB
(the runbook's queries use `workspaceId`, `createdAt`, `usageCount`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    computed_field,
    model_validator,
)
from pydantic.alias_generators import to_camel

# Re-exported: defined apart so the CLI can declare its options without pydantic.
from axon.kinds import ApiScope as ApiScope
from axon.kinds import ContextType as ContextType
from axon.kinds import EvidenceSource as EvidenceSource
from axon.kinds import Tier as Tier
from axon.kinds import WorkspaceType as WorkspaceType

T = TypeVar("T")

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ID_RE = re.compile(ID_PATTERN)
WORKSPACE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})?$"
WORKSPACE_ID_RE = re.compile(WORKSPACE_ID_PATTERN)
CONTEXT_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
CONTEXT_ID_RE = re.compile(CONTEXT_ID_PATTERN)


def utcnow() -> datetime:
    return _as_utc(datetime.now(UTC))


def _as_utc(value: datetime) -> datetime:
    # Millisecond precision, as BSON dates store: a timestamp reads back equal from any store.
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def format_utc(value: datetime) -> str:
    """Fixed-width ISO-8601 in UTC, so stored timestamps compare correctly as text."""
    return _as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


UtcDatetime = Annotated[
    datetime, AfterValidator(_as_utc), PlainSerializer(format_utc, when_used="json")
]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        """JSON-ready dict with camelCase keys."""
        return self.model_dump(mode="json", by_alias=True)


TIER_ORDER: dict[Tier, int] = {Tier.WORKSPACE: 0, Tier.HYBRID: 1, Tier.GLOBAL: 2}


class Workspace(CamelModel):
    id: str
    name: str
    type: WorkspaceType
    path: str | None = None
    parent_id: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    last_indexed_at: UtcDatetime | None = None


# Confidence prior per source: (mean, strength). Strength is the number of votes the
# prior weighs as, so one vote moves a context by at most 1/(strength+1) of the way.
# Indexed code is trusted most and firmly; captured text starts low and is easily
# moved by confirmation (axon.evolution.confidence).
PRIORS: dict[EvidenceSource, tuple[float, float]] = {
    EvidenceSource.INDEXED: (0.9, 20.0),
    EvidenceSource.MANUAL: (0.8, 6.0),
    EvidenceSource.CAPTURED: (0.3, 4.0),
    EvidenceSource.CONVERSATION: (0.5, 4.0),
}


class Evidence(CamelModel):
    """A Beta(alpha, beta) posterior over "this context is right and useful".

    alpha and beta start as the source's prior (mean x strength, (1 - mean) x strength)
    and grow with helpful and unhelpful evidence; `Context.confidence` is the mean.
    """

    source: EvidenceSource
    alpha: float = Field(ge=0)
    beta: float = Field(ge=0)
    helpful: float = 0.0  # summed weight of helpful votes and confirmations
    unhelpful: float = 0.0  # summed weight of unhelpful votes
    votes: int = 0
    confirmed_at: UtcDatetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def strength(self) -> float:
        """How many votes' worth of evidence the mean rests on (the prior's included)."""
        return self.alpha + self.beta

    @property
    def mean(self) -> float:
        return self.alpha / self.strength if self.strength > 0 else 0.0

    @classmethod
    def prior(cls, source: EvidenceSource, mean: float | None = None) -> Evidence:
        """The source's prior, centred on `mean` when given (a stated confidence)."""
        default_mean, strength = PRIORS[source]
        centre = default_mean if mean is None else min(max(mean, 0.0), 1.0)
        alpha = round(centre * strength, 6)
        return cls(source=source, alpha=alpha, beta=round(strength - alpha, 6))


_MANUAL_ID = re.compile(r"ctx_[0-9a-f]{16}")  # new_id("ctx"); indexed ids have 32 digits


def evidence_source(data: dict[str, Any]) -> EvidenceSource:
    """The source of a record written before evidence existed: captures say so in their
    metadata, hand-written contexts have `new_id("ctx")` ids, the rest came from indexing."""
    metadata = data.get("metadata") or {}
    source = metadata.get("source") if isinstance(metadata, dict) else None
    if source == "capture":
        return EvidenceSource.CAPTURED
    if str(data.get("type")) == ContextType.CONVERSATION.value:
        return EvidenceSource.CONVERSATION
    if source == "mcp" or _MANUAL_ID.fullmatch(str(data.get("id", ""))):
        return EvidenceSource.MANUAL
    return EvidenceSource.INDEXED


class StaleMark(CamelModel):
    """Why a context's linked code no longer matches what it was written against."""

    reason: str
    at: UtcDatetime = Field(default_factory=utcnow)


class CodeLink(CamelModel):
    """Code a memory names: the indexed context and the content hash it had then."""

    context_id: str
    path: str | None = None
    symbol: str | None = None
    content_hash: str


class Provenance(CamelModel):
    """One source a consolidated context was merged from: its own id, text and origin."""

    context_id: str
    text: str
    interaction_id: str | None = None
    source: EvidenceSource
    created_at: UtcDatetime


class Context(CamelModel):
    id: str
    workspace_id: str
    tier: Tier = Tier.WORKSPACE
    type: ContextType
    title: str | None = None
    path: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    language: str | None = None
    symbol: str | None = None
    symbol_kind: str | None = None
    content: str
    content_hash: str
    token_count: int = 0
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    usage_count: int = 0
    confidence: float = 1.0  # the mean of `evidence`, kept beside it for ranking and queries
    metadata: dict[str, Any] = Field(default_factory=dict)
    # The tenant of the key that created it: global contexts are shared within a tenant
    # (and untenanted ones with everybody); see axon.security.principal.
    tenant: str | None = None
    # Evolution (axon.evolution): the confidence posterior, validity in time and what
    # replaced it. `confidence` is always the posterior's mean.
    evidence: Evidence
    subject: str | None = None  # what a decision is about, when its author said so
    valid_from: UtcDatetime | None = None  # None: since created_at
    valid_to: UtcDatetime | None = None  # set when superseded
    superseded_by: str | None = None
    supersedes: list[str] = Field(default_factory=list)
    stale: StaleMark | None = None
    provenance: list[Provenance] = Field(default_factory=list)  # contexts merged into this
    links: list[CodeLink] = Field(default_factory=list)  # code it names (decisions, notes)

    @model_validator(mode="before")
    @classmethod
    def _with_evidence(cls, data: Any) -> Any:
        # Records written before evidence existed (and callers that give none) get their
        # source's prior centred on their confidence: rankings do not move on upgrade.
        if not isinstance(data, dict):
            return data
        given = data.get("evidence")
        if given is not None:
            if data.get("confidence") is None:
                mean = given.mean if isinstance(given, Evidence) else Evidence(**given).mean
                return {**data, "confidence": mean}
            return data
        source = evidence_source(data)
        stated = data.get("confidence")
        evidence = Evidence.prior(source, float(stated) if stated is not None else None)
        return {**data, "evidence": evidence, "confidence": evidence.mean}

    @model_validator(mode="after")
    def _valid_since_creation(self) -> Context:
        if self.valid_from is None:
            self.valid_from = self.created_at
        return self

    @property
    def current(self) -> bool:
        """Not superseded: still what the workspace holds true."""
        return self.superseded_by is None and self.valid_to is None


class Interaction(CamelModel):
    id: str
    workspace_id: str
    timestamp: UtcDatetime = Field(default_factory=utcnow)
    prompt: str
    source: str = "api"
    analysis: dict[str, Any] = Field(default_factory=dict)
    context_ids: list[str] = Field(default_factory=list)
    model: str | None = None
    response: str | None = None
    outcome: str = "ok"
    tokens: dict[str, int] = Field(default_factory=dict)
    latency_ms: dict[str, float] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)


class Feedback(CamelModel):
    id: str
    interaction_id: str
    workspace_id: str
    helpful: bool | None = None
    rating: int | None = None
    comment: str | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(CamelModel):
    id: str
    kind: str
    workspace_id: str | None = None
    state: JobState = JobState.QUEUED
    params: dict[str, Any] = Field(default_factory=dict)
    progress: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    errors: list[str] = Field(default_factory=list)
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    runner: str | None = None  # "host:pid" of the process running it
    requeues: int = 0  # times it was queued again after its queue entry was lost


class ApiKey(CamelModel):
    """A stored API key: its sha256 only, never the secret itself."""

    id: str
    name: str
    key_hash: str
    prefix: str  # the first characters of the key, so people can tell keys apart
    scopes: list[ApiScope]
    created_at: UtcDatetime = Field(default_factory=utcnow)
    expires_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None
    # Restrictions; records made before they existed read as None: unrestricted.
    workspaces: list[str] | None = None  # None: every workspace
    tenant: str | None = None  # whose global contexts it sees (beside untenanted ones)
    budget_usd: float | None = None  # total LLM spend allowed
    rpm: int | None = None  # requests per minute allowed


class LlmUsage(CamelModel):
    """LLM token and cost totals of one workspace (None: unattributed), API key and model.

    As a store argument it is an increment: every counter is added to the totals.
    """

    workspace_id: str | None = None
    provider: str
    model: str
    api_key_id: str | None = None  # the key that spent it (None: auth off)
    requests: int = 0
    failures: int = 0  # requests that ended in an error (tokens already spent still count)
    cached: int = 0  # answered from the response cache, no provider call
    estimated: int = 0  # requests whose tokens were counted locally (no provider usage)
    unpriced: int = 0  # requests for a model missing from the price table (cost 0)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    updated_at: UtcDatetime = Field(default_factory=utcnow)


class LlmUsageDay(LlmUsage):
    """The same counters for one UTC day (an increment counts on its `updated_at` day)."""

    day: date


class Page(BaseModel, Generic[T]):
    """One page of a cursor-paginated listing; `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None = None
