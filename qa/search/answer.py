"""The exact answer: the span of the top hit's highlighted sentence that names what the question asks for.

Only for questions that ask for a person ("who ...", "which analyst ..."), a place ("where ...", "in which
city ..."), a date ("when ...", "in what year ...") or a figure ("how many ...", "how much ..."), and only
when the result is answered. The span is a slice of the source, never text of our own:

- a date or a figure is the value qa/search/values.py read in the top hit (its exact offsets), when it
  lies inside the highlighted sentence, else the only one of its kind there;
- a person is a run of capitalised words (after any title: "Defence Minister Sergei Shoigu" -> "Sergei
  Shoigu") that the question does not name; a place one after "in", "at", "from", ... or a capitalised
  run of a place-like shape, again not named in the question.

A span is shown only when it is unambiguous: the value values.py gives for the top hit, else the only
figure or date of the kind asked for in the sentence; the only person or place name, else the one nearest
the question's words when it is clearly nearer than the next (MARGIN words); and a name only within
MAX_DISTANCE words of the question's words. Rules, margin and distance from the fit part of the BBC dev
questions and the seed dev questions (bench/answers.py); otherwise no answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.records import Answer, Hit, Value
from qa.search.highlight import Question
from qa.search.value_reading import Want, readings_in, want_of
from qa.search.values import read_hit
from qa.text.figures import DATE
from qa.text.words import FUNCTION_WORDS, WORD, stem

MARGIN = 2  # words: how much nearer the question's words the best candidate must be than the next
MAX_DISTANCE = 5  # words: a name further than this from every word of the question is not shown

# "which analyst ...", "what city ...": the noun after which/what says what kind of answer is wanted
_PERSON_NOUNS = frozenset(
    """
    analyst minister member businessman businesswoman spokesman spokeswoman editor judge leader president
    chairman chairwoman boss executive director manager coach player striker singer actor actress star
    secretary chancellor chief founder owner author writer presenter host producer officer official
    politician mp backbencher candidate champion winner captain referee economist lawyer governor
    mayor king queen prince princess man woman person scrum-half goalkeeper midfielder defender
    forward athlete runner rider driver boxer bowler batsman designer director-general commissioner
    tory conservative liberal democrat
    """.split()
)
_PLACE_NOUNS = frozenset(
    """
    city country nation town village district region state province county capital island venue stadium
    ground base airport port street square area place location site continent suburb borough space
    """.split()
)
_WHERE = re.compile(r"^\s*where\b", re.IGNORECASE)
_WHICH = re.compile(
    r"^\s*(?:(?:in|at|from|to|on|for|by|of|with|near)\s+)?(?:which|what)\s+(?P<run>(?:[\w'-]+\s+){1,5})",
    re.IGNORECASE,
)
# the verb that ends "which Tokyo-based bank analyst ...": the noun asked about comes before it
_AUXILIARIES = frozenset("is are was were do does did has have had will would could can should may might must".split())
# titles and roles that stand before a name: the name is what follows the last of them
_TITLES = frozenset(
    """
    mr mrs ms miss dr sir lord lady dame president minister secretary chancellor chairman chairwoman chief
    executive general governor mayor king queen prince princess senator judge justice director commissioner
    leader spokesman spokeswoman officer captain coach manager editor analyst professor prof archbishop
    pope bishop premier mp boss head deputy vice founder economist striker singer actor actress star
    tory labour conservative liberal democrat republican
    """.split()
)
_ORGANISATION = frozenset(
    """
    association bank group council committee organisation organization party corporation company ltd inc
    plc university agency union federation commission office ministry department institute board court
    club fund service services network studios records news times post league cup championship enterprises
    media
    """.split()
)
_VENUES = frozenset("university college school".split())  # organisations that are also places
_HONORIFICS = frozenset("mr mrs ms miss dr sir lord lady dame".split())
_CALENDAR = frozenset(
    """
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday christmas easter
    """.split()
)
_PLACE_CUE = re.compile(r"\b(?:in|at|on|from|to|into|near|outside|inside|across|throughout)\s+(?:the\s+)?$")
# a capitalised word, with inner hyphens or apostrophes ("Kassym-Jomart", "O'Neill"), or an initial ("J.")
_CAP = re.compile(r"[A-Z][\w'’-]*[\w]|[A-Z]\.?")
_JOIN = re.compile(r"^(?:\s+|\s+(?:de|da|del|van|von|bin|al|le|la)\s+)$")
_PLACE_JOIN = re.compile(r"^\s+of\s+$")  # "University of Warwick", "Bank of England": one name for a place


@dataclass(frozen=True)
class Candidate:
    start: int  # offsets in the sentence
    end: int
    distance: float  # words to the nearest of the question's words in the sentence


def answer_kind(question: Question) -> str | None:
    """What the exact answer of `question` is: "value" (a figure or date), "person", "place" or None."""
    if want_of(question) is not None:
        return "value"
    text = question.text
    if question.kind == "name":  # who / whom / whose
        return "person"
    if _WHERE.search(text):
        return "place"
    which = _WHICH.search(text)
    if which is None:
        return None
    for word in which.group("run").lower().split():
        if word in _AUXILIARIES:
            break
        if word in _PERSON_NOUNS or word.rstrip("s") in _PERSON_NOUNS:
            return "person"
        if word in _PLACE_NOUNS or word.rstrip("s") in _PLACE_NOUNS:
            return "place"
    return None


def answer_of(question: Question, hits: list[Hit], values: list[Value], answered: bool) -> Answer | None:
    """The exact answer in the top hit's highlighted sentence, or None when there is none to trust."""
    hit = hits[0] if hits else None
    if not answered or hit is None or hit.highlight is None:
        return None
    offset = hit.highlight.start - hit.passage.start  # the sentence's place in the passage's text
    sentence = hit.highlight_text or ""
    want = want_of(question)
    if want is not None:
        span = _value_span(want, hit, values) or _only_value(want, sentence)
    else:
        kind = answer_kind(question)
        if kind is None:
            return None
        span = _unambiguous(candidates(question, sentence, kind))
    if span is None:
        return None
    start, end = offset + span[0], offset + span[1]
    return Answer(hit.passage.start + start, hit.passage.start + end, hit.passage.text[start:end])


