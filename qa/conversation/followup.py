"""Follow-up questions without generation: an elliptical question is searched with the conversation's topic.

Which questions lean on the conversation (`followup_reason`), in order:

1. No previous turn: the question is searched as it is.
2. A question that **starts with a connective** ("and …", "but …", "also …", "what about …", "how about …",
   "what of …", "then …", "so …") leans on the last turn.
3. A question with a **pronoun that refers back** ("they", "them", "their", "it", "its", "he", "his",
   "she", "her", "these", "those", "this", "the same", "else"; "that" only after a verb like "did"/"was" or
   a preposition, or at the end; "there" only at the end; not "this week", "that day"; not "he", "his", "its"…
   after a name in the same question) leans on the last turn: "who led them?", "when did it end?".
4. A question with **at most one content word and no name** of its own is elliptical: "why?", "how many?",
   "where exactly?". ("Who is Shoigu?" names someone, so it stands alone.)
5. Anything else is self-contained and starts afresh: the topic is its own.

What a follow-up is searched with (`resolve`): the question itself (without its leading connective), then
the conversation's **topic** — weighted words, not a growing bag: a question's own names weigh `NAME_WEIGHT`
and its other content words `WORD_WEIGHT`; at each follow-up the words it inherits lose weight (× `DECAY`)
and the words it says itself come in at full weight, so a subject not mentioned again fades after a couple
of turns, and a self-contained question replaces it. The words weighing at least `KEEP` are searched
(heaviest first, at most `MAX_CARRIED`). Then the **answer's key entities**: the names in the last turn's
highlighted sentence (at most `MAX_ANSWER`, only when that turn was answered rather than abstained on), and
the `MAX_SALIENT` most repeated word(s) of its top passages. Nothing is generated: the query is only searched.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from qa.records import PASSAGES_PER_TURN, Turn
from qa.text.words import DOTTED_WORD, FUNCTION_WORDS
from qa.text.words import stem as stem_of

if TYPE_CHECKING:
    from qa.search.retriever import Retriever

# Tuned with bench/followups.py on the seed dialogues and the odd-numbered BBC dialogues (bench/bbc_dialogues.jsonl);
# the even-numbered ones are held out (docs/answers.md).
NAME_WEIGHT = 1.0  # a name the question says itself ("Shoigu", "CSTO")
WORD_WEIGHT = 0.7  # another content word it says ("troops", "withdrawal")
DECAY = 0.7  # what an inherited word keeps of its weight at each follow-up that does not say it
KEEP = 0.3  # the least weight a topic word needs to be searched: a name lasts 3 follow-ups, a word 2
MAX_CARRIED = 10  # topic words searched with a follow-up
MAX_ANSWER = 1  # names taken from the last answer's highlighted sentence
MAX_SALIENT = 0  # salient words taken from the last turn's top passages

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
# pronouns that, after a name in the same question, point at that name ("BMW ... its boss"), not back
_PERSONAL = frozenset("he him his himself she her hers herself its their".split())
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
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_TITLE_WORD = re.compile(r"^[A-Z][A-Za-z'’.-]*$|^[A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Resolved:
    """What to search for a question: `query`, and whether the conversation went into it."""

    query: str
    used_context: bool
    reason: str  # why, in a few words: "starts with 'and'", "refers back with 'them'", "self-contained", …
    # the conversation's topic after this question, in order of mention: keep it in the turn (Turn.of(..., topic=))
    topic: tuple[tuple[str, float], ...] = field(default=(), compare=False)
    # the conversation's topic article (the document the last answer came from), read first for a follow-up
    article: str | None = field(default=None, compare=False)


def resolve(question: str, turns: Sequence[Turn]) -> Resolved:
    """The query to search for `question`, given the previous turns (oldest first); see the module docstring."""
    question = " ".join(question.split())
    if not turns:
        return Resolved(question, False, "no previous turn", own_topic(question))
    reason = followup_reason(question)
    if reason is None:
        return Resolved(question, False, "self-contained", own_topic(question))
    last = turns[-1]
    own = _CONNECTIVE.sub("", question, count=1).strip() or question
    topic = _merge(_decayed(topic_of(last)), own_topic(own))
    seen = {_stem(word) for word in content_words(own)}
    carried = _new_words(_searched(topic), seen, MAX_CARRIED)
    answer = _new_words(answer_names(last), seen, MAX_ANSWER) if last.answered else []
    salient = _new_words(salient_words(last.passages), seen, MAX_SALIENT)
    extra = carried + answer + salient
    if not extra:
        why = "its topic has faded: ask it in full" if topic_of(last) else "the last turn has no content words"
        return Resolved(question, False, f"{reason}, but {why}", topic)
    return Resolved(" ".join([own, *extra]), True, reason, topic, last.article)


def own_topic(question: str) -> tuple[tuple[str, float], ...]:
    """A question's own topic: its content words, names at NAME_WEIGHT and the others at WORD_WEIGHT."""
    named = {_stem(name) for name in names(question)}
    weighted: dict[str, tuple[str, float]] = {}
    for word in content_words(question):
        stem = _stem(word)
        weight = NAME_WEIGHT if stem in named else WORD_WEIGHT
        if stem not in weighted or weighted[stem][1] < weight:
            weighted[stem] = (word, weight)
    return tuple(weighted.values())


