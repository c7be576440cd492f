"""The HTTP request and response models: they make /openapi.json (answers are sent as `to_dict()` gives them)."""

from __future__ import annotations

from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from qa.app import DEFAULT_K, DEFAULT_MODE, HTTP_MAX_K, MAX_CONTEXT_TURNS, MAX_QUESTION_CHARS, MAX_SOURCE_CHARS

# qa.inputs.MODES, spelled out because a Literal cannot be built from a tuple; a test holds them equal
Mode = Literal["hybrid", "dense", "bm25"]
# what POST /search answers with: the JSON object, or the answer as Markdown (qa.citations.markdown)
OutputFormat = Literal["json", "markdown"]


class SearchRequest(BaseModel):
    """A question, with the previous questions of the conversation as `context`."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        strict=True,
        description=f"The question; not blank, at most `max_question` characters ({MAX_QUESTION_CHARS} by default).",
    )
    k: int = Field(DEFAULT_K, strict=True, ge=1, le=HTTP_MAX_K, description="How many passages to return.")
    mode: Mode = Field(
        cast(Mode, DEFAULT_MODE), description="hybrid: BM25 and dense scores fused; dense: FAISS only; bm25: BM25 only."
    )
    context: list[str] = Field(
        default_factory=list,
        max_length=MAX_CONTEXT_TURNS,
        description="The previous questions of the conversation, oldest first (each at most `max_question` "
        "characters). Used to resolve follow-up questions when the server has a resolver.",
    )
    source: str | None = Field(
        None,
        strict=True,
        max_length=MAX_SOURCE_CHARS,
        description="Only articles whose publisher, byline, title or path contains this (case-insensitive).",
    )
    since: str | None = Field(
        None, strict=True, description="Only articles published on or after this date (YYYY-MM-DD)."
    )
    until: str | None = Field(
        None, strict=True, description="Only articles published on or before this date (YYYY-MM-DD)."
    )


class _Open(BaseModel):
    # keys of the JSON contract are only ever added: a newer library may send more than listed here
    model_config = ConfigDict(extra="allow")


class SourceOut(_Open):
    path: str = Field(description="The file as found under the corpus folder (the .jsonl file for records).")
    id: str | None = Field(description="The record id for a .jsonl corpus, else null.")
    title: str | None
    publisher: str | None
    published: str | None = Field(description="YYYY-MM-DD")
    byline: str | None


class HighlightOut(_Open):
    start: int = Field(
        description="Raw-file offset of the highlighted sentence; slice `text` at start - passage start."
    )
    end: int


class ScoresOut(_Open):
    dense: float | None = Field(description="Cosine similarity, when the dense retriever ranked the passage.")
    bm25: float | None = Field(description="BM25 score, when the passage shares words with the question.")


class AlsoInOut(_Open):
    path: str
    source_id: str | None
    id: str = Field(description="The stored passage where the matching stretch starts.")
    start: int
    end: int
    line_start: int
    line_end: int
    title: str | None
    publisher: str | None
    similarity: float


class HitOut(_Open):
    rank: int
    score: float
    id: str = Field(description="Passage id, for GET /passages/{id}.")
    text: str = Field(description="The verbatim slice of the source text, start to end.")
    start: int
    end: int
    line_start: int
    line_end: int
    source: SourceOut
    highlight: HighlightOut | None
    scores: ScoresOut
    also_in: list[AlsoInOut] = Field(description="Other documents carrying (nearly) the same text (wire copies).")


class ValueSourceOut(_Open):
    rank: int
    path: str
    source_id: str | None
    title: str | None
    publisher: str | None
    start: int
    end: int
    copy_: bool = Field(alias="copy", description="True when read from a wire copy listed under `also_in`.")


class ValueOut(_Open):
    value: str
    sources: list[ValueSourceOut]


class AnswerOut(_Open):
    """The exact answer: a span of the top passage's highlighted sentence, a slice of the source."""

    start: int = Field(description="Raw-file offset where the answer starts (inside the top passage's highlight).")
    end: int
    text: str = Field(description="Exactly the source's text between start and end; never generated.")


class SearchResponse(_Open):
    """What `ask.py --json` prints for one question, plus `searched_for` when the server resolves follow-ups."""

    question: str = Field(description="The question as asked.")
    answered: bool = Field(description="False when the evidence is too weak to say the articles answer it.")
    confidence: float | None
    evidence: dict[str, float] | None
    disagree: bool = Field(description="True when the sources give different numbers or dates.")
    values: list[ValueOut]
    answer: AnswerOut | None = Field(
        None, description="For who / when / where / how many / how much questions, when the span is unambiguous."
    )
    passages: list[HitOut]
    searched_for: str | None = Field(
        None, description="Only with a resolver: the query actually searched (a follow-up made self-contained)."
    )


class _PassageFields(_Open):
    """What `Passage.to_dict()` gives: the verbatim slice and where it lies in its source."""

    id: str
    text: str
    start: int
    end: int
    line_start: int
    line_end: int


class PassageOut(_PassageFields):
    source: SourceOut


class ContextPassage(_PassageFields):
    current: bool = Field(description="True for the passage that was asked for.")


class PassageContext(_Open):
    """A passage among its neighbours in its article, in document order."""

    id: str
    source: SourceOut
    passages: list[ContextPassage]
    more_before: bool = Field(description="The article has indexed passages before the first one listed.")
    more_after: bool = Field(description="The article has indexed passages after the last one listed.")


class Health(_Open):
    status: Literal["ok"]
    passages: int = Field(description="How many passages the loaded index holds.")
    documents: int = Field(description="How many articles (files, or records of a .jsonl file) it holds.")
    corpus: str = Field(description="The corpus's name: its folder's or .jsonl file's name, e.g. `seeds`.")


class ErrorOut(BaseModel):
    error: str = Field(description="What is wrong, in one line.")


_MEANINGS = {
    400: "Malformed JSON, or the library refused the input.",
    415: "The body is not sent as JSON (Content-Type: application/json).",
    404: "No such passage.",
    413: "The request body is over the size limit.",
    422: "The request is valid JSON but not a valid request (the message says which field and why).",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status it can answer with an ErrorOut, and what that means."""
    return {code: {"model": ErrorOut, "description": _MEANINGS[code]} for code in codes}
