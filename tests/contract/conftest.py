"""The DocumentStore contract runs against every adapter listed in STORE_FACTORIES."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from axon.ports import DocumentStore
from axon.stores.mongo import MongoDocumentStore
from axon.stores.sqlite import SQLiteDocumentStore
from tests.servers import RunningServer

StoreFactory = Callable[[pytest.FixtureRequest, Path], Awaitable[DocumentStore]]


async def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> DocumentStore:
    return SQLiteDocumentStore(tmp_path / "contract.db")


async def _mongo(request: pytest.FixtureRequest, tmp_path: Path) -> DocumentStore:
    server: RunningServer = request.getfixturevalue("mongo_server")
    # A database per test keeps tests independent on the shared session server.
    return MongoDocumentStore(f"mongodb://127.0.0.1:{server.port}/contract_{uuid.uuid4().hex}")


STORE_FACTORIES: dict[str, StoreFactory] = {"sqlite": _sqlite, "mongodb": _mongo}


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    adapter = await STORE_FACTORIES[request.param](request, tmp_path)
    await adapter.open()
    try:
        yield adapter
    finally:
        await adapter.close()


# Writes a record as stored by an older version, bypassing the models (for migrations).
RawWriter = Callable[[str, str, dict[str, Any]], Awaitable[None]]


@pytest.fixture
def stored_raw(store: DocumentStore) -> RawWriter:
    async def write(table: str, record_id: str, doc: dict[str, Any]) -> None:
        if isinstance(store, MongoDocumentStore):
            mongo_doc = {k: v for k, v in doc.items() if k != "id"}
            await store._col(table).insert_one({"_id": record_id, **mongo_doc})
            return
        assert isinstance(store, SQLiteDocumentStore)
        text = json.dumps(doc)
        await store._write(
            lambda c: c.execute(f"INSERT INTO {table} (id, doc) VALUES (?, ?)", (record_id, text))
        )

    return write
