"""Reading a value in a sentence: what a question asks for (`Want`: a count, an amount or a date, and the
words that tie a sentence to it) and the figures or dates a sentence gives for it (`Reading`).

The rules (what counts as a count of the counted noun, an amount, a date or a limit; whole numbers; phone
numbers, times and years never counts) are told in qa/search/values.py, which compares the readings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from qa.search.highlight import Question
from qa.text.figures import CURRENCY_WORDS, DATE, FIGURE, MULTIPLIERS, PHONE, TIME_OF_DAY, TIME_UNITS, WORD_VALUES
from qa.text.words import FUNCTION_WORDS, WORD, stem, stopwords

_MONTH_NAMES = "January February March April May June July August September October November December".split()

RELATIVE = re.compile(r"^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow|last)")

# Nouns news questions count, with the words articles use for them; verbs questions ask with, likewise.
# General news vocabulary, stemmed when loaded: a question's word finds its group by its stem.
_SYNONYMS = (
    "troop soldier servicemen serviceman peacekeeper peacekeeping force contingent personnel marine paratrooper",
    "job post position role vacancy payroll",
    "worker employee staff workforce",
    "people person resident citizen civilian individual inhabitant",
    "customer subscriber user client account",
    "voter elector",
    "home house household property dwelling",
    "car vehicle",
    "company firm business",
    "death dead fatality casualty",
    "visitor tourist guest spectator",
    "game match fixture",
    "title championship crown trophy",
    "page webpage site website",
    "plane aircraft jet airliner",
    "ship vessel boat",
    "refugee migrant asylum-seeker",
    "student pupil",
    "send sent deploy dispatch",
    "finish complete completion end conclude",
    "begin began start commence launch",
    "withdraw withdrawal pullout pull-out disengagement",
    "kill killed die died",
    "arrest arrested detain detained",
    "add added create created",
    "cost price spend spent pay paid",
    "recall replace",
)

_COUNT_FILLER = frozenset(
    "of out about some around nearly over almost numbering totalling totaling the an a estimated approximately "
    "roughly than more fewer less least up to just only numbered at reached was were is are now by".split()
)

_BREAK = frozenset(
    "did do does is are was were has have had will would could can should might may must in of on at for to from "
    "by with according per that who which".split()
)

_MONEY_Q = re.compile(
    r"\b(?:cost\w*|price[ds]?|pa(?:y|id|ys)|spen[dt]\w*|earn\w*|raise[ds]?|worth|fund\w*|budget|fee|salary|wages?|"
    r"income|sum|damages|fine[ds]?|invest\w*|sold|sell|bill|revenues?|profits?|loss(?:es)?|award\w*|"
    r"compensation|bonus|collected|set\s+aside|donat\w*|payout|deal)\b|[£$€]",
    re.IGNORECASE,
)

_PERCENT_Q = re.compile(r"\b(?:percentage|per\s?cent|percent|proportion|share)\b", re.IGNORECASE)

_DATE_Q = re.compile(
    r"^\s*(?:(?:on|in|by|from|until|since)\s+(?:what|which)\s+(?:date|day|year|month)|by\s+when)\b", re.I
)

_COUNT_Q = re.compile(
    r"\bhow\s+(?:many|much|large|big|long)\b|\bwhat\s+(?:number|percentage|proportion|share)\b"
    r"|\bwhat\s+(?:was|is|were|are)\s+the\s+(?:size|number|strength)\s+of\b"
    r"|\bwhat\s+(?:was|is|will\s+be)\s+the\s+(?:cost|price|value|bill)\s+of\b",
    re.IGNORECASE,
)

_INCREMENT = frozenset({"more", "additional", "further", "extra"})

_RANGE = re.compile(r"\s*(?:to|-|–|or)\s*(?:\d[\d,.]*|[a-z]+)\s+([A-Za-z]+)", re.IGNORECASE)

# a figure in brackets after another is a conversion: "$239,850 (£125,000)", "20 trillion rupiah ($2.2bn; £1.1bn)"
_CONVERTED = re.compile(
    r"(?:[£$€¥]\s?\d[\d.,]*\s?(?:bn|m|k|million|billion)?|\d[\d.,]*\s?(?:bn|m|k|million|billion|trillion)?\s+"
    r"(?:[A-Z][a-z]+\s+)?(?:pounds?|dollars?|euros?|rupees?|rupiah|yen|yuan))\s*\(\s*$|\([^()]*;\s*$",
    re.IGNORECASE,
)

_AGE = re.compile(r"[\s-]*(?:years?|months?)[\s-]+old\b", re.IGNORECASE)

# question words that frame the value asked for rather than name what it is about
_FRAME = frozenset(
    "large big size number strength total date day year month time percentage proportion share amount happen "
    "take place exactly roughly approximately".split()
)

_LIMITS = ("after", "since", "until", "till", "before", "ahead", "deadline", "target", "from")

_LIMIT_BEFORE = re.compile(
    r"\b(?:after|since|until|till|before|ahead\s+of|prior\s+to|from)\s+(?:an?\s+|the\s+)?$", re.I
)

_LIMIT_AFTER = re.compile(r"^\s*(?:deadline|target)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Want:
    """What a question asks for: the kind of value, the counted thing, the words that tie a sentence to it."""

    kind: str  # "count", "duration", "money", "percent", "amount" (money or percent) or "date"
    nouns: frozenset[str]  # stems of the counted noun and its synonyms; empty when none is named
    anchors: frozenset[str]  # stems of the question's words and their synonyms
    year: bool = False  # a date question that asks for a year
    precise: bool = False  # a date question that asks for a day ("on what date"): a bare year does not answer it
    limits: frozenset[str] = frozenset()  # "after", "deadline", ...: limits the question itself asks about
    periods: frozenset[str] = frozenset()  # months and years the question names ("in January")
    # each topic word of the question (its stem and synonyms), and whether it is a name
    topic: tuple[tuple[frozenset[str], bool], ...] = ()


@dataclass(frozen=True)
class Reading:
    """A value read in a text: shown as `value`, compared by `key`, at text[start:end]."""

    value: str
    key: tuple[object, ...]
    unit: str  # what it measures: values are compared only within one unit
    start: int
    end: int
    rank: tuple[float, ...] = ()  # lower is better: (tier, distance to the question's words)
    relevance: float = 0.0  # the share of the question's topic words its sentence holds


def want_of(question: Question) -> Want | None:
    """What kind of value `question` asks for; None when it asks for no figure or date."""
    text = question.text
    words = [w.lower() for w in WORD.findall(text)]
    anchors = _with_synonyms(question.terms | {stem(w) for w in words if w not in FUNCTION_WORDS})
    topic, periods = _topic_of(text), _periods(text)
    if question.kind == "date" or _DATE_Q.search(text):
        year = bool(re.search(r"\b(?:what|which)\s+year\b", text, re.I))
        precise = bool(re.search(r"\b(?:what|which)\s+(?:date|day)\b", text, re.IGNORECASE))
        limits = frozenset(w for w in _LIMITS if w in words)
        return Want("date", frozenset(), anchors, year, precise, limits, periods=periods, topic=topic)
    if question.kind != "count" and not _COUNT_Q.search(text):
        return None
    low = text.lower()
    if re.search(r"\bhow\s+(?:old|far)\b", low):
        return None
    if _PERCENT_Q.search(low) and not re.search(r"\bhow\s+many\b", low):
        return Want("percent", frozenset(), anchors, periods=periods, topic=topic)
    if re.search(r"\bhow\s+much\b", low):
        return Want("money" if _MONEY_Q.search(text) else "amount", frozenset(), anchors, periods=periods, topic=topic)
    if re.search(r"\bhow\s+long\b", low):
        return Want("duration", frozenset(), anchors, periods=periods, topic=topic)
    noun = counted_noun(low)
    if noun is not None and noun in _UNIT_STEMS:
        return Want("duration", frozenset(), anchors, periods=periods, topic=topic)
    if noun is None and _MONEY_Q.search(text):
        return Want("money", frozenset(), anchors, periods=periods, topic=topic)
    return Want(
        "count", _with_synonyms(frozenset({noun})) if noun else frozenset(), anchors, periods=periods, topic=topic
    )


def _topic_of(text: str) -> tuple[tuple[frozenset[str], bool], ...]:
    """The question's topic words (stems with their synonyms), each marked whether it is a name ('Gibson')."""
    written = WORD.findall(text)
    found: dict[str, bool] = {}
    for i, word in enumerate(written):
        low = word.lower()
        if low in FUNCTION_WORDS or low in _FRAME or low.isdigit():
            continue
        found.setdefault(stem(low), i > 0 and word[0].isupper())
    return tuple((_with_synonyms(frozenset({s})), named) for s, named in found.items())


