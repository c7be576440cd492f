"""The shipped reader at question time: onnxruntime and the bundled tokenizer, no torch.

`Reader.read(question, passages)` reads each passage with the question and returns one `Reading` per
passage: its best answer span, the no-answer score, the window's answer logit and a score per sentence.
Every offset is a character offset into the passage text given, so a span is an exact slice of it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError
from qa.read.data import context_sentences
from qa.read.decode import best_span
from qa.read.files import CARD, WEIGHTS_DIR, sha256_of
from qa.read.fit import ReaderFit
from qa.read.windows import Window, WindowMaker

__all__ = ["Reader", "ReaderError", "Reading", "SentenceScore", "reader_fit", "shipped_reader"]

READ_LENGTH = 256  # tokens per window at question time (as trained)
# Dynamic int8 quantization scales a call's activations together: a window run beside others would score a
# little differently. One window a call keeps a passage's reading its own (and needs no padding: faster).
WORKERS = 2  # windows run on this many threads at once (onnxruntime releases the GIL)


class ReaderError(QAError):
    """The shipped reader's weights are missing or are not the file its card names."""


@dataclass(frozen=True)
class SentenceScore:
    start: int
    end: int
    score: float  # mean "answering sentence" logit over the sentence's tokens


@dataclass(frozen=True)
class Reading:
    """What the reader made of one passage (offsets into the passage text)."""

    span_start: int
    span_end: int
    span_score: float  # best start + end logit
    null: float  # no-answer score: start + end logit at [CLS] (the lowest over the passage's windows)
    answer_logit: float  # "this passage answers the question" (the highest over its windows)
    sentences: tuple[SentenceScore, ...]

    @property
    def margin(self) -> float:
        """How far the best span beats "no answer here" (positive: the reader found an answer)."""
        return self.span_score - self.null

    def sentence(self) -> SentenceScore | None:
        """The reader's best sentence: the one holding its best span, else the highest-scored one."""
        for s in self.sentences:
            if s.start <= self.span_start < s.end:
                return s
        return max(self.sentences, key=lambda s: s.score, default=None)


class Reader:
    """Reads (question, passage) pairs with the ONNX reader; thread-safe."""

    def __init__(self, onnx_file: Path, tokenizer_file: Path, threads: int = 1) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self._maker = WindowMaker.from_file(str(tokenizer_file), READ_LENGTH)
        self._lock = threading.Lock()  # the tokenizer is not shared across threads safely
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="newsqa-reader")

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]:
        if not passages:
            return []
        with self._lock:
            q = self._maker.question_ids(question)
            tokens = self._maker.passage_tokens(list(passages))
            windows = [(p, w) for p, t in enumerate(tokens) for w in self._maker.windows(q, t)]
        outputs = self._run([w for _, w in windows])
        per_passage: list[list[tuple[Window, tuple[np.ndarray, ...]]]] = [[] for _ in passages]
        for (p, w), out in zip(windows, outputs, strict=True):
            per_passage[p].append((w, out))
        return [_reading(text, read) for text, read in zip(passages, per_passage, strict=True)]

    def _run(self, windows: list[Window]) -> list[tuple[np.ndarray, ...]]:
        """Each window's (start, end, sentence logits, answer logit), one window a call, WORKERS at once."""
        if len(windows) < 2:
            return [self._one(w) for w in windows]
        return list(self._pool.map(self._one, windows))

    def _one(self, window: Window) -> tuple[np.ndarray, ...]:
        feed = {
            "input_ids": np.array([window.ids], np.int64),
            "attention_mask": np.ones((1, len(window.ids)), np.int64),
            "token_type_ids": np.array([window.type_ids], np.int64),
        }
        start, end, sentence, answer = self._session.run(None, feed)
        return start[0], end[0], sentence[0], answer[0]


def _reading(text: str, read: list[tuple[Window, tuple[np.ndarray, ...]]]) -> Reading:
    spans = context_sentences(text)
    ends = np.array([e for _, e in spans])
    scores = [-np.inf] * len(spans)
    guesses = []
    for w, out in read:
        starts = np.array([o[0] for o in w.offsets[w.first : w.last]], dtype=np.int64)
        groups = np.searchsorted(ends, starts, side="right")  # the sentence each token starts in
        guesses.append(best_span(w, out[0], out[1], groups))  # a span never crosses a sentence end
        logits = out[2][w.first : w.last]
        for k, (s, e) in enumerate(spans):
            inside = (starts >= s) & (starts < e)
            if inside.any():
                scores[k] = max(scores[k], float(logits[inside].mean()))
    top = max(guesses, key=lambda g: g.score)
    return Reading(
        span_start=top.start,
        span_end=top.end,
        span_score=top.score,
        null=min(g.null for g in guesses),
        answer_logit=max(float(out[3]) for _, out in read),
        sentences=tuple(SentenceScore(s, e, sc) for (s, e), sc in zip(spans, scores, strict=True) if sc > -np.inf),
    )


def card() -> dict[str, Any]:
    """The shipped reader's card (qa/read/weights/reader.json): its file, sha256 and fitted settings."""
    try:
        loaded: dict[str, Any] = json.loads(CARD.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReaderError(f"the reader's card {CARD} cannot be read ({exc}); reinstall newsqa") from None
    return loaded


def reader_fit() -> ReaderFit:
    """The answer-time settings fitted for the shipped weights (the card's "fit" block)."""
    info = card()
    block = info.get("fit")
    if not isinstance(block, dict) or block.get("weights_sha256") != info.get("sha256"):
        raise ReaderError(
            f"the reader's card {CARD} has no settings fitted for its weights; run python bench/reader_fit.py --write"
        )
    try:
        return ReaderFit.of(block)
    except (KeyError, ValueError, TypeError) as exc:
        raise ReaderError(f"the reader's card {CARD} has malformed settings ({exc}); reinstall newsqa") from None


@lru_cache(maxsize=1)
def shipped_reader(model_dir: str) -> Reader:
    """The reader shipped in the package, its hash checked against the card; tokenizer of `model_dir`."""
    info = card()
    onnx_file = WEIGHTS_DIR / str(info.get("file", "reader.onnx"))
    if not onnx_file.is_file():
        raise ReaderError(f"the reader's weights are missing ({onnx_file}); reinstall newsqa, or answer with --fast")
    if sha256_of(onnx_file) != info.get("sha256"):
        raise ReaderError(
            f"the reader's weights {onnx_file} are not the file its card names (sha256 differs); reinstall newsqa"
        )
    return Reader(onnx_file, Path(model_dir) / "tokenizer.json")
