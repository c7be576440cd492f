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


NO_SPAN = -1e4  # the score of a window with no passage token: finite, so that it weighs as "no answer"


def best_span(
    window: Window, start_logits: np.ndarray, end_logits: np.ndarray, groups: np.ndarray | None = None
) -> SpanGuess:
    """The best span of at most MAX_ANSWER_TOKENS; with `groups` (a sentence number per passage token of the
    window), one that stays inside one sentence."""
    first, last = window.first, window.last
    null = float(start_logits[0] + end_logits[0])
    if last <= first:
        return SpanGuess(-1, -1, NO_SPAN, null)
    s = start_logits[first:last].astype(np.float32)
    e = end_logits[first:last].astype(np.float32)
    n = len(s)
    pair = s[:, None] + e[None, :]
    i, j = np.indices((n, n))
    outside = (j < i) | (j - i >= MAX_ANSWER_TOKENS)
    if groups is not None:
        outside |= groups[:, None] != groups[None, :]
    pair[outside] = -np.inf
    flat = int(np.argmax(pair))
    a, b = divmod(flat, n)
    return SpanGuess(window.offsets[first + a][0], window.offsets[first + b][1], float(pair[a, b]), null)
