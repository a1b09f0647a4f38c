"""The dashboard under test: a real `axon serve` process (auth on, the fake LLM as its
model) and the system's headless Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import servers
from tests.conftest import upstream_env
from tests.fakes.llm_server import FakeLLMServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Workspace content is hostile: this file's text must show as text, never run.
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
FIXTURE_FILES = {
    "billing/invoice.py": (
        '"""Invoices."""\n\n\n'
        "def compute_invoice_total(lines: list[tuple[int, int]], tax_rate: float) -> int:\n"
        '    """Sum quantity x unit price in cents, then add tax rounded half up."""\n'
        "    subtotal = sum(quantity * price for quantity, price in lines)\n"
        "    return subtotal + int(subtotal * tax_rate + 0.5)\n"
    ),
    "billing/render.py": f'BANNER = """{HOSTILE}"""\n\n\ndef banner() -> str:\n    return BANNER\n',
    "docs/decisions.md": "# Decisions\n\nMoney is always stored as integer cents, never floats.\n",
    "pyproject.toml": '[project]\nname = "billing"\nversion = "0.1.0"\n',
    "README.md": "# Billing\n\nComputes invoice totals.\n",
}
# Tests never see the developer's own backends or keys.
_HIDDEN_ENV = {
    "MONGODB_URI",
    "REDIS_URL",
    "QDRANT_URL",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "LLM_PROVIDER",
    "DEFAULT_MODEL",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "AXON_AUTH",
    "PROMETHEUS_MULTIPROC_DIR",
}


@dataclass
class Dashboard:
    url: str
    workspace_id: str
    project: Path
    read_key: str
    write_key: str
    fake: FakeLLMServer

    def api(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def _axon(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("axon")), *args]


def _create_key(env: dict[str, str], name: str, scope: str) -> str:
    out = subprocess.run(
        _axon("keys", "create", name, "--scope", scope, "--json"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return str(json.loads(out.stdout)["key"])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "axon serve exited during start-up"
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("axon serve never became ready")


@pytest.fixture(scope="module")
def dashboard(
    llm_server: FakeLLMServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    """`axon serve` with auth on, a read and a write key, and the workspace `billing`
    registered over the API but not indexed yet (the tests index it from the UI)."""
    root = tmp_path_factory.mktemp("dashboard")
    project = root / "billing"
    for path, text in FIXTURE_FILES.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)
    env = {k: v for k, v in os.environ.items() if k not in _HIDDEN_ENV}
    env |= upstream_env(llm_server) | {
        "AXON_DATA_DIR": str(root / "data"),
        "AXON_AUTH": "on",
        "AXON_AUTO_CREATE_WORKSPACES": "false",
        "AXON_WORKSPACE_ROOTS": str(root),
        "LOG_LEVEL": "warning",
    }
    write_key = _create_key(env, "ui-writer", "write")
    read_key = _create_key(env, "ui-reader", "read")
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        _axon("serve", "--port", str(port)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(url, process)
        body = {"id": "billing", "name": "Billing", "path": str(project)}
        with httpx.Client(base_url=url, timeout=30) as http:
            created = http.post(
                "/api/v1/workspaces", json=body, headers={"Authorization": f"Bearer {write_key}"}
            )
            assert created.status_code == 201, created.text
        yield Dashboard(url, "billing", project, read_key, write_key, llm_server)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium (the system's binary), driven by Playwright's async API on the
    test session's event loop."""
    if not HAVE_CHROMIUM:
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); .ci/run installs it")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def shoot(page: Any, name: str) -> None:
    """Every browser test leaves a screenshot (tests/ui/screenshots, kept out of git)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@dataclass
class Visit:
    """A browser tab, and the script errors and failed loads it has seen."""

    page: Any
    errors: list[str]


async def open_tab(browser: Any, viewport: dict[str, int] = DESKTOP) -> Visit:
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return Visit(page, errors)


async def sign_in(
    browser: Any, dashboard: Dashboard, key: str, viewport: dict[str, int] = DESKTOP
) -> Visit:
    """A fresh browser context signed in with `key` through the login form."""
    visit = await open_tab(browser, viewport)
    page = visit.page
    await page.goto(f"{dashboard.url}/")
    assert page.url.startswith(f"{dashboard.url}/ui/login")
    await page.fill("#api-key", key)
    async with page.expect_navigation(url=f"{dashboard.url}/"):
        await page.press("#api-key", "Enter")
    return visit
