"""Candidates for a question: the nearest passage vectors (dense) and the best BM25 scores, among allowed rows.

In hybrid mode every candidate gets both of its scores, exactly: the cosine of a passage that only BM25
returned is read from its stored vector, the BM25 of one that only the vector search returned from the
question's BM25 column. Fusion (qa/search/ranking.py) then never has to guess a missing score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

import qa.storage.vectors as ann
from qa.search.ranking import Ranking, fuse, ranking_of
from qa.storage.bm25 import QueryScores
from qa.storage.generations import StoredIndex
from qa.storage.milvus import Found, StoreOutOfStepError

MIN_DEPTH = 100  # candidates taken from each retriever before fusion
_LEXICAL_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bm25")
_ENGINE_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="engine")


@dataclass(frozen=True)
class Candidates:
    """What each retriever found for one question ({} for a retriever the mode does not use).

    `cosine` and `bm25` hold the exact scores of every candidate for the retrievers the mode uses (not only
    of those each retriever returned); `ceiling` is the most BM25 any passage could score for the question.
    """

    dense: Ranking
    lexical: Ranking
    cosine: dict[int, float] = field(default_factory=dict)
    bm25: dict[int, float] = field(default_factory=dict)
    ceiling: float = 0.0

    def dense_score(self, row: int) -> float | None:
        return self.cosine.get(row)

    def bm25_score(self, row: int) -> float | None:
        return self.bm25.get(row)

    def fused(self, mode: str) -> dict[int, float]:
        """row -> the score `mode` ranks by (qa.search.ranking.fuse)."""
        return fuse(self.cosine, self.bm25, self.ceiling, mode)


class Engine(Protocol):
    """A search engine that finds the candidates instead of the generation's FAISS and BM25 (the Milvus mirror,
    qa/storage/milvus/): (row, score, passage id) best first among the passages the filters keep."""

    def dense(
        self,
        vector: np.ndarray,
        depth: int,
        *,
        source: str | None,
        since: str | None,
        until: str | None,
        rows: Sequence[int] | None,
    ) -> list[Found]: ...

    def lexical(
        self,
        question: str,
        depth: int,
        *,
        source: str | None,
        since: str | None,
        until: str | None,
        rows: Sequence[int] | None,
    ) -> list[Found]: ...

    def unchanged(self) -> None:
        """Raise StoreOutOfStepError when the engine's content changed since it was found in step."""


ROW_FILTER_MAX = 20_000  # a `source` filter keeping at most this many passages reaches the engine as their rows


@dataclass(frozen=True)
class Filters:
    """The question's filters, for an engine. `rows`: the passages they keep, worked out here, when `source`
    is given and they are few enough to name (the engine then filters by rows, exactly as here; otherwise by
    its own reading of `source`, which matches paths without the corpus folder shown in front)."""

    source: str | None = None
    since: str | None = None
    until: str | None = None
    rows: Sequence[int] | None = None

    @classmethod
    def of(cls, source: str | None, since: str | None, until: str | None, allowed: np.ndarray | None) -> Filters:
        named = source is not None and allowed is not None and len(allowed) <= ROW_FILTER_MAX
        return cls(source, since, until, allowed.tolist() if named and allowed is not None else None)


def depth_for(k: int, total: int) -> int:
    """How many candidates each retriever returns for `k` hits among `total` passages."""
    return min(total, max(MIN_DEPTH, 10 * k))


def gather(
    index: StoredIndex,
    question: str,
    encode: Callable[[str], np.ndarray],
    mode: str,
    depth: int,
    allowed: np.ndarray | None,
    engine: Engine | None = None,
    filters: Filters | None = None,
) -> tuple[np.ndarray, Candidates]:
    """The question's vector (`encode`d whatever the mode: highlighting needs it) and its candidates: from the
    generation's FAISS and BM25 among `allowed` rows, or, with an `engine`, from it under `filters`."""
    # BM25 runs beside the question's encoding and the vector search (both release the GIL)
    pending = _LEXICAL_POOL.submit(index.lexical.scored, question) if mode != "dense" else None
    vector = encode(question)
    if engine is not None:  # the engine picks the candidates; their scores are the generation's exact ones
        return vector, _engine_candidates(index, engine, filters or Filters(), question, vector, mode, depth, pending)
    dense = dense_candidates(index, vector, depth, allowed) if mode != "bm25" else {}
    scored = pending.result() if pending is not None else None
    lexical = lexical_candidates(index, scored, depth, allowed)
    return vector, _scored(index, vector, mode, dense, lexical, scored)


