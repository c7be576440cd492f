"""Chunking: pack sentence spans into passages of a few sentences, as (start, end) raw offsets."""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa.records import ChunkSettings, Document, Passage
from qa.text.sentences import line_spans, sentence_spans

_WORD = re.compile(r"\S+")
MIN_SENTENCE_WORDS = 4  # a sentence gets a vector of its own from this many words ("He added." matches too much)


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of an over-long one) and where its paragraph starts."""

    start: int
    end: int
    words: int
    opens_paragraph: bool


DEFAULT_SETTINGS = ChunkSettings()


def chunk(
    text: str, settings: ChunkSettings = DEFAULT_SETTINGS, spans: Sequence[tuple[int, int]] | None = None
) -> list[tuple[int, int]]:
    """Return passage spans over `spans` of `text` (default: all of it), in document order.

    Every passage is a run of whole sentences, at most `max_words` words unless one sentence alone is
    longer (then it is cut between words). A passage closes at a paragraph break once it holds
    `min_words`, so passages follow the article's own structure. Together the passages cover every
    non-whitespace character inside `spans`.
    """
    regions = spans if spans is not None else [(0, len(text))]
    passages: list[tuple[int, int]] = []
    for region_start, region_end in regions:
        passages.extend(_pack(list(_units(text, region_start, region_end, settings.max_words)), settings))
    return passages


def _units(text: str, start: int, end: int, max_words: int) -> Iterable[_Unit]:
    for line_start, line_end in line_spans(text, start, end):
        first = True
        for s_start, s_end in sentence_spans(text, line_start, line_end):
            words = [(m.start(), m.end()) for m in _WORD.finditer(text, s_start, s_end)]
            for i in range(0, len(words), max_words):
                piece = words[i : i + max_words]
                yield _Unit(piece[0][0], piece[-1][1], len(piece), first)
                first = False


def _pack(units: list[_Unit], settings: ChunkSettings) -> list[tuple[int, int]]:
    passages: list[list[_Unit]] = []
    current: list[_Unit] = []
    words = 0
    for unit in units:
        full = words + unit.words > settings.max_words
        paragraph_break = unit.opens_paragraph and words >= settings.min_words
        if current and (full or paragraph_break):
            passages.append(current)
            current = _overlap(current, unit, settings)
            words = sum(u.words for u in current)
        current.append(unit)
        words += unit.words
    if current:
        # a short tail joins the passage before it when they fit together
        if passages and words < settings.min_words and not _shares_units(passages[-1], current):
            merged_words = sum(u.words for u in passages[-1]) + words
            if merged_words <= settings.max_words:
                passages[-1] = passages[-1] + current
                current = []
        if current:
            passages.append(current)
    return [(group[0].start, group[-1].end) for group in passages]


def _overlap(previous: list[_Unit], nxt: _Unit, settings: ChunkSettings) -> list[_Unit]:
    """Trailing sentences of `previous` to repeat, only if the passage had more than that many."""
    if settings.overlap == 0 or len(previous) <= settings.overlap:
        return []
    carried = previous[-settings.overlap :]
    if sum(u.words for u in carried) + nxt.words > settings.max_words:
        return []
    return list(carried)


def _shares_units(a: list[_Unit], b: list[_Unit]) -> bool:
    return bool(b) and bool(a) and b[0].start <= a[-1].start


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def make_passage(doc: Document, start: int, end: int) -> Passage:
    text = doc.text[start:end]
    newlines = _newline_offsets(doc.text)
    line_start = bisect.bisect_left(newlines, start) + 1
    line_end = bisect.bisect_left(newlines, end, lo=line_start - 1) + 1
    ident = hashlib.sha1(f"{doc.key}\0{doc.sha256}\0{start}\0{end}".encode()).hexdigest()[:16]
    return Passage(ident, doc.key, start, end, line_start, line_end, text)


@functools.lru_cache(maxsize=2)
def _newline_offsets(text: str) -> array[int]:
    """Where the line breaks of `text` are, found once per document: counting them from the start of
    the text for every passage was quadratic on a big file."""
    offsets = array("q")
    at = text.find("\n")
    while at != -1:
        offsets.append(at)
        at = text.find("\n", at + 1)
    return offsets


def sentence_spans_of(passage: Passage) -> list[tuple[int, int]]:
    """Raw-file spans of the sentences of a passage that have at least a few words."""
    spans = []
    for line_start, line_end in line_spans(passage.text):
        for start, end in sentence_spans(passage.text, line_start, line_end):
            if len(passage.text[start:end].split()) >= MIN_SENTENCE_WORDS:
                spans.append((passage.start + start, passage.start + end))
    return spans
