"""The DocumentStore contract runs against every adapter listed in STORE_FACTORIES."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from axon.ports import DocumentStore
from axon.stores.sqlite import SQLiteDocumentStore

StoreFactory = Callable[[pytest.FixtureRequest, Path], Awaitable[DocumentStore]]


async def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> DocumentStore:
    return SQLiteDocumentStore(tmp_path / "contract.db")


STORE_FACTORIES: dict[str, StoreFactory] = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    adapter = await STORE_FACTORIES[request.param](request, tmp_path)
    await adapter.open()
    try:
        yield adapter
    finally:
        await adapter.close()
