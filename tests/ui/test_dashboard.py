"""The dashboard in a real headless Chromium against a real `axon serve`: every page
loads (desktop and phone), a workspace is indexed from the UI with its progress
followed, content renders as text, a read key changes nothing, a cross-site post is
refused, and the main flows work from the keyboard alone. The tests of the module share
one server and run in file order (indexing first)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.fakes.llm_server import Step
from tests.ui.conftest import (
    DESKTOP,
    HOSTILE,
    PHONE,
    Dashboard,
    open_tab,
    shoot,
    sign_in,
)

# Pages that take no parameter (the workspace's own pages are added once it exists).
STATIC_PAGES = [
    "/",
    "/ui/search",
    "/ui/search?q=invoice+total",
    "/ui/prompt",
    "/ui/memory",
    "/ui/usage",
    "/ui/gate",
    "/ui/jobs",
]
FINISHED_JOB = ".job:not([data-follow]) .state-succeeded"


async def tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Move the focus with the Tab key alone until `selector` has it."""
    target = page.locator(selector)
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


async def has_focus(page: Any, selector: str) -> None:
    await page.locator(selector).wait_for()
    await page.wait_for_function(
        "(selector) => document.activeElement === document.querySelector(selector)", arg=selector
    )


async def no_page_overflow(page: Any, width: int) -> None:
    """Nothing wider than the viewport: wide tables scroll inside their own box."""
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide on a {width}px screen"


async def test_index_a_workspace_from_the_ui_and_follow_its_progress(
    browser: Any, dashboard: Dashboard
) -> None:
    visit = await sign_in(browser, dashboard, dashboard.write_key)
    page = visit.page
    await page.click(f"a[href='/ui/workspaces/{dashboard.workspace_id}']")
    assert await page.locator(".state").first.inner_text() == "never indexed"
    await page.click("#reindex")
    await page.wait_for_url(re.compile(r".*/ui/jobs/job_[0-9a-f]+$"))
    # The script follows the job, then reloads the finished page with the result.
    await page.wait_for_selector(FINISHED_JOB, timeout=60_000)
    bar = page.locator('[data-field="bar"]')
    files = len([p for p in dashboard.project.rglob("*") if p.is_file()])
    assert await bar.get_attribute("value") == await bar.get_attribute("max") == str(files)
    assert "contextsWritten" in await page.inner_text("main")
    await shoot(page, "job-finished")
    await page.click(f"main a[href='/ui/workspaces/{dashboard.workspace_id}']")
    assert await page.locator(".state").first.inner_text() == "indexed"
    text = await page.inner_text("main")
    assert "Project facts" in text and "billing/invoice.py" in text
    await shoot(page, "workspace-indexed")
    assert visit.errors == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_every_page_loads(
    browser: Any, dashboard: Dashboard, viewport: dict[str, int]
) -> None:
    visit = await sign_in(browser, dashboard, dashboard.write_key, viewport)
    page = visit.page
    await page.goto(f"{dashboard.url}/ui/workspaces/{dashboard.workspace_id}")
    context_href = await page.locator("main a[href^='/ui/contexts/']").first.get_attribute("href")
    await page.goto(f"{dashboard.url}/ui/jobs")
    job_href = await page.locator("main a[href^='/ui/jobs/job_']").first.get_attribute("href")
    pages = [
        *STATIC_PAGES,
        f"/ui/workspaces/{dashboard.workspace_id}",
        f"/ui/workspaces/{dashboard.workspace_id}/files",
        context_href,
        job_href,
    ]
    for path in pages:
        response = await page.goto(f"{dashboard.url}{path}")
        assert response is not None and response.status == 200, path
        assert await page.locator("main h1").count() == 1
        await no_page_overflow(page, viewport["width"])
        slug = path.strip("/").replace("/", "-") or "overview"
        await shoot(page, f"{viewport['width']}-{slug[:60]}")
    assert visit.errors == []


