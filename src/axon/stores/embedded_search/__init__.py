"""The embedded search adapters: BM25 (`lexical.py`) and exact cosine (`vectors.py`)
over numpy arrays, backed by one SQLite file, `search.db` (`db.py`), with the
persistent embedding cache (`embedding_cache.py`). They implement the LexicalIndex
and VectorIndex ports beside the Qdrant adapter (`axon.stores.qdrant`)."""
