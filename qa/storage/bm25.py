"""BM25 over passage texts (bm25s, English stopwords, Snowball stemming), saved beside the vectors.

bm25s builds and saves the index: per term, the BM25 weight of every passage holding it (a sparse
column). Questions are scored here straight from those saved arrays (memory-mapped) with bm25s's own
tokenization rules, so answering never imports bm25s, whose import of scipy costs ~0.25 s of a cold
start. tests/storage/test_bm25.py checks the scores equal bm25s's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.text.words import stem_words

_ROWS = "rows.npy"
_STOPWORDS = "stopwords.json"  # the exact list bm25s removed at build time
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token_pattern (scikit-learn's)


class LexicalIndex:
    """A BM25 index over passages; its document i is the passage whose row is `rows[i]` (ascending)."""

    def __init__(self, rows: np.ndarray, columns: _Columns | None, model: Any = None) -> None:
        self.rows = rows
        self.size = len(rows)
        self._columns = columns  # None when no passage has a single indexable word
        self._model = model  # the bm25s.BM25 model right after a build (saved by save()); bm25s has no types

    @classmethod
    def build(cls, texts: Sequence[str], rows: np.ndarray | None = None) -> LexicalIndex:
        import logging

        import bm25s  # build time only

        logging.getLogger("bm25s").setLevel(logging.ERROR)
        rows = np.arange(len(texts), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        if len(rows) > 1 and np.any(np.diff(rows) <= 0):
            raise ValueError("BM25 rows must be ascending")
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=stem_words, show_progress=False)
        if not tokens.vocab:
            return cls(rows, None)
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        columns = _Columns(
            model.scores["data"],
            model.scores["indices"],
            model.scores["indptr"],
            model.vocab_dict,
            frozenset(bm25s.tokenization._infer_stopwords("en")),  # noqa: SLF001 - the list it used
            len(rows),
        )
        return cls(rows, columns, model)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / _ROWS, self.rows, allow_pickle=False)
        if self._model is not None and self._columns is not None:
            self._model.save(str(folder))
            (folder / _STOPWORDS).write_text(json.dumps(sorted(self._columns.stopwords)), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        rows = np.load(folder / _ROWS, mmap_mode="r", allow_pickle=False)
        if not (folder / "params.index.json").is_file():
            return cls(rows, None)
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        columns = _Columns(
            np.load(folder / "data.csc.index.npy", mmap_mode="r", allow_pickle=False),
            np.load(folder / "indices.csc.index.npy", mmap_mode="r", allow_pickle=False),
            np.load(folder / "indptr.csc.index.npy", mmap_mode="r", allow_pickle=False),
            json.loads((folder / "vocab.index.json").read_text(encoding="utf-8")),
            _stopwords(folder),
            int(params["num_docs"]),
        )
        if columns.num_docs != len(rows):
            raise ValueError("the BM25 index and its rows disagree")
        return cls(rows, columns)

    def search(self, query: str, n: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the best `n` passages (among rows `allowed`) with a positive score, best first."""
        empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._columns is None or self.size == 0:
            return empty
        scores = self._columns.scores(query)
        if scores is None:
            return empty
        if allowed is not None:
            mask = np.zeros(self.size, dtype=bool)
            allowed = np.asarray(allowed, dtype=np.int64)
            where = np.searchsorted(self.rows, allowed)
            inside = where < self.size
            where, allowed = where[inside], allowed[inside]
            mask[where[np.asarray(self.rows)[where] == allowed]] = True
            scores = np.where(mask, scores, 0.0)
        n = min(n, self.size)
        top = np.argpartition(-scores, n - 1)[:n] if n < self.size else np.arange(self.size)
        top = top[scores[top] > 0]
        top = top[np.argsort(-scores[top], kind="stable")]
        return np.asarray(self.rows)[top].astype(np.int64), scores[top].astype(np.float32)


def _stopwords(folder: Path) -> frozenset[str]:
    if (folder / _STOPWORDS).is_file():
        return frozenset(json.loads((folder / _STOPWORDS).read_text(encoding="utf-8")))
    import bm25s  # an index saved before the list was: ask bm25s (slower to import, same list)

    return frozenset(bm25s.tokenization._infer_stopwords("en"))  # noqa: SLF001


class _Columns:
    """bm25s's saved score matrix (CSC: one column of passage weights per term) and its vocabulary."""

    def __init__(
        self,
        data: np.ndarray,
        indices: np.ndarray,
        indptr: np.ndarray,
        vocab: dict[str, int],
        stopwords: frozenset[str],
        num_docs: int,
    ) -> None:
        self.data, self.indices, self.indptr = data, indices, indptr
        self.vocab, self.stopwords, self.num_docs = vocab, stopwords, num_docs

    def scores(self, query: str) -> np.ndarray | None:
        """BM25 of every passage for `query`, as bm25s computes it (a repeated term counts again)."""
        words = [w for w in _TOKEN.findall(query.lower()) if w not in self.stopwords]
        ids = [self.vocab[t] for t in stem_words(words) if t in self.vocab] if words else []
        if not ids:
            return None
        starts, ends = self.indptr[ids], self.indptr[np.asarray(ids) + 1]
        where = np.concatenate([self.indices[s:e] for s, e in zip(starts, ends, strict=True)])
        weights = np.concatenate([self.data[s:e] for s, e in zip(starts, ends, strict=True)])
        return np.bincount(where, weights=weights, minlength=self.num_docs).astype(np.float32)
