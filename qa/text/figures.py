"""Patterns for what answers carry: dates, numbers and names, as written in news text."""

from __future__ import annotations

import re

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAYS = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
DATE = re.compile(
    rf"\b(?:{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}"
    rf"(?:,?\s+\d{{4}})?|{_MONTHS}\s+\d{{4}}|{_WEEKDAYS}|(?:1[89]|20)\d\d|yesterday|today|tomorrow|last\s+(?:week|month|year))\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve dozen dozens hundred hundreds thousand "
    "thousands million millions billion billions half"
)
NUMBER = re.compile(rf"\b\d[\d,.]*\b|\b(?:{'|'.join(_NUMBER_WORDS.split())})\b", re.IGNORECASE)
# two or more capitalised words in a row, not at the start of a sentence: "Sergei Shoigu"
NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")

# Figures as quantities: a number whole with its multiplier and currency ("14 million", "£8m", "$1.2bn",
# "half a million", "22 per cent"). What is not a quantity is masked first: phone numbers, times of day.
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_SMALL_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred dozen"
).split()
WORD_VALUES = {w: float(i + 1) for i, w in enumerate(_SMALL_WORDS[:19])} | {
    "twenty": 20.0,
    "thirty": 30.0,
    "forty": 40.0,
    "fifty": 50.0,
    "sixty": 60.0,
    "seventy": 70.0,
    "eighty": 80.0,
    "ninety": 90.0,
    "hundred": 100.0,
    "dozen": 12.0,
}
MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "billion": 1e9,
    "tn": 1e12,
    "trillion": 1e12,
    "hundred": 1e2,
}
CURRENCY_WORDS = {
    "pound": "£",
    "pounds": "£",
    "sterling": "£",
    "dollar": "$",
    "dollars": "$",
    "euro": "€",
    "euros": "€",
    "yen": "¥",
}
FIGURE = re.compile(
    r"(?<![\w.,/£$€¥-])(?:(?P<cur>US\$|A\$|C\$|HK\$|[£$€¥₹])\s?)?"
    r"(?:(?P<num>" + _NUM + r")(?![\d,.]?\d)(?:(?P<short>bn|mn|m|k|tn)(?![A-Za-z0-9])|(?![A-Za-z0-9]|-\d))"
    r"(?:[\s-](?P<long>thousand|million|billion|trillion)\b)?"
    r"|(?P<half>half)\s+an?\s+(?P<halfof>million|billion|dozen)\b"
    r"|(?P<word>" + "|".join(sorted(_SMALL_WORDS, key=len, reverse=True)) + r")"
    r"(?:[\s-](?P<wordlong>thousand|million|billion))?\b)"
    r"(?:\s?(?P<pct>%|per\s?cent\b|percent\b))?"
    r"(?:\s(?P<curword>pounds?|dollars?|euros?|yen|sterling|rupees?|yuan|roubles?|rubles?|francs?|pesos?)\b)?",
    re.IGNORECASE,
)
# digit groups of a phone number ("0800 028 9276", "+44 20 7946 0018", "555-0199") and times of day
PHONE = re.compile(
    r"(?:\+\d{1,3}[\s-]?)?\(?\b0\d{2,4}\)?(?:[\s-]\d{2,4}){1,3}\b|\+\d{1,3}(?:[\s-]\d{2,4}){2,4}\b"
    r"|\b\d{3}[-.]\d{3,4}(?:[-.]\d{4})?\b"
)
TIME_OF_DAY = re.compile(r"\b\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}:\d{2}\b", re.IGNORECASE)
# a figure followed by one of these counts time, not things ("in three years", "six nights a week")
TIME_UNITS = frozenset(
    "second seconds minute minutes hour hours day days night nights week weeks month months year years "
    "decade decades century centuries season seasons time times".split()
)
