"""Values: the figure or date each source gives for the question, compared only like with like.

For a count ("how many troops ..."), an amount ("how much did it cost", "what percentage ...") or a date
("when ...") question, each hit's highlighted sentence is read for the figure that answers the question's
kind of quantity:

- a count is a figure attached to the counted noun or a synonym of it ("2,500 troops", "troops out of
  about 2,500"; soldiers = troops = peacekeepers = force), else a bare figure next to the question's words,
  never one that counts something else ("30 reports", "in three years", "six nights a week");
- an amount is money ("£8m", "8 million pounds", "$1.2bn") or a percentage, whichever the question asks;
- a date is a calendar date ("Jan. 19" = "19 January" = "January 19"), a year only when nothing finer
  is there or the question asks for one, a weekday or "last week" only when no source gives a calendar
  date; never a limit ("after Jan. 23", "ahead of a January 22 deadline") unless the question asks for it.

Numbers are read whole ("14 million", "half a million", "£8m"); phone numbers, times of day, dates and
years are never counts. Photo captions give no value. When the highlighted sentence has no count attached
to the counted noun, the passage's other sentences are read for one. Each document gives one value (its
best-ranked hit's); a wire copy is listed under the value its own text gives.

Values are compared only when they answer the same question about the same thing: a value's sentence
must hold at least half the question's topic words (and, short of a count attached to its noun, half of
the words that say what is measured), must not name another month or year than the question does ("in
October" for "in January"), and its passage or headline must name one of the question's names; "2,000
more people" is an increment, not a count. When no value passes, only the best-ranked hit's is given.
Values of different kinds are never compared: only the kind most sources give is kept (calendar dates
before weekdays, one currency), so two values mean two documents that give different figures for the
same quantity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from qa.records import Hit, Value, ValueSource
from qa.search.highlight import Question
from qa.search.value_reading import RELATIVE, Reading, Want, all_readings, read_sentence, want_of
from qa.text.sentences import line_spans, sentence_spans
from qa.text.words import WORD, stem

RELEVANT = 0.5  # share of the question's topic words a sentence must hold for its value to be compared

# the end of a photo caption: "(AFP Photo)", "(Photo: ...)", "REUTERS/Pavel Mikheyev", "... 2022.—AP", "Getty Images"
_CAPTION = re.compile(
    r"(?:\([^()]*\b(?:[Pp]hoto|[Ii]mage|[Pp]icture|[Ff]ile|via|Getty|REUTERS|Reuters|AFP|AP|EPA|PA)\b[^()]*\)"
    r"|\b(?:REUTERS|Reuters|AFP|AP|EPA)/[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,3}"
    r"|[.!?]\s*[—–-]?\s*(?:AP|AFP|REUTERS|Reuters|Getty Images|PA|EPA)|\bGetty Images|\bPhoto: .*)\s*$"
)


def values_of(question: Question, hits: list[Hit]) -> list[Value]:
    """The values the hits give for a count, amount or date question, most sources first; [] otherwise."""
    want = want_of(question)
    if want is None:
        return []
    entries: list[tuple[Reading, ValueSource]] = []
    seen: set[tuple[str, str | None]] = set()
    for hit in hits:
        read = read_hit(want, hit)
        if read is None or (hit.source.path, hit.source.id) in seen:
            continue
        seen.add((hit.source.path, hit.source.id))
        s = hit.source
        start, end = hit.passage.start + read.start, hit.passage.start + read.end
        entries.append((read, ValueSource(hit.rank, s.path, s.id, s.title, s.publisher, start, end, False)))
        for other in hit.also_in:
            o = other.source
            if (o.path, o.id) in seen:
                continue
            own = _copy_reading(want, other.text, read)
            if own is None:  # the copy's stretch does not carry a figure of this kind
                continue
            seen.add((o.path, o.id))
            entries.append(
                (own, ValueSource(hit.rank, o.path, o.id, o.title, o.publisher, other.start, other.end, True))
            )
    return _grouped(_comparable(_relevant(entries)))


def values_from_spans(question: Question, hits: list[Hit], spans: list[tuple[int, int] | None]) -> list[Value]:
    """The values the reader's answer spans give (`spans[i]`: hit i's span in its passage text, or None):
    one per document, each read only inside its span, never a relative time ("last week", "Monday").

    With the reader, a figure is a value only when the reader took it as the answer to this question in
    that document, so another story's figure or the number detained for "how many were killed" is none. The
    values are the answer's: when the top hit's own span gives none ("dozens", or no span the reader is sure
    of), the other documents' figures are not set beside it as what "the sources" say.
    """
    want = want_of(question)
    if want is None or not hits or spans[0] is None or _span_reading(want, hits[0].passage.text, spans[0]) is None:
        return []
    entries: list[tuple[Reading, ValueSource]] = []
    seen: set[tuple[str, str | None]] = set()
    for hit, span in zip(hits, spans, strict=True):
        if span is None or (hit.source.path, hit.source.id) in seen:
            continue
        read = _span_reading(want, hit.passage.text, span)
        if read is None:
            continue
        seen.add((hit.source.path, hit.source.id))
        s = hit.source
        start, end = hit.passage.start + read.start, hit.passage.start + read.end
        entries.append((read, ValueSource(hit.rank, s.path, s.id, s.title, s.publisher, start, end, False)))
        for other in hit.also_in:  # a wire copy: listed under the figure its own text gives in that sentence
            o = other.source
            own = _copy_span_reading(want, other.text, hit.passage.text, read)
            if (o.path, o.id) in seen or own is None:
                continue
            seen.add((o.path, o.id))
            source = ValueSource(hit.rank, o.path, o.id, o.title, o.publisher, other.start, other.end, True)
            entries.append((own, source))
    return _grouped(_comparable(entries))


def _copy_span_reading(want: Want, copy: str, text: str, read: Reading) -> Reading | None:
    """What a wire copy gives for the figure the reader took at text[read.start:read.end]: the same figure
    when the copy carries it; else the one figure of the kind asked for in the copy's sentence that shares
    most words with the span's sentence (none when that sentence has none, or several)."""
    carried = [r for a, b in _sentences(copy) for r in all_readings(want, copy[a:b]) if _same(r, read)]
    if carried:
        return Reading(read.value, read.key, read.unit, 0, 0, read.rank, read.relevance)
    own = next(((a, b) for a, b in _sentences(text) if a <= read.start < b), None)
    if own is None:
        return None
    words = {w.lower() for w in WORD.findall(text[own[0] : own[1]])}
    sentences = list(_sentences(copy))
    if not sentences:
        return None
    a, b = max(sentences, key=lambda s: len(words & {w.lower() for w in WORD.findall(copy[s[0] : s[1]])}))
    found = [r for r in all_readings(want, copy[a:b]) if not RELATIVE.match(r.value.lower())]
    return found[0] if len(found) == 1 else None


