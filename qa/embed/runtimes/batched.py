"""What every bulk runtime shares: tokenize, batch texts of similar length, mean-pool and normalise."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.embed.pooling import load_tokenizer, model_inputs, pool_ranges, sentence_vectors, token_ranges, tokenize
from qa.records import Progress

if TYPE_CHECKING:
    from tokenizers import Encoding

# Tokens per batch, padding included (measured on 2 cores): OpenVINO runs a few small batches at once (4
# passages of 256 tokens each), torch and onnxruntime one large batch at a time. Never more than MAX_BATCH texts.
TOKENS_PER_BATCH = 1024
MAX_BATCH = 64

Batch = tuple[np.ndarray, dict[str, np.ndarray]]  # (rows of the texts in the output, the model's inputs)
Spans = Sequence[Sequence[tuple[int, int]]]  # per text, spans of it (character offsets) to pool on their own


class Sink:
    """Where a run's outputs go: each text's unit vector, and with `ranges` (per text, token ranges of its
    spans) each span's vector pooled from the same token states. Filled from OpenVINO's threads too."""

    def __init__(self, out: np.ndarray, ranges: list[list[tuple[int, int] | None]] | None = None) -> None:
        self.out = out
        self.ranges = ranges
        self.spans: list[np.ndarray] = [np.zeros((0, out.shape[1]), np.float32) for _ in ranges or ()]

    @property
    def needs_tokens(self) -> bool:
        return self.ranges is not None

    def tokens(self, rows: np.ndarray, hidden: np.ndarray, mask: np.ndarray) -> None:
        """A batch's token vectors (batch, tokens, dim) for texts `rows`."""
        self.out[rows] = sentence_vectors(hidden, mask)
        if self.ranges is not None:
            for position, row in enumerate(rows.tolist()):
                self.spans[row] = pool_ranges(hidden[position], self.ranges[row])

    def pooled(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """A batch's unit vectors, pooled inside the model (only when no span is wanted)."""
        self.out[rows] = vectors


class BatchedEmbedder:
    """Tokenize with `tokenizers`, batch by similar length, mean-pool and normalise; subclasses run the model."""

    backend: str  # set by each runtime: the name a build records in its manifest
    tokens_per_batch = TOKENS_PER_BATCH

    def __init__(self, model_path: Path, name: str, dim: int) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # as the reference: no thread pool, no fork warning
        self.name = name
        self.path = model_path
        self._dim = dim
        self._tokenizer = load_tokenizer(model_path)
        self._lock = threading.Lock()  # one embed at a time: the tokenizer and the runtimes are not shared

    @property
    def dim(self) -> int:
        return self._dim

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, backend={self.backend!r})"

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        if not len(texts):
            return out
        with self._lock:
            self._run(self._batches(tokenize(self._tokenizer, texts)), Sink(out), len(texts), progress)
        return out

    def embed_with_spans(
        self, texts: Sequence[str], spans: Spans, progress: Progress | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector and, from the same forward pass, a vector per span of it (late chunking): the
        mean of the text's token vectors inside the span, normalised. A span that truncation cut off the
        text's tokens is encoded on its own."""
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        if not len(texts):
            return out, []
        with self._lock:
            encodings = tokenize(self._tokenizer, texts)
            ranges = [token_ranges(t, e.offsets, s) for t, e, s in zip(texts, encodings, spans, strict=True)]
            sink = Sink(out, ranges)
            self._run(self._batches(encodings), sink, len(texts), progress)
        cut = [(row, place) for row, found in enumerate(ranges) for place, r in enumerate(found) if r is None]
        if cut:
            alone = self.embed([texts[row][slice(*spans[row][place])] for row, place in cut])
            for (row, place), vector in zip(cut, alone, strict=True):
                sink.spans[row][place] = vector
        return out, sink.spans

    def _batches(self, encodings: Sequence[Encoding]) -> Iterator[Batch]:
        """The batches, longest texts first, each about `tokens_per_batch` tokens."""
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        begin = 0
        while begin < len(order):
            width = self._width(max(int(lengths[order[begin]]), 1))
            size = max(1, min(MAX_BATCH, self.tokens_per_batch // width))
            rows = order[begin : begin + size]
            yield rows, model_inputs([encodings[index] for index in rows], width)
            begin += size

    def _width(self, longest: int) -> int:
        """The padded width of a batch whose longest text has `longest` tokens."""
        return longest

    def _run(self, batches: Iterator[Batch], sink: Sink, total: int, progress: Progress | None) -> None:
        done = 0
        for rows, arrays in batches:
            sink.tokens(rows, self._infer(arrays), arrays["attention_mask"])
            done += len(rows)
            if progress:
                progress(done, total)

    def _infer(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """The model's token vectors (batch, tokens, dim) for a batch."""
        raise NotImplementedError
