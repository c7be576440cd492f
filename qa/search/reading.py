"""The reader at answer time: it reads the top candidates with the question and decides the order, the
highlight, the exact answer, the spans values are read from, and (with the retrieval evidence) abstention.

Every number here was fitted on fit data only (bench/reader_fit.py: the BBC dev file's fit part and the
SQuAD v2.0 dev articles of the fit half) and is kept in the reader's card (qa/read/weights/reader.json,
block "fit"), beside the weights it was fitted for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set

from qa.read.fit import ABSTAIN_FEATURES, RERANK_FEATURES, ReaderFit
from qa.read.reader import Reading

__all__ = ["ABSTAIN_FEATURES", "RERANK_FEATURES", "ReaderFit", "abstain_features", "answer_probability", "reranked"]


def _logistic(weights: Sequence[float], values: Sequence[float], offset: float = 0.0) -> float:
    z = offset + weights[-1] + sum(w * v for w, v in zip(weights[:-1], values, strict=True))
    if not math.isfinite(z):  # an infinite feature (nothing to read): no evidence either way counts as none
        z = -60.0
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def rerank_features(fused: float, reading: Reading) -> tuple[float, ...]:
    return (fused, reading.margin, reading.answer_logit, reading.span_score)


def reranked(
    fused: dict[int, float], readings: Mapping[int, Reading], fit: ReaderFit, preferred: Set[int] = frozenset()
) -> tuple[dict[int, float], dict[int, float]]:
    """(row -> score to rank by, row -> the reader's probability for the rows it read).

    A read row's probability is that it answers the question; it ranks by it (a `preferred` row's, of a
    follow-up's topic article, with `topic_bonus` added to its logit). Rows not read rank after every read
    one, in their fused order, with scores spread below the lowest read one."""
    plain = {row: _logistic(fit.rerank, rerank_features(fused[row], r)) for row, r in readings.items()}
    order = {
        row: _logistic(fit.rerank, rerank_features(fused[row], r), fit.topic_bonus) if row in preferred else plain[row]
        for row, r in readings.items()
    }
    if not order:
        return fused, {}
    floor = min(order.values()) * 0.999
    rest = [row for row, _ in sorted(fused.items(), key=lambda pair: (-pair[1], pair[0])) if row not in order]
    order.update({row: floor * (len(rest) - n) / (len(rest) + 1) for n, row in enumerate(rest)})
    return order, plain


def abstain_features(
    top_prob: float, reading: Reading | None, passage_cosine: float, coverage: float
) -> tuple[float, ...]:
    if reading is None:
        return (top_prob, -10.0, -10.0, passage_cosine, coverage)
    return (top_prob, reading.margin, reading.answer_logit, passage_cosine, coverage)


def answer_probability(features: Sequence[float], fit: ReaderFit) -> float:
    """How likely the articles answer the question, from the reader and the retrieval evidence."""
    return _logistic(fit.abstain, features)


def spans_of(readings: Sequence[Reading | None], minimum: float) -> list[tuple[int, int] | None]:
    """Each hit's answer span (passage offsets) when the reader is sure enough of it, else None."""
    return [
        (r.span_start, r.span_end) if r is not None and r.span_start >= 0 and r.margin >= minimum else None
        for r in readings
    ]
