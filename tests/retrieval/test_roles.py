"""Role-aware ranking: each context's role, the query's intent, and the mix between them."""

from __future__ import annotations

import pytest

from axon.indexing.chunking import chunk_file, to_contexts
from axon.indexing.facts import project_facts
from axon.indexing.languages import detect_language
from axon.indexing.roles import context_role, path_role
from axon.kinds import Role, TaskType
from axon.models import ContextType, WorkspaceType
from axon.ports import SearchRequest
from axon.retrieval.ranking import ROLE_MIX, Intent, intent_of
from axon.retrieval.results import search_response
from axon.services import Services
from tests.retrieval.conftest import add_workspace, store_and_index


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("src/shop/cart.py", Role.IMPLEMENTATION),
        ("tests/test_cart.py", Role.TEST),
        ("shop/tests/helpers.py", Role.TEST),
        ("src/cart_test.go", Role.TEST),
        ("web/cart.spec.ts", Role.TEST),
        ("src/test/java/shop/CartTest.java", Role.TEST),
        ("conftest.py", Role.TEST),
        ("tests/fixtures/app/pom.xml", Role.TEST),
        ("examples/tutorial/app.py", Role.EXAMPLE),
        ("docs/cli.rst", Role.DOCS),
        ("docs/conf.py", Role.DOCS),
        ("README.md", Role.DOCS),
        ("pyproject.toml", Role.CONFIG),
        ("api/shop_pb2.py", Role.GENERATED),
        ("static/app.min.js", Role.GENERATED),
        ("src/testament.py", Role.IMPLEMENTATION),  # a word starting with "test"
        ("src/contest/rules.py", Role.IMPLEMENTATION),
    ],
)
def test_roles_by_path(path: str, role: Role) -> None:
    assert path_role(path, detect_language(path)) is role


def test_indexing_records_the_role_and_old_contexts_get_the_same_rule() -> None:
    text = "def test_total():\n    assert total([]) == 0\n"
    chunks = chunk_file("tests/test_cart.py", text, "python", WorkspaceType.CODING)
    contexts = to_contexts("w", "tests/test_cart.py", "python", chunks, [10] * len(chunks))
    assert {c.metadata["role"] for c in contexts} == {"test"}
    indexed_before = contexts[0].model_copy(update={"metadata": {}})
    assert context_role(indexed_before) is Role.TEST


@pytest.mark.parametrize(
    ("query", "task", "intent"),
    [
        ("how do I add a custom CLI command", None, Intent.HOWTO),
        ("How can we stream a large response?", None, Intent.HOWTO),
        ("What is this project about?", None, Intent.OVERVIEW),
        ("write a test for the discount code", None, Intent.TESTS),
        ("How does Flask decide which error handler to call?", None, Intent.CODE),
        ("apply_discount returns a negative total", TaskType.BUG_FIX, Intent.CODE),
        ("cover apply_discount", TaskType.TEST, Intent.TESTS),
        # A long issue report is about code whatever task its words suggest.
        (
            "The docs build fails: " + "sphinx raises in autodoc. " * 20,
            TaskType.DOCUMENTATION,
            Intent.CODE,
        ),
        ("the discount is wrong\n" + "x " * 200 + "\nhow to reproduce: run it", None, Intent.CODE),
        # An issue report asking "how to" early is still about code, not the docs.
        (
            "Ignore missing keys when merging carts?\nUsers wonder how to merge carts "
            "with different items.\n" + "The merge raises KeyError for absent items. " * 12,
            None,
            Intent.CODE,
        ),
    ],
)
def test_intent_from_the_query_and_the_task(
    query: str, task: TaskType | None, intent: Intent
) -> None:
    assert intent_of(query, task) is intent


IMPL = (
    "def apply_discount(order, code):\n"
    "    rate = RATES.get(code, 0.0)  # an unknown discount code has no rate\n"
    "    return order.total * (1 - rate)\n"
)
TEST = (
    "def test_unknown_code():\n"
    "    order = Order(total=10)\n"
    "    assert apply_discount(order, 'unknown') == order.total\n"
)
DOC = (
    "# Discount codes\n\nPut the code and its rate in RATES; apply_discount looks the\n"
    "code up at checkout.\n"
)


async def _index(services: Services, files: dict[str, str]) -> None:
    await add_workspace(services, "roles")
    contexts = []
    for path, text in files.items():
        language = detect_language(path)
        chunks = chunk_file(path, text, language, WorkspaceType.CODING)
        contexts += to_contexts("roles", path, language, chunks, [20] * len(chunks))
    await store_and_index(services, contexts)


async def test_a_bug_report_gets_the_implementation_first_and_its_test_after(
    shop: Services,
) -> None:
    """The test shares more of the report's words than the code it exercises (the
    failure a quarter of held-out issues showed with tests indexed)."""
    await _index(
        shop, {"shop/pricing.py": IMPL, "tests/test_pricing.py": TEST, "docs/discounts.md": DOC}
    )
    report = "An unknown discount code changes the order total"
    hits = await shop.retriever.search(SearchRequest(report, "roles", limit=10))
    files = list(dict.fromkeys(h.context.path for h in hits))
    assert files.index("shop/pricing.py") < files.index("tests/test_pricing.py")
    by_path = {h.context.path: h for h in hits}
    assert by_path["tests/test_pricing.py"].breakdown.role == ROLE_MIX[Intent.CODE][Role.TEST]
    assert by_path["shop/pricing.py"].breakdown.role == 1.0
    body = search_response(hits)["results"]
    row = next(r for r in body if r["path"] == "tests/test_pricing.py")
    assert row["role"] == "test" and row["breakdown"]["role"] == ROLE_MIX[Intent.CODE][Role.TEST]

    # Naming the test file asks for it: no role factor then.
    named = await shop.retriever.search(
        SearchRequest("tests/test_pricing.py fails with an unknown discount code", "roles")
    )
    assert named[0].context.path == "tests/test_pricing.py"
    assert named[0].breakdown.role == 1.0


async def test_how_do_i_puts_the_docs_first(shop: Services) -> None:
    await _index(
        shop, {"shop/pricing.py": IMPL, "tests/test_pricing.py": TEST, "docs/discounts.md": DOC}
    )
    hits = await shop.retriever.search(
        SearchRequest("how do I add a discount code", "roles", limit=10)
    )
    assert hits[0].context.path == "docs/discounts.md"
    assert hits[0].breakdown.role == ROLE_MIX[Intent.HOWTO][Role.DOCS]


def test_stack_facts_ignore_test_fixtures() -> None:
    """On Axon's own repository the stack summary claimed Go, Java, Rust and Spring Boot,
    all from fixtures under tests/."""
    files = {
        "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["fastapi>=0.110"]\n',
        "shop/app.py": "app = make_app()\n",
        "tests/fixtures/spring/pom.xml": (
            "<project><dependencies><dependency><groupId>org.springframework.boot</groupId>"
            "<artifactId>spring-boot-starter-web</artifactId></dependency></dependencies>"
            "</project>\n"
        ),
        "tests/fixtures/spring/src/App.java": "class App {}\n" * 400,
        "tests/fixtures/tool/go.mod": "module example.com/tool\n\ngo 1.22\n",
    }
    chunks = project_facts(files, {p: t.count("\n") for p, t in files.items()}, files.get)
    text = "\n".join(c.content for c in chunks if c.symbol != "layout")
    assert "FastAPI" in text
    for leaked in ("Spring", "java", "Java", "Maven", "go.mod", "Go "):
        assert leaked not in text, leaked
    assert [c.type for c in chunks if c.symbol == "languages"] == [ContextType.ARCHITECTURE]
