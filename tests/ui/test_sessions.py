"""Dashboard sessions and CSRF, in-process: the cookie's signature and lifetime, the
login form, scopes, and the CSRF token on every change (auth on and auth off)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from axon.api.app import create_app
from axon.config import Settings
from axon.models import ApiScope, LlmUsage, StaleMark, utcnow
from axon.ports import ContextFilter
from axon.security.keys import new_api_key
from axon.services import Services, build_services
from axon.ui.session import (
    SESSION_SECONDS,
    csrf_matches,
    new_session,
    parse_session,
    session_csrf,
    verify_session,
)
from axon.workspaces import WorkspaceCreate, create_workspace

_TOKEN_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_of(html: str) -> str:
    match = _TOKEN_RE.search(html)
    assert match is not None, "the page carries no CSRF token"
    return match.group(1)


async def _app(
    settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    services = await build_services(settings)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "app.py").write_text("def main():\n    return 1\n")
    await create_workspace(
        services.store, WorkspaceCreate(id="proj", name="Proj", path=str(project))
    )
    transport = httpx.ASGITransport(app=create_app(services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://axon.test") as http:
            yield http, services
    finally:
        await services.close()


@pytest.fixture
async def secured(
    settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    on = settings.model_copy(
        update={"auth": "on", "rate_limits": "off", "workspace_roots": str(tmp_path)}
    )
    async for pair in _app(on, tmp_path):
        yield pair


@pytest.fixture
async def open_app(
    settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    off = settings.model_copy(update={"auth": "off", "workspace_roots": str(tmp_path)})
    async for pair in _app(off, tmp_path):
        yield pair


async def _key(services: Services, *scopes: ApiScope) -> str:
    record, token = new_api_key("person", scopes)
    await services.store.create_api_key(record)
    return token


async def _sign_in(http: httpx.AsyncClient, key: str) -> str:
    """Sign in through the form; the CSRF token of the signed-in pages."""
    form = await http.get("/ui/login")
    signed = await http.post(
        "/ui/login", data={"csrf": csrf_of(form.text), "key": key, "next": "/ui/jobs"}
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/ui/jobs"
    return csrf_of((await http.get("/")).text)


def test_a_session_is_signed_for_its_key_and_expires() -> None:
    record, _ = new_api_key("k", [ApiScope.READ])
    other, _ = new_api_key("k", [ApiScope.READ])
    session, cookie = new_session(record, now=1_000_000)
    assert session.expires == 1_000_000 + SESSION_SECONDS
    assert verify_session(cookie, record, now=1_000_001) == session
    assert verify_session(cookie, record, now=session.expires) is None  # expired
    assert verify_session(cookie, other, now=1_000_001) is None  # another key's
    body, _, signature = cookie.rpartition(".")
    forged = f"{body[:-1]}{'A' if body[-1] != 'A' else 'B'}.{signature}"
    assert verify_session(forged, record, now=1_000_001) is None  # nonce changed
    longer = cookie.replace(f".{session.expires}.", f".{session.expires + 10**6}.")
    assert verify_session(longer, record, now=1_000_001) is None  # lifetime stretched
    for junk in ("", "v1", "v2.a.b.c.d", "v1.nothex.1.n.s", f"v1.{record.id}.x.n.s"):
        assert parse_session(junk) is None or verify_session(junk, record) is None


def test_a_session_ends_when_its_key_expires() -> None:
    expires = utcnow() + timedelta(minutes=5)
    record, _ = new_api_key("k", [ApiScope.READ], expires)
    session, _ = new_session(record)
    assert session.expires == int(expires.timestamp())


def test_csrf_tokens_compare_whole_and_never_empty() -> None:
    record, _ = new_api_key("k", [ApiScope.READ])
    session, _ = new_session(record)
    token = session_csrf(record, session)
    assert csrf_matches(token, token)
    assert not csrf_matches(token, token[:-1])
    assert not csrf_matches(token, None)
    assert not csrf_matches(None, None) and not csrf_matches("", "")


async def test_pages_without_a_session_send_to_the_login_form(
    secured: tuple[httpx.AsyncClient, Services],
) -> None:
    http, _ = secured
    page = await http.get("/ui/workspaces/proj?type=file")
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/login?next=%2Fui%2Fworkspaces%2Fproj%3Ftype%3Dfile"
    # The API keeps its own answer; static files need no session.
    assert (await http.get("/api/v1/workspaces")).status_code == 401
    assert (await http.get("/ui/static/axon.js")).status_code == 200


async def test_signing_in_keeps_a_session_cookie_never_the_key(
    secured: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = secured
    key = await _key(services, ApiScope.WRITE)
    form = await http.get("/ui/login")
    signed = await http.post(
        "/ui/login", data={"csrf": csrf_of(form.text), "key": key, "next": "/"}
    )
    cookies = signed.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("axon_session="))
    assert "HttpOnly" in session and "SameSite=Strict" in session
    assert key not in " ".join(cookies)
    overview = await http.get("/")
    assert overview.status_code == 200 and "person" in overview.text
    assert key not in overview.text
    # The session reaches the API too (reads need no CSRF token).
    assert (await http.get("/api/v1/workspaces")).status_code == 200


async def test_a_bad_key_or_a_forged_cookie_gets_no_session(
    secured: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = secured
    form = await http.get("/ui/login")
    wrong = await http.post(
        "/ui/login", data={"csrf": csrf_of(form.text), "key": "axon_0123456789abcdef_" + "x" * 43}
    )
    assert wrong.status_code == 401 and "not valid" in wrong.text
    assert not any(c.startswith("axon_session=") for c in wrong.headers.get_list("set-cookie"))
    key = await _key(services, ApiScope.WRITE)
    await _sign_in(http, key)
    cookie = http.cookies["axon_session"]
    http.cookies.set("axon_session", cookie[:-2] + ("00" if cookie[-2:] != "00" else "11"))
    assert (await http.get("/")).status_code == 303
    assert (await http.get("/api/v1/workspaces")).status_code == 401


async def test_login_goes_back_only_to_a_path_of_this_site(
    secured: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = secured
    key = await _key(services, ApiScope.READ)
    for target in ("//evil.test/x", "https://evil.test/", "/\\evil.test", "javascript:alert(1)"):
        form = await http.get("/ui/login", params={"next": target})
        assert '<input type="hidden" name="next" value="/">' in form.text
        signed = await http.post(
            "/ui/login", data={"csrf": csrf_of(form.text), "key": key, "next": target}
        )
        assert signed.headers["location"] == "/"


async def test_a_change_without_the_csrf_token_is_refused(
    secured: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = secured
    token = await _sign_in(http, await _key(services, ApiScope.WRITE))
    # A dashboard form without its token, or with another session's.
    for data in ({}, {"csrf": "0" * 64}):
        refused = await http.post("/ui/workspaces/proj/scan", data=data)
        assert refused.status_code == 403 and "CSRF_FAILED" in refused.text
    # The API reached with the session cookie needs the header.
    api = await http.post("/api/v1/workspaces/proj/scan", json={})
    assert api.status_code == 403 and api.json()["error"]["code"] == "CSRF_FAILED"
    started = await http.post(
        "/api/v1/workspaces/proj/scan", json={}, headers={"X-CSRF-Token": token}
    )
    assert started.status_code == 202
    # A key presented as such is no cookie a foreign page could ride: no token needed.
    assert (await http.get("/api/v1/jobs/" + started.json()["jobId"])).status_code == 200
    # From another site, even with the token, the Origin check refuses first.
    foreign = await http.post(
        "/ui/workspaces/proj/scan", data={"csrf": token}, headers={"Origin": "https://evil.test"}
    )
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"


async def test_a_read_session_is_refused_changes_and_may_sign_out(
    secured: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = secured
    token = await _sign_in(http, await _key(services, ApiScope.READ))
    page = await http.get("/ui/workspaces/proj")
    assert 'id="reindex"' not in page.text
    refused = await http.post("/ui/workspaces/proj/scan", data={"csrf": token})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "this API key lacks the 'write' scope"
    out = await http.post("/ui/logout", data={"csrf": token})
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    assert (await http.get("/")).status_code == 303


async def test_with_auth_off_forms_carry_the_double_submit_token(
    open_app: tuple[httpx.AsyncClient, Services],
) -> None:
    http, _ = open_app
    page = await http.get("/ui/workspaces/proj")
    token = csrf_of(page.text)
    assert http.cookies["axon_csrf"] == token
    assert 'id="reindex"' in page.text
    refused = await http.post("/ui/workspaces/proj/scan", data={"csrf": "forged"})
    assert refused.status_code == 403 and "CSRF_FAILED" in refused.text
    started = await http.post("/ui/workspaces/proj/scan", data={"csrf": token})
    assert started.status_code == 303 and started.headers["location"].startswith("/ui/jobs/job_")


async def test_pages_keep_the_security_headers_under_a_strict_csp(
    open_app: tuple[httpx.AsyncClient, Services],
) -> None:
    http, _ = open_app
    for path in ("/", "/ui/workspaces/proj", "/ui/jobs", "/ui/nowhere"):
        response = await http.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "<script>" not in response.text and " style=" not in response.text
    assert (await http.get("/api/v1/workspaces")).headers["referrer-policy"] == "no-referrer"


async def test_errors_on_pages_are_pages(open_app: tuple[httpx.AsyncClient, Services]) -> None:
    http, _ = open_app
    missing = await http.get("/ui/workspaces/prj")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "workspace &#39;prj&#39; not found" in missing.text
    assert 'href="/ui/workspaces/proj"' in missing.text  # the suggestion, as a link
    nowhere = await http.get("/ui/nowhere")
    assert nowhere.status_code == 404 and "no such page" in nowhere.text
    # The API's errors keep their JSON shape.
    assert (await http.get("/api/v1/workspaces/prj")).json()["error"]["code"] == (
        "WORKSPACE_NOT_FOUND"
    )


async def test_the_prompt_form_answers_without_the_script(
    open_app: tuple[httpx.AsyncClient, Services],
) -> None:
    http, _ = open_app
    token = csrf_of((await http.get("/ui/prompt")).text)
    answered = await http.post(
        "/ui/prompt", data={"csrf": token, "prompt": "What does main return?", "workspace": "proj"}
    )
    assert answered.status_code == 200
    assert "Context receipt" in answered.text and "context_only" in answered.text
    assert "What does main return?" in answered.text  # in the injected prompt shown
    for bad in (
        {"prompt": ""},
        {"prompt": "x", "budget": "12"},
        {"prompt": "x", "workspace": "nope"},
    ):
        refused = await http.post("/ui/prompt", data={"csrf": token, "workspace": "proj", **bad})
        assert refused.status_code in (404, 422), bad
        assert refused.headers["content-type"].startswith("text/html")


async def test_the_receipt_fragment_escapes_what_it_shows(
    open_app: tuple[httpx.AsyncClient, Services],
) -> None:
    http, _ = open_app
    token = csrf_of((await http.get("/ui/prompt")).text)
    entry = {
        "id": "ctx_x",
        "kind": "code",
        "origin": "retrieval",
        "path": "<script>alert(1)</script>.py",
        "status": "included",
        "reason": "<b>fits</b>",
        "tokens": 10,
        "originalTokens": 10,
    }
    report = {
        "model": "m",
        "contextWindow": 1000,
        "budget": 100,
        "usedTokens": 10,
        "entries": [entry],
    }
    fragment = await http.post(
        "/ui/receipt", json={"report": report}, headers={"X-CSRF-Token": token}
    )
    assert fragment.status_code == 200
    assert "<script>" not in fragment.text and "&lt;script&gt;" in fragment.text
    assert "<b>" not in fragment.text
    refused = await http.post("/ui/receipt", json={"report": report})
    assert refused.status_code == 403


async def test_memory_forms_check_their_input(open_app: tuple[httpx.AsyncClient, Services]) -> None:
    http, services = open_app
    token = csrf_of((await http.get("/ui/memory")).text)
    base = {"csrf": token, "workspace": "proj", "type": "decision", "content": "Use cents."}
    for bad in ({"confidence": "2"}, {"content": ""}, {"type": "file"}, {"workspace": "nope"}):
        refused = await http.post("/ui/memory", data={**base, **bad})
        assert refused.status_code in (403, 404, 422), bad
        assert refused.headers["content-type"].startswith("text/html")
    made = await http.post("/ui/memory", data={**base, "confidence": "0"})
    assert made.status_code == 303
    context_id = made.headers["location"].rsplit("/", 1)[1]
    stored = await services.store.get_context(context_id)
    assert stored is not None and stored.confidence == 0.0 and stored.type == "decision"
    edited = await http.post(
        f"/ui/memory/{context_id}", data={"csrf": token, "type": "pattern", "content": "Cents."}
    )
    assert edited.status_code == 303
    stored = await services.store.get_context(context_id)
    assert stored is not None and stored.type == "pattern" and stored.content == "Cents."
    gone = await http.post(f"/ui/memory/{context_id}/delete", data={"csrf": token})
    assert gone.status_code == 303 and await services.store.get_context(context_id) is None


async def test_indexed_contexts_are_read_only_on_the_dashboard(
    open_app: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = open_app
    token = csrf_of((await http.get("/ui/workspaces/proj")).text)
    started = await http.post("/ui/workspaces/proj/scan", data={"csrf": token})
    job_id = started.headers["location"].rsplit("/", 1)[1]
    assert await services.jobs.wait(job_id, within=60) is not None
    page = await services.store.list_contexts(ContextFilter(workspace_id="proj", path="app.py"), 5)
    indexed = page.items[0]
    for path in (f"/ui/memory/{indexed.id}", f"/ui/memory/{indexed.id}/delete"):
        refused = await http.post(path, data={"csrf": token, "content": "edited"})
        assert refused.status_code == 403 and "CONTEXT_INDEXED" in refused.text
    assert (await services.store.get_context(indexed.id)) == indexed
    assert (await http.get(f"/ui/memory/{indexed.id}/edit")).status_code == 403


async def test_a_context_page_shows_its_evidence_validity_staleness_and_history(
    open_app: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = open_app

    async def remember(content: str, subject: str) -> str:
        made = await http.post(
            "/api/v1/contexts",
            json={
                "workspaceId": "proj",
                "type": "decision",
                "content": content,
                "subject": subject,
            },
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    old = await remember("Feature flags live in LaunchDarkly.", "feature flags")
    # The same subject: the newer decision closes the older.
    new = await remember("Feature flags live in our own <flags> table.", "feature flags")

    old_page = (await http.get(f"/ui/contexts/{old}")).text
    assert f'id="superseded-by">{new}</a>' in old_page
    history = old_page[old_page.index('id="history"') :]
    assert "<strong>this version</strong>" in history and f'href="/ui/contexts/{new}"' in history
    assert "our own &lt;flags&gt; table" in history and ", current" in history
    assert "evidence worth" in old_page

    stored = await services.store.get_context(new)
    assert stored is not None
    await services.store.put_contexts(
        [stored.model_copy(update={"stale": StaleMark(reason="linked code changed: app.py")})]
    )
    new_page = (await http.get(f"/ui/contexts/{new}")).text
    assert 'id="stale">linked code changed: app.py' in new_page
    assert 'id="superseded-by"' not in new_page

    memory = (await http.get("/ui/memory?workspace=proj")).text
    assert memory.count('<span class="muted">superseded</span>') == 1
    assert memory.count(">stale</span>") == 1
    # A context nothing replaced has no history section.
    lone = await remember("Releases are tagged vX.Y.Z.", "releases")
    assert 'id="history"' not in (await http.get(f"/ui/contexts/{lone}")).text


async def test_spend_today_this_month_and_per_day(
    open_app: tuple[httpx.AsyncClient, Services],
) -> None:
    http, services = open_app
    now = utcnow()
    earlier = now.replace(day=1) - timedelta(days=1)  # last month's last day
    for at, cost in [(earlier, 4.0), (now, 0.25), (now, 0.5)]:
        await services.store.add_llm_usage(
            LlmUsage(
                workspace_id="proj",
                provider="openai",
                model="gpt-4o",
                requests=1,
                input_tokens=100,
                output_tokens=20,
                cost_usd=cost,
                updated_at=at,
            )
        )
    spend = (await http.get("/")).text
    spend = spend[spend.index('id="spend"') : spend.index("</dl>", spend.index('id="spend"'))]
    assert "<dt>Today</dt><dd>$0.7500: 2 requests" in spend
    # The month holds today's spend (and last month's last day only on the 1st's eve).
    assert "<dt>All time</dt><dd>$4.7500: 3 requests" in spend
    page_ = (await http.get("/ui/usage")).text
    today_row = page_[page_.index(f"<td>{now.date().isoformat()}</td>") :]
    assert '<td class="num">240</td>' in today_row.split("</tr>")[0]
    assert "0.7500</td>" in today_row.split("</tr>")[0]
    # Each provider, model and workspace row draws its days: today's column is the tallest.
    assert page_.count('class="chart trend"') == 3
