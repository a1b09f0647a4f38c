"""Build the gateway from Settings: which providers exist, the default model, the
fallback chain, and the resilience and accounting parts around them."""

from __future__ import annotations

import time
from collections.abc import Callable

from axon.config import Settings, SettingsError, split_list
from axon.llm.accounting import UsageLedger
from axon.llm.breaker import CircuitBreaker
from axon.llm.gateway import Gateway, ProviderPool
from axon.llm.provider import ChatProvider, HttpTimeouts
from axon.llm.response_cache import ResponseCache
from axon.llm.retry import RetryPolicy
from axon.llm.routing import (
    DEFAULT_MODELS,
    PROVIDERS,
    ModelRouter,
    Target,
    normalize_provider,
    parse_target,
)
from axon.llm.throttle import Throttle
from axon.ports import Cache


def availability(settings: Settings) -> dict[str, str]:
    """Provider -> what is missing to use it ("" when it can be used)."""
    return {
        "openai": "" if settings.openai_api_key else "set OPENAI_API_KEY",
        "anthropic": "" if settings.anthropic_api_key else "set ANTHROPIC_API_KEY",
        "openai-compatible": (
            "" if settings.openai_compatible_base_url else "set OPENAI_COMPATIBLE_BASE_URL"
        ),
        "ollama": "",  # needs no key; OLLAMA_BASE_URL defaults to the local server
        "none": "",
    }


def _auto_provider(settings: Settings) -> str:
    if settings.openai_api_key:
        return "openai"
    if settings.anthropic_api_key:
        return "anthropic"
    if settings.openai_compatible_base_url:
        return "openai-compatible"
    if "ollama_base_url" in settings.model_fields_set:
        return "ollama"
    return "none"


def default_target(settings: Settings, available: dict[str, str]) -> Target:
    """LLM_PROVIDER (or the first configured provider) with DEFAULT_MODEL."""
    provider = settings.llm_provider
    model: str | None = None
    spec = settings.default_model
    if spec:
        if provider is not None and normalize_provider(spec.partition(":")[0]) not in PROVIDERS:
            spec = f"{provider}:{spec}"  # with LLM_PROVIDER set, "qwen2.5:7b" is a model name
        try:
            named = parse_target(spec, "openai")  # a bare name's provider is decided below
        except ValueError as exc:
            raise SettingsError([("DEFAULT_MODEL", str(exc))]) from None
        if normalize_provider(spec.partition(":")[0]) in PROVIDERS:  # "provider[:model]"
            if provider is not None and provider != named.provider:
                raise SettingsError(
                    [("DEFAULT_MODEL", f"names {named.provider}, but LLM_PROVIDER is {provider}")]
                )
            provider = named.provider
        model = named.model
    provider = provider or _auto_provider(settings)
    if provider == "none":
        return Target("none", "none")
    if available[provider]:
        raise SettingsError(
            [("LLM_PROVIDER", f"{provider} is not configured: {available[provider]}")]
        )
    model = model or DEFAULT_MODELS.get(provider)
    if model is None:
        raise SettingsError([("DEFAULT_MODEL", f"name the model to use with {provider}")])
    return Target(provider, model)


def _fallbacks(settings: Settings, available: dict[str, str]) -> tuple[Target, ...]:
    targets = []
    for item in split_list(settings.llm_fallbacks):
        target = parse_target(item, None)  # validated with the settings
        missing = available[target.provider]
        if missing:
            raise SettingsError(
                [("LLM_FALLBACKS", f"{target.provider} is not configured: {missing}")]
            )
        targets.append(target)
    return tuple(targets)


def _factories(settings: Settings) -> dict[str, Callable[[], ChatProvider]]:
    timeouts = HttpTimeouts(connect=settings.llm_connect_timeout, read=settings.llm_read_timeout)

    def openai() -> ChatProvider:
        from axon.llm.openai_chat import OpenAIChat

        return OpenAIChat(
            "openai",
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            organization=settings.openai_organization,
            timeouts=timeouts,
        )

    def compatible() -> ChatProvider:
        from axon.llm.openai_chat import OpenAIChat

        return OpenAIChat(
            "openai-compatible",
            api_key=settings.openai_compatible_api_key,
            base_url=settings.openai_compatible_base_url,
            timeouts=timeouts,
        )

    def anthropic() -> ChatProvider:
        from axon.llm.anthropic_chat import AnthropicChat

        assert settings.anthropic_api_key is not None
        return AnthropicChat(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url,
            timeouts=timeouts,
        )

    def ollama() -> ChatProvider:
        from axon.llm.ollama_chat import OllamaChat

        return OllamaChat(base_url=settings.ollama_base_url, timeouts=timeouts)

    return {
        "openai": openai,
        "openai-compatible": compatible,
        "anthropic": anthropic,
        "ollama": ollama,
    }


def build_llm(
    settings: Settings,
    ledger: UsageLedger,
    cache: Cache | None,
    clock: Callable[[], float] = time.monotonic,
) -> Gateway:
    """The gateway for these settings; raises SettingsError naming a bad variable.
    `clock` (monotonic seconds) times the circuit breakers' cool-downs."""
    available = availability(settings)
    usable = [name for name in PROVIDERS if name != "none" and not available[name]]
    router = ModelRouter(
        default=default_target(settings, available),
        fallbacks=_fallbacks(settings, available),
        available=available,
    )
    throttles = {
        name: Throttle(
            name, rpm, tpm, max_queue=settings.llm_rate_queue, max_wait=settings.llm_rate_max_wait
        )
        for name, (rpm, tpm) in settings.llm_rate_limits.items()
        if rpm or tpm
    }
    return Gateway(
        router,
        ProviderPool({name: f for name, f in _factories(settings).items() if name in usable}),
        policy=RetryPolicy(
            settings.llm_max_retries, settings.llm_retry_base_delay, settings.llm_retry_max_delay
        ),
        breakers={
            name: CircuitBreaker(
                name, settings.llm_breaker_threshold, settings.llm_breaker_cooldown, clock
            )
            for name in usable
        },
        throttles=throttles,
        ledger=ledger,
        total_timeout=settings.llm_timeout,
        cache=(
            ResponseCache(cache, settings.llm_cache_ttl)
            if cache is not None and settings.llm_cache_ttl > 0
            else None
        ),
    )
