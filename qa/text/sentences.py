"""Split text into sentence spans whose offsets index the original string exactly."""

from __future__ import annotations

import re
from collections.abc import Iterator

# A sentence may end with . ! ? or … , then closing quotes/brackets, then whitespace. A match starts only
# where a run of end marks starts: a run that fails (".....x") is then tried once, not from each of its marks.
_END = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s)")
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
    sentence_start = after_last_end = start
    for match in _END.finditer(text, start, end):
        cut = match.end()
        boundary = _is_boundary(text, after_last_end, match.start(), cut, end)
        after_last_end = cut
        if not boundary:
            continue
        yield from _trimmed(text, sentence_start, cut)
        sentence_start = cut
    yield from _trimmed(text, sentence_start, end)


def _is_boundary(text: str, floor: int, punct_start: int, cut: int, end: int) -> bool:
    """Whether the end marks at text[punct_start:cut] end a sentence; `floor` is where the word before
    them may start at the earliest (the end of the previous match, which whitespace follows)."""
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
    word = _word_before(text, floor, punct_start)
    if word is None:
        return True
    word = word.lstrip(_OPENERS)
    if word.lower() in ABBREVIATIONS or _INITIALISM.match(word):
        return False
    # a lone capital is an initial ("J. Smith"), except the pronoun "I"
    return not (len(word) == 1 and word.isupper() and word != "I")


# the last whitespace character before a sentence end, and the word between them
_LAST_SPACE = re.compile(r"\s\S*\Z")


def _word_before(text: str, floor: int, punct_start: int) -> str | None:
    """The word before a sentence end: the text after the last space (" ") before it, or None when a
    tab, NBSP or line break comes after that space (no abbreviation or initial holds one).

    Searched from `floor` only: looking back to the start of the text from every full stop was quadratic
    on text whose words are separated by tabs or NBSPs.
    """
    found = _LAST_SPACE.search(text, floor, punct_start)
    if found is not None:
        space = found.start()
    elif floor > 0 and text[floor - 1].isspace():
        space = floor - 1
    else:  # no whitespace from `floor`: a caller's stretch that starts inside a word
        space = text.rfind(" ", 0, punct_start)
        return text[space + 1 : punct_start]
    return text[space + 1 : punct_start] if text[space] == " " else None


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end
