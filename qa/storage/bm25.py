"""BM25 over passage texts (bm25s's scoring, English stopwords, Snowball stemming), saved beside the vectors.

The index is bm25s's, in bm25s's files: per term, the BM25 weight of every passage holding it (a sparse
column). It is written here in two streaming passes with flat memory (`_write`), where bm25s would hold
every passage's tokens and its sparse-matrix construction (~60 bytes per passage-word pair) at once.
Questions are scored straight from the saved arrays (memory-mapped) with bm25s's tokenization rules, so
answering never imports bm25s, whose import of scipy costs ~0.25 s of a cold start.
tests/storage/test_bm25.py checks the scores equal bm25s's own.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import shutil
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np

from qa.text.words import stem_words

_ROWS = "rows.npy"
# bm25s's file names, so that bm25s.BM25.load reads the index too
_DATA, _INDICES, _INDPTR = "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"
_VOCAB, _PARAMS = "vocab.index.json", "params.index.json"
_PAIRS = "pairs.tmp"  # the build's scratch file: one (term, passage, count) per distinct word of a passage
_ROWS_SCRATCH = "rows.tmp"  # and the rows, until their count is known
_PAIR = np.dtype([("term", "<i4"), ("doc", "<i4"), ("tf", "<i4")])
_K1, _B = 1.5, 0.75  # bm25s's defaults (method "lucene")
_CHUNK = 1 << 18  # scratch pairs read at a time (3 MiB; ~20 MiB with the arrays derived from them)
_SPAN = 1 << 22  # output entries (term weights) assembled in memory at a time: 32 MiB of data and indices
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

    def __init__(self, rows: np.ndarray, columns: _Columns | None, folder: Path | None = None) -> None:
        self.rows = rows
        self.size = len(rows)
        self._columns = columns  # None when no passage has a single indexable word
        self._folder = folder  # where its files are, when it was built or loaded from a folder

    @property
    def stopwords(self) -> frozenset[str]:
        """The stoplist its passages were tokenised with (bm25s's English list)."""
        return self._columns.stopwords if self._columns is not None else _build_stopwords()

    @classmethod
    def build(cls, texts: Sequence[str], rows: np.ndarray | None = None) -> LexicalIndex:
        """The index of `texts`, whose rows are `rows` (ascending; default 0..n-1), held in memory."""
        rows = np.arange(len(texts), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        return cls.build_batches([(rows, texts)])

    @classmethod
    def build_batches(
        cls, batches: Iterable[tuple[np.ndarray, Sequence[str]]], folder: Path | None = None
    ) -> LexicalIndex:
        """The index of texts read a batch at a time ((rows, texts), rows ascending throughout).

        Written into `folder` (memory-mapped from there), or held in memory when `folder` is None. The
        build's memory does not grow with the corpus beyond its vocabulary and 8 bytes a passage: see
        `_write`. The files and scores are bm25s's (tests/storage/test_bm25.py checks them against it).
        """
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            _write(folder, batches)
            return cls.load(folder)
        with tempfile.TemporaryDirectory(prefix="bm25-") as scratch:
            _write(Path(scratch), batches)
            return cls.load(Path(scratch), in_memory=True)

    def save(self, folder: Path) -> None:
        """Write the index's files into `folder` (nothing to do when it was built there)."""
        if self._folder is not None and self._folder.resolve() == folder.resolve():
            return
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        np.save(folder / _ROWS, np.asarray(self.rows), allow_pickle=False)
        if self._columns is None:
            return
        columns = self._columns
        np.save(folder / _DATA, np.asarray(columns.data), allow_pickle=False)
        np.save(folder / _INDICES, np.asarray(columns.indices), allow_pickle=False)
        np.save(folder / _INDPTR, np.asarray(columns.indptr), allow_pickle=False)
        _write_json(folder / _VOCAB, columns.vocab)
        _write_json(folder / _STOPWORDS, sorted(columns.stopwords))
        _write_json(folder / _PARAMS, _params(columns.num_docs))

    @classmethod
    def load(cls, folder: Path, in_memory: bool = False) -> LexicalIndex:
        mode: Literal["r"] | None = None if in_memory else "r"
        rows = np.load(folder / _ROWS, mmap_mode=mode, allow_pickle=False)
        if not (folder / _PARAMS).is_file():
            return cls(rows, None, None if in_memory else folder)
        params = json.loads((folder / _PARAMS).read_text(encoding="utf-8"))
        columns = _Columns(
            np.load(folder / _DATA, mmap_mode=mode, allow_pickle=False),
            np.load(folder / _INDICES, mmap_mode=mode, allow_pickle=False),
            np.load(folder / _INDPTR, mmap_mode=mode, allow_pickle=False),
            json.loads((folder / _VOCAB).read_text(encoding="utf-8")),
            _stopwords(folder),
            int(params["num_docs"]),
        )
        if columns.num_docs != len(rows):
            raise ValueError("the BM25 index and its rows disagree")
        return cls(rows, columns, None if in_memory else folder)

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


def bm25_words(text: str, stopwords: frozenset[str]) -> list[str]:
    """`text`'s BM25 words as this index tokenises them: lower-cased, bm25s's token pattern, `stopwords`
    dropped, Snowball-stemmed (repeats kept, in order)."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stopwords]
    return stem_words(words) if words else []


def _write(folder: Path, batches: Iterable[tuple[np.ndarray, Sequence[str]]]) -> None:
    """Write the BM25 index of the batches' texts into `folder` in two passes, with flat memory.

    Tokenised as `bm25s.tokenize(texts, stopwords="en", stemmer=stem_words)` does: lower-cased, its token
    pattern and stoplist, each distinct word stemmed once. Pass one appends each passage's (term, passage,
    count) triples to a scratch file, keeping only the vocabulary, the document frequencies and each
    passage's length (4 bytes). Pass two weighs the triples as bm25s does (Lucene idf, k1 1.5, b 0.75) and
    writes bm25s's CSC arrays (per term, the weight of each passage holding it, passages ascending) a
    range of terms at a time: the arrays of at most `_SPAN` entries are assembled in memory and appended
    to the files, so memory stays the same whatever the corpus's size; a corpus past that span re-reads
    the scratch file once per range.
    """
    for stale in folder.iterdir():  # an interrupted build's leftovers
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    stopwords = _build_stopwords()
    term_of: dict[str, int] = {}  # a word as written -> the id of its stem
    vocab: dict[str, int] = {}  # stem -> id, numbered by first appearance
    lengths = array("i")  # each passage's words: the only thing kept per passage (4 bytes)
    frequency = np.zeros(0, dtype=np.int64)
    last = -1
    with open(folder / _PAIRS, "wb") as scratch, open(folder / _ROWS_SCRATCH, "wb") as row_scratch:
        for rows, texts in batches:
            rows = np.asarray(rows, dtype=np.int64)
            if len(rows) != len(texts):
                raise ValueError("BM25 needs one row per text")
            if len(rows) and (rows[0] <= last or np.any(np.diff(rows) <= 0)):
                raise ValueError("BM25 rows must be ascending")
            last = int(rows[-1]) if len(rows) else last
            rows.tofile(row_scratch)
            words = [[w for w in _TOKEN.findall(text.lower()) if w not in stopwords] for text in texts]
            new = list(dict.fromkeys(w for passage in words for w in passage if w not in term_of))
            for word, stem in zip(new, stem_words(new) if new else [], strict=True):
                term_of[word] = vocab.setdefault(stem, len(vocab))
            terms: list[int] = []
            docs: list[int] = []
            counts: list[int] = []
            for passage in words:
                tally = Counter(term_of[w] for w in passage)
                terms.extend(tally)
                counts.extend(tally.values())
                docs.extend([len(lengths)] * len(tally))
                lengths.append(len(passage))
            pairs = np.empty(len(terms), dtype=_PAIR)
            pairs["term"], pairs["doc"], pairs["tf"] = terms, docs, counts
            pairs.tofile(scratch)
            if len(vocab) > len(frequency):
                frequency = np.concatenate([frequency, np.zeros(len(vocab) - len(frequency), dtype=np.int64)])
            frequency += np.bincount(pairs["term"], minlength=len(frequency))
    _copy_into_npy(folder / _ROWS_SCRATCH, folder / _ROWS, np.int64, len(lengths))
    if vocab:
        _weigh(folder, frequency, np.frombuffer(lengths, dtype=np.int32) if lengths else np.zeros(0, np.int32))
        _write_json(folder / _VOCAB, vocab)
        _write_json(folder / _STOPWORDS, sorted(stopwords))
        _write_json(folder / _PARAMS, _params(len(lengths)))
    (folder / _PAIRS).unlink()


def _copy_into_npy(scratch: Path, path: Path, dtype: type, count: int) -> None:
    """The raw values in `scratch` as the .npy file `path` (copied a block at a time); `scratch` removed."""
    with _npy_writer(path, dtype, count) as out, open(scratch, "rb") as values:
        shutil.copyfileobj(values, out, 1 << 20)
    scratch.unlink()


def _weigh(folder: Path, frequency: np.ndarray, lengths: np.ndarray) -> None:
    """Pass two of `_write`: the scratch file's triples as bm25s's CSC arrays, a range of terms at a time."""
    indptr = np.zeros(len(frequency) + 1, dtype=np.int64)
    np.cumsum(frequency, out=indptr[1:])
    np.save(folder / _INDPTR, indptr, allow_pickle=False)
    n, average = len(lengths), float(lengths.mean())
    # bm25s computes these in float64 (numpy promotes its float32 term counts) and stores float32
    idf = np.log(1.0 + (n - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
    total = int(indptr[-1])
    with (
        _npy_writer(folder / _DATA, np.float32, total) as data_file,
        _npy_writer(folder / _INDICES, np.int32, total) as indices_file,
    ):
        spans = [0]  # terms [spans[i], spans[i + 1]) at a time: one term at least, whatever its size
        while spans[-1] < len(frequency):
            last = int(np.searchsorted(indptr, indptr[spans[-1]] + _SPAN, side="right")) - 1
            spans.append(max(last, spans[-1] + 1))
        # one pair of buffers for every span (a fresh pair each time fragments the heap: measured)
        widest = max(int(indptr[b] - indptr[a]) for a, b in itertools.pairwise(spans))
        data_buffer, indices_buffer = np.empty(widest, dtype=np.float32), np.empty(widest, dtype=np.int32)
        for first, last in itertools.pairwise(spans):
            base = int(indptr[first])
            data, indices = data_buffer[: int(indptr[last]) - base], indices_buffer[: int(indptr[last]) - base]
            heads = indptr[first:last] - base
            with open(folder / _PAIRS, "rb") as scratch:
                while len(chunk := np.fromfile(scratch, dtype=_PAIR, count=_CHUNK)):
                    terms = chunk["term"]
                    if first > 0 or last < len(frequency):
                        chunk = chunk[(terms >= first) & (terms < last)]
                        terms = chunk["term"]
                    order = np.argsort(terms, kind="stable")  # passages stay ascending within a term
                    terms = terms[order] - first
                    docs = chunk["doc"][order]
                    tf = chunk["tf"][order].astype(np.float64)
                    within = np.arange(len(terms)) - np.searchsorted(terms, terms, side="left")
                    at = heads[terms] + within
                    norm = _K1 * ((1 - _B) + _B * lengths[docs].astype(np.float64) / average)  # bm25s's order
                    data[at] = idf[terms + first] * (tf / (norm + tf))
                    indices[at] = docs
                    heads += np.bincount(terms, minlength=last - first)
            data.tofile(data_file)
            indices.tofile(indices_file)


@contextlib.contextmanager
def _npy_writer(path: Path, dtype: type, count: int) -> Iterator[BinaryIO]:
    """A .npy file of `count` values of `dtype`, whose data the caller appends in order."""
    size = count * np.dtype(dtype).itemsize
    with open(path, "wb") as file:
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": (count,)}
        np.lib.format.write_array_header_1_0(file, header)
        start = file.tell()
        yield file
        if file.tell() - start != size:
            raise RuntimeError(f"BM25 wrote {file.tell() - start} bytes of {size} into {path.name}")


def _params(num_docs: int) -> dict[str, Any]:
    """bm25s's params.index.json for an index of `num_docs` passages built as `_write` builds."""
    return {
        "k1": _K1,
        "b": _B,
        "delta": 0.5,
        "method": "lucene",
        "idf_method": "lucene",
        "dtype": "float32",
        "int_dtype": "int32",
        "num_docs": num_docs,
        "backend": "numpy",
    }


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")


def _build_stopwords() -> frozenset[str]:
    import bm25s.tokenization  # build time only (its import brings scipy)

    return frozenset(bm25s.tokenization._infer_stopwords("en"))  # noqa: SLF001 - the list bm25s.tokenize uses


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
        return bm25_words(text, self.stopwords)

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