def counted_noun(question: str) -> str | None:
    """The stem of what a count question counts: 'how many Xbox power cables is ...' -> 'cabl'."""
    patterns = (
        r"\bhow\s+many\s+(?P<run>(?:[\w'-]+\s+){0,5})",
        r"\bwhat\s+(?:was|is|were|are)\s+the\s+(?:size|number|strength)\s+of\s+(?:the\s+)?(?P<run>(?:[\w'-]+\s*){0,5})",
        r"\bwhat\s+number\s+of\s+(?P<run>(?:[\w'-]+\s+){0,5})",
        r"\bhow\s+(?:large|big)\s+(?:was|is|were|are)\s+(?:the\s+|an?\s+)?(?P<run>(?:[\w'-]+\s*){0,5})",
        r"\bhow\s+(?:large|big)\s+an?\s+(?P<run>(?:[\w'-]+\s+){0,5})",
    )
    for pattern in patterns:
        match = re.search(pattern, question + " ")
        if match is None:
            continue
        run: list[str] = []
        for word in match.group("run").split():
            if word in _BREAK:
                break
            run.append(word)
        stems = [stem(word.strip("'-")) for word in run]
        known = [s for s in stems if s in _synonym_groups()]  # "how many people live there": people
        if stems:
            return known[-1] if known else stems[-1]
    return None


