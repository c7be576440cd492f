"""The answer-time settings fitted for the shipped reader (the card's "fit" block; bench/reader_fit.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
        """The fitted settings of the card's "fit" block; ValueError/KeyError/TypeError when malformed."""
        fit = cls._of(block)
        if len(fit.rerank) != len(RERANK_FEATURES) + 1 or len(fit.abstain) != len(ABSTAIN_FEATURES) + 1:
            raise ValueError("the weights do not match the features")
        return fit

    @classmethod
    def _of(cls, block: Mapping[str, Any]) -> ReaderFit:
        return cls(
            depth=int(block["depth"]),
            rerank=tuple(float(w) for w in block["rerank"]),
            abstain=tuple(float(w) for w in block["abstain"]),
            answer_min=float(block["answer_min"]),
            exact_min=float(block["exact_min"]),
            value_min=float(block["value_min"]),
            topic_bonus=float(block.get("topic_bonus", 0.0)),
        )
