"""Evidence features of a question's candidate passages, for reranking them (issue 13, item 1). Experimental.

Nothing on the default path reads this module: `Retriever.search` ranks by today's hybrid score.
bench/rerank.py computes these features for the top fused candidates of each question, fits a logistic
model on the fit splits only and reports it on held-out questions beside hybrid, dense and bm25.

Every feature is cheap and read from what the index stores: the passage and sentence vectors, the BM25
columns, the passages' texts and places in their documents, and the documents' headlines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.records import Passage
from qa.search.candidates import Candidates
from qa.search.highlight import Question, best_sentence, carries, overlap, question_of
from qa.search.ranking import Ranking, min_max
from qa.storage.generations import StoredIndex

# the columns of `features(...)`, in order
FEATURES: tuple[str, ...] = (
    "cosine",  # passage vector . question vector
    "cosine_gap",  # cosine - the best cosine among the question's candidates
    "bm25",  # raw BM25 of the passage (scored exactly, also when it was not in the BM25 top list)
    "bm25_share",  # bm25 / the question's best BM25
    "dense_norm",  # today's min-max cosine over the dense top list (0 when not in it)
    "bm25_norm",  # today's min-max BM25 over the BM25 top list (0 when not in it)
    "fused",  # today's hybrid score
    "dense_rr",  # 1 / rank in the dense list (0 when not in it)
    "bm25_rr",  # 1 / rank in the BM25 list (0 when not in it)
    "fused_rr",  # 1 / rank in today's hybrid order
    "sentence_cosine",  # the best stored sentence vector's cosine
    "sentence_gap",  # sentence_cosine - the best of it among the scored candidates
    "highlight_score",  # the highlighted sentence's score (qa.search.highlight.best_sentence)
    "highlight_overlap",  # share of the question's content words in the highlighted sentence
    "passage_overlap",  # share of the question's content words in the passage
    "kind_in_highlight",  # the question asks for a date / number / name and the highlighted sentence has one
    "kind_in_passage",  # ... and the passage has one
    "first_passage",  # the passage opens its document
    "passage_place",  # log(1 + its index among its document's passages)
    "headline_overlap",  # share of the question's content words in the document's headline
    "log_words",  # log of the passage's length in words
    "document_rows",  # log(1 + how many other of the given rows come from the same document)
    "document_best",  # the best hybrid score among the given rows of the same document
)


@dataclass(frozen=True)
class _Lists:
    """The question's candidate lists as today's ranking sees them."""

    dense: Ranking
    lexical: Ranking
    dense_norm: dict[int, float]
    lexical_norm: dict[int, float]
    fused: dict[int, float]


def features(
    index: StoredIndex, question: str, vector: np.ndarray, found: Candidates, rows: Sequence[int]
) -> np.ndarray:
    """(len(rows), len(FEATURES)) features of candidate `rows`, given in today's hybrid order (best first).

    `found` holds the question's dense and BM25 candidates (qa.search.candidates.gather in hybrid mode) and
    `vector` its (normalised) vector.
    """
    rows = [int(row) for row in rows]
    if not rows:
        return np.zeros((0, len(FEATURES)))
    lists = _Lists(
        found.dense,
        found.lexical,
        min_max(found.dense),
        min_max(found.lexical),
        found.fused("hybrid"),
    )
    asked = question_of(question)
    passages = index.passages(rows)
    cosines = _cosines(index, vector, found.cosine, rows)
    bm25 = _bm25(index, question, found.bm25, rows)
    places = _places(index, passages)
    columns = [
        *_retrieval_columns(lists, rows, cosines, bm25),
        *_sentence_columns(index, asked, vector, passages, rows),
        *_text_columns(index, asked, passages, rows, places),
        *_document_columns(lists, passages, rows),
    ]
    return np.column_stack(columns).astype(np.float64)


def _retrieval_columns(lists: _Lists, rows: list[int], cosines: np.ndarray, bm25: np.ndarray) -> list[np.ndarray]:
    best_cosine = max((score for _, score in lists.dense.values()), default=float(cosines.max()))
    best_bm25 = max((score for _, score in lists.lexical.values()), default=0.0)
    return [
        cosines,
        cosines - best_cosine,
        bm25,
        bm25 / best_bm25 if best_bm25 > 0 else np.zeros(len(rows)),
        np.array([lists.dense_norm.get(row, 0.0) for row in rows]),
        np.array([lists.lexical_norm.get(row, 0.0) for row in rows]),
        np.array([lists.fused.get(row, 0.0) for row in rows]),
        np.array([1.0 / lists.dense[row][0] if row in lists.dense else 0.0 for row in rows]),
        np.array([1.0 / lists.lexical[row][0] if row in lists.lexical else 0.0 for row in rows]),
        1.0 / np.arange(1, len(rows) + 1, dtype=np.float64),
    ]


def _sentence_columns(
    index: StoredIndex, asked: Question, vector: np.ndarray, passages: dict[int, Passage], rows: list[int]
) -> list[np.ndarray]:
    stored = index.sentences(rows)
    sentence_cosine, score, shares, kinds = [], [], [], []
    for row in rows:
        passage = passages[row]
        spans, vectors = stored.get(row, (np.zeros((0, 2), np.int64), np.zeros((0, len(vector)), np.float16)))
        cosines = np.asarray(vectors, dtype=np.float32) @ vector
        sentence_cosine.append(float(cosines.max()) if len(cosines) else 0.0)
        best = best_sentence(asked, vector, passage, (spans, vectors))
        text = passage.text[best.highlight.start - passage.start : best.highlight.end - passage.start] if best else ""
        score.append(best.score if best else 0.0)
        shares.append(overlap(asked, text))
        kinds.append(float(bool(asked.kind) and carries(asked.kind, text)))
    sentences = np.array(sentence_cosine)
    return [sentences, sentences - sentences.max(), np.array(score), np.array(shares), np.array(kinds)]


def _text_columns(
    index: StoredIndex, asked: Question, passages: dict[int, Passage], rows: list[int], places: dict[int, int]
) -> list[np.ndarray]:
    titles = {key: index.documents[key].title for key in {passages[row].doc_key for row in rows}}
    return [
        np.array([overlap(asked, passages[row].text) for row in rows]),
        np.array([float(bool(asked.kind) and carries(asked.kind, passages[row].text)) for row in rows]),
        np.array([float(places[row] == 0) for row in rows]),
        np.array([math.log1p(places[row]) for row in rows]),
        np.array([overlap(asked, titles[passages[row].doc_key] or "") for row in rows]),
        np.array([math.log(1 + len(passages[row].text.split())) for row in rows]),
    ]


def _document_columns(lists: _Lists, passages: dict[int, Passage], rows: list[int]) -> list[np.ndarray]:
    """How much of the question's evidence comes from the passage's document (among the given rows)."""
    count: dict[str, int] = {}
    best: dict[str, float] = {}
    for row in rows:
        key = passages[row].doc_key
        count[key] = count.get(key, 0) + 1
        best[key] = max(best.get(key, 0.0), lists.fused.get(row, 0.0))
    keys = [passages[row].doc_key for row in rows]
    return [np.array([math.log(count[key]) for key in keys]), np.array([best[key] for key in keys])]


def _cosines(index: StoredIndex, vector: np.ndarray, known: dict[int, float], rows: list[int]) -> np.ndarray:
    """Each row's cosine: the candidates' exact one (hybrid gives every candidate both), else its stored vector's."""
    missing = [row for row in rows if row not in known]
    stored = index.vectors_of(missing) if missing else {}
    return np.array([known[row] if row in known else float(stored[row] @ vector) for row in rows])