def read_sentence(want: Want, sentence: str, *, strict: bool = False) -> Reading | None:
    """The value in `sentence` answering `want`, nearest the question's words; None when it shares none."""
    words = list(WORD.finditer(sentence))
    stems = [stem(w.group().lower().strip("'’-")) for w in words]
    anchors = [i for i, s in enumerate(stems) if s in want.anchors]
    if not anchors:
        return None
    others = [i for i in anchors if stems[i] not in want.nouns] or anchors
    if want.kind == "date":
        found = list(_date_readings(want, sentence, words))
    else:
        found = list(_figure_readings(want, sentence, words, stems, strict))
    if not found:
        return None

    relevance = 0.0 if _other_period(want, sentence) else _relevance(want, set(stems))

    def place(read: Reading) -> Reading:
        at = next((i for i, w in enumerate(words) if w.start() >= read.start), len(words))
        # "2,000 troops" (the figure before the question's word) reads closer than "troops and 250"
        distance = min((a - at) if a >= at else (at - a) + 0.5 for a in others)
        return Reading(read.value, read.key, read.unit, read.start, read.end, (*read.rank, distance), relevance)

    return min((place(read) for read in found), key=lambda r: (r.rank, r.start))


def _other_period(want: Want, sentence: str) -> bool:
    """A figure for another month or year than the question names ('in October' for 'in January')."""
    if want.kind == "date" or not want.periods:
        return False
    said = _periods(sentence)
    return bool(said) and not (said & want.periods)


def _periods(text: str) -> frozenset[str]:
    """The months and years a text names: 'added in January 2005' -> {'january', '2005'}."""
    months = {m.lower() for m in _MONTH_NAMES if re.search(rf"\b{m[:3]}(?:{m[3:]}|\.)?\b", text)}
    return frozenset(months | set(re.findall(r"\b(?:19|20)\d\d\b", text)))


def _relevance(want: Want, held: set[str]) -> float:
    """The share of the question's topic words a sentence holds. Short of a count attached to its noun, the
    words that say what is measured count on their own too: a sentence naming the film but not what it
    earned globally ('took $370m in the US') is about another figure."""
    if not want.topic:
        return 1.0
    share = sum(1 for group, _ in want.topic if group & held) / len(want.topic)
    said = [group for group, named in want.topic if not named]
    if want.nouns or not said:
        return share
    return min(share, sum(1 for group in said if group & held) / len(said))


