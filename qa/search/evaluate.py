"""Evaluation for users: how well does the index answer a file of questions with known answers?

Each line is {"id"?, "question", "answers": [...], "path"?}: a hit "answers" when it holds one of the
answer strings (case-insensitive). When the line names its gold article ("path", relative to the corpus
folder, e.g. "business/001.txt"), the hit must also come from that article or list it in `also_in`.
A line without answers (or with an empty list) should be abstained on; other keys ("kind") are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from qa.errors import BadInputError
from qa.inputs import DEFAULT_K, DEFAULT_MODE
from qa.records import GradedQuestion, Hit, QuestionScore, Report, SearchResult
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
    path = record.get("path")
    if path is not None and (not isinstance(path, str) or not _parts(path)):
        raise BadInputError(f'{where}: "path" must be the gold article\'s path relative to the corpus folder')
    return GradedQuestion(question, tuple(a for a in answers if a.strip()), record.get("id"), path)


def evaluate(
    retriever: Retriever,
    questions: Sequence[GradedQuestion | Mapping[str, Any]],
    *,
    k: int = DEFAULT_K,
    mode: str = DEFAULT_MODE,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Report:
    """How well the retriever answers `questions`: each one's rank of the first answer, and the summary.

    A question is a GradedQuestion, or a record as an evaluation file holds it: {"id"?, "question",
    "answers"?: [...], "path"?} (no answers: it should be abstained on; a path: only hits from that
    article, or listing it in also_in, count).
    """
    graded = [
        q if isinstance(q, GradedQuestion) else graded_question(q, f"question {number}")
        for number, q in enumerate(questions, start=1)
    ]
    results = retriever.search_many(
        [q.question for q in graded], k=k, mode=mode, source=source, since=since, until=until
    )
    return Report(k=k, mode=mode, questions=tuple(_score(q, r) for q, r in zip(graded, results, strict=True)))


def _score(graded: GradedQuestion, result: SearchResult) -> QuestionScore:
    answers = [a.lower() for a in graded.answers]
    holds = [any(a in hit.text.lower() for a in answers) for hit in result.hits]
    gold = [held and _from_gold(hit, graded.path) for held, hit in zip(holds, result.hits, strict=True)]
    top = result.hits[0] if result.hits else None
    highlighted = (top.highlight_text or "").lower() if top and gold[0] else ""
    return QuestionScore(
        id=graded.id,
        question=graded.question,
        answerable=bool(answers),
        rank=gold.index(True) + 1 if any(gold) else None,
        in_highlight=bool(answers) and any(a in highlighted for a in answers),
        answered=result.answered,
        confidence=result.confidence,
        path=graded.path,
        rank_any_article=holds.index(True) + 1 if any(holds) else None,
    )


def _from_gold(hit: Hit, path: str | None) -> bool:
    """Whether `hit` comes from the gold article `path` (any hit does when there is none) or lists it in also_in."""
    if path is None:
        return True
    return any(_ends_with(source.path, path) for source in [hit.source, *(copy.source for copy in hit.also_in)])


def _ends_with(shown: str, relative: str) -> bool:
    """Whether the path `shown` ends with the path components of `relative` (either separator, "." ignored)."""
    tail = _parts(relative)
    parts = _parts(shown)
    return len(parts) >= len(tail) and parts[len(parts) - len(tail) :] == tail


def _parts(path: str) -> list[str]:
    return [part for part in re.split(r"[\\/]", path) if part not in ("", ".")]
