"""Which provider and model answer a request.

A model is written `provider:model` (`openai:gpt-4o`, `ollama:llama3.2:3b`) or as
a bare name for the default provider. Only the part before the first colon can
name a provider, so a bare name containing a colon must carry its provider.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from axon.errors import InvalidInput

PROVIDERS = ("openai", "anthropic", "ollama", "openai-compatible", "none")
# Used when a provider is chosen without naming a model (LLM_PROVIDER, LLM_FALLBACKS).
DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-latest",
    "ollama": "llama3.2",
    "none": "none",
}
_MODEL_RE = re.compile(r"^[^\s\x00-\x1f]{1,200}$")


def normalize_provider(name: str) -> str:
    return name.strip().lower().replace("_", "-")


@dataclass(frozen=True, slots=True)
class Target:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


def parse_target(spec: str, default_provider: str | None) -> Target:
    """`provider:model`, `provider`, or a bare model for `default_provider`; ValueError if bad."""
    spec = spec.strip()
    head, sep, rest = spec.partition(":")
    if normalize_provider(head) in PROVIDERS:
        provider = normalize_provider(head)
        model = rest if sep else DEFAULT_MODELS.get(provider, "")
        if not model:
            raise ValueError(f"name a model for {provider}, e.g. {provider}:<model>")
    elif sep:
        raise ValueError(
            f"unknown provider '{head}' (known: {', '.join(PROVIDERS)}); a model name "
            "containing ':' needs its provider in front, e.g. ollama:llama3:8b"
        )
    elif default_provider is None or default_provider == "none":
        raise ValueError(f"no LLM provider is configured for model '{spec}'; write provider:model")
    else:
        provider, model = default_provider, spec
    if not _MODEL_RE.match(model):
        raise ValueError("a model name is 1-200 characters without spaces")
    return Target(provider, model)


@dataclass(frozen=True, slots=True)
class Route:
    primary: Target
    fallbacks: tuple[Target, ...]

    @property
    def candidates(self) -> tuple[Target, ...]:
        return (self.primary, *self.fallbacks)


@dataclass(frozen=True, slots=True)
class ModelRouter:
    """Resolves per-request models against the configured providers."""

    default: Target
    fallbacks: tuple[Target, ...]
    available: dict[str, str]  # provider -> why it cannot be used ("" when it can)

    def resolve(self, model: str | None) -> Route:
        if model is None or not model.strip():
            primary = self.default
        else:
            try:
                primary = parse_target(model, self.default.provider)
            except ValueError as exc:
                raise InvalidInput.field("model", str(exc)) from None
            missing = self.available.get(primary.provider, "")
            if missing:
                raise InvalidInput.field(
                    "model", f"provider '{primary.provider}' is not configured: {missing}"
                )
        if primary.provider == "none":
            return Route(primary, ())
        return Route(primary, tuple(t for t in self.fallbacks if t != primary))