def _figure_readings(
    want: Want, sentence: str, words: list[re.Match[str]], stems: list[str], strict: bool
) -> Iterator[Reading]:
    masked = [m.span() for pattern in (PHONE, TIME_OF_DAY, DATE) for m in pattern.finditer(sentence)]
    for match in FIGURE.finditer(sentence):
        if any(s < match.end() and match.start() < e for s, e in masked) or _not_a_quantity(sentence, match):
            continue
        kind, amount, unit, shown = _figure(match)
        if kind == "count" and amount != int(amount):
            continue  # "48.3": an index or a rate; counts of things are whole ("1.5 million" is)
        ranged = _RANGE.match(sentence, match.end())  # "two to four weeks": the range's unit
        after = (
            ranged.group(1) if ranged and ranged.group(1).lower() in TIME_UNITS else _next_word(sentence, match.end())
        )
        if kind == "count" and after.lower() in TIME_UNITS:
            kind, unit = "duration", stem(after)
            shown = f"{amount:g} {after.lower()}"
            after = after.lower()
        if not _fits(want.kind, kind):
            continue
        tier = 0.0
        if want.kind == "count":
            tier = _count_tier(want, sentence, words, stems, match, after)
            if tier < 0 or (tier > 0 and (strict or match.group("short"))):
                continue  # "100m gold": metres or millions, said only by the noun it counts
        yield Reading(shown, (kind, unit, round(amount, 6)), f"{kind} {unit}", match.start(), match.end(), (tier,))


def _not_a_quantity(sentence: str, match: re.Match[str]) -> bool:
    """A phone-like '0800', an age ('the 24-year-old', 'aged 42') or a conversion ('$239,850 (£125,000)')."""
    before = sentence[: match.start()]
    return bool(
        re.match(r"0\d", match.group())
        or _AGE.match(sentence, match.end())
        or re.search(r"\baged?\s+$", before, re.IGNORECASE)
        or _CONVERTED.search(before)
    )


def _fits(wanted: str, kind: str) -> bool:
    if wanted == "amount":
        return kind in ("money", "percent")
    return wanted == kind


def _count_tier(
    want: Want, sentence: str, words: list[re.Match[str]], stems: list[str], match: re.Match[str], after: str
) -> float:
    """0: attached to the counted noun; 1: a bare figure ('2,500 sent'); -1: counts something else."""
    if after.lower() in _INCREMENT and stem(after.lower()) not in want.anchors:
        return -1.0  # "2,000 more people": an increment, not the count asked for
    first_after = next((i for i, w in enumerate(words) if w.start() >= match.end()), len(words))
    last_before = next((i for i in range(len(words) - 1, -1, -1) if words[i].end() <= match.start()), -1)
    if want.nouns:
        for j in range(first_after, min(first_after + 4, len(words))):
            if re.search(r"[,;:()]|\band\b", sentence[match.end() : words[j].start()]):
                break
            if stems[j] in want.nouns:
                return 0.0
        for j in range(last_before, max(last_before - 4, -1), -1):
            if re.search(r"[,;:()]", sentence[words[j].end() : match.start()]):
                break
            if stems[j] in want.nouns and j < last_before:  # "troops out of about 2,500", not "Championship 100m"
                return 0.0
            if words[j].group().lower() not in _COUNT_FILLER:
                break
    if match.group().lower() == "one":  # "one of them", "no one": a pronoun unless it counts the noun
        return -1.0
    if not want.nouns:
        return 0.0
    low = after.lower()
    bare = not low or low in stopwords() or low in FUNCTION_WORDS or low.endswith("ed") or stem(low) in want.anchors
    # a bare figure ('2,500 sent') counts the noun only in a sentence that names it, and only in digits:
    # a number word alone is a pronoun or a name as often as a count ("one of", "Five mailed", "two to follow")
    digits = match.group("num") is not None
    return 1.0 if bare and digits and want.nouns & set(stems) else -1.0


def _next_word(sentence: str, end: int) -> str:
    """The word right after a figure ('' at a punctuation mark): '30-year' -> 'year', '2,500 troops' -> 'troops'."""
    found = re.match(r"(?:-|\s+)([A-Za-z][A-Za-z'’-]*)", sentence[end:])
    return found.group(1).split("-")[0] if found else ""


