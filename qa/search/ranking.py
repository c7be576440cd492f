"""Ranking: the dense and BM25 candidates fused into one order (per mode), ties broken by corpus order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

Ranking = dict[int, tuple[int, float]]  # row -> (1-based rank, score) from one retriever

# hybrid = DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * BM25 / ceiling, a convex combination (Bruch et al.
# 2023) of two absolute scores: the cosine, and BM25 over the most the question's words could score (the
# sum of their idf, a word no passage holds counted at the idf of such a word). Neither depends on the
# other candidates, so a score means the same for every question (the min-max scaling used before gave
# the best of a bad lot 1.000). The weight was chosen on the fit
# parts only (SQuAD dev articles with an even SHA-256 of their title, and bench/bbc_split.py's fit part):
# docs/answers.md, "Absolute scores".
DENSE_WEIGHT = 0.5


def ranking_of(scored: Iterable[tuple[int, float]]) -> Ranking:
    """(row, score) pairs ranked best first (equal scores by row)."""
    pairs = sorted(((int(row), float(score)) for row, score in scored), key=lambda pair: (-pair[1], pair[0]))
    return {row: (rank, score) for rank, (row, score) in enumerate(pairs, start=1)}


def min_max(ranking: Ranking) -> dict[int, float]:
    """Scores scaled to [0, 1] over one retriever's candidates (all 1.0 when they tie)."""
    if not ranking:
        return {}
    scores = [score for _, score in ranking.values()]
    low, high = min(scores), max(scores)
    if high <= low:
        return {row: 1.0 for row in ranking}
    return {row: (score - low) / (high - low) for row, (_, score) in ranking.items()}


def convex(dense: dict[int, float], lexical: dict[int, float], weight: float) -> dict[int, float]:
    """weight * dense + (1 - weight) * lexical; a passage one retriever did not return gets 0 from it."""
    return {
        row: weight * dense.get(row, 0.0) + (1 - weight) * lexical.get(row, 0.0)
        for row in dense.keys() | lexical.keys()
    }


def fuse(cosine: Mapping[int, float], bm25: Mapping[int, float], ceiling: float, mode: str) -> dict[int, float]:
    """row -> the score `mode` ranks by: "dense" the cosine, "bm25" BM25 / `ceiling`, "hybrid" their convex
    combination. Each is absolute, in [0, 1] but for a negative cosine: comparable across questions."""
    scale = 1.0 / ceiling if ceiling > 0 else 0.0
    if mode == "dense":
        return dict(cosine)
    if mode == "bm25":
        return {row: score * scale for row, score in bm25.items()}
    relative = {row: score * scale for row, score in bm25.items()}
    return convex(dict(cosine), relative, DENSE_WEIGHT)


def by_score(fused: dict[int, float]) -> list[tuple[int, float]]:
    """(row, score) best first; equal scores by row until `in_corpus_order` orders the ones shown."""
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def shown_window(k: int) -> int:
    """How many ranked rows may be read to fill `k` hits (overlaps and wire copies skip some)."""
    return 4 * k + 8


def in_corpus_order(
    ranked: list[tuple[int, float]],
    window: int,
    position_of: Callable[[list[int]], dict[int, tuple[int, int]]],
) -> list[tuple[int, float]]:
    """Equal scores among the first `window` ordered by corpus position: `position_of(rows)` gives each
    row's (document's place in the corpus, offset in it).

    Rows follow the history of updates (a re-indexed document gets new ones); the corpus order does not,
    so the same corpus gives the same answer however it was indexed.
    """
    head = ranked[:window]
    begin = 0
    while begin < len(head):
        end = begin
        while end + 1 < len(head) and head[end + 1][1] == head[begin][1]:
            end += 1
        if end > begin:
            group = head[begin : end + 1]
            position = position_of([row for row, _ in group])
            group.sort(key=lambda pair: position[pair[0]])
            head[begin : end + 1] = group
        begin = end + 1
    return head + ranked[window:]
