"""Disagreement: the number or date each source gives, read from the highlighted sentences.

When the question asks for a count ("how many ...") or a date ("when ..."), the highlighted sentence
of every hit is searched for numbers or dates; the one nearest to a word of the question is that
source's value. Values are normalised ("Jan. 19" and "19 January" -> "January 19", "2500" -> "2,500")
and grouped, each with every source that gives it (a hit's wire copies count as its sources too).
"""

from __future__ import annotations

import re

from qa.records import Hit, Value, ValueSource
from qa.search.highlight import Question, terms
from qa.text.figures import DATE, NUMBER
from qa.text.words import WORD

_MONTH_NAMES = "January February March April May June July August September October November December".split()
_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")
_SMALL = {
    w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
}


def values_of(question: Question, hits: list[Hit]) -> list[Value]:
    """The values the hits give for a count or date question, most sources first; [] for other questions."""
    if question.kind not in ("count", "date"):
        return []
    found: dict[str, list[ValueSource]] = {}
    order: list[str] = []
    for hit in hits:
        sentence = hit.highlight_text
        if hit.highlight is None or sentence is None:
            continue
        picked = _nearest(question, sentence)
        if picked is None:
            continue
        value, start, end = picked
        offset = hit.highlight.start
        s = hit.source
        given = [
            (value, ValueSource(hit.rank, s.path, s.id, s.title, s.publisher, offset + start, offset + end, False))
        ]
        for other in hit.also_in:
            # a wire copy may have changed the figure: list it under the value its own text gives
            own = {c[0] for c in _candidates(question.kind, other.text)}
            if value not in own:
                read = _nearest(question, other.text) if own else None
                if read is None:
                    continue
                copy_value = read[0]
            else:
                copy_value = value
            o = other.source
            given.append(
                (copy_value, ValueSource(hit.rank, o.path, o.id, o.title, o.publisher, other.start, other.end, True))
            )
        for key, source in given:
            if key not in found:
                order.append(key)
            found.setdefault(key, []).append(source)
    values = [Value(v, tuple(found[v])) for v in order]
    return sorted(values, key=lambda v: -len({(s.path, s.source_id) for s in v.sources}))


def _nearest(question: Question, sentence: str) -> tuple[str, int, int] | None:
    """The value in `sentence` nearest to a word of the question: (normalised value, start, end)."""
    candidates = _candidates(question.kind, sentence)
    if not candidates:
        return None
    words = list(WORD.finditer(sentence))
    # positions (word indices) of the question's words in the sentence
    anchors = [i for i, word in enumerate(words) if set(terms(word.group())) & question.terms]

    def word_index(offset: int) -> int:
        return next((i for i, w in enumerate(words) if w.start() >= offset), len(words))

    if not anchors:  # a sentence sharing no word with the question does not answer it
        return None

    def distance(candidate: tuple[str, int, int]) -> float:
        at = word_index(candidate[1])
        # "2,000 troops" (number before the noun) is a closer reading than "troops and 250"
        return min((a - at) if a >= at else (at - a) + 0.5 for a in anchors)

    return min(candidates, key=lambda c: (distance(c), c[1]))


def _candidates(kind: str | None, sentence: str) -> list[tuple[str, int, int]]:
    found = []
    if kind == "date":
        for match in DATE.finditer(sentence):
            normal = normalise_date_value(match.group())
            if normal:
                found.append((normal, match.start(), match.end()))
        return found
    dates = [(m.start(), m.end()) for m in DATE.finditer(sentence)]
    for match in NUMBER.finditer(sentence):
        text = match.group().rstrip(".,")
        inside_date = any(s <= match.start() < e for s, e in dates)
        if inside_date or _YEAR.match(text):
            continue
        found.append((normalise_number(text), match.start(), match.start() + len(text)))
    return found


def normalise_number(text: str) -> str:
    low = text.lower()
    if low in _SMALL:
        return _SMALL[low]
    digits = text.replace(",", "")
    if digits.isdigit():
        return f"{int(digits):,}"
    return low


def normalise_date_value(text: str) -> str | None:
    """'Jan. 19' / '19 January' / 'January 19th, 2022' -> 'January 19' / 'January 19, 2022'; others as written."""
    words = re.findall(r"[A-Za-z]+|\d+", text)
    month = next((m for m in _MONTH_NAMES for w in words if len(w) >= 3 and m.lower().startswith(w.lower())), None)
    numbers = [w for w in words if w.isdigit()]
    if month is None:
        return text.strip()
    day = next((n for n in numbers if len(n) <= 2), None)
    year = next((n for n in numbers if len(n) == 4), None)
    if day is None:
        return f"{month} {year}" if year else month
    return f"{month} {int(day)}" + (f", {year}" if year else "")
