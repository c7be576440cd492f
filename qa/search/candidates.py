"""Candidates for a question: the nearest passage vectors (dense) and the best BM25 scores, among allowed rows."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

import qa.storage.vectors as ann
from qa.search.ranking import Ranking, ranking_of
from qa.storage.generations import StoredIndex

MIN_DEPTH = 100  # candidates taken from each retriever before fusion
_LEXICAL_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bm25")


@dataclass(frozen=True)
class Candidates:
    """What each retriever found for one question ({} for a retriever the mode does not use)."""

    dense: Ranking
    lexical: Ranking

    def dense_score(self, row: int) -> float | None:
        return self.dense[row][1] if row in self.dense else None

    def bm25_score(self, row: int) -> float | None:
        return self.lexical[row][1] if row in self.lexical else None


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
) -> tuple[np.ndarray, Candidates]:
    """The question's vector (`encode`d whatever the mode: highlighting needs it) and its candidates."""
    # BM25 runs beside the question's encoding and the vector search (both release the GIL)
    pending = _LEXICAL_POOL.submit(lexical_candidates, index, question, depth, allowed) if mode != "dense" else None
    vector = encode(question)
    dense = dense_candidates(index, vector, depth, allowed) if mode != "bm25" else {}
    lexical = pending.result() if pending is not None else {}
    return vector, Candidates(dense, lexical)


def dense_candidates(index: StoredIndex, vector: np.ndarray, depth: int, allowed: np.ndarray | None) -> Ranking:
    """row -> (1-based rank, cosine similarity) of the `depth` nearest passages (among `allowed`)."""
    scores, rows = ann.search(index.vectors, vector, depth, allowed)
    if index.ann.kind != "flat":  # 8-bit codes rank the candidates; their exact cosines score them
        exact = index.vectors_of(int(r) for r in rows[0] if r >= 0)
        scores = np.array([[float(exact[int(r)] @ vector) if r >= 0 else -1.0 for r in rows[0]]])
    return ranking_of((int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0)


def lexical_candidates(index: StoredIndex, question: str, depth: int, allowed: np.ndarray | None) -> Ranking:
    """row -> (1-based rank, BM25 score) of the best `depth` passages sharing a word with the question."""
    rows, scores = index.lexical.search(question, depth, allowed)
    return ranking_of(zip(rows, scores, strict=True))
