"""The on-disk index: manifest, generations and lock, the SQLite passage database, vectors (FAISS), BM25."""
