"""The typed records that cross module borders: corpus files, documents, extraction, chunking, passages,
sources, search results and their evidence, index status, and the Reporter the library talks through."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import numpy as np


@dataclass(frozen=True)
class Document:
    """One article as read from disk; `text` is the decoded file (or record) and offsets index into it."""

    key: str  # unique in the corpus: relative path for folders, record id for .jsonl
    path: str  # the file as found under --docs (relative to the docs root), "" for the root itself
    source_id: str | None  # record id for .jsonl corpora, None for files
    text: str
    sha256: str  # hash of the decoded text plus metadata: a change re-embeds the document
    title: str | None = None
    publisher: str | None = None
    published: str | None = None  # YYYY-MM-DD
    url: str | None = None
    encoding: str = "utf-8"  # "html": text is what trafilatura extracted from the page, offsets index it
    byline: str | None = None  # author or agency ("Reuters")
    article_text: bool = False  # the text is already the article (HTML through trafilatura): index all of it


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


@dataclass(frozen=True)
class IngestWarning:
    """A non-fatal problem met while reading the corpus: a skipped file or record, a fallback decoding."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class DocumentMeta:
    """What the index keeps about a document: where it is and what it says about itself (no text)."""

    key: str
    path: str
    source_id: str | None
    sha256: str
    title: str | None = None
    publisher: str | None = None
    published: str | None = None
    url: str | None = None
    encoding: str = "utf-8"
    byline: str | None = None


@dataclass(frozen=True)
class StoredPassage:
    """A passage with everything embedded for it, as written by a build."""

    passage: Passage
    vector: np.ndarray  # (dim,)
    spans: np.ndarray  # (k, 2) int64: raw offsets of its sentences
    sentence_vectors: np.ndarray  # (k, dim)


Progress = Callable[[int, int], None]  # (texts done, texts in all)


class Embedder(Protocol):
    """What the index needs from a model: a stable name, a dimension, the runtime, and normalised vectors."""

    name: str

    @property
    def dim(self) -> int: ...

    @property
    def backend(self) -> str:
        """The runtime that encodes, as a build records it in the manifest (model.backend)."""
        ...

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


class Reporter(Protocol):
    """Where the library sends what a user may want to see; the fronts decide how to show it."""

    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def progress(self, done: int, total: int) -> None: ...


class SilentReporter:
    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass

    def progress(self, done: int, total: int) -> None:
        pass


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        return f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"


@dataclass(frozen=True)
class IndexStatus:
    """What `ask.py index status` shows: the live index and how it stands against the corpus."""

    index_dir: str
    generation: str | None
    documents: int
    passages: int
    model: str | None
    backend: str | None
    vector_index: str | None
    created_at: str | None
    pending: str | None  # why the next question would update the index; None when up to date
    changes: Changes
    excluded: tuple[str, ...]
    checkpoint_documents: int  # documents an interrupted build has committed (0: none)
    passages_per_second: float = 0.0  # how fast the build that wrote it embedded (0: it embedded nothing)
    ray_workers: int = 0  # the Ray actors it embedded on (0: in the building process)


PASSAGES_PER_TURN = 2  # how many top passages a turn keeps for salience


@dataclass(frozen=True)
class Turn:
    """A previous question, what was searched for it, and what its answer showed (qa/search/followup.py)."""

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
class IndexedDocument:
    """One indexed article as the fronts list it: its key, where it comes from, how many passages it has."""

    key: str
    source: Source
    passages: int


@dataclass(frozen=True)
class GradedQuestion:
    """One line of an evaluation file: a question and the answers that count (none: it should be abstained on)."""

    question: str
    answers: tuple[str, ...] = ()
    id: object = None  # echoed as given (a string, a number, or None)
    path: str | None = None  # the gold article, relative to the corpus folder ("business/001.txt"), if any


# --- what the stages before embedding pass on: corpus files, extraction, chunking ---


@dataclass(frozen=True)
class CorpusFile:
    """A file of the corpus and its stat, enough to tell cheaply whether it changed."""

    relpath: str  # posix path relative to the docs root; "" when the corpus is one .jsonl file
    abspath: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Corpus:
    kind: str  # "folder" or "jsonl"
    root: Path  # absolute
    files: tuple[CorpusFile, ...]
    skipped: tuple[IngestWarning, ...] = ()  # entries that are not readable regular files


@dataclass(frozen=True)
class Block:
    """One non-blank line of the page, trimmed (and without a leading bullet), with the decision on it."""

    start: int
    end: int
    line: int  # 1-based line number in the raw text
    kind: str  # headline, prose, short, caption, credit, dateline, byline, menu, chrome, end-marker, repeat, ...
    keep: bool
    reason: str


@dataclass(frozen=True)
class Extraction:
    """The article found in a page: body spans of the raw text (in order) and what the page says of itself."""

    blocks: tuple[Block, ...]
    body: tuple[tuple[int, int], ...]  # merged runs of kept blocks; passages never cross a dropped block
    title: str | None = None
    publisher: str | None = None
    published: str | None = None  # YYYY-MM-DD
    byline: str | None = None
    kept_chars: int = 0
    dropped_chars: int = 0


@dataclass(frozen=True)
class ChunkSettings:
    """Passage sizes in words; `overlap` repeats that many trailing sentences at the next passage's head."""

    # measured on the seed dev questions (bench/seed_dev.py): 30-100 words put the answer in the top
    # passage for 10/10, 60-160 for 7/10 (hybrid retrieval)
    min_words: int = 30
    max_words: int = 100
    overlap: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.min_words <= self.max_words:
            raise ValueError("chunking needs 1 <= min_words <= max_words")
        if self.overlap < 0:
            raise ValueError("overlap must be >= 0")

    def to_dict(self) -> dict[str, int]:
        return asdict(self)
