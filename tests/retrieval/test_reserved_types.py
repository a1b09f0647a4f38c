"""Reserved types: one search returns the best hits of any type and, besides them,
the best few of the reserved types, ranked in the same pass; and the other
per-search saving the pipeline uses, a workspace record passed in."""

from __future__ import annotations

import pytest

from axon.errors import InvalidInput, NotFound
from axon.models import ContextType, Workspace, WorkspaceType
from axon.ports import IndexFilter, SearchRequest
from axon.retrieval.query import query_terms
from axon.services import Services
from axon.stores.embedded_search.lexical import NumpyLexicalIndex
from tests.retrieval.conftest import make_context, store_and_index

DOCS = [ContextType.DOCUMENTATION, ContextType.ARCHITECTURE]


async def test_reserved_hits_follow_the_plain_search_unchanged(shop: Services) -> None:
    # Many code chunks that all outscore the one doc on words alone.
    await store_and_index(
        shop,
        [
            make_context(
                "shop",
                f"src/shop/d{i}.py",
                f"discount_{i}",
                f"def discount_{i}(code):\n    return apply_discount(code) * {i}\n",
            )
            for i in range(6)
        ],
    )
    query = "how is apply_discount applied to a discount code"
    plain = await shop.retriever.search(SearchRequest(query=query, workspace_id="shop", limit=3))
    both = await shop.retriever.search(
        SearchRequest(
            query=query, workspace_id="shop", limit=3, reserve_types=DOCS, reserve_limit=2
        )
    )
    assert [h.context.id for h in both[: len(plain)]] == [h.context.id for h in plain]
    # Equal up to the freshness of a few microseconds later.
    assert [h.score for h in both[: len(plain)]] == pytest.approx([h.score for h in plain])
    extra = both[len(plain) :]
    assert "docs/discounts.md" not in [h.context.path for h in plain]
    assert [h.context.path for h in extra] == ["docs/discounts.md"]
    assert len({h.context.id for h in both}) == len(both)


async def test_without_reserved_types_nothing_is_added(shop: Services) -> None:
    request = SearchRequest(query="apply_discount", workspace_id="shop", limit=2, reserve_limit=3)
    assert len(await shop.retriever.search(request)) <= 2


@pytest.mark.parametrize("limit", [-1, 101])
async def test_reserve_limit_is_checked(shop: Services, limit: int) -> None:
    request = SearchRequest(
        query="apply_discount", workspace_id="shop", reserve_types=DOCS, reserve_limit=limit
    )
    with pytest.raises(InvalidInput) as raised:
        await shop.retriever.search(request)
    assert raised.value.details[0]["field"] == "reserveLimit"


async def test_one_scoring_pass_gives_each_filters_own_search(shop: Services) -> None:
    lexical = shop.search_index.lexical  # type: ignore[attr-defined]
    assert isinstance(lexical, NumpyLexicalIndex)
    terms = query_terms("discount code rate apply checkout")
    asks = [(5, IndexFilter()), (5, IndexFilter(types=DOCS)), (2, None)]
    together = await lexical.search_many("shop", terms, asks)
    apart = [await lexical.search("shop", terms, k, flt) for k, flt in asks]
    assert together == apart
    assert together[1] and all(cid.endswith(".md") for cid, _ in together[1])


async def test_a_workspace_record_given_by_the_caller_saves_the_lookup(shop: Services) -> None:
    shop_record = await shop.store.get_workspace("shop")
    assert shop_record is not None
    query = "apply_discount"
    given = await shop.retriever.search(
        SearchRequest(query=query, workspace_id="shop", workspace=shop_record)
    )
    looked_up = await shop.retriever.search(SearchRequest(query=query, workspace_id="shop"))
    assert [h.context.id for h in given] == [h.context.id for h in looked_up]
    # Used as given: a record the store does not hold searches its (empty) partitions.
    unsaved = Workspace(id="unsaved", name="unsaved", type=WorkspaceType.CODING)
    request = SearchRequest(query=query, workspace_id="unsaved", workspace=unsaved)
    assert await shop.retriever.search(request) == []
    # A record for another id is ignored: the unknown workspace is still unknown.
    with pytest.raises(NotFound):
        await shop.retriever.search(
            SearchRequest(query=query, workspace_id="ghost", workspace=shop_record)
        )
