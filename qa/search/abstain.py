"""Abstention: is the evidence strong enough to say the articles answer the question?

The evidence of a result is a few numbers about its best hits (how close the best passage and the
best sentence are to the question, and how many of the question's words they hold). A logistic model
over them gives `confidence`; below ANSWER_MIN the result is `answered: false`. The weights and the
threshold are fitted by bench/abstain.py on answerable questions (SQuAD dev and RealTimeQA against
their own corpora) and off-topic ones (each set asked of the other corpus); see the README.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from qa.records import Evidence, Hit
from qa.storage.generations import StoredIndex

# fitted by `python bench/abstain.py --max-false-abstain 0.02` (logistic regression on 1,000 SQuAD and
# 206 RealTimeQA questions, each asked of its own corpus and of the other; README, Benchmarks). The
# threshold keeps false abstentions on answerable questions at 2% of the fitting half: an abstention
# tells the reader the articles do not answer, so it must rarely be wrong; the price is that about a
# third of off-topic questions on a related corpus still get `answered: true`.
WEIGHTS = {"passage_cosine": 2.5958, "sentence_cosine": 15.3899, "coverage": 5.1268}
BIAS = -12.2495
ANSWER_MIN = 0.096


def confidence(evidence: Evidence) -> float:
    z = BIAS + sum(weight * getattr(evidence, name) for name, weight in WEIGHTS.items())
    return 1.0 / (1.0 + math.exp(-z))


def answered(evidence: Evidence) -> bool:
    return confidence(evidence) >= ANSWER_MIN


def evidence_of(
    passage_cosines: Iterable[float], sentence_cosines: Iterable[float], coverages: Iterable[float]
) -> Evidence:
    """The evidence of the top hits: the best of each measure over them (0 when none has it)."""
    return Evidence(max([0.0, *passage_cosines]), max([0.0, *sentence_cosines]), max([0.0, *coverages]))


def passage_cosine(index: StoredIndex, vector: np.ndarray, hit: Hit, row: int) -> float:
    """The hit's cosine to the question: its dense score when it has one, else from its stored vector."""
    if hit.dense_score is not None:
        return hit.dense_score
    return float(index.vectors_of([row])[row] @ vector)
