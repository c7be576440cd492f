"""Answer highlighting: the sentence of a passage most likely to answer the question (extractive only).

Each sentence is scored by its cosine similarity to the question (the stored sentence vectors of the
index, same encoder), plus the share of the question's content words it contains (stemmed), plus a
bonus when the question asks for a date, a number or a name and the sentence carries one. Weights
from bench/highlight.py on SQuAD dev; see the README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from qa.records import Highlight, Hit, Passage
from qa.storage.generations import StoredIndex
from qa.text.figures import DATE, NAME, NUMBER
from qa.text.sentences import line_spans, sentence_spans
from qa.text.words import WORD, stem_words, stopwords

W_LEXICAL = 0.5  # weight of the share of question words found in the sentence (bench/highlight.py)
W_KIND = 0.10  # bonus for carrying what a when / how many / who question asks for

_KINDS = (
    ("count", re.compile(r"^\s*(?:how\s+(?:many|much|long|old|far)|what\s+(?:number|percentage|amount))\b", re.I)),
    ("date", re.compile(r"^\s*(?:when|what\s+(?:date|day|year|month|time)|which\s+(?:date|day|year|month))\b", re.I)),
    ("name", re.compile(r"^\s*(?:who|whom|whose)\b", re.I)),
)


@dataclass(frozen=True)
class Question:
    """What highlighting needs to know of a question: its content words and what kind of answer it wants."""

    text: str
    terms: frozenset[str]  # stemmed content words
    kind: str | None  # "count", "date", "name" or None


@dataclass(frozen=True)
class Scored:
    highlight: Highlight
    score: float
    cosine: float


def question_of(text: str) -> Question:
    kind = next((name for name, pattern in _KINDS if pattern.search(text)), None)
    return Question(text=text, terms=frozenset(terms(text)), kind=kind)


def terms(text: str) -> list[str]:
    """Stemmed, lower-cased content words (stopwords dropped)."""
    stop = stopwords()
    words = [w.lower().strip("'’-") for w in WORD.findall(text)]
    return stem_words(w for w in words if w and w not in stop)


def carries(kind: str | None, sentence: str) -> bool:
    if kind == "date":
        return bool(DATE.search(sentence))
    if kind == "count":
        return any(not DATE.fullmatch(m.group()) for m in NUMBER.finditer(sentence))
    if kind == "name":
        return bool(NAME.search(sentence))
    return False


def best_sentence(
    question: Question,
    vector: np.ndarray,
    passage: Passage,
    stored: tuple[np.ndarray, np.ndarray],
) -> Scored | None:
    """The best sentence of `passage` as raw-file offsets; `stored` = (spans, vectors) from the index."""
    spans, vectors = stored
    cosine_of = {
        (int(s), int(e)): float(v)
        for (s, e), v in zip(spans, np.asarray(vectors, dtype=np.float32) @ vector, strict=True)
    }
    best: Scored | None = None
    for line_start, line_end in line_spans(passage.text):
        for start, end in sentence_spans(passage.text, line_start, line_end):
            raw = (passage.start + start, passage.start + end)
            sentence = passage.text[start:end]
            cosine = cosine_of.get(raw, 0.0)  # a sentence too short to have a vector: only its words count
            score = cosine + W_LEXICAL * overlap(question, sentence)
            if question.kind and carries(question.kind, sentence):
                score += W_KIND
            if best is None or score > best.score:
                best = Scored(Highlight(*raw), score, cosine)
    return best


def overlap(question: Question, sentence: str) -> float:
    if not question.terms:
        return 0.0
    return len(question.terms & set(terms(sentence))) / len(question.terms)


def highlight_hits(
    index: StoredIndex, question: Question, vector: np.ndarray, hits: list[Hit], rows: list[int]
) -> tuple[list[Hit], list[Scored | None]]:
    """Each hit (stored at the matching row) with its best sentence marked, and how that sentence scored."""
    marked: list[Hit] = []
    scored: list[Scored | None] = []
    for hit, row in zip(hits, rows, strict=True):
        best = best_sentence(question, vector, hit.passage, index.sentences_of(row))
        marked.append(replace(hit, highlight=best.highlight if best else None))
        scored.append(best)
    return marked, scored
