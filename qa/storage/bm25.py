"""BM25 over passage texts (bm25s, English stopwords, Snowball stemming), saved beside the vectors.

bm25s builds and saves the index: per term, the BM25 weight of every passage holding it (a sparse
column). Questions are scored here straight from those saved arrays (memory-mapped) with bm25s's own
tokenization rules, so answering never imports bm25s, whose import of scipy costs ~0.25 s of a cold
start. tests/storage/test_bm25.py checks the scores equal bm25s's own.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.text.words import stem_words

_ROWS = "rows.npy"
_STOPWORDS = "stopwords.json"  # the exact list bm25s removed at build time
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token_pattern (scikit-learn's)
# stemmed question words: not counted in the ceiling when no passage holds them (they do count when one does)
_QUESTION_WORDS = frozenset(stem_words(["who", "whom", "whose", "what", "which", "when", "where", "why", "how"]))


@dataclass(frozen=True)
class QueryScores:
    """One query's BM25 for every passage of the index, and the most any passage could score for it."""

    rows: np.ndarray  # the index's rows, ascending
    values: np.ndarray  # the BM25 of each, in the same order
    ceiling: float  # the sum of the query's words' idf, unknown words included: BM25's term part is below 1

    def of(self, rows: Iterable[int]) -> dict[int, float]:
        """row -> its BM25 (0.0 for a row the index does not hold)."""
        wanted = np.fromiter((int(row) for row in rows), dtype=np.int64)
        where = np.minimum(np.searchsorted(self.rows, wanted), max(len(self.rows) - 1, 0))
        out: dict[int, float] = {}
        for row, place in zip(wanted.tolist(), where.tolist(), strict=True):
            held = len(self.rows) > 0 and int(self.rows[place]) == row
            out[row] = float(self.values[place]) if held else 0.0
        return out


class LexicalIndex:
    """A BM25 index over passages; its document i is the passage whose row is `rows[i]` (ascending)."""

    def __init__(self, rows: np.ndarray, columns: _Columns | None, model: Any = None) -> None:
        self.rows = rows
        self.size = len(rows)
        self._columns = columns  # None when no passage has a single indexable word
        self._model = model  # the bm25s.BM25 model right after a build (saved by save()); bm25s has no types

    @classmethod
    def build(cls, texts: Sequence[str], rows: np.ndarray | None = None) -> LexicalIndex:
        """The index of `texts`, whose rows are `rows` (ascending; default 0..n-1)."""
        rows = np.arange(len(texts), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        return cls.build_batches([(rows, texts)])

    @classmethod
    def build_batches(cls, batches: Iterable[tuple[np.ndarray, Sequence[str]]]) -> LexicalIndex:
        """The index of texts read a batch at a time ((rows, texts), rows ascending throughout).

        Tokenised as `bm25s.tokenize(texts, stopwords="en", stemmer=stem_words)` does (lower-cased, its
        token pattern and stoplist, each distinct word stemmed once), but a passage's words are kept as
        4-byte ids (`array("i")`) instead of Python lists of ints (~36 bytes a word), and no text is held
        past its batch: the build's memory is the index's own size plus 4 bytes a word. bm25s then scores
        and saves them. The term ids are numbered by first appearance (bm25s numbers them in set order).
        """
        import logging

        import bm25s  # build time only

        logging.getLogger("bm25s").setLevel(logging.ERROR)
        stopwords = frozenset(bm25s.tokenization._infer_stopwords("en"))  # noqa: SLF001 - the list it uses
        word_ids: dict[str, int] = {}
        documents: list[array[int]] = []
        parts: list[np.ndarray] = []
        for rows, texts in batches:
            parts.append(np.asarray(rows, dtype=np.int64))
            for text in texts:
                words = array("i")
                for token in _TOKEN.findall(text.lower()):
                    if token not in stopwords:
                        words.append(word_ids.setdefault(token, len(word_ids)))
                documents.append(words)
        rows = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        if len(rows) != len(documents):
            raise ValueError("BM25 needs one row per text")
        if len(rows) > 1 and np.any(np.diff(rows) <= 0):
            raise ValueError("BM25 rows must be ascending")
        if not word_ids:
            return cls(rows, None)
        stems = stem_words(list(word_ids))
        vocab = {stem: i for i, stem in enumerate(dict.fromkeys(stems))}
        stem_of = array("i", (vocab[stem] for stem in stems))
        for i, words in enumerate(documents):
            documents[i] = array("i", (stem_of[word] for word in words))
        model = bm25s.BM25()
        model.index((documents, vocab), show_progress=False)
        columns = _Columns(
            model.scores["data"],
            model.scores["indices"],
            model.scores["indptr"],
            model.vocab_dict,
            stopwords,
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

    def scored(self, query: str) -> QueryScores | None:
        """Every passage's BM25 for `query`; None when no word of it is in the index."""
        if self._columns is None or self.size == 0:
            return None
        words = self._columns.words(query)
        ids = [self._columns.vocab[word] for word in words if word in self._columns.vocab]
        if not ids:
            return None
        # a question word a small corpus happens to lack ("who") says nothing of what is asked about
        unknown = sum(word not in self._columns.vocab and word not in _QUESTION_WORDS for word in words)
        return QueryScores(np.asarray(self.rows), self._columns.scores(ids), self._columns.ceiling(ids, unknown))

    def search(self, query: str, n: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the best `n` passages (among rows `allowed`) with a positive score, best first."""
        scored = self.scored(query)
        return self.best(scored, n, allowed) if scored is not None else _nothing()

    def best(self, scored: QueryScores, n: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the best `n` of `scored` (among rows `allowed`) with a positive score, best first."""
        scores = scored.values
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


def _nothing() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)


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

    def words(self, text: str) -> list[str]:
        """`text` tokenized as bm25s does: lower-cased, stopwords dropped, stemmed (repeats kept)."""
        words = [w for w in _TOKEN.findall(text.lower()) if w not in self.stopwords]
        return stem_words(words) if words else []

    def ceiling(self, ids: list[int], unknown: int = 0) -> float:
        """The sum of the query's words' idf (bm25s's Lucene idf), `unknown` words that no passage holds
        counted with the idf of such a word: no passage scores more, and a question whose words the corpus
        lacks keeps a high ceiling, so the few words it shares with a passage give it a low share."""
        frequency = (self.indptr[np.asarray(ids) + 1] - self.indptr[np.asarray(ids)]).astype(np.float64)
        known = float(np.log(1.0 + (self.num_docs - frequency + 0.5) / (frequency + 0.5)).sum())
        return known + unknown * float(np.log(1.0 + (self.num_docs + 0.5) / 0.5))

    def scores(self, ids: list[int]) -> np.ndarray:
        """BM25 of every passage for these terms, as bm25s computes it (a repeated term counts again)."""
        starts, ends = self.indptr[ids], self.indptr[np.asarray(ids) + 1]
        where = np.concatenate([self.indices[s:e] for s, e in zip(starts, ends, strict=True)])
        weights = np.concatenate([self.data[s:e] for s, e in zip(starts, ends, strict=True)])
        return np.bincount(where, weights=weights, minlength=self.num_docs).astype(np.float32)
