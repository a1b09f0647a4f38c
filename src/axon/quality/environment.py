"""The environment a check's tools see: an allow-list, never Axon's own secrets.

Tests run the workspace's code, so nothing Axon holds (API keys, database URLs
with passwords) may reach them. Only the variables tools need to find
themselves and their caches pass; names that look like credentials are
dropped even if allow-listed; any value that contains one of Axon's
configured secrets is dropped as well.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from axon.config import Settings

ALLOWED = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE",
        "LC_MESSAGES", "TZ", "TMPDIR", "TEMP", "TMP", "XDG_CACHE_HOME", "XDG_CONFIG_HOME",
        "XDG_DATA_HOME", "SYSTEMROOT", "COMSPEC", "PATHEXT", "WINDIR",
        "PYENV_ROOT", "PYENV_VERSION", "UV_CACHE_DIR", "PIP_CACHE_DIR",
        "NVM_DIR", "NVM_BIN", "npm_config_cache", "COREPACK_HOME",
        "GOPATH", "GOROOT", "GOCACHE", "GOMODCACHE", "GOFLAGS", "GOTOOLCHAIN",
        "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "CARGO_TARGET_DIR",
        "JAVA_HOME", "SSL_CERT_FILE", "SSL_CERT_DIR",
    }
)  # fmt: skip
SECRET_NAME = re.compile(
    r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$|^(OPENAI|ANTHROPIC|AWS|AZURE|MONGODB|REDIS|QDRANT|AXON)_",
    re.IGNORECASE,
)
# Fixed values: no colours or prompts, and runners (jest, vitest) leave watch mode off.
FIXED = {"CI": "true", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
_SECRET_FIELD = re.compile(r"(key|token|secret|password|uri|url)$")
_SECRET_VARIABLE = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.I)
_URL_VARIABLE = re.compile(r"_(URI|URL)$", re.I)
REDACTED = "[redacted]"
_MIN_SECRET = 6  # shorter values would redact ordinary words


def settings_secrets(settings: Settings) -> list[str]:
    """Values of Axon settings that may carry credentials (keys, connection URLs)."""
    values = []
    for name, value in settings.model_dump().items():
        if _SECRET_FIELD.search(name) and isinstance(value, str) and len(value) >= 6:
            values.append(value)
    return values


def _url_password(value: str) -> str | None:
    try:
        return urlsplit(value).password
    except ValueError:
        return None


def secret_values(settings: Settings, source: Mapping[str, str] | None = None) -> list[str]:
    """What no check output may show: Axon's configured keys, tokens and connection URLs,
    the passwords inside those URLs, and secret-named variables of Axon's own environment.
    Longest first, so a URL is replaced whole before its password is looked for."""
    source = os.environ if source is None else source
    values = set(settings_secrets(settings))
    for name, value in source.items():
        if _SECRET_VARIABLE.search(name) or (_URL_VARIABLE.search(name) and "@" in value):
            values.add(value)
    values |= {p for v in list(values) if (p := _url_password(v))}
    return sorted((v for v in values if len(v) >= _MIN_SECRET), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def tool_environment(
    settings: Settings,
    python_bin: Path | None = None,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The scrubbed environment; `python_bin` (a virtualenv's bin folder) leads PATH."""
    source = os.environ if source is None else source
    secrets = settings_secrets(settings)
    env = {
        name: value
        for name, value in source.items()
        if name in ALLOWED
        and not SECRET_NAME.search(name)
        and not any(secret in value for secret in secrets)
    }
    env.update(FIXED)
    if python_bin is not None:
        env["PATH"] = os.pathsep.join(p for p in (str(python_bin), env.get("PATH")) if p)
        if (python_bin.parent / "pyvenv.cfg").is_file():
            env["VIRTUAL_ENV"] = str(python_bin.parent)
    return env
