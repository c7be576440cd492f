"""Documents on their way in: read, decoded, extracted, chunked, and what the index keeps of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


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
