"""The patterns article extraction reads a page with: sentence shape, page furniture (menus, cookie banners,
copyright lines, photo credits, logos), agencies and datelines, bylines, dates, and the weights of each kind
of block (qa/extract/article.py)."""

from __future__ import annotations

import re

WORD = re.compile(r"[\w'’-]+")
BULLET = re.compile(r"^[•·▪◦●*\-–—]\s*")
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
ELLIPSIS_END = re.compile(r"(?:\.\.\.|…)[\"'”’)\]]*$")

# page furniture found by wording; matched against the whole block (case-insensitive)
# lines that close a story: the blocks are cut there and the article is sought within one part
END_MARKERS = re.compile(
    r"^(?:click to comment|leave a (?:reply|comment)|\d*\s*comments?|add a comment|show comments"
    r"|(?:you|we think you) (?:may|might) (?:also )?like|related(?: topics| articles| stories| posts| news| content)?"
    r"|more (?:from|stories|on this|news)(?: [\w ]{1,30})?|most (?:read|popular|viewed)"
    r"|trending(?: now)?|published in [A-Z].*|keywords|tags|share (?:this|on)\b.*"
    r"|the [\w ]{1,30} newsletter|sign up\b.*|subscribe\b.*|follow us\b.*)$",
    re.IGNORECASE,
)
CHROME = re.compile(
    r"^(?:skip to (?:main )?content|loading\.*|advertisement|ad|sponsored|recommended(?: videos?)?"
    r"|connect with us|hi, what are you looking for\?|search|menu|close|home|share|print|email"
    r"|read (?:more|next|also)\b.*|also read\b.*|about us|contact(?: us)?|privacy(?: policy| notice)?"
    r"|terms(?: of (?:use|service))?(?: and conditions)?|careers|advertise(?: with us)?|site ?map|rss"
    r"|(?:accept|reject|allow) (?:all )?cookies|(?:manage )?cookie (?:settings|preferences|policy)"
    r"|your email address will not be published\.?|required fields are marked.*|shortlink copied|photo ?gallery"
    r"|no image|.* logo|!--.*|.*\bgtag\b.*|\d+\s*/\s*\d+|[-+]?\d+\s*[º°][CF]?|\w+ icon"
    r"|(?:image|photo|picture) (?:source|credit)s?\s*:.*|(?:photo|image|credit|source)\s*:\s*\S.{0,60}"
    r"|you can unsubscribe at any time.*|by signing up.*|this site is protected by recaptcha.*)$",
    re.IGNORECASE,
)
# a cookie banner names cookies and what to do about them, in either order: two searches, each linear
# (one pattern "cookie.*consent|consent.*cookie" scanned the rest of the line from every "cookie": quadratic)
COOKIE_WORD = re.compile(r"\bcookies?\b", re.IGNORECASE)
CONSENT_WORD = re.compile(r"\b(?:accept|consent|settings|policy|browsing|experience|agree)\b", re.IGNORECASE)
COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright\b)|all rights reserved", re.IGNORECASE)
# a photo caption ends with a credit: "(AFP Photo)", "REUTERS/Pavel Mikheyev", "via REUTERS", ".—AP"
AGENCIES = r"(?:AP|AFP|Reuters|REUTERS|EPA|Getty Images|Sputnik|TASS|Xinhua|AA|DHA|IHA|Anadolu|Bloomberg|PA)"
CAPTION = re.compile(
    r"(?:\([^()]*\b(?:[Pp]hoto|[Ii]mage|[Pp]icture|[Ff]ile|via " + AGENCIES + r"|" + AGENCIES + r")\b[^()]*\)"
    r"|\b" + AGENCIES + r"/[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,3}"
    r"|\bvia " + AGENCIES + r"|[.!?][—–-]\s?" + AGENCIES + r")\s*$"
)
POSITION = re.compile(r"\((?:L|R|C|left|right|centre|center|front|back|top|bottom)\)")
BYLINE = re.compile(r"^by\s+([A-Za-z][\w.'’-]*(?:\s+(?:and\s+)?[A-Za-z][\w.'’-]*){0,3})(?=\s|$)", re.IGNORECASE)
# hyphenated words only ("news-politics-world uk-elections"); one word per repetition, so a line that is
# not a tag list fails in linear time ("(?:[\w]+-[\w-]+\s*)+" could cut a word at any hyphen: exponential)
SLUGS = re.compile(r"^\w+-[\w-]+(?:\s+\w+-[\w-]+)*\s*$")
IMPRINT = re.compile(r"^published in (?P<publisher>[A-Z][\w&.' -]{1,40}?)(?:,\s*(?P<date>.+))?$", re.IGNORECASE)
LOGO = re.compile(r"^(?P<publisher>[A-Z][\w&.' -]{1,40}?) logo$", re.IGNORECASE)
# "© 2022 Dawn Media Group." -> "Dawn Media Group": the holder is the shortest run of 3-60 characters after
# the sign and its year that only a year, a full stop and spaces follow. Written to stay linear on a line of
# spaces: a run of spaces gives back at most 3 characters (all a holder under its 3-character minimum can
# use: "© AP"), the holder is tried only at ends after a non-space (an end inside a run of spaces can only
# succeed where the run's start already did) and the tail has one way to match.
SPACES = r"\s*?(?=\s{0,3}(?!\s))\s{0,3}"
COPYRIGHT_HOLDER = re.compile(
    r"©" + SPACES + r"(?:\d{4}" + SPACES + r")?"
    r"(?P<holder>[^\d©|]{3}(?:[^\d©|]{0,57}?(?<!\s))??)"
    r"\s*(?:(?:\d{4}\.?|\.)\s*)?$"
)
AGENCY_NAMES = {
    "reuters": "Reuters",
    "ap": "AP",
    "associated press": "AP",
    "the associated press": "AP",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "anadolu": "Anadolu",
    "anadolu agency": "Anadolu",
    "dpa": "dpa",
    "xinhua": "Xinhua",
    "tass": "TASS",
    "pa": "PA",
    "bloomberg": "Bloomberg",
}
DATELINE_AGENCY = re.compile(r"^[A-Z][A-Z .,'-]{1,40}\s*\((Reuters|AP|AFP|dpa|Xinhua)\)")