def _value_span(want: Want, hit: Hit, values: list[Value]) -> tuple[int, int] | None:
    """The sentence offsets of the value listed for the top hit, when it lies inside the highlight."""
    assert hit.highlight is not None
    read = read_hit(want, hit)
    if read is None:
        return None
    start, end = hit.passage.start + read.start, hit.passage.start + read.end
    if not (hit.highlight.start <= start and end <= hit.highlight.end):
        return None
    listed = any(
        s.rank == hit.rank and not s.copy and (s.start, s.end) == (start, end) for v in values for s in v.sources
    )
    offset = hit.highlight.start
    return (start - offset, end - offset) if listed else None


def _only_value(want: Want, sentence: str) -> tuple[int, int] | None:
    """The one figure or date of the kind asked for in the sentence; None when there are none or several."""
    found = {(read.start, read.end) for read in readings_in(want, sentence) if read.rank[:1] != (3.0,)}
    return found.pop() if len(found) == 1 else None


def _unambiguous(found: list[Candidate]) -> tuple[int, int] | None:
    """The only candidate, or the nearest when it is MARGIN words nearer the question's words than the next."""
    ordered = sorted(found, key=lambda c: (c.distance, c.start))
    if not ordered or ordered[0].distance > MAX_DISTANCE:
        return None
    if len(ordered) == 1 or ordered[1].distance - ordered[0].distance >= MARGIN:
        return (ordered[0].start, ordered[0].end)
    return None


def candidates(question: Question, sentence: str, kind: str) -> list[Candidate]:
    """The person or place names of `sentence` the question does not name, with their distance to its words."""
    asked = {stem(w.lower()) for w in WORD.findall(question.text)}
    words = list(WORD.finditer(sentence))
    anchors = [i for i, w in enumerate(words) if stem(w.group().lower()) in question.terms]
    found: list[Candidate] = []
    for start, end in _name_runs(sentence, kind):
        span = _trimmed(sentence, start, end, asked, kind)
        if span is None or not _fits(sentence, *span, kind):
            continue
        at = [i for i, w in enumerate(words) if span[0] <= w.start() < span[1]]
        distance = min((abs(a - i) for a in anchors for i in at), default=len(words))
        found.append(Candidate(span[0], span[1], float(distance)))
    return found


