"""What indexing embeds: path and symbol, then the start of the text, by word pieces."""

from __future__ import annotations

import sqlite3

import pytest
from tokenizers import Tokenizer

from axon.config import Settings, load_settings
from axon.embeddings.model_files import TOKENIZER_FILE, packaged_model_dir
from axon.embeddings.pieces import DOCUMENT_PIECES
from axon.models import content_hash
from axon.retrieval.search_index import embedding_texts
from axon.services import build_search, build_services
from tests.retrieval.conftest import add_workspace, make_context

LONG_BODY = "".join(
    f"    total_{n} = compute_subtotal(order.lines[{n}], tax_rate)\n" for n in range(200)
)


def piece_count(text: str) -> int:
    model_dir = packaged_model_dir()
    assert model_dir is not None
    tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
    tokenizer.no_padding()  # the file pads and truncates at 128; count every piece
    tokenizer.no_truncation()
    return len(tokenizer.encode(text, add_special_tokens=False).ids)


@pytest.mark.needs_model
def test_header_first_wordless_lines_dropped_and_cut_at_the_budget() -> None:
    content = "def checkout_total(order):\n    items = [\n    ]\n    # ----\n" + LONG_BODY
    [text] = embedding_texts([make_context("w", "src/shop/cart.py", "checkout_total", content)])
    assert text.startswith("src/shop/cart.py checkout_total\ndef checkout_total(order):\n")
    assert "    items = [\n    total_0" in text  # "]" and "# ----" say nothing
    assert piece_count(text) == DOCUMENT_PIECES


def test_short_contexts_are_embedded_whole() -> None:
    content = "# Discounts\nCodes apply at checkout.\n"
    [text] = embedding_texts([make_context("w", "docs/discounts.md", None, content)])
    assert text == "docs/discounts.md\n# Discounts\nCodes apply at checkout."


@pytest.mark.needs_model
async def test_the_index_embeds_exactly_the_embedding_text(settings: Settings) -> None:
    services = await build_services(load_settings(embedder="local"))
    search = await build_search(services.settings, services.store, services.embedder)
    try:
        await add_workspace(services, "emb")
        context = make_context("emb", "src/shop/cart.py", "checkout_total", LONG_BODY)
        await services.store.put_contexts([context])
        await search.index.index([context])

        def cached(conn: sqlite3.Connection) -> set[str]:
            return {row[0] for row in conn.execute("SELECT content_hash FROM embeddings")}

        assert await search.db.run(cached) == {content_hash(embedding_texts([context])[0])}
    finally:
        await search.close()
        await services.close()
