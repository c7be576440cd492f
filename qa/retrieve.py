"""Retrieval: a question -> ranked passages with their sources. The one library call the fronts use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePath

from .chunk import ChunkSettings
from .embed import Embedder, load_embedder
from .errors import BadInputError, EmptyQuestionError
from .indexer import Reporter, ensure_index
from .paths import default_docs, default_index_dir
from .records import Hit, Passage, SearchResult, Source
from .store import StoredIndex

MAX_K = 1000
MODES = ("hybrid", "dense", "bm25")
DEFAULT_MODE = "hybrid"
RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al. 2009)
_MIN_DEPTH = 100  # candidates taken from each retriever before fusion


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
            docs_path,
            index_dir,
            embedder,
            chunking or ChunkSettings(),
            rebuild=rebuild,
            reporter=reporter,
            shown_docs=str(docs_path),
        )
        return cls(stored, embedder, str(docs_path))

    @property
    def index_path(self) -> Path:
        return self._index.path

    def __len__(self) -> int:
        return len(self._index.passages)

    def search(self, question: str, k: int = 3, mode: str = DEFAULT_MODE) -> SearchResult:
        """The `k` passages that best answer `question`, best first (ties broken by index order).

        `mode` is "hybrid" (BM25 and dense ranks fused, the default), "dense" or "bm25".
        """
        if not isinstance(question, str) or not question.strip():
            raise EmptyQuestionError()
        if not 1 <= k <= MAX_K:
            raise BadInputError(f"k must be between 1 and {MAX_K}, got {k}")
        if mode not in MODES:
            raise BadInputError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        total = len(self._index.passages)
        if total == 0:
            return SearchResult(question=question, hits=[])
        depth = min(total, max(_MIN_DEPTH, 10 * k))
        dense = self._dense(question, depth) if mode != "bm25" else {}
        lexical = self._lexical(question, depth) if mode != "dense" else {}
        if mode == "dense":
            fused = {row: score for row, (_, score) in dense.items()}
        elif mode == "bm25":
            fused = {row: score for row, (_, score) in lexical.items()}
        else:
            fused = {}
            for ranking in (dense, lexical):
                for row, (rank, _) in ranking.items():
                    fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank)
        best = sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))[:k]
        hits = [
            Hit(
                rank=rank,
                score=float(score),
                passage=self._index.passages[row],
                source=self._sources[self._index.passages[row].doc_key],
                dense_score=dense[row][1] if row in dense else None,
                bm25_score=lexical[row][1] if row in lexical else None,
            )
            for rank, (row, score) in enumerate(best, start=1)
        ]
        return SearchResult(question=question, hits=hits)

    def _dense(self, question: str, depth: int) -> dict[int, tuple[int, float]]:
        """row -> (1-based rank, cosine similarity) of the `depth` nearest passages."""
        query = self._embedder.embed([question.strip()])
        scores, rows = self._index.vectors.search(query, depth)
        pairs = sorted(
            ((int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0),
            key=lambda pair: (-pair[1], pair[0]),
        )
        return {row: (rank, score) for rank, (row, score) in enumerate(pairs, start=1)}

    def _lexical(self, question: str, depth: int) -> dict[int, tuple[int, float]]:
        """row -> (1-based rank, BM25 score) of the best `depth` passages sharing a word with the question."""
        rows, scores = self._index.lexical.search(question, depth)
        pairs = sorted(
            ((int(r), float(s)) for r, s in zip(rows, scores, strict=True)), key=lambda pair: (-pair[1], pair[0])
        )
        return {row: (rank, score) for rank, (row, score) in enumerate(pairs, start=1)}

    def passages(self) -> Iterator[tuple[Passage, Source]]:
        """Every indexed passage with its source, in index order."""
        for passage in self._index.passages:
            yield passage, self._sources[passage.doc_key]

    def _source(self, key: str) -> Source:
        meta = self._index.documents[key]
        if self._kind == "folder":
            path = str(PurePath(self._shown_docs) / meta.path)
        else:
            path = self._shown_docs
        return Source(
            path=path,
            id=meta.source_id,
            title=meta.title,
            publisher=meta.publisher,
            published=meta.published,
            byline=meta.byline,
        )
