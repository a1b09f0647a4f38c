"""Retriever behaviour on a small indexed workspace (real SQLite store and search.db)."""

from __future__ import annotations

from datetime import timedelta

from axon.config import Settings, load_settings
from axon.models import Tier, content_hash, utcnow
from axon.ports import SearchRequest
from axon.services import Services, build_search
from tests.retrieval.conftest import add_workspace, make_context, store_and_index


async def test_a_query_naming_a_function_finds_its_definition_first(shop: Services) -> None:
    hits = await shop.retriever.search(
        SearchRequest("why does apply_discount return a negative total?", "shop")
    )
    assert hits[0].context.symbol == "apply_discount"
    assert "apply_discount" in hits[0].matched_entities
    assert hits[0].breakdown.boosts > 0 and hits[0].breakdown.lexical > 0
    # Callers and docs that mention it still come back, below the definition.
    assert {"src/shop/checkout.py", "docs/discounts.md"} <= {h.context.path for h in hits}


async def test_a_stack_trace_finds_the_frames_files(shop: Services) -> None:
    trace = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/src/shop/checkout.py", line 3, in finish\n'
        '  File "/srv/app/src/shop/gateway.py", line 3, in charge\n'
        "ValueError: amount must be positive\n"
    )
    hits = await shop.retriever.search(SearchRequest(trace, "shop", limit=5))
    top_files = [h.context.path for h in hits[:2]]
    assert sorted(top_files) == ["src/shop/checkout.py", "src/shop/gateway.py"]


async def test_cross_tier_duplicate_appears_once_at_the_highest_tier(shop: Services) -> None:
    await add_workspace(shop, "other")
    text = "Convention: every refund goes through RefundLedger.record before the gateway."
    same_here = make_context("shop", None, None, text, cid="conv-shop")
    same_global = make_context("other", None, None, text, tier=Tier.GLOBAL, cid="conv-global")
    only_global = make_context(
        "other", None, None, "RefundLedger keeps an audit trail.", tier=Tier.GLOBAL, cid="g2"
    )
    await store_and_index(shop, [same_here, same_global, only_global])
    hits = await shop.retriever.search(SearchRequest("RefundLedger refund convention", "shop"))
    ids = [h.context.id for h in hits]
    assert "conv-shop" in ids and "conv-global" not in ids
    assert next(h for h in hits if h.context.id == "g2").context.tier is Tier.GLOBAL
    # Asking for the global tier alone returns the global copy.
    only = await shop.retriever.search(
        SearchRequest("RefundLedger convention", "shop", tiers=[Tier.GLOBAL])
    )
    assert {h.context.id for h in only} == {"conv-global", "g2"}


async def test_ranking_weights_change_the_order_as_configured(
    lexical_settings: Settings, shop: Services
) -> None:
    await add_workspace(shop, "notes")
    old_but_used = make_context(
        "notes",
        "a.md",
        None,
        "retry policy: three attempts with backoff",
        cid="old",
        updated_at=utcnow() - timedelta(days=365),
        usage_count=60,
    )
    fresh_unused = make_context(
        "notes", "b.md", None, "retry policy: five attempts without backoff", cid="new"
    )
    await store_and_index(shop, [old_but_used, fresh_unused])
    request = SearchRequest("retry policy attempts backoff", "notes")

    async def order(**weights: float) -> list[str]:
        settings = load_settings(**weights)
        search = await build_search(settings, shop.store, None)
        try:
            return [h.context.id for h in await search.retriever.search(request)]
        finally:
            await search.close()

    assert await order(rank_freshness_weight=1.0, rank_usage_weight=0.0) == ["new", "old"]
    assert await order(rank_freshness_weight=0.0, rank_usage_weight=1.0) == ["old", "new"]


async def test_reconcile_repairs_drift_between_store_and_index(shop: Services) -> None:
    # Written to the store only (a crash before the index write), then changed and deleted.
    lost = make_context("shop", "src/shop/refunds.py", "refund_order", "def refund_order(o): ...")
    await shop.store.put_contexts([lost])
    await shop.store.delete_contexts(["shop-src_shop_rates.py"])
    changed = "def charge(self, cents): settle(cents)"
    await shop.store.update_context(
        "shop-src_shop_gateway.py", {"content": changed, "content_hash": content_hash(changed)}
    )
    before = await shop.retriever.search(SearchRequest("refund_order settle", "shop"))
    assert lost.id not in {h.context.id for h in before}
    counts = await shop.search_index.reconcile("shop")
    assert counts == {"indexed": 2, "removed": 1, "unchanged": 3, "vectorsMissing": 0}
    hits = await shop.retriever.search(SearchRequest("refund_order settle lookup_rate", "shop"))
    ids = {h.context.id for h in hits}
    assert lost.id in ids and "shop-src_shop_rates.py" not in ids
    assert await shop.search_index.reconcile("shop") == {
        "indexed": 0,
        "removed": 0,
        "unchanged": 5,
        "vectorsMissing": 0,
    }


async def test_filters_types_and_a_fresh_process_see_the_same_index(
    lexical_settings: Settings, shop: Services
) -> None:
    docs = await shop.retriever.search(
        SearchRequest("apply_discount", "shop", types=["documentation"])  # type: ignore[list-item]
    )
    assert [h.context.path for h in docs] == ["docs/discounts.md"]
    prefixed = await shop.retriever.search(
        SearchRequest("apply_discount", "shop", filters={"pathPrefix": "docs/"})
    )
    assert [h.context.path for h in prefixed] == ["docs/discounts.md"]
    other = await build_search(lexical_settings, shop.store, None)
    try:
        again = await other.retriever.search(SearchRequest("apply_discount", "shop"))
    finally:
        await other.close()
    assert again[0].context.symbol == "apply_discount"


async def test_lexical_scores_share_one_scale_across_partitions(shop: Services) -> None:
    # The hybrid tier's only match shares one word with the query; the workspace's
    # decision answers it. Normalised per partition, both would score 1 and the
    # well-used note would win on usage.
    decision = make_context(
        "shop",
        None,
        None,
        "Decision: the payment gateway retry policy is three attempts with backoff.",
        cid="retry-decision",
    )
    note = make_context(
        "shop", None, None, "The retry button is grey.", tier=Tier.HYBRID, usage_count=50
    )
    await store_and_index(shop, [decision, note])
    hits = await shop.retriever.search(
        SearchRequest("which payment gateway retry policy do we use", "shop", limit=5)
    )
    ids = [h.context.id for h in hits]
    assert ids[0] == "retry-decision"
    assert note.id in ids  # still found, below the answer
