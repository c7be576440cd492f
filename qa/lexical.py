"""BM25 over passage texts (bm25s, English stopwords, Snowball stemming), saved beside the vectors."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

_STEMMER = Stemmer.Stemmer("english")
_ROWS = "rows.npy"
logging.getLogger("bm25s").setLevel(logging.ERROR)


class LexicalIndex:
    """A BM25 index over passages; its document i is the passage whose row is `rows[i]` (ascending)."""

    def __init__(self, model: bm25s.BM25 | None, rows: np.ndarray) -> None:
        self._model = model  # None when no passage has a single indexable word
        self.rows = rows
        self.size = len(rows)

    @classmethod
    def build(cls, texts: Sequence[str], rows: np.ndarray | None = None) -> LexicalIndex:
        rows = np.arange(len(texts), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        if len(rows) > 1 and np.any(np.diff(rows) <= 0):
            raise ValueError("BM25 rows must be ascending")
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_STEMMER, show_progress=False)
        if not tokens.vocab:
            return cls(None, rows)
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        return cls(model, rows)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / _ROWS, self.rows, allow_pickle=False)
        if self._model is not None:
            self._model.save(str(folder))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        rows = np.load(folder / _ROWS, mmap_mode="r", allow_pickle=False)
        if not (folder / "params.index.json").is_file():
            return cls(None, rows)
        return cls(bm25s.BM25.load(str(folder), mmap=True), rows)

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
            allowed = np.asarray(allowed, dtype=np.int64)
            where = np.searchsorted(self.rows, allowed)
            inside = where < self.size
            where, allowed = where[inside], allowed[inside]
            mask[where[np.asarray(self.rows)[where] == allowed]] = 1.0
        rows, scores = self._model.retrieve(
            tokens, k=min(n, self.size), show_progress=False, n_threads=1, weight_mask=mask
        )
        keep = scores[0] > 0
        return np.asarray(self.rows)[rows[0][keep]].astype(np.int64), scores[0][keep].astype(np.float32)