def _name_runs(sentence: str, kind: str) -> list[tuple[int, int]]:
    """(start, end) of each run of capitalised words ('Kassym-Jomart Tokayev', 'University of Warwick'); an
    honorific starts a run ('Harrogate | Mr Kennedy'), a possessive ends a person's ("Sillerman's | Sports ...")."""
    runs: list[tuple[int, int]] = []
    for match in _CAP.finditer(sentence):
        before = sentence[match.start() - 1] if match.start() else " "
        if before.isalnum() or before in "'’-":
            continue
        gap = sentence[runs[-1][1] : match.start()] if runs else ""
        joined = bool(runs) and (_JOIN.match(gap) or (kind == "place" and _PLACE_JOIN.match(gap)))
        owner = kind == "person" and bool(runs) and sentence[: runs[-1][1]].endswith(("'s", "’s"))
        if joined and not owner and _plain(match.group()) not in _HONORIFICS:
            runs[-1] = (runs[-1][0], match.end())
        else:
            runs.append(match.span())
    return runs


def _trimmed(sentence: str, start: int, end: int, asked: set[str], kind: str) -> tuple[int, int] | None:
    """The run without what is not the name: a leading function word ("The"), titles before a person's name,
    words the question says at its ends, a trailing possessive; None when nothing is left or it names
    something the question names."""
    keep = list(re.finditer(r"\S+", sentence[start:end]))
    while keep and (_plain(keep[0].group()) in FUNCTION_WORDS or _plain(keep[0].group()) in _CALENDAR):
        keep.pop(0)
    if kind == "person":
        titled = [i for i, m in enumerate(keep) if _plain(m.group()) in _TITLES]
        if titled:
            keep = keep[titled[-1] + 1 :]
    while keep and stem(_plain(keep[0].group())) in asked:
        keep.pop(0)
    while keep and (stem(_plain(keep[-1].group())) in asked or _plain(keep[-1].group()) in FUNCTION_WORDS):
        keep.pop()
    if not keep or any(_plain(m.group()) in _CALENDAR or stem(_plain(m.group())) in asked for m in keep):
        return None  # a date, or a name the question already says ("Munster" for "where will Munster play")
    first, last = start + keep[0].start(), start + keep[-1].end()
    while last > first and sentence[last - 1] in ",.;:'’\"":
        last -= 1
    if sentence[first:last].endswith(("'s", "’s")):
        last -= 2
    return (first, last) if last > first else None


def _plain(word: str) -> str:
    return re.sub(r"(?:'s|’s)$", "", word.strip(",.;:\"'“”‘’()")).lower()


def _fits(sentence: str, start: int, end: int, kind: str) -> bool:
    """Whether a name can be the person or place asked for."""
    text = sentence[start:end]
    words = [_plain(w) for w in text.split()]
    before = sentence[:start]
    if DATE.fullmatch(text):
        return False
    if kind == "place":
        return bool(_PLACE_CUE.search(before)) and not any(w in _ORGANISATION - _VENUES for w in words)
    if any(w in _ORGANISATION for w in words):
        return False
    if not start or re.search(r"[.!?:\"“]\s*$", before):  # a sentence's first word: a name only with another
        return len(words) >= 2
    if re.match(
        r"\s+(?:[a-z]+\s+)?(?:" + "|".join(_ORGANISATION) + r"|firm|newspaper|paper|company)\b", sentence[end:]
    ):
        return False  # "JPMorgan Chase bank", "the Daily Mail newspaper": an organisation
    if re.search(r"(?:'s|’s)\s+$", before):
        return False  # "ITV1's Pop Idol": something someone owns
    if re.search(r"\w\s+of\s+$", before):
        return False  # "Junya Tanase of JPMorgan Chase": where the person works
    titled = bool(re.search(r"\b(?:Mr|Mrs|Ms|Dr|Sir|Lord|Lady)\.?\s+$", before))
    owner = sentence[end : end + 2] in ("'s", "’s")
    return (len(words) >= 2 or titled or _said_near(sentence, start, end)) and not (owner and len(words) < 2)


def _said_near(sentence: str, start: int, end: int) -> bool:
    """A single capitalised word that speaks ('Tokayev said', 'said Smith') is a person."""
    return bool(
        re.match(r"\s*(?:said|says|told|added|asked)\b", sentence[end:])
        or re.search(r"\b(?:said|says|told)\s+$", sentence[:start])
    )


__all__ = ["Candidate", "answer_kind", "answer_of", "candidates"]
