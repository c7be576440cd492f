"""An answer: its hits, the evidence abstention weighed, the values the sources give, the exact answer, and a
conversation turn."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from qa.records.hits import (
    Hit,
)


@dataclass(frozen=True)
class Evidence:
    passage_cosine: float  # best cosine between the question and a returned passage
    sentence_cosine: float  # best cosine between the question and a highlighted sentence
    coverage: float  # best share of the question's content words found in a returned passage

    def to_dict(self) -> dict[str, Any]:
        return {key: round(value, 6) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class ValueSource:
    """Where a value was read: the hit's passage (exact offsets of the value) or a wire copy of it."""

    rank: int  # the hit that gives it
    path: str
    source_id: str | None
    title: str | None
    publisher: str | None
    start: int  # raw-file offsets: the value itself in a hit; the matching stretch in a wire copy
    end: int
    copy: bool  # True for a wire copy listed under the hit (also_in)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "path": self.path,
            "source_id": self.source_id,
            "title": self.title,
            "publisher": self.publisher,
            "start": self.start,
            "end": self.end,
            "copy": self.copy,
        }


@dataclass(frozen=True)
class Value:
    value: str  # normalised: "2,500", "January 19"
    sources: tuple[ValueSource, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "sources": [source.to_dict() for source in self.sources]}


@dataclass(frozen=True)
class Answer:
    """The exact answer: raw-file offsets of a span inside the top hit's highlighted sentence, and that slice."""

    start: int
    end: int
    text: str  # exactly the source's text[start:end], never generated

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass
class SearchResult:
    """The answer to one question: ranked passages, never generated text."""

    question: str
    hits: list[Hit] = field(default_factory=list)
    answered: bool = True
    confidence: float | None = None  # the evidence score abstention is decided on (None: no hits)
    evidence: Evidence | None = None  # the numbers the confidence is decided on
    values: list[Value] = field(default_factory=list)  # the figure or date each source gives
    answer: Answer | None = None  # the span of the top hit's highlight that names the answer, if trusted
    # passages left out because they are not, now, the exact slice of their file (qa/search/verify.py)
    warnings: list[str] = field(default_factory=list)
    # why there are no hits, in words, when there are none: the filters match no article, the dates are reversed
    empty_reason: str | None = None

    @property
    def disagree(self) -> bool:
        """True when the sources give different numbers or dates for the question."""
        return len(self.values) > 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "confidence": None if self.confidence is None else round(self.confidence, 6),
            "evidence": self.evidence.to_dict() if self.evidence is not None else None,
            "disagree": self.disagree,
            "values": [value.to_dict() for value in self.values],
            "answer": self.answer.to_dict() if self.answer is not None else None,
            "passages": [hit.to_dict() for hit in self.hits],
            "warnings": list(self.warnings),
            "empty_reason": self.empty_reason,
        }


PASSAGES_PER_TURN = 2  # how many top passages a turn keeps for salience


@dataclass(frozen=True)
class Turn:
    """A previous question, what was searched for it, and what its answer showed (qa/conversation/followup.py)."""

    question: str
    query: str = ""  # what was searched ("" = the question itself)
    passages: tuple[str, ...] = ()  # the texts of its top passages
    topic: tuple[tuple[str, float], ...] = ()  # the conversation's topic after it: (word, weight), in order of mention
    highlight: str | None = None  # its top passage's highlighted sentence
    answered: bool = True  # False when the bot abstained: its passages are not taken as the answer
    article: str | None = None  # the document its answer came from (the top hit's), when it answered

    @classmethod
    def of(
        cls,
        question: str,
        result: SearchResult,
        query: str | None = None,
        *,
        passages: int = PASSAGES_PER_TURN,
        topic: tuple[tuple[str, float], ...] = (),
    ) -> Turn:
        """The turn for a question and its `SearchResult` (the texts of its top `passages` hits)."""
        top = result.hits[0] if result.hits else None
        return cls(
            question,
            query or question,
            tuple(hit.text for hit in result.hits[:passages]),
            topic,
            top.highlight_text if top is not None else None,
            bool(result.answered) and top is not None,
            top.passage.doc_key if top is not None and result.answered else None,
        )

    @property
    def searched(self) -> str:
        return self.query or self.question
