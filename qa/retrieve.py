"""Retrieval: a question -> ranked passages with their sources. The one library call the fronts use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePath

import numpy as np

from .chunk import ChunkSettings
from .embed import Embedder, load_embedder
from .errors import BadInputError, EmptyQuestionError
from .indexer import Reporter, ensure_index
from .paths import default_docs, default_index_dir
from .records import Hit, Passage, SearchResult, Source
from .store import StoredIndex

MAX_K = 1000


class Retriever:
    """Answers questions from one corpus with verbatim passages. Thread-safe once opened."""

    def __init__(self, index: StoredIndex, embedder: Embedder, shown_docs: str) -> None:
        self._index = index
        self._embedder = embedder
        self._shown_docs = shown_docs
        self._kind = index.manifest.get("corpus", {}).get("kind", "folder")
        self._sources = {key: self._source(key) for key in index.documents}

    @classmethod
    def open(
        cls,
        docs: str | Path | None = None,
        index: str | Path | None = None,
        *,
        model: str | None = None,
        rebuild: bool = False,
        chunking: ChunkSettings | None = None,
        reporter: Reporter | None = None,
        embedder: Embedder | None = None,
    ) -> Retriever:
        """Open (building or updating if needed) the index of `docs` (folder or .jsonl; default seeds/).

        `index` is the index folder (default: one per corpus under index/); `model` a local
        sentence-transformers folder (default: the bundled all-MiniLM-L6-v2).
        """
        docs_path = Path(docs) if docs is not None else default_docs()
        index_dir = Path(index) if index is not None else default_index_dir(docs_path)
        embedder = embedder or load_embedder(model)
        stored = ensure_index(
            docs_path, index_dir, embedder, chunking or ChunkSettings(),
            rebuild=rebuild, reporter=reporter, shown_docs=str(docs_path),
        )
        return cls(stored, embedder, str(docs_path))

    @property
    def index_path(self) -> Path:
        return self._index.path

    def __len__(self) -> int:
        return len(self._index.passages)

    def search(self, question: str, k: int = 3) -> SearchResult:
        """The `k` passages most similar to `question`, best first (ties broken by index order)."""
        if not isinstance(question, str) or not question.strip():
            raise EmptyQuestionError()
        if not 1 <= k <= MAX_K:
            raise BadInputError(f"k must be between 1 and {MAX_K}, got {k}")
        total = self._index.vectors.ntotal
        if total == 0:
            return SearchResult(question=question, hits=[])
        query = self._embedder.embed([question.strip()])
        scores, rows = self._index.vectors.search(query, min(k, total))
        ranked = sorted(
            ((float(s), int(r)) for s, r in zip(scores[0], rows[0]) if r >= 0),
            key=lambda pair: (-pair[0], pair[1]),
        )
        hits = [self._hit(rank, score, row) for rank, (score, row) in enumerate(ranked, start=1)]
        return SearchResult(question=question, hits=hits)

    def passages(self) -> Iterator[tuple[Passage, Source]]:
        """Every indexed passage with its source, in index order."""
        for passage in self._index.passages:
            yield passage, self._sources[passage.doc_key]

    def _hit(self, rank: int, score: float, row: int) -> Hit:
        passage = self._index.passages[row]
        return Hit(rank=rank, score=float(np.float32(score)), passage=passage, source=self._sources[passage.doc_key])

    def _source(self, key: str) -> Source:
        meta = self._index.documents[key]
        if self._kind == "folder":
            path = str(PurePath(self._shown_docs) / meta.path)
        else:
            path = self._shown_docs
        return Source(path=path, id=meta.source_id, title=meta.title, publisher=meta.publisher,
                      published=meta.published)
