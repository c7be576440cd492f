"""From one window's logits to the best answer span (numpy only; shared by training and question time)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.read.windows import Window

MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class SpanGuess:
    """The best span of one window: passage character offsets and its score (start + end logit);
    `null` is the window's no-answer score (start + end logit at [CLS])."""

    start: int
    end: int
    score: float
    null: float


def best_span(window: Window, start_logits: np.ndarray, end_logits: np.ndarray) -> SpanGuess:
    first, last = window.first, window.last
    null = float(start_logits[0] + end_logits[0])
    if last <= first:
        return SpanGuess(-1, -1, -np.inf, null)
    s = start_logits[first:last].astype(np.float32)
    e = end_logits[first:last].astype(np.float32)
    n = len(s)
    pair = s[:, None] + e[None, :]
    i, j = np.indices((n, n))
    pair[(j < i) | (j - i >= MAX_ANSWER_TOKENS)] = -np.inf
    flat = int(np.argmax(pair))
    a, b = divmod(flat, n)
    return SpanGuess(window.offsets[first + a][0], window.offsets[first + b][1], float(pair[a, b]), null)
