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


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "axon"


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
    log_format: LogFormat = Field(default=LogFormat.JSON, validation_alias="LOG_FORMAT")

    data_dir: Path = Field(default_factory=_default_data_dir, validation_alias="AXON_DATA_DIR")

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

    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    default_model: str | None = Field(default=None, validation_alias="DEFAULT_MODEL")
    max_token_limit: int = Field(
        default=8000, ge=256, le=2_000_000, validation_alias="MAX_TOKEN_LIMIT"
    )

    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=256 * 1024 * 1024, validation_alias="AXON_MAX_BODY_BYTES"
    )
    health_cache_seconds: float = Field(
        default=1.5, ge=0, le=60, validation_alias="AXON_HEALTH_CACHE_SECONDS"
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        # The runbook writes LOG_LEVEL=info; WARN is the common spelling of WARNING.
        if isinstance(value, str):
            value = value.strip().upper()
            return "WARNING" if value == "WARN" else value
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("mongodb_uri", "redis_url", "qdrant_url", "openai_api_key", mode="before")
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

    @property
    def is_production(self) -> bool:
        return self.env.lower() in {"production", "prod"}

    @cached_property
    def sqlite_path(self) -> Path:
        return self.data_dir / "axon.db"


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