def topic_of(turn: Turn) -> tuple[tuple[str, float], ...]:
    """The topic a turn left: the one it recorded, else (a turn made without one) that of what it searched."""
    return turn.topic or own_topic(turn.searched)


def answer_names(turn: Turn) -> list[str]:
    """The names in a turn's highlighted sentence (its answer's key entities), most repeated first."""
    if not turn.highlight:
        return []
    found = names(turn.highlight)
    counted = Counter(_stem(name) for name in found)
    first: dict[str, str] = {}
    for name in found:
        first.setdefault(_stem(name), name)
    # most repeated first; sorted() is stable, so ties keep the sentence's order
    return [first[stem] for stem in sorted(first, key=lambda stem: -counted[stem])]


def _searched(topic: Sequence[tuple[str, float]]) -> list[str]:
    """The topic's words weighing at least KEEP, the heaviest MAX_CARRIED of them, in the topic's order."""
    kept = [(i, word, weight) for i, (word, weight) in enumerate(topic) if weight >= KEEP]
    heaviest = sorted(kept, key=lambda item: (-item[2], item[0]))[:MAX_CARRIED]
    return [word for _, word, _ in sorted(heaviest)]


def _decayed(topic: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    return [(word, weight * DECAY) for word, weight in topic]


def _merge(*topics: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """Topics combined: each word (by stem) at the largest weight any gives it; words below KEEP × DECAY dropped."""
    weighted: dict[str, tuple[str, float]] = {}
    for topic in topics:
        for word, weight in topic:
            stem = _stem(word)
            if stem not in weighted or weighted[stem][1] < weight:
                weighted[stem] = (word, weight)
    return tuple(item for item in weighted.values() if item[1] >= KEEP * DECAY)


def followup_reason(question: str) -> str | None:
    """Why `question` leans on the conversation (rules 2–4 of the module docstring), or None if it stands alone."""
    connective = _CONNECTIVE.match(question)
    if connective:
        return f"starts with {' '.join(connective.group(0).split()).strip(',').lower()!r}"
    words = [word.lower() for word in DOTTED_WORD.findall(question)]
    named = {word.lower() for word in names(question)}
    for position, word in enumerate(words):
        following = _bare(words[position + 1]) if position + 1 < len(words) else None  # "this year's"
        previous = words[position - 1] if position else None
        if word in _PERSONAL and any(earlier in named for earlier in words[:position]):
            continue  # "did Tsutsumi run before his arrest": the person is named in the question itself
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
        if word.lower().rstrip(".") in _CALENDAR:  # "January", "Thursday": a time, not who or what
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


def _bare(word: str) -> str:
    return word.replace("’", "'").removesuffix("'s")


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return stem_of(word.lower().replace("’", "'").removesuffix("'s"))


def history_resolver(
    retriever: Retriever, mode: str = "hybrid", *, turns: int = 3
) -> Callable[[str, list[str]], Resolved]:
    """For the HTTP API, whose client sends only its previous questions: replay the last `turns` of them
    (each resolved against the ones before it and searched) to get the context for the new question."""

    def resolve_with(question: str, context: list[str]) -> Resolved:
        previous: list[Turn] = []
        for earlier in context[-turns:]:
            resolved = resolve(earlier, previous)
            result = retriever.search(resolved.query, k=PASSAGES_PER_TURN, mode=mode, article=resolved.article)
            previous.append(Turn.of(earlier, result, resolved.query, topic=resolved.topic))
        return resolve(question, previous)

    return resolve_with
