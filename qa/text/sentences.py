"""Split text into sentence spans whose offsets index the original string exactly."""

from __future__ import annotations

import re
from collections.abc import Iterator

# A sentence may end with . ! ? or … , then closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_OPENERS = "\"'“‘([•*-–—"
# Words after which a period rarely ends a sentence ("Jan. 19", "Mr. Putin", "Gen. Serdyukov").
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft rev gen col lt sgt capt cmdr adm maj gov sen rep pres
    jan feb mar apr jun jul aug sep sept oct nov dec
    inc ltd co corp bros dept est approx vs etc al fig no nos vol pp ed eds
    e.g i.e u.s u.k u.n a.m p.m
    """.split()
)
_INITIALISM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]?$")


def line_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each non-blank line of text[start:end], trimmed of surrounding whitespace."""
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        line_end = end if newline == -1 else newline
        yield from _trimmed(text, pos, line_end)
        pos = line_end + 1


def sentence_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield trimmed sentence spans of one line (or any newline-free stretch) text[start:end].

    The spans partition the non-whitespace characters of the stretch: nothing is lost or repeated.
    """
    sentence_start = start
    for match in _END.finditer(text, start, end):
        cut = match.end()
        if not _is_boundary(text, match.start(), cut, end):
            continue
        yield from _trimmed(text, sentence_start, cut)
        sentence_start = cut
    yield from _trimmed(text, sentence_start, end)


def _is_boundary(text: str, punct_start: int, cut: int, end: int) -> bool:
    nxt = cut
    while nxt < end and text[nxt].isspace():
        nxt += 1
    while nxt < end and text[nxt] in _OPENERS:
        nxt += 1
    if nxt >= end:
        return True
    if not (text[nxt].isupper() or text[nxt].isdigit()):
        return False
    if text[punct_start] != ".":
        return True
    word_start = text.rfind(" ", 0, punct_start) + 1
    word = text[word_start:punct_start].lstrip(_OPENERS)
    if word.lower() in ABBREVIATIONS or _INITIALISM.match(word):
        return False
    # a lone capital is an initial ("J. Smith"), except the pronoun "I"
    return not (len(word) == 1 and word.isupper() and word != "I")


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end
