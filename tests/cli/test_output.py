"""What `axon search`, `axon context`/`ask --show-context` and `axon keys list` print
at 80 columns (#16-10): whole paths with line ranges, hits by score, `--json` equal
to the API's response, snippets with `--content`, key ids whole.

The real CLI runs in-process (typer's CliRunner) with COLUMNS=80, against a folder
indexed by `axon index`.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from axon.api.app import create_app
from axon.cli import app
from axon.config import Settings, load_settings
from axon.services import build_services

NARROW = {"COLUMNS": "80"}
# Longer than a whole 80-column line on its own.
DEEP = "src/payments/gateways/international/settlement/reconciliation/currency_conversions.py"
CODE = '''"""Currency conversion for settlement."""


def convert_currency(amount, rate):
    """Convert an amount with a rate."""
    return round(amount * rate, 2)


def convert_currency_back(amount, rate):
    """Undo convert_currency."""
    if rate == 0:
        raise ValueError("rate must not be zero")
    return round(amount / rate, 2)


def currency_banner():
    return "\\x1b[31mred alert\\x1b[0m currency"
'''

runner = CliRunner()


@pytest.fixture
def indexed(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A folder with a deep path and a short one, indexed as workspace `pay` (lexical)."""
    monkeypatch.setenv("AXON_EMBEDDER", "none")
    folder = tmp_path / "pay"
    (folder / DEEP).parent.mkdir(parents=True)
    (folder / DEEP).write_text(CODE)
    (folder / "notes.md").write_text("# Currency\n\nWe convert currency at settlement time.\n")
    done = runner.invoke(app, ["index", str(folder), "-w", "pay"])
    assert done.exit_code == 0, done.output
    return "pay"


def search_json(workspace: str, query: str) -> dict[str, object]:
    done = runner.invoke(app, ["search", query, "-w", workspace, "--json"], env=NARROW)
    assert done.exit_code == 0, done.output
    data: dict[str, object] = json.loads(done.stdout)
    return data


def test_search_text_shows_whole_paths_with_line_ranges_by_score(indexed: str) -> None:
    results = search_json(indexed, "convert currency")["results"]
    assert isinstance(results, list) and len(results) >= 3
    done = runner.invoke(app, ["search", "convert currency", "-w", indexed], env=NARROW)
    assert done.exit_code == 0, done.output
    for r in results:
        if r["path"] and r["startLine"]:
            assert f"{r['path']}:{r['startLine']}-{r['endLine']}" in done.stdout
    assert DEEP in done.stdout  # whole, on one line, though longer than the terminal
    assert "…" not in done.stdout
    printed = [float(s) for s in re.findall(r"^ *\d+\. (\d\.\d{3}) ", done.stdout, re.M)]
    assert len(printed) == len(results)
    assert printed == sorted(printed, reverse=True)
    assert printed == sorted((round(r["score"], 3) for r in results), reverse=True)


def test_search_content_shows_numbered_snippets_with_control_characters_escaped(
    indexed: str,
) -> None:
    done = runner.invoke(app, ["search", "currency_banner", "-w", indexed, "--content"], env=NARROW)
    assert done.exit_code == 0, done.output
    assert re.search(r"\b\d+ \| def currency_banner\(\):", done.stdout)
    assert "\x1b" not in done.stdout  # a file cannot drive the terminal
    assert "\\x1b[31mred alert" in done.stdout
    plain = runner.invoke(app, ["search", "currency_banner", "-w", indexed], env=NARROW)
    assert "def currency_banner" not in plain.stdout  # snippets only when asked


async def api_search(body: dict[str, object]) -> httpx.Response:
    services = await build_services(load_settings())
    try:
        transport = httpx.ASGITransport(app=create_app(services=services))
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            return await http.post("/api/v1/contexts/search", json=body)
    finally:
        await services.close()


def test_search_json_is_exactly_the_api_response(indexed: str) -> None:
    cli = search_json(indexed, "convert currency")
    api = asyncio.run(api_search({"query": "convert currency", "workspaceId": indexed}))
    assert api.status_code == 200
    assert cli == api.json()
    first = cli["results"][0]  # type: ignore[index]
    assert "content" in first and cli["count"] == len(cli["results"])  # type: ignore[arg-type]


def test_context_report_lists_whole_paths_with_line_ranges_by_score(indexed: str) -> None:
    prompt = "explain convert_currency_back and convert_currency"
    data = runner.invoke(app, ["context", prompt, "-w", indexed, "--json"], env=NARROW)
    assert data.exit_code == 0, data.output
    entries = json.loads(data.stdout)["context"]["report"]["entries"]
    assert any(e["path"] == DEEP for e in entries)
    done = runner.invoke(app, ["context", prompt, "-w", indexed], env=NARROW)
    assert done.exit_code == 0, done.output
    for e in entries:
        if e["path"] and e["startLine"]:
            assert f"{e['path']}:{e['startLine']}-{e['endLine']}" in done.stdout
    printed = [float(s) for s in re.findall(r"^  (\d\.\d{3})  ", done.stdout, re.M)]
    assert len(printed) == len(entries)
    assert printed == sorted(printed, reverse=True)


def test_ask_show_context_prints_the_same_report(indexed: str) -> None:
    done = runner.invoke(
        app, ["ask", "explain convert_currency", "-w", indexed, "--show-context"], env=NARROW
    )
    assert done.exit_code == 0, done.output
    assert f"{DEEP}:" in done.stdout


def test_keys_list_prints_whole_ids_that_revoke_accepts(settings: Settings) -> None:
    names = ["a-very-long-key-name-for-the-nightly-deployment-pipeline", "ci"]
    for name in names:
        made = runner.invoke(app, ["keys", "create", name, "--scope", "admin", "--json"])
        assert made.exit_code == 0, made.output
    ids = {k["id"] for k in json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)}
    listed = runner.invoke(app, ["keys", "list"], env=NARROW)
    assert listed.exit_code == 0, listed.output
    shown = {line.split()[0] for line in listed.stdout.splitlines() if line[:1].strip()}
    assert shown == ids
    assert names[0] in listed.stdout
    victim = sorted(shown)[0]
    revoked = runner.invoke(app, ["keys", "revoke", victim])
    assert revoked.exit_code == 0, revoked.output
    after = runner.invoke(app, ["keys", "list"], env=NARROW).stdout
    assert re.search(rf"^{victim}  .*\n    revoked ", after, re.M)


def test_workspace_and_context_lists_show_whole_folders_and_locations(
    indexed: str, tmp_path: Path
) -> None:
    workspaces = runner.invoke(app, ["workspace", "list"], env=NARROW)
    assert workspaces.exit_code == 0, workspaces.output
    assert f"pay  coding  {tmp_path / 'pay'}  (pay)" in workspaces.stdout
    contexts = runner.invoke(app, ["context", "list", "-w", indexed], env=NARROW)
    assert contexts.exit_code == 0, contexts.output
    assert re.search(
        rf"^    {re.escape(DEEP)}:\d+-\d+  convert_currency  \d+ tokens$", contexts.stdout, re.M
    )
