"""Settings read from the environment.

Names follow the deployment runbook (PORT, MONGODB_URI, REDIS_URL, ...). An
unset MONGODB_URI / REDIS_URL / QDRANT_URL selects the embedded adapter; a set
one must work, it is never silently replaced by the embedded default.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from axon.kinds import ContextType
from axon.models import ID_RE
from axon.paths import default_data_dir


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class SettingsError(Exception):
    """Raised when an environment variable has an invalid value."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        text = "; ".join(f"{name}: {message}" for name, message in problems)
        super().__init__(f"invalid configuration: {text}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, populate_by_name=True
    )

    env: str = Field(default="development", validation_alias=AliasChoices("AXON_ENV", "NODE_ENV"))
    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PORT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", validation_alias="LOG_LEVEL"
    )
    # Unset: readable text on a terminal, JSON lines otherwise (log shippers, containers).
    log_format: LogFormat | None = Field(default=None, validation_alias="LOG_FORMAT")

    data_dir: Path = Field(default_factory=default_data_dir, validation_alias="AXON_DATA_DIR")

    mongodb_uri: str | None = Field(default=None, validation_alias="MONGODB_URI")
    mongodb_max_pool_size: int = Field(
        default=50, ge=1, le=10_000, validation_alias="MONGODB_MAX_POOL_SIZE"
    )
    mongodb_min_pool_size: int = Field(
        default=0, ge=0, le=10_000, validation_alias="MONGODB_MIN_POOL_SIZE"
    )
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    qdrant_url: str | None = Field(default=None, validation_alias="QDRANT_URL")
    qdrant_collection: str = Field(default="axon-contexts", validation_alias="QDRANT_COLLECTION")
    redis_max_connections: int = Field(
        default=50, ge=2, le=10_000, validation_alias="REDIS_MAX_CONNECTIONS"
    )
    # A queued job whose Redis queue entry is gone this long after its last update is
    # queued again (a restarted or flushed Redis loses the queue).
    job_lease_seconds: float = Field(
        default=60.0, gt=0, le=86_400, validation_alias="AXON_JOB_LEASE_SECONDS"
    )
    # Longest `axon worker` waits, once told to stop (SIGTERM), for its running jobs to
    # end after cancelling them (below the 30 s orchestrators usually allow).
    worker_stop_seconds: float = Field(
        default=10.0, gt=0, le=3600, validation_alias="AXON_WORKER_STOP_SECONDS"
    )
    # Longest a Redis call may take before it counts as an outage (the fallback answers).
    redis_timeout: float = Field(default=0.5, gt=0, le=30, validation_alias="AXON_REDIS_TIMEOUT")

    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    default_model: str | None = Field(default=None, validation_alias="DEFAULT_MODEL")
    max_token_limit: int = Field(
        default=8000, ge=256, le=2_000_000, validation_alias="MAX_TOKEN_LIMIT"
    )
    # Prompt pipeline: prompt size limit, tokens kept free for the answer, and the
    # workspace ids a prompt may create on first use (empty, coding): the runbook's smoke
    # test works on a fresh install, while a mistyped id is a 404 with suggestions.
    max_prompt_chars: int = Field(
        default=32_000, ge=1, le=2_000_000, validation_alias="MAX_PROMPT_CHARS"
    )
    response_reserve_tokens: int = Field(
        default=1024, ge=16, le=200_000, validation_alias="AXON_RESPONSE_RESERVE_TOKENS"
    )
    auto_create_workspaces: str = Field(
        default="test-workspace", validation_alias="AXON_AUTO_CREATE_WORKSPACES"
    )
    retrieval_timeout_seconds: float = Field(
        default=5.0, gt=0, le=600, validation_alias="AXON_RETRIEVAL_TIMEOUT_SECONDS"
    )
    # A model that fails before answering: `fail` returns its error (502/503/504),
    # `degrade` answers context-only with the failure flagged under `degraded`.
    llm_errors: Literal["fail", "degrade"] = Field(
        default="fail", validation_alias="AXON_LLM_ERRORS"
    )

    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=256 * 1024 * 1024, validation_alias="AXON_MAX_BODY_BYTES"
    )
    # Indexing (axon.indexing): files larger than this are skipped as `too_large`.
    index_max_file_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        le=1024 * 1024 * 1024,
        validation_alias="AXON_INDEX_MAX_FILE_BYTES",
    )
    # Git history of a workspace that is a git work tree (axon.indexing.git_history):
    # the commits one read covers (0: ignore git, index from the files alone), the recent
    # ones kept as `commit` contexts, and the bound on a code review's working-tree diff.
    git_max_commits: int = Field(
        default=1000, ge=0, le=100_000, validation_alias="AXON_GIT_MAX_COMMITS"
    )
    git_commit_contexts: int = Field(
        default=50, ge=0, le=10_000, validation_alias="AXON_GIT_COMMIT_CONTEXTS"
    )
    git_diff_max_bytes: int = Field(
        default=64 * 1024, ge=0, le=16 * 1024 * 1024, validation_alias="AXON_GIT_DIFF_MAX_BYTES"
    )
    health_cache_seconds: float = Field(
        default=1.5, ge=0, le=60, validation_alias="AXON_HEALTH_CACHE_SECONDS"
    )

    # Security (axon.security, axon.api.security). auto: on unless the server is bound to
    # loopback and uses no production backend (the single-user embedded default).
    auth: Literal["auto", "on", "off"] = Field(default="auto", validation_alias="AXON_AUTH")
    auth_cache_seconds: float = Field(
        default=5.0, ge=0, le=300, validation_alias="AXON_AUTH_CACHE_SECONDS"
    )
    rate_limits: Literal["auto", "on", "off"] = Field(
        default="auto", validation_alias="AXON_RATE_LIMITS"
    )
    rate_limit: str = Field(default="100/15m", validation_alias="AXON_RATE_LIMIT")
    rate_limit_expensive: str = Field(
        default="20/15m", validation_alias="AXON_RATE_LIMIT_EXPENSIVE"
    )
    # Failed authentications (401s) allowed per client address before it gets 429s.
    auth_failure_limit: str = Field(default="10/1m", validation_alias="AXON_AUTH_FAILURE_LIMIT")
    trusted_proxies: str = Field(default="", validation_alias="AXON_TRUSTED_PROXIES")
    cors_origins: str = Field(default="", validation_alias="AXON_CORS_ORIGINS")
    # Host headers accepted (axon.security.hosts); unset: local names, loopback and the
    # bound address. `*` accepts every host (a proxy in front checks it).
    allowed_hosts: str = Field(default="", validation_alias="AXON_ALLOWED_HOSTS")
    enable_heapdump: bool = Field(default=False, validation_alias="AXON_ENABLE_HEAPDUMP")
    heapdump_timeout: float = Field(
        default=60.0, gt=0, le=3600, validation_alias="AXON_HEAPDUMP_TIMEOUT"
    )

    # Retention for `axon maintenance cleanup` (the runbook's 90 days / usage < 5 / 30 days).
    context_retention_days: float = Field(
        default=90, gt=0, le=36_500, validation_alias="AXON_CONTEXT_RETENTION_DAYS"
    )
    context_min_usage: int = Field(
        default=5, ge=0, le=1_000_000, validation_alias="AXON_CONTEXT_MIN_USAGE"
    )
    interaction_retention_days: float = Field(
        default=30, gt=0, le=36_500, validation_alias="AXON_INTERACTION_RETENTION_DAYS"
    )

    # Embeddings (axon.embeddings). AXON_EMBEDDER unset: the local model when its package
    # is installed, otherwise `none` with a warning; a set value must load or start-up fails.
    embedder: Literal["local", "openai", "ollama", "none"] | None = Field(
        default=None, validation_alias="AXON_EMBEDDER"
    )
    embedding_model: str | None = Field(default=None, validation_alias="AXON_EMBEDDING_MODEL")
    embedding_dimension: int | None = Field(
        default=None, ge=1, le=65_536, validation_alias="AXON_EMBEDDING_DIMENSION"
    )
    embedding_batch_size: int = Field(
        default=32, ge=1, le=1024, validation_alias="AXON_EMBEDDING_BATCH_SIZE"
    )
    embedding_threads: int = Field(
        default=2, ge=1, le=256, validation_alias="AXON_EMBEDDING_THREADS"
    )
    # Word pieces the local model reads per text. 256 matches sentence-transformers;
    # fewer trades fidelity on long texts for speed.
    embedding_max_tokens: int = Field(
        default=256, ge=16, le=512, validation_alias="AXON_EMBEDDING_MAX_TOKENS"
    )
    model_dir: Path | None = Field(default=None, validation_alias="AXON_MODEL_DIR")
    ollama_base_url: str = Field(
        default="http://localhost:11434", validation_alias="OLLAMA_BASE_URL"
    )
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")

    # Retrieval ranking (axon.retrieval): final score = weighted sum of normalised relevance,
    # freshness (half-life decay on age), usage (log-scaled) and confidence.
    rank_relevance_weight: float = Field(
        default=0.6, ge=0, le=1, validation_alias="AXON_RANK_RELEVANCE_WEIGHT"
    )
    rank_freshness_weight: float = Field(
        default=0.2, ge=0, le=1, validation_alias="AXON_RANK_FRESHNESS_WEIGHT"
    )
    rank_usage_weight: float = Field(
        default=0.1, ge=0, le=1, validation_alias="AXON_RANK_USAGE_WEIGHT"
    )
    rank_confidence_weight: float = Field(
        default=0.1, ge=0, le=1, validation_alias="AXON_RANK_CONFIDENCE_WEIGHT"
    )
    freshness_half_life_days: float = Field(
        default=90.0, gt=0, le=36_500, validation_alias="AXON_FRESHNESS_HALF_LIFE_DAYS"
    )
    # Evolution (axon.evolution). A new decision supersedes a current one of its workspace
    # when their texts, without decision phrasing, are at least this similar (cosine).
    supersede_similarity: float = Field(
        default=0.55, ge=0, le=1, validation_alias="AXON_SUPERSEDE_SIMILARITY"
    )
    # How often the evolution job runs (consolidation, supersede repair, decay figures):
    # embedded on a timer in `axon serve`, in production as an arq cron in `axon worker`.
    # 0 turns the schedule off (the job can still be submitted).
    evolution_interval_seconds: float = Field(
        default=3600, ge=0, le=7 * 86_400, validation_alias="AXON_EVOLUTION_INTERVAL_SECONDS"
    )
    # A convention found (this similar) in at least this many workspaces of a tenant is
    # promoted to a global context by the evolution job.
    promote_min_workspaces: int = Field(
        default=3, ge=2, le=1000, validation_alias="AXON_PROMOTE_MIN_WORKSPACES"
    )
    promote_similarity: float = Field(
        default=0.85, ge=0, le=1, validation_alias="AXON_PROMOTE_SIMILARITY"
    )
    # Captured or hand-written memories of a workspace at least this similar merge into one.
    consolidate_similarity: float = Field(
        default=0.9, ge=0, le=1, validation_alias="AXON_CONSOLIDATE_SIMILARITY"
    )
    # Days until unused captured or hand-written knowledge of a kind is half as salient,
    # as JSON ('{"decision": 180, "conversation": 14}'); unnamed kinds keep the defaults
    # of axon.evolution.decay. Indexed contexts do not decay.
    decay_half_life_days: dict[ContextType, float] = Field(
        default_factory=dict, validation_alias="AXON_DECAY_HALF_LIFE_DAYS"
    )
    lexical_weight: float = Field(default=0.8, ge=0, le=1, validation_alias="AXON_LEXICAL_WEIGHT")
    mmr_lambda: float = Field(default=0.8, ge=0, le=1, validation_alias="AXON_MMR_LAMBDA")
    rank_prose_weight: float = Field(
        default=0.5, ge=0, le=1, validation_alias="AXON_RANK_PROSE_WEIGHT"
    )
    # Relevance a file gets at the top of the code graph's walk from the query's
    # symbols (retrieval/graph.py); 0 turns the graph term off.
    rank_graph_weight: float = Field(
        default=0.0, ge=0, le=1, validation_alias="AXON_RANK_GRAPH_WEIGHT"
    )
    # Relevance from git history (retrieval/ranking.py): a file's change frequency, and
    # co-change with the best hits' files. Off: the development set does not show a gain.
    rank_change_weight: float = Field(
        default=0.0, ge=0, le=1, validation_alias="AXON_RANK_CHANGE_WEIGHT"
    )
    rank_cochange_weight: float = Field(
        default=0.0, ge=0, le=1, validation_alias="AXON_RANK_COCHANGE_WEIGHT"
    )
    # Parsed contexts the retriever keeps in memory. Writes through this process and
    # the lexical change log forget entries at once; other replicas' usage and
    # confidence updates show after at most this many seconds. 0 disables the cache.
    context_cache_seconds: float = Field(
        default=5.0, ge=0, le=3600, validation_alias="AXON_CONTEXT_CACHE_SECONDS"
    )
    # How long a replica on MongoDB trusts its copy of a workspace record (changes made
    # through it show at once, other replicas' within this). 0 reads it every time.
    workspace_cache_seconds: float = Field(
        default=2.0, ge=0, le=300, validation_alias="AXON_WORKSPACE_CACHE_SECONDS"
    )
    context_cache_size: int = Field(
        default=20_000, ge=1, le=10_000_000, validation_alias="AXON_CONTEXT_CACHE_SIZE"
    )
    # TTLs of the shared cache (Redis when REDIS_URL is set) per kind; 0 disables a kind.
    # Query results also expire on every index write; usage and confidence inside one
    # are at most this old.
    cache_ttl_embeddings: float = Field(
        default=86_400, ge=0, le=30 * 86_400, validation_alias="AXON_CACHE_TTL_EMBEDDINGS"
    )
    cache_ttl_analyses: float = Field(
        default=3_600, ge=0, le=30 * 86_400, validation_alias="AXON_CACHE_TTL_ANALYSES"
    )
    cache_ttl_query_results: float = Field(
        default=10, ge=0, le=86_400, validation_alias="AXON_CACHE_TTL_QUERY_RESULTS"
    )

    # Folders a workspace registered over the API may be in (comma-separated). Unset: the
    # user's home when embedded, none in production (see workspace_roots_list).
    workspace_roots: str | None = Field(default=None, validation_alias="AXON_WORKSPACE_ROOTS")

    # Quality gate (axon.quality). Folders under these comma-separated roots can be gated, and
    # so can registered workspaces inside AXON_WORKSPACE_ROOTS; timeouts are seconds; the
    # output cap is per stream.
    gate_allowed_roots: str = Field(default="", validation_alias="AXON_GATE_ALLOWED_ROOTS")
    gate_check_timeout: float = Field(
        default=600, gt=0, le=86_400, validation_alias="AXON_GATE_CHECK_TIMEOUT"
    )
    gate_total_timeout: float = Field(
        default=1800, gt=0, le=86_400, validation_alias="AXON_GATE_TOTAL_TIMEOUT"
    )
    gate_output_limit: int = Field(
        default=2 * 1024 * 1024,
        ge=4096,
        le=512 * 1024 * 1024,
        validation_alias="AXON_GATE_OUTPUT_LIMIT",
    )
    gate_concurrency: int = Field(default=2, ge=1, le=64, validation_alias="AXON_GATE_CONCURRENCY")
    # Checks run in a bubblewrap sandbox; "off" is the operator's explicit opt-out (the gate
    # refuses to run checks when no sandbox can be made and this is "required").
    gate_sandbox: Literal["required", "off"] = Field(
        default="required", validation_alias="AXON_GATE_SANDBOX"
    )
    gate_network: bool = Field(default=False, validation_alias="AXON_GATE_NETWORK")
    gate_wait_seconds: float = Field(
        default=60, ge=0, le=3600, validation_alias="AXON_GATE_WAIT_SECONDS"
    )

    # LLM gateway (axon.llm). LLM_PROVIDER unset: the first configured of openai
    # (OPENAI_API_KEY), anthropic (ANTHROPIC_API_KEY), openai-compatible
    # (OPENAI_COMPATIBLE_BASE_URL), ollama (OLLAMA_BASE_URL set); else none (context-only).
    # Times are seconds. LLM_PRICES ('{"openai:gpt-4o": [2.5, 10]}', USD per million
    # input/output tokens) and LLM_RATE_LIMITS ('{"openai": [500, 200000]}', requests and
    # tokens per minute, 0 = unlimited) are JSON.
    llm_provider: str | None = Field(default=None, validation_alias="LLM_PROVIDER")
    llm_fallbacks: str = Field(default="", validation_alias="LLM_FALLBACKS")
    openai_organization: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_ORGANIZATION", "OPENAI_ORG_ID")
    )
    anthropic_api_key: str | None = Field(default=None, validation_alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str | None = Field(default=None, validation_alias="ANTHROPIC_BASE_URL")
    openai_compatible_base_url: str | None = Field(
        default=None, validation_alias="OPENAI_COMPATIBLE_BASE_URL"
    )
    openai_compatible_api_key: str | None = Field(
        default=None, validation_alias="OPENAI_COMPATIBLE_API_KEY"
    )
    llm_connect_timeout: float = Field(
        default=5, gt=0, le=300, validation_alias="LLM_CONNECT_TIMEOUT"
    )
    # A whole non-streamed answer, or a stream's first token, must arrive within LLM_TIMEOUT;
    # inside a response, LLM_READ_TIMEOUT bounds the silence between two reads.
    llm_timeout: float = Field(default=120, gt=0, le=3600, validation_alias="LLM_TIMEOUT")
    llm_read_timeout: float = Field(default=60, gt=0, le=3600, validation_alias="LLM_READ_TIMEOUT")
    llm_max_retries: int = Field(default=2, ge=0, le=10, validation_alias="LLM_MAX_RETRIES")
    llm_retry_base_delay: float = Field(
        default=0.5, ge=0, le=60, validation_alias="LLM_RETRY_BASE_DELAY"
    )
    llm_retry_max_delay: float = Field(
        default=20, ge=0, le=600, validation_alias="LLM_RETRY_MAX_DELAY"
    )
    llm_breaker_threshold: int = Field(
        default=5, ge=1, le=1000, validation_alias="LLM_BREAKER_THRESHOLD"
    )
    llm_breaker_cooldown: float = Field(
        default=30, gt=0, le=3600, validation_alias="LLM_BREAKER_COOLDOWN"
    )
    llm_rate_limits: dict[str, tuple[int, int]] = Field(
        default_factory=dict, validation_alias="LLM_RATE_LIMITS"
    )
    llm_rate_queue: int = Field(default=64, ge=0, le=100_000, validation_alias="LLM_RATE_QUEUE")
    llm_rate_max_wait: float = Field(
        default=30, ge=0, le=3600, validation_alias="LLM_RATE_MAX_WAIT"
    )
    llm_prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict, validation_alias="LLM_PRICES"
    )
    # 0 disables the cache of identical non-streamed temperature-0 answers.
    llm_cache_ttl: float = Field(default=0, ge=0, le=30 * 86_400, validation_alias="LLM_CACHE_TTL")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        # The runbook writes LOG_LEVEL=info; WARN is the common spelling of WARNING.
        if isinstance(value, str):
            value = value.strip().upper()
            return "WARNING" if value == "WARN" else value
        return value

    @field_validator("auto_create_workspaces")
    @classmethod
    def _auto_create_ids(cls, value: str) -> str:
        # Comma-separated ids; `false`/`none`/empty: none. Anything else must be an id.
        if value.strip().lower() == "true":
            # It used to create any id, so a typo made an empty workspace: name them instead.
            raise ValueError("list the workspace ids to create on first use, e.g. test-workspace")
        ids = [] if value.strip().lower() in ("", "false", "none") else value.split(",")
        for workspace_id in (i.strip() for i in ids):
            if not ID_RE.match(workspace_id):
                raise ValueError(f"'{workspace_id}' is not a workspace id (comma-separated ids)")
        return ",".join(i.strip() for i in ids)

    @cached_property
    def auto_create_ids(self) -> frozenset[str]:
        return frozenset(filter(None, self.auto_create_workspaces.split(",")))

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator(
        "mongodb_uri",
        "redis_url",
        "qdrant_url",
        "openai_api_key",
        "embedder",
        "embedding_model",
        "model_dir",
        "openai_base_url",
        "llm_provider",
        "openai_organization",
        "anthropic_api_key",
        "anthropic_base_url",
        "openai_compatible_base_url",
        "openai_compatible_api_key",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # Compose files pass `VAR=` for unset optional values.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("mongodb_uri")
    @classmethod
    def _mongo_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("qdrant_url")
    @classmethod
    def _qdrant_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://", ":memory:", "path:")):
            raise ValueError("must be an http(s) URL, ':memory:' or 'path:<dir>'")
        return value

    @field_validator("llm_provider")
    @classmethod
    def _known_provider(cls, value: str | None) -> str | None:
        from axon.llm.routing import PROVIDERS, normalize_provider

        if value is None:
            return None
        if normalize_provider(value) not in PROVIDERS:
            raise ValueError(f"must be one of {', '.join(PROVIDERS)}")
        return normalize_provider(value)

    @field_validator("llm_fallbacks")
    @classmethod
    def _valid_fallbacks(cls, value: str) -> str:
        from axon.llm.routing import parse_target

        for item in split_list(value):
            if parse_target(item, None).provider == "none":
                raise ValueError("'none' cannot be a fallback")
        return value

    @field_validator("decay_half_life_days")
    @classmethod
    def _positive_half_lives(cls, value: dict[ContextType, float]) -> dict[ContextType, float]:
        for kind, days in value.items():
            if not 0 < days <= 36_500:
                raise ValueError(f"{kind}: a half-life is between 0 and 36500 days")
        return value

    @field_validator("llm_rate_limits")
    @classmethod
    def _valid_rate_limits(cls, value: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        from axon.llm.routing import PROVIDERS, normalize_provider

        limits = {normalize_provider(name): rpm_tpm for name, rpm_tpm in value.items()}
        for name, (rpm, tpm) in limits.items():
            if name not in PROVIDERS or name == "none":
                raise ValueError(f"unknown provider '{name}'")
            if rpm < 0 or tpm < 0:
                raise ValueError(f"{name}: limits must be >= 0 (0 = unlimited)")
        return limits

    @property
    def is_production(self) -> bool:
        return self.env.lower() in {"production", "prod"}

    @field_validator("auth", "rate_limits", mode="before")
    @classmethod
    def _lower_switch(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("rate_limit", "rate_limit_expensive", "auth_failure_limit")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        from axon.security.ratelimit import Rate

        Rate.parse(value)
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _valid_hosts(cls, value: str) -> str:
        from axon.security.hosts import check_entry

        for item in split_list(value):
            check_entry(item)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: str) -> str:
        import ipaddress

        for item in split_list(value):
            ipaddress.ip_network(item, strict=False)
        return value

    @property
    def workspace_roots_list(self) -> list[str]:
        """AXON_WORKSPACE_ROOTS; unset: the home folder embedded, nothing in production."""
        if self.workspace_roots is not None:
            return split_list(self.workspace_roots)
        if self.is_production or self.uses_production_backend:
            return []
        return [str(Path.home())]

    @property
    def uses_production_backend(self) -> bool:
        return any((self.mongodb_uri, self.redis_url, self.qdrant_url))

    @property
    def auth_enabled(self) -> bool:
        if self.auth != "auto":
            return self.auth == "on"
        loopback = self.host in {"127.0.0.1", "::1", "localhost"}
        return not loopback or self.uses_production_backend

    @property
    def rate_limits_enabled(self) -> bool:
        return self.auth_enabled if self.rate_limits == "auto" else self.rate_limits == "on"

    @cached_property
    def sqlite_path(self) -> Path:
        return self.data_dir / "axon.db"

    @property
    def store_location(self) -> str:
        """Where workspaces live, for people: the data folder, or MongoDB (no credentials)."""
        if self.mongodb_uri:
            return f"workspaces in MongoDB (MONGODB_URI), data folder {self.data_dir}"
        return f"data folder {self.data_dir}"


def split_list(value: str) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c'] (list-valued variables are comma-separated)."""
    return [item.strip() for item in value.split(",") if item.strip()]


def env_name(field: str) -> str:
    """The environment variable that sets `field` (for error messages)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, str):
        return alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return field.upper()


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise SettingsError naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [
            (env_name(str(err["loc"][0])) if err["loc"] else "?", err["msg"])
            for err in exc.errors()
        ]
        raise SettingsError(problems) from None
