"""The reader at answer time: it reads the top candidates with the question and decides the order, the
highlight, the exact answer, the spans values are read from, and (with the retrieval evidence) abstention.

Every number here was fitted on fit data only (bench/reader_fit.py: the BBC dev file's fit part and the
SQuAD v2.0 dev articles of the fit half) and is kept in the reader's card (qa/read/weights/reader.json,
block "fit"), beside the weights it was fitted for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set
from dataclasses import replace

from qa.read.fit import ABSTAIN_FEATURES, RERANK_FEATURES, ReaderFit
from qa.read.reader import Reader, ReaderError, Reading
from qa.records import Answer, Evidence, Highlight, Hit, SearchResult
from qa.search.highlight import question_of
from qa.search.ranking import by_score
from qa.search.values import values_from_spans
from qa.storage.generations import StoredIndex

__all__ = [
    "ABSTAIN_FEATURES",
    "RERANK_FEATURES",
    "ReaderFit",
    "abstain_features",
    "answer_probability",
    "read_answer",
    "reranked",
    "reread",
]


def _logistic(weights: Sequence[float], values: Sequence[float], offset: float = 0.0) -> float:
    z = offset + weights[-1] + sum(w * v for w, v in zip(weights[:-1], values, strict=True))
    if not math.isfinite(z):  # an infinite feature (nothing to read): no evidence either way counts as none
        z = -60.0
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def rerank_features(fused: float, reading: Reading) -> tuple[float, ...]:
    return (fused, reading.margin, reading.answer_logit, reading.span_score)


def reranked(
    fused: dict[int, float], readings: Mapping[int, Reading], fit: ReaderFit, preferred: Set[int] = frozenset()
) -> tuple[dict[int, float], dict[int, float]]:
    """(row -> score to rank by, row -> the reader's probability for the rows it read).

    A read row's probability is that it answers the question; it ranks by it (a `preferred` row's, of a
    follow-up's topic article, with `topic_bonus` added to its logit). Rows not read rank after every read
    one, in their fused order, with scores spread below the lowest read one."""
    plain = {row: _logistic(fit.rerank, rerank_features(fused[row], r)) for row, r in readings.items()}
    order = {
        row: _logistic(fit.rerank, rerank_features(fused[row], r), fit.topic_bonus) if row in preferred else plain[row]
        for row, r in readings.items()
    }
    if not order:
        return fused, {}
    floor = min(order.values()) * 0.999
    rest = [row for row, _ in sorted(fused.items(), key=lambda pair: (-pair[1], pair[0])) if row not in order]
    order.update({row: floor * (len(rest) - n) / (len(rest) + 1) for n, row in enumerate(rest)})
    return order, plain


def abstain_features(
    top_prob: float, reading: Reading | None, passage_cosine: float, coverage: float
) -> tuple[float, ...]:
    if reading is None:
        return (top_prob, -10.0, -10.0, passage_cosine, coverage)
    return (top_prob, reading.margin, reading.answer_logit, passage_cosine, coverage)


def answer_probability(features: Sequence[float], fit: ReaderFit) -> float:
    """How likely the articles answer the question, from the reader and the retrieval evidence."""
    return _logistic(fit.abstain, features)


def spans_of(readings: Sequence[Reading | None], minimum: float) -> list[tuple[int, int] | None]:
    """Each hit's answer span (passage offsets) when the reader is sure enough of it, else None."""
    return [
        (r.span_start, r.span_end) if r is not None and r.span_start >= 0 and r.margin >= minimum else None
        for r in readings
    ]


def reread(
    reader: Reader, fit: ReaderFit, index: StoredIndex, question: str, fused: dict[int, float], article: str | None
) -> tuple[dict[int, float], dict[int, Reading], dict[int, float]]:
    """The scores to rank by, the reader's readings and its probabilities (the fused scores alone, and no
    readings, when there is nothing to read)."""
    readings, preferred = _read(reader, fit, index, question, fused, article)
    if not readings:
        return fused, {}, {}
    order, probabilities = reranked(fused, readings, fit, preferred)
    return order, readings, probabilities


def _read(
    reader: Reader, fit: ReaderFit, index: StoredIndex, question: str, fused: dict[int, float], article: str | None
) -> tuple[dict[int, Reading], set[int]]:
    """The reader's reading of the best `depth` candidates by the fused score, the candidates of `article`
    first; and the rows of `article` it read."""
    if not fused:
        return {}, set()
    ranked = [row for row, _ in by_score(fused)]
    preferred: list[int] = []
    if article is not None and article in index.documents:
        own = {int(row) for row in index.rows_of_documents([article])}
        preferred = [row for row in ranked if row in own][: fit.depth]
    rows = list(dict.fromkeys([*preferred, *ranked[: fit.depth]]))
    passages = index.passages(rows)
    try:
        readings = reader.read(question, [passages[row].text for row in rows])
    except (ValueError, RuntimeError, IndexError, KeyError, OSError) as exc:  # not the index's fault
        raise ReaderError(f"the reader failed: {type(exc).__name__}: {str(exc)[:100]}") from exc
    return dict(zip(rows, readings, strict=True)), set(preferred)


def read_answer(
    question: str,
    hits: list[Hit],
    reader: list[tuple[Reading | None, float | None]],
    evidence: Evidence,
    fit: ReaderFit,
) -> SearchResult:
    """The answer as the reader read it: its best sentence highlighted in each hit it read, abstention from its
    no-answer score with the retrieval evidence, the exact answer and the values from its spans."""
    read = [r for r, _ in reader]
    hits = [_reader_marked(hit, r, p) for hit, (r, p) in zip(hits, reader, strict=True)]
    top = hits[0].reader_score or 0.0
    features = abstain_features(top, read[0], evidence.passage_cosine, evidence.coverage)
    probability = answer_probability(features, fit)
    said = probability >= fit.answer_min
    asked = question_of(question)
    values = values_from_spans(asked, hits, spans_of(read, fit.value_min)) if said else []
    answer = None
    first = read[0]
    if said and first is not None and first.span_start >= 0 and first.margin >= fit.exact_min:
        base = hits[0].passage.start
        text = hits[0].passage.text[first.span_start : first.span_end]
        answer = Answer(base + first.span_start, base + first.span_end, text)
    return SearchResult(
        question=question,
        hits=hits,
        answered=said,
        confidence=probability,
        evidence=evidence,
        values=values,
        answer=answer,
    )


def _reader_marked(hit: Hit, reading: Reading | None, probability: float | None) -> Hit:
    """`hit` with the reader's best sentence as its highlight, and the reader's score, when it read it."""
    if reading is None:
        return hit
    sentence = reading.sentence()
    base = hit.passage.start
    highlight = Highlight(base + sentence.start, base + sentence.end) if sentence is not None else hit.highlight
    return replace(hit, highlight=highlight, reader_score=probability)
