"""BM25 over passage texts (bm25s, English stopwords, Snowball stemming), saved beside the vectors."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

_STEMMER = Stemmer.Stemmer("english")
logging.getLogger("bm25s").setLevel(logging.ERROR)


class LexicalIndex:
    """A BM25 index whose document i is passage i."""

    def __init__(self, model: bm25s.BM25 | None, size: int) -> None:
        self._model = model  # None when no passage has a single indexable word
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_STEMMER, show_progress=False)
        if not tokens.vocab:
            return cls(None, len(texts))
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        return cls(model, len(texts))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._model is not None:
            self._model.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        if not (folder / "params.index.json").is_file():
            return cls(None, size)
        return cls(bm25s.BM25.load(str(folder)), size)

    def search(self, query: str, n: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the best `n` passages (among rows `allowed`) with a positive score, best first."""
        empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._model is None or self.size == 0:
            return empty
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)
        if not tokens[0]:
            return empty
        mask = None
        if allowed is not None:
            mask = np.zeros(self.size, dtype=np.float32)
            mask[allowed] = 1.0
        rows, scores = self._model.retrieve(
            tokens, k=min(n, self.size), show_progress=False, n_threads=1, weight_mask=mask
        )
        keep = scores[0] > 0
        return rows[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)
