"""The dense side with the real local embedder: meaning without shared words, and the
embedding cache (one vector per distinct text, whatever the number of contexts)."""

from __future__ import annotations

import sqlite3

import pytest

from axon.config import Settings, load_settings
from axon.ports import SearchRequest
from axon.services import build_search, build_services
from tests.retrieval.conftest import add_workspace, make_context


@pytest.mark.needs_model
async def test_dense_search_finds_meaning_and_embeds_each_text_once(settings: Settings) -> None:
    services = await build_services(load_settings(embedder="local"))
    search = await build_search(services.settings, services.store, services.embedder)
    try:
        await add_workspace(services, "dense")
        texts = {
            "crypto.py": "def fingerprint(data):\n    return hashlib.sha256(data).hexdigest()\n",
            "pages.py": "def render_page(template, values):\n    return template.format(**values)",
            "net.py": "def open_link(host, port):\n    return socket.create_connection(host)\n",
        }
        contexts = [make_context("dense", p, None, t) for p, t in texts.items()]
        await services.store.put_contexts(contexts)
        await search.index.index(contexts)
        hits = await search.retriever.search(
            SearchRequest("compute a cryptographic checksum of bytes", "dense")
        )
        assert hits[0].context.path == "crypto.py"
        assert hits[0].breakdown.lexical == 0 and hits[0].breakdown.dense > 0

        # The same text under new ids and in another workspace is not embedded again.
        await add_workspace(services, "copy")
        copies = [make_context("copy", p, None, t) for p, t in texts.items()]
        await services.store.put_contexts(copies)
        await search.index.index(copies)

        def count(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT count(*) FROM embeddings").fetchone()[0])

        assert await search.db.run(count) == 3
        again = await search.retriever.search(SearchRequest("checksum of bytes", "copy"))
        assert again[0].context.workspace_id == "copy" and again[0].context.path == "crypto.py"
    finally:
        await search.close()
        await services.close()