async def test_workspace_content_renders_as_text(browser: Any, dashboard: Dashboard) -> None:
    page = (await sign_in(browser, dashboard, dashboard.write_key)).page
    await page.goto(
        f"{dashboard.url}/ui/workspaces/{dashboard.workspace_id}?path=billing%2Frender.py"
    )
    await page.click("main table a[href^='/ui/contexts/']")
    assert HOSTILE in await page.inner_text("table.code")
    assert await page.evaluate("typeof window.__pwned") == "undefined"
    assert await page.locator("main script, main img").count() == 0
    await shoot(page, "hostile-content-as-text")


async def test_filters_narrow_the_context_list(browser: Any, dashboard: Dashboard) -> None:
    page = (await sign_in(browser, dashboard, dashboard.write_key)).page
    await page.goto(f"{dashboard.url}/ui/workspaces/{dashboard.workspace_id}")
    await page.select_option("select[name=type]", "symbol")
    await page.click("form.filters button")
    types = await page.locator("main table.data tbody tr td:nth-child(2)").all_inner_texts()
    assert types and set(types) == {"symbol"}
    await shoot(page, "contexts-filtered")


async def test_reindex_with_the_keyboard_alone(browser: Any, dashboard: Dashboard) -> None:
    page = (await open_tab(browser)).page
    await page.goto(f"{dashboard.url}/")
    await has_focus(page, "#api-key")  # autofocus: the key field
    await page.keyboard.type(dashboard.write_key)
    async with page.expect_navigation(url=f"{dashboard.url}/"):
        await page.keyboard.press("Enter")
    await tab_to(page, f"main a[href='/ui/workspaces/{dashboard.workspace_id}']")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/ui/workspaces/{dashboard.workspace_id}")
    await tab_to(page, "#reindex")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(FINISHED_JOB, timeout=60_000)
    await shoot(page, "keyboard-reindex")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_read_key_sees_everything_and_changes_nothing(
    browser: Any, dashboard: Dashboard, viewport: dict[str, int]
) -> None:
    page = (await sign_in(browser, dashboard, dashboard.read_key, viewport)).page
    assert "(read-only)" in await page.inner_text("header")
    await page.goto(f"{dashboard.url}/ui/workspaces/{dashboard.workspace_id}")
    assert "billing/invoice.py" in await page.inner_text("main")
    assert await page.locator("#reindex").count() == 0  # hidden ...
    token = await page.locator("meta[name=csrf-token]").get_attribute("content")
    refused = await page.request.post(
        f"{dashboard.url}/ui/workspaces/{dashboard.workspace_id}/scan", form={"csrf": token}
    )
    assert refused.status == 403  # ... and refused by the server
    assert (await refused.json())["error"]["message"] == "this API key lacks the 'write' scope"
    await shoot(page, f"read-only-{viewport['width']}")


async def test_a_cross_site_form_post_is_refused(browser: Any, dashboard: Dashboard) -> None:
    """A signed-in person opens another site whose page posts a form to the dashboard:
    the session cookie stays home (SameSite=Strict), the Origin is foreign and the
    form has no CSRF token; nothing is started."""
    page = (await sign_in(browser, dashboard, dashboard.write_key)).page
    with dashboard.api(dashboard.write_key) as api:
        before = api.get("/api/v1/jobs", params={"limit": 200}).json()["items"]
    target = f"{dashboard.url}/ui/workspaces/{dashboard.workspace_id}/scan"
    attack = (
        f'<form id="f" method="post" action="{target}"><input name="full" value="1"></form>'
        "<script>document.getElementById('f').submit()</script>"
    )

    async def attacker(route: Any) -> None:
        await route.fulfill(status=200, content_type="text/html", body=attack)

    await page.route("http://attacker.test/**", attacker)
    async with page.expect_navigation(url=target):
        await page.goto("http://attacker.test/")
    assert "ORIGIN_NOT_ALLOWED" in await page.content()
    with dashboard.api(dashboard.write_key) as api:
        after = api.get("/api/v1/jobs", params={"limit": 200}).json()["items"]
    assert len(after) == len(before)
    await shoot(page, "cross-site-post-refused")


