"""What every bulk runtime shares: tokenize, batch texts of similar length, mean-pool and normalise."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from qa.embed.pooling import load_tokenizer, model_inputs, sentence_vectors, tokenize
from qa.records import Progress

# Tokens per batch, padding included (measured on 2 cores): OpenVINO runs a few small batches at once (4
# passages of 256 tokens each), torch and onnxruntime one large batch at a time. Never more than MAX_BATCH texts.
TOKENS_PER_BATCH = 1024
MAX_BATCH = 64

Batch = tuple[np.ndarray, dict[str, np.ndarray]]  # (rows of the texts in the output, the model's inputs)


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
            self._run(self._batches(texts), out, len(texts), progress)
        return out

    def _batches(self, texts: Sequence[str]) -> Iterator[Batch]:
        """The batches, longest texts first, each about `tokens_per_batch` tokens."""
        encodings = tokenize(self._tokenizer, texts)
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

    def _run(self, batches: Iterator[Batch], out: np.ndarray, total: int, progress: Progress | None) -> None:
        done = 0
        for rows, arrays in batches:
            out[rows] = sentence_vectors(self._infer(arrays), arrays["attention_mask"])
            done += len(rows)
            if progress:
                progress(done, total)

    def _infer(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """The model's token vectors (batch, tokens, dim) for a batch."""
        raise NotImplementedError