def _bm25(index: StoredIndex, question: str, known: dict[int, float], rows: list[int]) -> np.ndarray:
    """Each row's BM25: the candidates' exact one, else scored from the question's BM25 column (0 without a word)."""
    missing = [row for row in rows if row not in known]
    scored = index.lexical.scored(question) if missing else None
    extra = scored.of(missing) if scored is not None else {}
    return np.array([known[row] if row in known else extra.get(row, 0.0) for row in rows])


def _places(index: StoredIndex, passages: dict[int, Passage]) -> dict[int, int]:
    """row -> the passage's index among its document's passages (rows are given in text order)."""
    keys = sorted({passage.doc_key for passage in passages.values()})
    places: dict[int, int] = {}
    for key in keys:
        own = index.rows_of_documents([key])
        for row, passage in passages.items():
            if passage.doc_key == key:
                places[row] = int(np.searchsorted(own, row))
    return places


def scores(
    matrix: np.ndarray, weights: Sequence[float], bias: float, mean: Sequence[float], scale: Sequence[float]
) -> np.ndarray:
    """The model's score of each row of a `features` matrix: bias + weights . standardised features."""
    standard = (matrix - np.asarray(mean)) / np.asarray(scale)
    return np.asarray(standard @ np.asarray(weights) + bias, dtype=np.float64)


def reranked(rows: Sequence[int], model_scores: np.ndarray) -> list[int]:
    """`rows` (today's order) reordered by `model_scores`, best first; ties keep today's order."""
    order = sorted(range(len(rows)), key=lambda i: (-float(model_scores[i]), i))
    return [int(rows[i]) for i in order]
