"""The reader at answer time: it reads the top candidates with the question and decides the order, the
highlight, the exact answer, the spans values are read from, and (with the retrieval evidence) abstention.

Every number here was fitted on fit data only (bench/reader_fit.py: the BBC dev file's fit part and the
SQuAD v2.0 dev articles of the fit half) and is kept in the reader's card (qa/read/weights/reader.json,
block "fit"), beside the weights it was fitted for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

from qa.read.reader import Reading

# the features of a read candidate, in the order the card's weights give them
RERANK_FEATURES = ("fused", "margin", "answer_logit", "span_score")
ABSTAIN_FEATURES = ("top_prob", "top_margin", "top_answer_logit", "passage_cosine", "coverage")


@dataclass(frozen=True)
class ReaderFit:
    depth: int  # candidates read, best fused first
    rerank: tuple[float, ...]  # logistic weights of RERANK_FEATURES, then the bias
    abstain: tuple[float, ...]  # logistic weights of ABSTAIN_FEATURES, then the bias
    answer_min: float  # answered when the abstention probability is at least this
    exact_min: float  # the exact answer is shown when the top hit's span margin is at least this
    value_min: float  # a hit's span gives a value when its margin is at least this
    topic_bonus: float = 0.0  # added to the rerank logit of a follow-up's topic-article passages

    @classmethod
    def of(cls, block: Mapping[str, Any]) -> ReaderFit:
        return cls(
            depth=int(block["depth"]),
            rerank=tuple(float(w) for w in block["rerank"]),
            abstain=tuple(float(w) for w in block["abstain"]),
            answer_min=float(block["answer_min"]),
            exact_min=float(block["exact_min"]),
            value_min=float(block["value_min"]),
            topic_bonus=float(block.get("topic_bonus", 0.0)),
        )


def _logistic(weights: Sequence[float], values: Sequence[float], offset: float = 0.0) -> float:
    z = offset + weights[-1] + sum(w * v for w, v in zip(weights[:-1], values, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def rerank_features(fused: float, reading: Reading) -> tuple[float, ...]:
    return (fused, reading.margin, reading.answer_logit, reading.span_score)


def reranked(
    fused: dict[int, float], readings: Mapping[int, Reading], fit: ReaderFit, preferred: Set[int] = frozenset()
) -> dict[int, float]:
    """row -> score: a read row's is the probability that it answers the question (a `preferred` row's, of a
    follow-up's topic article, with `topic_bonus` added to its logit); rows not read keep their order after
    every read one (their fused score scaled below the lowest read probability)."""
    scores = {
        row: _logistic(fit.rerank, rerank_features(fused[row], r), fit.topic_bonus if row in preferred else 0.0)
        for row, r in readings.items()
    }
    if not scores:
        return fused
    floor = min(scores.values())
    top = max((s for row, s in fused.items() if row not in scores), default=0.0)
    scale = floor * 0.999 / top if top > 0 else 0.0
    return {row: scores.get(row, s * scale) for row, s in fused.items()}


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
