"""Answer highlighting: the sentence of a passage most likely to answer the question (extractive only).

Each sentence is scored by its cosine similarity to the question (the stored sentence vectors of the
index, same encoder), plus the share of the question's content words it contains (stemmed), plus a
bonus when the question asks for a date, a number or a name and the sentence carries one. Weights
from bench/highlight.py on SQuAD dev; see the README.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import Stemmer

from qa.records import Highlight, Passage
from qa.text.sentences import line_spans, sentence_spans

W_LEXICAL = 0.5  # weight of the share of question words found in the sentence (bench/highlight.py)
W_KIND = 0.10  # bonus for carrying what a when / how many / who question asks for

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAYS = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
DATE = re.compile(
    rf"\b(?:{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}"
    rf"(?:,?\s+\d{{4}})?|{_MONTHS}\s+\d{{4}}|{_WEEKDAYS}|(?:1[89]|20)\d\d|yesterday|today|tomorrow|last\s+(?:week|month|year))\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve dozen dozens hundred hundreds thousand "
    "thousands million millions billion billions half"
)
NUMBER = re.compile(rf"\b\d[\d,.]*\b|\b(?:{'|'.join(_NUMBER_WORDS.split())})\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")

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
    stop = _stopwords()
    words = [w.lower().strip("'’-") for w in _WORD.findall(text)]
    return _stemmer().stemWords([w for w in words if w and w not in stop])


def carries(kind: str | None, sentence: str) -> bool:
    if kind == "date":
        return bool(DATE.search(sentence))
    if kind == "count":
        return any(not DATE.fullmatch(m.group()) for m in NUMBER.finditer(sentence))
    if kind == "name":
        return bool(_NAME.search(sentence))
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
            cosine = cosine_of.get(raw)
            if cosine is None:  # too short to have a vector of its own: only its words count
                cosine = 0.0
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


_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    # a PyStemmer object must not be shared between threads; the Retriever is used from several
    if not hasattr(_local, "stemmer"):
        _local.stemmer = Stemmer.Stemmer("english")
    return _local.stemmer


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    import justext

    return frozenset(justext.get_stoplist("English")) | {"did", "does", "do", "say", "said"}