def _span_reading(want: Want, text: str, span: tuple[int, int]) -> Reading | None:
    """The value inside text[span] (offsets into text), read in its sentence so that units and limits count."""
    if _in_caption(text, span[0]):  # a photo caption gives no value
        return None
    for a, b in _sentences(text):
        if a <= span[0] < b:
            inside = [
                r
                for r in all_readings(want, text[a:b])
                if a + r.start < span[1] and a + r.end > span[0] and not RELATIVE.match(r.value.lower())
            ]
            return _moved(inside[0], a) if inside else None
    return None


def read_hit(want: Want, hit: Hit) -> Reading | None:
    """The value `hit` gives: from its highlighted sentence; for a count of a named noun, a figure attached to
    the noun in another sentence of the passage wins over a bare one or none."""
    if hit.highlight is None:
        return None
    text = hit.passage.text
    start, end = hit.highlight.start - hit.passage.start, hit.highlight.end - hit.passage.start
    read = None if _in_caption(text, start) else read_sentence(want, text[start:end])
    highlighted = None if read is None else _moved(read, start)
    if want.kind != "count" or not want.nouns or (highlighted is not None and highlighted.rank[0] == 0):
        return _about_subject(want, hit, highlighted)
    found = [
        _moved(read, s)
        for s, e in _sentences(text)
        if (s, e) != (start, end) and not _in_caption(text, s)
        for read in [read_sentence(want, text[s:e], strict=True)]
        if read is not None
    ]
    return _about_subject(want, hit, min(found, key=lambda r: (r.rank, r.start)) if found else highlighted)