async def test_search_from_the_keyboard_shows_the_score_breakdown(
    browser: Any, dashboard: Dashboard
) -> None:
    page = (await sign_in(browser, dashboard, dashboard.read_key)).page
    await tab_to(page, "nav a[href='/ui/search']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/ui/search")
    await has_focus(page, "input[name=q]")  # autofocus: the query box
    await page.keyboard.type("compute_invoice_total")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("ol.hits li.hit")
    first = page.locator("li.hit").first
    assert "billing/invoice.py" in await first.locator(".hit-title").inner_text()
    bars = first.locator("svg.breakdown rect[class^='bar-']:not(.bar-track)")
    assert await bars.count() == 6
    lexical = first.locator("svg.breakdown rect.bar-lexical")
    assert float(await lexical.get_attribute("width") or 0) > 0
    marked = await first.locator("pre.snippet mark").all_inner_texts()
    assert "compute_invoice_total" in marked
    await shoot(page, "search-breakdown")


async def test_a_prompt_streams_its_answer_shows_the_receipt_and_takes_feedback(
    browser: Any, dashboard: Dashboard
) -> None:
    words = "The total comes from compute_invoice_total, which adds tax in integer cents."
    dashboard.fake.script("openai", Step(text=words, chunk_delay=0.15))
    visit = await sign_in(browser, dashboard, dashboard.write_key)
    page = visit.page
    await page.goto(f"{dashboard.url}/ui/prompt")
    await page.fill("#prompt", "How is the invoice total computed?")
    await page.click("#run")
    # Part of the answer is on the page while the rest is still coming.
    await page.wait_for_function(
        "() => document.getElementById('answer').textContent.length > 0"
        " && document.getElementById('answer-meta').textContent === 'streaming…'"
    )
    partial = await page.inner_text("#answer")
    assert 0 < len(partial) < len(words)
    await page.wait_for_selector("#feedback:not([hidden])", timeout=30_000)
    assert await page.inner_text("#answer") == words
    receipt = page.locator("#receipt section.receipt")
    assert await receipt.locator("svg.receipt-bar rect[class^='kind-']").count() >= 1
    statuses = set(await receipt.locator("tbody td:first-child").all_inner_texts())
    assert "included" in statuses
    assert "billing/invoice.py" in await receipt.inner_text()
    assert "compute_invoice_total" in (await page.text_content("#injected") or "")
    await shoot(page, "prompt-streamed")
    before = await receipt.locator("[data-field=confidence]").all_inner_texts()
    await page.click("button[data-helpful=false]")
    await page.wait_for_selector("#feedback-status:has-text('Thanks')")
    after = await receipt.locator("[data-field=confidence]").all_inner_texts()
    moved = [a for b, a in zip(before, after, strict=True) if b and "→" in a]
    assert moved, after
    old, new = (float(x) for x in moved[0].split("→"))
    assert new < old  # an unhelpful vote lowers the confidence of what was used
    await shoot(page, "prompt-feedback")
    assert visit.errors == []


async def test_a_read_key_runs_prompts_but_cannot_vote(browser: Any, dashboard: Dashboard) -> None:
    page = (await sign_in(browser, dashboard, dashboard.read_key, PHONE)).page
    await page.goto(f"{dashboard.url}/ui/prompt")
    await tab_to(page, "#prompt")
    await page.keyboard.type("What does this project do?")
    await tab_to(page, "#run")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#injected-box:not([hidden])", timeout=30_000)
    assert await page.locator("#feedback").count() == 0
    await no_page_overflow(page, PHONE["width"])
    await shoot(page, "prompt-read-only-phone")


