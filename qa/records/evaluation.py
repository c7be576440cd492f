"""Scoring an index on graded questions."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class QuestionScore:
    id: object  # echoed as the evaluation file gave it
    question: str
    answerable: bool
    rank: int | None  # 1-based rank of the first hit holding an answer, None if none does
    in_highlight: bool  # the top hit's highlighted sentence holds an answer
    answered: bool  # what the retriever said: False = abstained
    confidence: float | None
    path: str | None = None  # the gold article the line names: then only hits from it (or copying it) count
    rank_any_article: int | None = None  # rank of the first hit holding an answer, whatever its article


@dataclass(frozen=True)
class Report:
    k: int
    mode: str
    questions: tuple[QuestionScore, ...]

    def summary(self) -> dict[str, Any]:
        answerable = [q for q in self.questions if q.answerable]
        other = [q for q in self.questions if not q.answerable]

        def share(count: float, total: int) -> float | None:
            return round(count / total, 4) if total else None

        return {
            "questions": len(self.questions),
            "answerable": len(answerable),
            "unanswerable": len(other),
            "k": self.k,
            "mode": self.mode,
            "hit@1": share(sum(q.rank == 1 for q in answerable), len(answerable)),
            f"hit@{self.k}": share(sum(q.rank is not None for q in answerable), len(answerable)),
            "mrr": share(sum(1 / q.rank for q in answerable if q.rank), len(answerable)),
            "answer_in_highlight": share(sum(q.in_highlight for q in answerable), len(answerable)),
            "false_abstain": share(sum(not q.answered for q in answerable), len(answerable)),
            "abstain_when_unanswerable": share(sum(not q.answered for q in other), len(other)),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "questions": [asdict(q) for q in self.questions]}


@dataclass(frozen=True)
class GradedQuestion:
    """One line of an evaluation file: a question and the answers that count (none: it should be abstained on)."""

    question: str
    answers: tuple[str, ...] = ()
    id: object = None  # echoed as given (a string, a number, or None)
    path: str | None = None  # the gold article, relative to the corpus folder ("business/001.txt"), if any
