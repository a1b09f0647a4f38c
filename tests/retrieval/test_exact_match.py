"""The exact-match channel: error messages and quoted strings found literally."""

from __future__ import annotations

from axon.indexing.chunking import chunk_file, to_contexts
from axon.indexing.languages import detect_language
from axon.models import WorkspaceType
from axon.ports import SearchRequest
from axon.retrieval import exact
from axon.retrieval.entities import extract_entities
from axon.services import Services
from tests.retrieval.conftest import add_workspace, store_and_index

RAISES = (
    "def _fail(*args):\n"
    "    raise RuntimeError(\n"
    '        "The session is unavailable because no secret "\n'
    '        "key was set.  Set the secret_key on the application."\n'
    "    )\n"
)
PROXY = (
    '_no_req_msg = """\\\n'
    "Working outside of request context.\n\n"
    "Consult the documentation on testing.\\\n"
    '"""\n'
    "request = LocalProxy(_cv_request, unbound_message=_no_req_msg)\n"
)


def test_phrases_are_messages_and_quoted_strings_within_limits() -> None:
    query = (
        "Traceback (most recent call last):\n"
        "RuntimeError: Working outside of request context.\n"
        "I also see 'cannot pickle the session object' and \"short\" and "
        f"'{'x ' * 200}'\n"
    )
    found = exact.phrases(query, extract_entities(query))
    assert found == ["working outside of request context", "cannot pickle the session object"]
    many = "\n".join(f"ValueError: value number {n} is out of range" for n in range(10))
    assert len(exact.phrases(many, extract_entities(many))) == exact.MAX_PHRASES


def test_literal_matching_ignores_quotes_joins_and_spacing() -> None:
    assert exact.match("the session is unavailable because no secret key was set", RAISES) == 1.0
    assert exact.match("working outside of request context", PROXY) == 1.0
    # An f-string placeholder in the middle: most of the phrase's 4-grams still match.
    code = "raise AssertionError(f\"The setup method '{f_name}' can no longer be called on it\")"
    share = exact.match("the setup method route can no longer be called on it", code)
    assert exact.MIN_PARTIAL <= share < 1.0
    assert exact.match("working outside of application context", PROXY) == 0.0


def _tests_about_request_context(n: int) -> dict[str, str]:
    """Tests that share every word of the message (and repeat them) but never hold it."""
    return {
        f"tests/test_ctx_{i}.py": (
            f"def test_request_context_{i}(app):\n"
            "    # working with the request context outside of a request: the context\n"
            "    with app.test_request_context():\n"
            "        assert request_context_working(request, context, outside=True)\n"
        )
        for i in range(n)
    }


def _other_errors(n: int) -> dict[str, str]:
    """Code raising the same exception type with other messages, as any codebase has."""
    return {
        f"app/mod_{i}.py": f"def check_{i}(x):\n    raise RuntimeError('step {i} failed for x')\n"
        for i in range(n)
    }


async def _index(services: Services, files: dict[str, str]) -> None:
    await add_workspace(services, "exact")
    contexts = []
    for path, text in files.items():
        language = detect_language(path)
        chunks = chunk_file(path, text, language, WorkspaceType.CODING)
        contexts += to_contexts("exact", path, language, chunks, [20] * len(chunks))
    await store_and_index(services, contexts)


async def test_an_error_message_finds_the_line_that_holds_it(shop: Services) -> None:
    await _index(
        shop,
        {
            "app/globals.py": PROXY,
            "app/sessions.py": RAISES,
            **_other_errors(8),
            **_tests_about_request_context(30),
        },
    )
    query = "RuntimeError: Working outside of request context."
    hits = await shop.retriever.search(SearchRequest(query, "exact", limit=5))
    assert hits[0].context.path == "app/globals.py"
    assert "working outside of request context" in hits[0].matched_entities
    # A message split over string literals in code, pasted whole from a traceback.
    query = (
        "RuntimeError: The session is unavailable because no secret key was set.  "
        "Set the secret_key on the application."
    )
    hits = await shop.retriever.search(SearchRequest(query, "exact", limit=5))
    assert (hits[0].context.path, hits[0].context.symbol) == ("app/sessions.py", "_fail")


async def test_candidates_read_per_phrase_are_bounded(shop: Services) -> None:
    many = _tests_about_request_context(3 * exact.CANDIDATES)
    await _index(shop, many)
    terms = exact.selecting_terms("working outside of request context")
    assert terms and set(terms) <= {"working", "outside", "request", "context"}
    ids = await shop.search_index.lexical.containing_all("exact", terms, None, exact.CANDIDATES)
    assert len(ids) == exact.CANDIDATES
    assert await shop.search_index.lexical.containing_all("exact", ["nowhere"], None, 5) == []
