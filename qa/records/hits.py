"""A passage found, where it comes from, and how it is cited."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Passage:
    """An exact slice `document.text[start:end]` of one document."""

    id: str
    doc_key: str
    start: int
    end: int
    line_start: int
    line_end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        """The passage as every JSON front shows it (`--passages`, HTTP, a hit's fields)."""
        return {
            "id": self.id,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "line_start": self.line_start,
            "line_end": self.line_end,
        }


@dataclass(frozen=True)
class Source:
    """Where a passage comes from, as shown to the user."""

    path: str
    id: str | None
    title: str | None
    publisher: str | None
    published: str | None
    byline: str | None = None
    url: str | None = None  # the article's address, when its record gives one

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlsoIn:
    """Another document carrying (nearly) the same text as a hit, e.g. the same agency copy on another site."""

    source: Source
    passage_id: str  # the stored passage where the matching stretch starts
    start: int  # raw-file offsets of the matching stretch in that document
    end: int
    line_start: int
    line_end: int
    similarity: float  # mean cosine similarity of the matching sentences
    # the stretch's text (its passages' slices joined by a space), for reading values; not in the JSON
    text: str = field(default="", compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.source.path,
            "source_id": self.source.id,
            "id": self.passage_id,
            "start": self.start,
            "end": self.end,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "title": self.source.title,
            "publisher": self.source.publisher,
            "similarity": round(self.similarity, 6),
        }


@dataclass(frozen=True)
class Highlight:
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    """One ranked passage in an answer."""

    rank: int
    score: float
    passage: Passage
    source: Source
    highlight: Highlight | None = None
    dense_score: float | None = None  # cosine similarity, when the dense retriever ranked it
    bm25_score: float | None = None  # BM25 score, when the passage shares words with the question
    also_in: tuple[AlsoIn, ...] = ()  # near-duplicate passages of other documents, folded into this hit
    reader_score: float | None = None  # the reader's probability that this passage answers, when it read it

    @property
    def text(self) -> str:
        return self.passage.text

    @property
    def start(self) -> int:
        return self.passage.start

    @property
    def end(self) -> int:
        return self.passage.end

    @property
    def line_start(self) -> int:
        return self.passage.line_start

    @property
    def line_end(self) -> int:
        return self.passage.line_end

    @property
    def highlight_text(self) -> str | None:
        """The highlighted sentence: `text` sliced at the highlight's raw offsets."""
        if self.highlight is None:
            return None
        return self.passage.text[self.highlight.start - self.passage.start : self.highlight.end - self.passage.start]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            **self.passage.to_dict(),
            "source": self.source.to_dict(),
            "highlight": asdict(self.highlight) if self.highlight else None,
            "scores": {
                "dense": None if self.dense_score is None else round(self.dense_score, 6),
                "bm25": None if self.bm25_score is None else round(self.bm25_score, 6),
                "reader": None if self.reader_score is None else round(self.reader_score, 6),
            },
            "also_in": [other.to_dict() for other in self.also_in],
            "citation": self.citation().to_dict(),
        }

    def citation(self) -> Citation:
        """This passage cited: publisher, date, the quoted sentence, headline, file and lines (see `cite`)."""
        return cite(self)


_SPACE = re.compile(r"\s+")

_WORD = re.compile(r"\S+")

_FRAGMENT_WORDS = 4  # words at each end of a long quote in a text fragment (start,end)


@dataclass(frozen=True)
class Citation:
    """One passage, cited."""

    text: str  # one line: 'Dawn, 14 January 2022: “…” (Headline; seeds/004.txt, lines 13–14) URL'
    quote: str  # the quoted words, exactly the source's text[start:end]
    start: int  # raw-file offsets of the quote
    end: int
    line_start: int
    line_end: int
    url: str | None  # the article's URL with a text fragment at the quote, when its record has a URL

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "url": self.url,
        }


def cite(hit: Hit) -> Citation:
    """The citation of one hit, which a reporter pastes: who said it, when, the quoted words, where to check them.

    It quotes the passage's highlighted sentence (the one most likely to answer), or the whole passage when
    none is marked. The quote is the exact slice of the source; the one-line `text` only folds its whitespace
    (line breaks, indents) into single spaces so that it pastes as one line. `url` is the article's own
    address, when its record has one, with a text fragment (`#:~:text=start,end`) that makes a browser open
    the page at the quoted words.
    """
    passage = hit.passage
    start, end = (hit.highlight.start, hit.highlight.end) if hit.highlight is not None else (passage.start, passage.end)
    words = passage.text[start - passage.start : end - passage.start]
    # trim the slice's outer whitespace: still an exact slice, of fewer characters
    lead = len(words) - len(words.lstrip())
    words = words.strip()
    start += lead
    end = start + len(words)
    line_start = passage.line_start + passage.text[: start - passage.start].count("\n")
    line_end = line_start + words.count("\n")
    source = hit.source
    url = with_text_fragment(source.url, words) if source.url else None
    head = ", ".join(part for part in (source.publisher or source.byline, long_date(source.published)) if part)
    quoted = f"“{one_line(words)}”"
    lines = f"line {line_start}" if line_start == line_end else f"lines {line_start}–{line_end}"
    where = source.path + (f"#{source.id}" if source.id else "")
    place = "; ".join(part for part in (source.title, f"{where}, {lines}") if part)
    text = f"{head}: {quoted} ({place})" if head else f"{quoted} ({place})"
    if url:
        text += f" {url}"
    return Citation(text, words, start, end, line_start, line_end, url)


def one_line(text: str) -> str:
    """`text` with every run of whitespace (line breaks included) as one space."""
    return _SPACE.sub(" ", text).strip()


def long_date(published: str | None) -> str | None:
    """'2022-01-14' -> '14 January 2022'; anything else as it is."""
    if not published:
        return None
    try:
        day = dt.date.fromisoformat(published)
    except ValueError:
        return published
    return f"{day.day} {day.strftime('%B')} {day.year}"


def with_text_fragment(url: str, words: str) -> str:
    """`url` opened at `words`: a text fragment of the whole quote, or of its first and last words when long."""
    tokens = _WORD.findall(words)
    if not tokens:
        return url
    if len(tokens) <= 2 * _FRAGMENT_WORDS:
        directive = _fragment_part(" ".join(tokens))
    else:
        first, last = " ".join(tokens[:_FRAGMENT_WORDS]), " ".join(tokens[-_FRAGMENT_WORDS:])
        directive = f"{_fragment_part(first)},{_fragment_part(last)}"
    return f"{url.split('#', 1)[0]}#:~:text={directive}"


def _fragment_part(text: str) -> str:
    # ",", "&" and "-" are the fragment's own syntax: percent-encoded like every reserved character
    return quote(text, safe="").replace("-", "%2D")
