"""Which provider and model answer: settings, per-request models and their errors."""

from __future__ import annotations

import pytest

from axon.config import Settings, SettingsError, load_settings
from axon.errors import InvalidInput
from axon.llm.accounting import UsageLedger
from axon.llm.factory import build_llm
from axon.llm.failures import parse_retry_after
from axon.llm.pricing import PriceTable
from axon.llm.types import ChatMessage, ChatRequest, Usage

ASK = (ChatMessage("user", "hi"),)


def default_of(ledger: UsageLedger, **overrides: object) -> str:
    gateway = build_llm(load_settings(**overrides), ledger, None)
    return str(gateway.status()["model"])


def test_nothing_configured_means_context_only(settings: Settings, ledger: UsageLedger) -> None:
    assert default_of(ledger) == "none:none"
    assert default_of(ledger, default_model="gpt-4") == "none:none"  # the runbook's example


def test_the_first_configured_provider_is_the_default(
    settings: Settings, ledger: UsageLedger
) -> None:
    assert default_of(ledger, openai_api_key="k", default_model="gpt-4") == "openai:gpt-4"
    assert default_of(ledger, openai_api_key="k") == "openai:gpt-4o-mini"
    assert default_of(ledger, anthropic_api_key="k") == "anthropic:claude-3-5-haiku-latest"
    assert (
        default_of(ledger, openai_compatible_base_url="http://h/v1", default_model="qwen")
        == "openai-compatible:qwen"
    )
    assert default_of(ledger, ollama_base_url="http://h:11434") == "ollama:llama3.2"


def test_llm_provider_and_default_model_choose_explicitly(
    settings: Settings, ledger: UsageLedger
) -> None:
    both = {"openai_api_key": "k", "anthropic_api_key": "k"}
    assert default_of(ledger, **both, llm_provider="anthropic") == (
        "anthropic:claude-3-5-haiku-latest"
    )
    assert default_of(ledger, **both, default_model="anthropic:claude-opus-4") == (
        "anthropic:claude-opus-4"
    )
    assert default_of(ledger, **both, llm_provider="none") == "none:none"
    assert default_of(ledger, llm_provider="OLLAMA", default_model="qwen2.5:7b") == (
        "ollama:qwen2.5:7b"
    )


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"llm_provider": "anthropic"}, "LLM_PROVIDER"),
        ({"llm_provider": "gemini"}, "LLM_PROVIDER"),
        (
            {"openai_api_key": "k", "llm_provider": "openai", "default_model": "ollama:x"},
            "DEFAULT_MODEL",
        ),
        ({"openai_api_key": "k", "default_model": "llama3:8b"}, "DEFAULT_MODEL"),
        (
            {"llm_provider": "openai-compatible", "openai_compatible_base_url": "http://h"},
            "DEFAULT_MODEL",
        ),
        ({"openai_api_key": "k", "llm_fallbacks": "anthropic"}, "LLM_FALLBACKS"),
        ({"llm_fallbacks": "none"}, "LLM_FALLBACKS"),
        ({"llm_rate_limits": {"gemini": (1, 1)}}, "LLM_RATE_LIMITS"),
    ],
)
def test_bad_llm_settings_name_the_variable(
    settings: Settings, ledger: UsageLedger, overrides: dict[str, object], variable: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        build_llm(load_settings(**overrides), ledger, None)
    assert caught.value.problems[0][0] == variable


def test_json_settings_come_from_the_environment(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_RATE_LIMITS", '{"OpenAI": [500, 200000]}')
    monkeypatch.setenv("LLM_PRICES", '{"ollama:big": [1.5, 2]}')
    monkeypatch.setenv("LLM_FALLBACKS", "anthropic, ollama:llama3.2:3b")
    loaded = load_settings()
    assert loaded.llm_rate_limits == {"openai": (500, 200000)}
    assert loaded.llm_prices == {"ollama:big": (1.5, 2.0)}


async def test_request_models_are_checked(settings: Settings, ledger: UsageLedger) -> None:
    gateway = build_llm(load_settings(openai_api_key="k"), ledger, None)
    assert gateway.provider_for(None) == "openai"
    assert gateway.provider_for("gpt-4o") == "openai"
    assert gateway.provider_for("ollama:llama3.2:3b") == "ollama"
    assert gateway.provider_for("none") == "none"
    for model, message in [
        ("gemini:pro", "unknown provider 'gemini'"),
        ("llama3:8b", "unknown provider 'llama3'"),
        ("anthropic:claude-3-5-haiku", "set ANTHROPIC_API_KEY"),
        ("openai-compatible:x", "set OPENAI_COMPATIBLE_BASE_URL"),
        ("openai:has space", "without spaces"),
        ("openai-compatible", "name a model"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            await gateway.complete(ChatRequest(ASK, model=model))
        assert caught.value.details[0]["field"] == "model"
        assert message in caught.value.message, model
    with pytest.raises(InvalidInput):
        [c async for c in gateway.stream(ChatRequest(ASK, model="gemini:pro"))]
    await gateway.aclose()


async def test_the_none_provider_answers_context_only(
    settings: Settings, ledger: UsageLedger
) -> None:
    gateway = build_llm(load_settings(), ledger, None)
    assert gateway.provider == "none"
    result = await gateway.complete(ChatRequest(ASK))
    assert (result.text, result.finish_reason) == ("", "context_only")
    chunks = [c async for c in gateway.stream(ChatRequest(ASK))]
    assert [(c.finish_reason, c.provider) for c in chunks] == [("context_only", "none")]
    with pytest.raises(InvalidInput):  # a bare model needs a configured provider
        await gateway.complete(ChatRequest(ASK, model="gpt-4o"))


def test_prices_match_dated_variants_only() -> None:
    table = PriceTable({"openai-compatible:my-model": (1.0, 1.0)})
    assert table.price("openai", "gpt-4o-2024-08-06") == (2.50, 10.00)
    assert table.price("openai", "gpt-4o-mini") == (0.15, 0.60)
    assert table.price("anthropic", "claude-3-5-haiku-20241022") == (0.80, 4.00)
    assert table.price("anthropic", "claude-3-5-haiku-latest") == (0.80, 4.00)
    assert table.price("openai", "gpt-4o-audio-preview") is None  # not a dated gpt-4o
    assert table.price("openai-compatible", "my-model") == (1.0, 1.0)
    assert table.price("ollama", "anything") == (0.0, 0.0)
    assert table.cost("openai", "gpt-4o", Usage(1_000_000, 100_000)) == pytest.approx(3.5)


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_a_compatible_server_is_not_billed_at_openai_prices() -> None:
    """A self-hosted server answering as `gpt-4o` costs nothing unless LLM_PRICES says so."""
    table = PriceTable()
    usage = Usage(1_000_000, 1_000_000)
    assert table.price("openai", "gpt-4o") == (2.50, 10.00)
    assert table.price("openai-compatible", "gpt-4o") == (0.0, 0.0)
    assert table.cost("openai-compatible", "gpt-4o-2024-08-06", usage) == 0.0
    assert table.price("anthropic", "gpt-4o") is None  # a provider's table has no such model
    configured = PriceTable({"openai-compatible:gpt-4o": (0.5, 0.5), "my-model": (1.0, 2.0)})
    assert configured.price("openai-compatible", "gpt-4o") == (0.5, 0.5)
    assert configured.price("openai", "my-model") == (1.0, 2.0)  # bare names apply to all