def _engine_candidates(
    index: StoredIndex,
    engine: Engine,
    filters: Filters,
    question: str,
    vector: np.ndarray,
    mode: str,
    depth: int,
    pending: Future[QueryScores | None] | None,
) -> Candidates:
    """Candidates the engine found, scored as the generation scores them: the cosine is read from the
    generation's own vectors (the engine's is the same inner product on what should be the same vectors); its
    BM25 (Milvus: idf per segment) only chooses the candidates, whose
    BM25 is then read from the generation's own index, so fusion and abstention see the usual scale.

    Raises StoreOutOfStepError when a row the engine returned is another passage in this generation."""
    engine.unchanged()  # another index wrote the mirror: its rows may say nothing of this generation
    source = None if filters.rows is not None else filters.source
    since, until, rows = filters.since, filters.until, filters.rows

    def words_found() -> list[Found]:
        return engine.lexical(question, depth, source=source, since=since, until=until, rows=rows)

    # the engine's two searches run at once (a server answers both in parallel; each waits on the network)
    asked = _ENGINE_POOL.submit(words_found) if mode != "dense" else None
    near = engine.dense(vector, depth, source=source, since=since, until=until, rows=rows) if mode != "bm25" else []
    scored = pending.result() if pending is not None else None
    words = asked.result() if asked is not None else []
    if scored is None:  # the question has no BM25 word here: the engine's lexical hits are not used
        words = []
    _same_passages(index, near + words)
    # the engine's vectors only choose: the cosines are the generation's own (a damaged vector in the mirror
    # never serves a runaway score), and the order follows them
    cosine = _cosines(index, vector, [hit.row for hit in near])
    dense = ranking_of(sorted(cosine.items(), key=lambda item: -item[1]))
    lexical: Ranking = {}
    if scored is not None:
        best = scored.of(hit.row for hit in words)
        lexical = ranking_of((row, score) for row, score in best.items() if score > 0)
    return _scored(index, vector, mode, dense, lexical, scored)


def _same_passages(index: StoredIndex, found: list[Found]) -> None:
    """Every row the engine returned holds the same passage in this generation (else StoreOutOfStepError)."""
    local = index.passages({hit.row for hit in found})
    wrong = sum(hit.row not in local or local[hit.row].id != hit.passage_id for hit in found)
    if wrong:
        raise StoreOutOfStepError(
            f"{wrong} of the {len(found)} passages Milvus found are not this index's at those rows: another index"
            " has written the mirror since this one synced it"
        )


def _scored(
    index: StoredIndex, vector: np.ndarray, mode: str, dense: Ranking, lexical: Ranking, scored: QueryScores | None
) -> Candidates:
    """The candidates with both of their scores in hybrid mode: the cosine of a passage only BM25 found read
    from its stored vector, the BM25 of one only the vector search found from the question's BM25 column."""
    cosine = {row: score for row, (_, score) in dense.items()}
    bm25 = {row: score for row, (_, score) in lexical.items()}
    if mode == "hybrid":
        cosine.update(_cosines(index, vector, [row for row in lexical if row not in dense]))
        if scored is not None:
            bm25.update(scored.of(row for row in dense if row not in lexical))
        else:
            bm25.update(dict.fromkeys(dense, 0.0))
    return Candidates(dense, lexical, cosine, bm25, scored.ceiling if scored is not None else 0.0)


def dense_candidates(index: StoredIndex, vector: np.ndarray, depth: int, allowed: np.ndarray | None) -> Ranking:
    """row -> (1-based rank, cosine similarity) of the `depth` nearest passages (among `allowed`)."""
    scores, rows = ann.search(index.vectors, vector, depth, allowed)
    if index.ann.kind != "flat":  # 8-bit codes rank the candidates; their exact cosines score them
        exact = index.vectors_of(int(r) for r in rows[0] if r >= 0)
        scores = np.array([[float(exact[int(r)] @ vector) if r >= 0 else -1.0 for r in rows[0]]])
    return ranking_of((int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0)


def lexical_candidates(
    index: StoredIndex, scored: QueryScores | None, depth: int, allowed: np.ndarray | None
) -> Ranking:
    """row -> (1-based rank, BM25 score) of the best `depth` passages sharing a word with the question."""
    if scored is None:
        return {}
    rows, scores = index.lexical.best(scored, depth, allowed)
    return ranking_of(zip(rows, scores, strict=True))


def _cosines(index: StoredIndex, vector: np.ndarray, rows: list[int]) -> dict[int, float]:
    """The exact cosine of each row, from its stored vector."""
    stored = index.vectors_of(rows) if rows else {}
    return {row: float(stored[row] @ vector) for row in rows if row in stored}