# datelines: a short line that is a date, maybe with a place, a time and "Published"/"Updated"
MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_TOKEN = re.compile(
    r"\b(?:" + MONTH + r"|\d{1,4}(?:st|nd|rd|th)?|mon|tue|wed|thu|fri|sat|sun)[a-z]*\b|[,:/–—+-]", re.IGNORECASE
)
DATE_FILLER = re.compile(
    r"\b(?:published|updated|posted|last|modified|on|at|am|pm|a\.m\.|p\.m\.|gmt|utc|est|edt|bst|cet|ist)\b",
    re.IGNORECASE,
)
FULL_DATE = re.compile(
    r"\b" + MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b|\b\d{1,2}(?:st|nd|rd|th)?\s+" + MONTH + r",?\s+\d{4}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b",
    re.IGNORECASE,
)
# quadratic on a long line of month names: run only on lines of 80 characters or fewer (_is_dateline)
HAS_MONTH_AND_YEAR = re.compile(r"\b" + MONTH + r"\b.*\b\d{4}\b|\b\d{4}-\d{2}-\d{2}\b", re.IGNORECASE)

# weights of the maximum-subarray rule, in words of prose
W_END_MARKER = -60.0  # "Click to comment", "Related topics", "Published in Dawn": runs stop there
W_CHROME = -8.0
W_FURNITURE = -5.0  # menu items and lines printed twice: they separate the story from other things
W_INLINE = -1.0  # captions, datelines, bylines: dropped, but they sit inside articles, between headline and text
W_SHORT = -1.0  # a short line that is neither prose nor known furniture

MENU_WORDS = 4  # a bulleted item this short without a sentence end is a menu entry