def _figure(match: re.Match[str]) -> tuple[str, float, str, str]:
    """(kind, amount, unit, shown) of a FIGURE match: ('money', 8e6, '£', '£8m'), ('count', 14e6, '', '14 million')."""
    g = match.groupdict()
    if g["num"]:
        amount = float(g["num"].replace(",", ""))
        scale = g["short"] or g["long"]
    elif g["half"]:
        amount, scale = 0.5, g["halfof"]
    else:
        amount, scale = WORD_VALUES[g["word"].lower()], g["wordlong"]
    if scale:
        amount *= MULTIPLIERS.get(scale.lower(), 12.0)  # "half a dozen"
    if g["pct"]:
        return "percent", amount, "%", f"{amount:g}%"
    currency = g["cur"] or CURRENCY_WORDS.get((g["curword"] or "").lower())
    if currency:
        return "money", amount, currency, currency + _short_amount(amount)
    if g["curword"]:
        name = g["curword"].lower().rstrip("s") + "s"
        return "money", amount, name, f"{_short_amount(amount)} {name}"
    if scale and amount >= 1e6:
        big, word = (amount / 1e9, "billion") if amount >= 1e9 else (amount / 1e6, "million")
        return "count", amount, "", f"{big:g} {word}"
    return "count", amount, "", normalise_number(str(amount))


def _short_amount(amount: float) -> str:
    if amount >= 1e9:
        return f"{amount / 1e9:g}bn"
    if amount >= 1e6:
        return f"{amount / 1e6:g}m"
    return f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"


def _date_readings(want: Want, sentence: str, words: list[re.Match[str]]) -> Iterator[Reading]:
    for match in DATE.finditer(sentence):
        written = match.group()
        before, after = sentence[: match.start()], sentence[match.end() :]
        limits = [m.group().lower() for m in (_LIMIT_BEFORE.search(before), _LIMIT_AFTER.match(after)) if m]
        if limits and not (set(re.findall(r"[a-z]+", " ".join(limits))) & want.limits):
            continue  # "after Jan. 23", "ahead of a January 22 deadline": a limit, unless the question asks one
        if RELATIVE.match(written.lower()):
            value = written[0].upper() + written[1:].lower()
            yield Reading(value, ("relative", value.lower()), f"relative {value.lower()}", *match.span(), (3.0,))
            continue
        value = normalise_date_value(written) or written
        key = _date_key(value)
        precise = key[1] is not None and key[2] is not None
        tier = 0.0 if precise else 1.0 if (want.year or key[1] is not None) else 2.0
        if want.precise and not precise:
            continue
        yield Reading(value, key, "date", *match.span(), (tier,))


def _date_key(value: str) -> tuple[object, ...]:
    """(year, month, day), None for what the value does not say: 'January 19' -> (None, 1, 19)."""
    words = re.findall(r"[A-Za-z]+|\d+", value)
    month = next((i + 1 for i, m in enumerate(_MONTH_NAMES) if m in words), None)
    year = next((int(w) for w in words if len(w) == 4 and w.isdigit()), None)
    day = next((int(w) for w in words if len(w) <= 2 and w.isdigit()), None)
    return (year, month, day)


def readings_in(want: Want, sentence: str) -> list[Reading]:
    """Every value of the kind `want` asks for in `sentence` (limits and what is not a quantity left out),
    wherever the question's words are; offsets index the sentence."""
    return all_readings(want, sentence)


def all_readings(want: Want, sentence: str) -> list[Reading]:
    words = list(WORD.finditer(sentence))
    if want.kind == "date":
        return list(_date_readings(want, sentence, words))
    stems = [stem(w.group().lower().strip("'’-")) for w in words]
    return list(_figure_readings(want, sentence, words, stems, False))


def _with_synonyms(stems: frozenset[str]) -> frozenset[str]:
    groups = _synonym_groups()
    return frozenset(stems).union(*(groups.get(s, frozenset()) for s in stems))


@lru_cache(maxsize=1)
def _synonym_groups() -> dict[str, frozenset[str]]:
    groups: dict[str, frozenset[str]] = {}
    for line in _SYNONYMS:
        group = frozenset(stem(w) for w in line.split())
        for s in group:
            groups[s] = groups.get(s, frozenset()) | group
    return groups


_UNIT_STEMS = frozenset(stem(w) for w in TIME_UNITS)


def normalise_number(text: str) -> str:
    """'2500' -> '2,500', 'ten' -> '10', '3.5' -> '3.5', '14 million' -> '14 million'."""
    low = text.lower().strip()
    if low in WORD_VALUES:
        return f"{WORD_VALUES[low]:g}"
    try:
        amount = float(low.replace(",", ""))
    except ValueError:
        return low
    return f"{int(amount):,}" if amount == int(amount) else f"{amount:g}"


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


__all__ = [
    "RELATIVE",
    "Reading",
    "Want",
    "all_readings",
    "counted_noun",
    "normalise_date_value",
    "normalise_number",
    "read_sentence",
    "readings_in",
    "want_of",
]