def _about_subject(want: Want, hit: Hit, read: Reading | None) -> Reading | None:
    """`read`, not to be compared (relevance 0) when neither the passage nor the headline names any of the
    question's names ('the Lyric Theatre'): a figure from a story about something else answers another question."""
    names = [group for group, named in want.topic if named]
    if read is None or not names:
        return read
    held = {stem(w.lower()) for w in WORD.findall(hit.passage.text + " " + (hit.source.title or ""))}
    return read if any(group & held for group in names) else replace(read, relevance=0.0)


def _copy_reading(want: Want, text: str, read: Reading) -> Reading | None:
    """What a wire copy's stretch gives: the hit's value when it carries it, else its own nearest value."""
    carried = [r for s, e in _sentences(text) for r in all_readings(want, text[s:e]) if _same(r, read)]
    if carried:
        return Reading(read.value, read.key, read.unit, 0, 0, read.rank, read.relevance)
    found = [r for s, e in _sentences(text) for r in [read_sentence(want, text[s:e])] if r is not None]
    return min(found, key=lambda r: r.rank) if found else None


def _same(a: Reading, b: Reading) -> bool:
    """The same value: equal keys, or dates that agree wherever both say something ('Jan 19' ~ 'January 19, 2022')."""
    if a.unit != b.unit:
        return False
    if a.unit != "date":
        return a.key == b.key
    return all(x is None or y is None or x == y for x, y in zip(a.key, b.key, strict=True))


def _relevant(entries: list[tuple[Reading, ValueSource]]) -> list[tuple[Reading, ValueSource]]:
    """The readings from sentences about the question's topic (at least RELEVANT of its words), else the first.

    Two documents that give different figures in sentences about other things (another country's budget,
    another year's launch) do not disagree: they answer other questions.
    """
    kept = [(read, source) for read, source in entries if read.relevance >= RELEVANT]
    if kept or not entries:
        return kept
    first, where = entries[0]
    return [(read, source) for read, source in entries if source.rank == where.rank and _same(read, first)]


def _comparable(entries: list[tuple[Reading, ValueSource]]) -> list[tuple[Reading, ValueSource]]:
    """Only the entries of one unit: calendar dates over weekdays, else the unit most documents give."""
    if not entries:
        return []
    units = [read.unit for read, _ in entries]
    if "date" in units:
        return [(r, s) for r, s in entries if r.unit == "date"]
    best = max(dict.fromkeys(units), key=lambda u: (units.count(u), -units.index(u)))
    return [(r, s) for r, s in entries if r.unit == best]


def _grouped(entries: list[tuple[Reading, ValueSource]]) -> list[Value]:
    groups: list[tuple[Reading, list[ValueSource]]] = []
    for read, source in entries:
        group = next((g for g in groups if _same(g[0], read)), None)
        if group is None:
            groups.append((read, [source]))
        else:
            group[1].append(source)
    values = [Value(read.value, tuple(sources)) for read, sources in groups]
    return sorted(values, key=lambda v: -len({(s.path, s.source_id) for s in v.sources}))


def _in_caption(text: str, offset: int) -> bool:
    """Whether `offset` of a passage's text sits on a photo-caption line."""
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    return bool(_CAPTION.search(text[line_start : len(text) if line_end == -1 else line_end]))


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    for line_start, line_end in line_spans(text):
        yield from sentence_spans(text, line_start, line_end)


def _moved(read: Reading, offset: int) -> Reading:
    return Reading(read.value, read.key, read.unit, read.start + offset, read.end + offset, read.rank, read.relevance)


__all__ = ["read_hit", "values_from_spans", "values_of"]
