"""How indexed documents are shown (path, headline, publisher, date), made per document on first use."""

from __future__ import annotations

import threading
from pathlib import PurePath

from qa.records import Source
from qa.storage.generations import StoredIndex


class Sources:
    """Each document's Source, made when first shown and kept: cold starts stay short. Thread-safe."""

    def __init__(self, index: StoredIndex, kind: str, shown_docs: str) -> None:
        self._index = index
        self._kind = kind  # "folder": documents are files under `shown_docs`; otherwise records of one file
        self._shown_docs = shown_docs
        self._made: dict[str, Source] = {}
        self._corpus_order: dict[str, int] | None = None
        self._lock = threading.Lock()

    def __getitem__(self, doc_key: str) -> Source:
        source = self._made.get(doc_key)
        if source is None:
            source = self._source(doc_key)
            with self._lock:
                self._made[doc_key] = source
        return source

    def corpus_order(self) -> dict[str, int]:
        """document key -> its place in the corpus (as indexed)."""
        if self._corpus_order is None:
            self._corpus_order = {key: i for i, key in enumerate(self._index.documents)}
        return self._corpus_order

    def _source(self, doc_key: str) -> Source:
        meta = self._index.documents[doc_key]
        path = str(PurePath(self._shown_docs) / meta.path) if self._kind == "folder" else self._shown_docs
        return Source(
            path=path,
            id=meta.source_id,
            title=meta.title,
            publisher=meta.publisher,
            published=meta.published,
            byline=meta.byline,
            url=meta.url,
        )
