"""Evaluation for users: how well does the index answer a file of questions with known answers?

Each line is {"id"?, "question", "answers": [...]}: a hit "answers" when it holds one of the answer
strings (case-insensitive). A line without answers (or with an empty list) should be abstained on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qa.errors import BadInputError
from qa.inputs import DEFAULT_K, DEFAULT_MODE
from qa.records import GradedQuestion, QuestionScore, Report, SearchResult
from qa.search.retriever import Retriever


def graded_question(record: Mapping[str, Any], where: str) -> GradedQuestion:
    """One line of an evaluation file, its "answers" checked (`where` names the line in errors)."""
    question = record.get("question")
    if not isinstance(question, str):
        raise BadInputError(f'{where}: expected {{"id"?, "question": "..."}}')
    answers = record.get("answers")
    if answers is None:
        answers = []
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise BadInputError(f'{where}: "answers" must be a list of strings')
    return GradedQuestion(question, tuple(a for a in answers if a.strip()), record.get("id"))


def evaluate(
    retriever: Retriever,
    questions: Sequence[GradedQuestion | Mapping[str, Any]],
    *,
    k: int = DEFAULT_K,
    mode: str = DEFAULT_MODE,
    **filters: Any,
) -> Report:
    """How well the retriever answers `questions`: each one's rank of the first answer, and the summary.

    A question is a GradedQuestion, or a record as an evaluation file holds it: {"id"?, "question",
    "answers"?: [...]} (no answers: it should be abstained on).
    """
    graded = [
        q if isinstance(q, GradedQuestion) else graded_question(q, f"question {number}")
        for number, q in enumerate(questions, start=1)
    ]
    results = retriever.search_many([q.question for q in graded], k=k, mode=mode, **filters)
    return Report(k=k, mode=mode, questions=tuple(_score(q, r) for q, r in zip(graded, results, strict=True)))


def _score(graded: GradedQuestion, result: SearchResult) -> QuestionScore:
    answers = [a.lower() for a in graded.answers]
    holds = [any(a in hit.text.lower() for a in answers) for hit in result.hits]
    top = result.hits[0] if result.hits else None
    highlighted = (top.highlight_text or "").lower() if top else ""
    return QuestionScore(
        id=graded.id,
        question=graded.question,
        answerable=bool(answers),
        rank=holds.index(True) + 1 if any(holds) else None,
        in_highlight=bool(answers) and any(a in highlighted for a in answers),
        answered=result.answered,
        confidence=result.confidence,
    )
