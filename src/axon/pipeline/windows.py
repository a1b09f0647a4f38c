"""Context windows by model family.

Names may carry a provider prefix ("openai:gpt-4o"); the longest matching
family prefix wins, so "gpt-4o-mini" matches "gpt-4o" and not "gpt-4".
Unknown models get a conservative 8,192-token window.
"""

from __future__ import annotations

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_WINDOW = 8_192
MIN_BUDGET = 64  # smallest context budget a caller may ask for

_WINDOWS: dict[str, int] = {
    "gpt-3.5-turbo": 16_385,
    "gpt-4": 8_192,
    "gpt-4-32k": 32_768,
    "gpt-4-turbo": 128_000,
    "gpt-4o": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.5": 128_000,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4": 200_000,
    "claude-2": 100_000,
    "claude": 200_000,
    "gemini-1.5": 1_000_000,
    "gemini": 1_000_000,
    "llama2": 4_096,
    "llama3": 8_192,
    "llama3.1": 128_000,
    "llama3.2": 128_000,
    "llama3.3": 128_000,
    "mistral": 32_768,
    "mixtral": 32_768,
    "codellama": 16_384,
    "qwen2.5": 32_768,
    "qwen": 32_768,
    "deepseek": 64_000,
    "phi3": 4_096,
    "gemma": 8_192,
}
_BY_LENGTH = sorted(_WINDOWS, key=len, reverse=True)


def bare_model(model: str) -> str:
    """'openai:gpt-4o' -> 'gpt-4o'; 'ollama/llama3.1:8b' -> 'llama3.1:8b'."""
    name = model.strip().lower()
    if ":" in name and name.split(":", 1)[0] in {"openai", "anthropic", "ollama", "azure", "none"}:
        name = name.split(":", 1)[1]
    return name.rsplit("/", 1)[-1]


def context_window(model: str) -> int:
    name = bare_model(model)
    for family in _BY_LENGTH:
        if name.startswith(family):
            return _WINDOWS[family]
    return DEFAULT_WINDOW
