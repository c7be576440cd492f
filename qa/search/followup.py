"""Follow-up questions without generation: an elliptical question is searched with words of the last turn.

The rules, in order (`resolve`):

1. No previous turn: the question is searched as it is.
2. A question that **starts with a connective** ("and …", "but …", "also …", "what about …", "how about …",
   "what of …", "then …", "so …") leans on the last turn.
3. A question with a **pronoun that refers back** ("they", "them", "their", "it", "its", "he", "his",
   "she", "her", "these", "those", "this", "the same", "else"; "that" only after a verb like "did"/"was" or
   a preposition, or at the end; "there" only at the end; not "this week", "that day") leans on the last
   turn: "who led them?", "when did it end?", "how many of them?".
4. A question with **at most one content word and no name** of its own is elliptical: "why?", "how many?",
   "where exactly?". ("Who is Shoigu?" names someone, so it stands alone.)
5. Anything else is self-contained and starts afresh.

A follow-up is searched as one plain query string: the question itself (without its leading connective),
then the content words of the last turn's query that it does not already have (so context carries over a
chain of follow-ups, at most `MAX_CARRIED` of them), then the `MAX_SALIENT` most salient word(s) of the
last turn's top passages: the words repeated most often across them (stemmed counts, names first on
ties), again only those not already in the query. Nothing is generated: the query is only ever searched.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from qa.records import PASSAGES_PER_TURN, Turn
from qa.text.words import DOTTED_WORD, FUNCTION_WORDS
from qa.text.words import stem as stem_of

if TYPE_CHECKING:
    from qa.search.retriever import Retriever

# Measured with bench/followups.py (23 dialogues over the seeds, hybrid turn-2 hit@1): carrying the last
# query's words does most of the work; one salient passage word helps the dense mode, more of them pull the
# query towards the previous answer (2 words: hit@1 18 -> 15 of 23).
MAX_CARRIED = 10  # content words carried over from the last turn's query
MAX_SALIENT = 1  # salient words taken from the last turn's top passages

_CONNECTIVES = (
    "and",
    "but",
    "also",
    "what about",
    "how about",
    "what of",
    "what else about",
    "then",
    "so",
    "plus",
)
_CONNECTIVE = re.compile(r"^\s*(?:" + "|".join(c.replace(" ", r"\s+") for c in _CONNECTIVES) + r")\b[\s,]*", re.I)
# pronouns and markers that point at something said before
_REFERRING = frozenset(
    "they them their theirs themselves it its itself he him his himself she her hers herself "
    "these those this else".split()
)
# "this week", "that day": a time, not a reference
_DEMONSTRATIVES = frozenset("this that these those".split())
_TIME_WORDS = frozenset(
    "morning afternoon evening night day days week weeks weekend month months year years time".split()
)
# after these, "that" is a pronoun ("when did that happen", "after that"), not a conjunction ("said that …")
_BEFORE_THAT = frozenset(
    "is was were are be been did does do will would can could has have had about of after before for by to "
    "with in on from at like than".split()
)
_TRIM = "'’.,-"  # stripped from the ends of a word
_TITLE_WORD = re.compile(r"^[A-Z][A-Za-z'’.-]*$|^[A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Resolved:
    """What to search for a question: `query`, and whether the conversation went into it."""

    query: str
    used_context: bool
    reason: str  # why, in a few words: "starts with 'and'", "refers back with 'them'", "self-contained", …


def resolve(question: str, turns: Sequence[Turn]) -> Resolved:
    """The query to search for `question`, given the previous turns (oldest first); see the module docstring."""
    question = " ".join(question.split())
    if not turns:
        return Resolved(question, False, "no previous turn")
    reason = followup_reason(question)
    if reason is None:
        return Resolved(question, False, "self-contained")
    last = turns[-1]
    own = _CONNECTIVE.sub("", question, count=1).strip() or question
    seen = {_stem(word) for word in content_words(own)}
    carried = _new_words(content_words(last.searched), seen, MAX_CARRIED)
    salient = _new_words(salient_words(last.passages), seen, MAX_SALIENT)
    extra = carried + salient
    if not extra:
        return Resolved(question, False, reason + ", but the last turn has no content words")
    return Resolved(" ".join([own, *extra]), True, reason)


def followup_reason(question: str) -> str | None:
    """Why `question` leans on the conversation (rules 2–4 of the module docstring), or None if it stands alone."""
    connective = _CONNECTIVE.match(question)
    if connective:
        return f"starts with {' '.join(connective.group(0).split()).strip(',').lower()!r}"
    words = [word.lower() for word in DOTTED_WORD.findall(question)]
    for position, word in enumerate(words):
        following = words[position + 1] if position + 1 < len(words) else None
        previous = words[position - 1] if position else None
        if word in _REFERRING and not (word in _DEMONSTRATIVES and following in _TIME_WORDS):
            return f"refers back with {word!r}"
        if word == "same" and previous == "the":
            return "refers back with 'the same'"
        if word == "that" and (following is None or previous in _BEFORE_THAT) and following not in _TIME_WORDS:
            return "refers back with 'that'"
        if word == "there" and following is None and position > 1:
            return "refers back with 'there'"
    if len(content_words(question)) <= 1 and not names(question):
        return "too short to stand alone"
    return None


def content_words(text: str) -> list[str]:
    """The words of `text` that carry its topic, in order (stopwords and question words dropped)."""
    words = (word.strip(_TRIM) for word in DOTTED_WORD.findall(text))
    return [word for word in words if word and word.lower() not in FUNCTION_WORDS]


def names(text: str) -> list[str]:
    """Capitalised words other than stopwords: 'Shoigu', 'Almaty'; the first word only in capitals ('CSTO')."""
    found = []
    for position, word in enumerate(DOTTED_WORD.findall(text)):
        word = word.strip(_TRIM)
        if word.lower() in FUNCTION_WORDS or not _TITLE_WORD.match(word) or (position == 0 and not word.isupper()):
            continue
        found.append(word)
    return found


def salient_words(passages: Sequence[str]) -> list[str]:
    """Content words of the passages, most repeated first (stemmed counts; names first on ties, then order).

    A word counts as a name when it is capitalised away from the start of a sentence ('Almaty', 'CSTO').
    """
    counts: Counter[str] = Counter()
    surface: dict[str, str] = {}
    named: set[str] = set()
    for text in passages:
        sentence_start = True
        for match in DOTTED_WORD.finditer(text):
            raw = match.group(0)
            word = raw.strip(_TRIM)
            starts = sentence_start
            sentence_start = text[match.end() : match.end() + 1] in (".", "!", "?")
            if not word or word.lower() in FUNCTION_WORDS or word.isdigit() or len(word) < 3:
                continue
            stem = _stem(word)
            counts[stem] += 1
            surface.setdefault(stem, word)
            if not starts and _TITLE_WORD.match(word):
                named.add(stem)
    order = {stem: position for position, stem in enumerate(surface)}
    ranked = sorted(counts, key=lambda stem: (-counts[stem], stem not in named, order[stem]))
    return [surface[stem] for stem in ranked]


def _new_words(words: Sequence[str], seen: set[str], limit: int) -> list[str]:
    """Up to `limit` of `words` whose stem is not in `seen` (which is updated)."""
    kept: list[str] = []
    for word in words:
        if len(kept) >= limit:
            break
        stem = _stem(word)
        if stem in seen:
            continue
        seen.add(stem)
        kept.append(word)
    return kept


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return stem_of(word.lower().replace("’", "'").removesuffix("'s"))


def history_resolver(retriever: Retriever, mode: str = "hybrid", *, turns: int = 3) -> Callable[[str, list[str]], str]:
    """For the HTTP API, whose client sends only its previous questions: replay the last `turns` of them
    (each resolved against the ones before it and searched) to get the context for the new question."""

    def resolve_with(question: str, context: list[str]) -> str:
        previous: list[Turn] = []
        for earlier in context[-turns:]:
            resolved = resolve(earlier, previous)
            result = retriever.search(resolved.query, k=PASSAGES_PER_TURN, mode=mode)
            previous.append(Turn.of(earlier, result, resolved.query))
        return resolve(question, previous).query

    return resolve_with
