"""SQuAD-format question data for the reader: load, split by article, and label sentences.

Everything here is plain Python (no torch): the benchmarks use it as well as the training command.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.text.sentences import line_spans, sentence_spans

# Which half of a SQuAD-format file an article belongs to when one file gives both training and held-out
# questions (SQuAD v2.0 dev: its unanswerable questions are the only ones there are). Fixed by the title.
FIT, HELD = "fit", "held"


@dataclass(frozen=True)
class QAItem:
    """One question over one paragraph; `answers` are (start, end) character spans of `context`."""

    qid: str
    article: str
    question: str
    context: str
    answers: tuple[tuple[int, int], ...]
    impossible: bool


def article_part(title: str) -> str:
    """The fixed fit/held-out half an article belongs to (by a hash of its title, never its questions)."""
    return FIT if hashlib.sha1(title.encode("utf-8")).digest()[0] % 2 == 0 else HELD


def parse_source(spec: str) -> tuple[Path, str | None]:
    """'PATH' or 'PATH@fit' / 'PATH@held' (only that half of the file's articles)."""
    path, _, part = spec.rpartition("@") if spec.endswith(("@" + FIT, "@" + HELD)) else (spec, "", "")
    return Path(path), (part or None)


def load_squad(spec: str, first_occurrences: bool | None = None) -> list[QAItem]:
    """The questions of one SQuAD v1.1/v2.0-format file (optionally one half of its articles).

    Answer offsets are re-derived when the text is not at `answer_start`, or, in a file whose answers
    were placed at their first occurrence (the explorer rebuild, `first_occurrences`: by default when the
    file's name says "explorer"), when it is there: of all occurrences, the one in the sentence sharing most
    words with the question is kept. The official files' offsets are kept as annotated.
    """
    path, part = parse_source(spec)
    rederive = "explorer" in path.name if first_occurrences is None else first_occurrences
    data = json.loads(path.read_text(encoding="utf-8"))
    items: list[QAItem] = []
    for article in data["data"]:
        title = article.get("title", "")
        if part is not None and article_part(title) != part:
            continue
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                impossible = bool(qa.get("is_impossible", False))
                answers = qa.get("answers", [])
                spans = () if impossible else _answer_spans(context, qa["question"], answers, rederive)
                if not impossible and not spans:
                    continue
                items.append(QAItem(qa["id"], title, qa["question"], context, spans, impossible))
    return items


def _answer_spans(
    context: str, question: str, answers: list[dict[str, object]], rederive: bool
) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    for answer in answers:
        text = str(answer["text"]).strip()
        if not text:
            continue
        start = int(str(answer.get("answer_start", -1)))
        if context[start : start + len(text)] == text and not rederive:
            spans.append((start, start + len(text)))
            continue
        if context[start : start + len(text)] != text:
            start = context.find(text)
            if start < 0:
                continue
        spans.append(_best_occurrence(context, question, text, start))
    return tuple(dict.fromkeys(spans))


_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _best_occurrence(context: str, question: str, text: str, start: int) -> tuple[int, int]:
    """The occurrence of `text` whose sentence shares most words with the question (ties: the given one)."""
    occurrences = [m.start() for m in re.finditer(re.escape(text), context)]
    if len(occurrences) < 2:
        return start, start + len(text)
    q = _words(question)
    sentences = context_sentences(context)

    def overlap(at: int) -> int:
        s, e = sentence_of(sentences, at)
        return len(q & _words(context[s:e]))

    best = max(occurrences, key=lambda at: (overlap(at), at == start))
    return best, best + len(text)


def context_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a passage, split as the index splits article text."""
    return [span for line in line_spans(text) for span in sentence_spans(text, *line)]


def sentence_of(sentences: list[tuple[int, int]], at: int) -> tuple[int, int]:
    """The sentence span holding character `at` (or the nearest one before it)."""
    found = sentences[0] if sentences else (0, 0)
    for span in sentences:
        if span[0] <= at:
            found = span
        else:
            break
    return found


def articles(items: list[QAItem]) -> Iterator[tuple[str, list[QAItem]]]:
    """Items grouped by article, in first-seen order."""
    groups: dict[str, list[QAItem]] = {}
    for item in items:
        groups.setdefault(item.article, []).append(item)
    yield from groups.items()