async def test_add_edit_and_delete_a_decision(browser: Any, dashboard: Dashboard) -> None:
    visit = await sign_in(browser, dashboard, dashboard.write_key)
    page = visit.page
    await page.goto(f"{dashboard.url}/ui/memory")
    await page.fill("#new-title", "Money in cents")
    await page.fill("#new-content", "Amounts are integer cents; never <float>.")
    await page.click("#new-save")
    await page.wait_for_url(re.compile(r".*/ui/contexts/ctx_[0-9a-f]+$"))
    assert "hand-written" in await page.inner_text("main")
    await page.click("#edit")
    await page.fill("#edit-content", "Amounts are integer cents, rounded half up.")
    await page.fill("#edit-title", "Money in integer cents")
    await page.click("#edit-save")
    await page.wait_for_url(re.compile(r".*/ui/contexts/ctx_[0-9a-f]+$"))
    assert "rounded half up" in await page.inner_text("table.code")
    await shoot(page, "decision-edited")
    await page.goto(f"{dashboard.url}/ui/memory")
    decisions = page.locator("section[aria-labelledby='mem-decision'] table")
    assert "Money in integer cents" in await decisions.inner_text()
    await shoot(page, "memory")
    assert visit.errors == []
    # Indexed contexts are read-only: no edit link, and the edit form is refused.
    await page.goto(f"{dashboard.url}/ui/workspaces/{dashboard.workspace_id}?type=symbol")
    await page.click("main table a[href^='/ui/contexts/']")
    assert await page.locator("#edit").count() == 0
    response = await page.goto(page.url.replace("/ui/contexts/", "/ui/memory/") + "/edit")
    assert response is not None and response.status == 403
    # Delete the decision again.
    await page.goto(f"{dashboard.url}/ui/memory")
    await decisions.locator("a", has_text="Edit").first.click()
    await page.click("#delete")
    await page.wait_for_url("**/ui/memory?workspace=billing")
    assert await page.locator("section[aria-labelledby='mem-decision'] table").count() == 0


async def test_a_read_key_cannot_change_memory(browser: Any, dashboard: Dashboard) -> None:
    page = (await sign_in(browser, dashboard, dashboard.read_key)).page
    await page.goto(f"{dashboard.url}/ui/memory")
    assert await page.locator("#new-memory").count() == 0
    token = await page.locator("meta[name=csrf-token]").get_attribute("content")
    refused = await page.request.post(
        f"{dashboard.url}/ui/memory",
        form={"csrf": token, "workspace": "billing", "type": "decision", "content": "x"},
    )
    assert refused.status == 403


async def test_usage_shows_the_prompts_tokens(browser: Any, dashboard: Dashboard) -> None:
    page = (await sign_in(browser, dashboard, dashboard.write_key)).page
    await page.goto(f"{dashboard.url}/ui/usage")
    providers = page.locator("table.usage").first
    assert "openai" in await providers.inner_text()
    today = page.locator("table.usage-days tbody tr").first
    assert int((await today.locator("td.num").first.inner_text()).replace(",", "")) > 0
    assert float(await today.locator("rect.kind-code").first.get_attribute("width") or 0) > 0
    # Today's column of the provider's trend has the whole height (no call on other days).
    trend = providers.locator("svg.trend rect").last
    assert float(await trend.get_attribute("height") or 0) == 20.0
    await shoot(page, "usage")


async def test_run_the_quality_gate_and_read_its_report(browser: Any, dashboard: Dashboard) -> None:
    page = (await sign_in(browser, dashboard, dashboard.write_key)).page
    await page.goto(f"{dashboard.url}/ui/gate")
    await page.click("#gate-run")
    await page.wait_for_url(re.compile(r".*/ui/gate/job_[0-9a-f]+$"))
    await page.wait_for_selector("#verdict", timeout=120_000)
    assert await page.locator("section.check").count() >= 1
    await shoot(page, "gate-run")
    await page.goto(f"{dashboard.url}/ui/gate")
    assert await page.locator("main table tbody tr").count() >= 1
