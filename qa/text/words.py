"""Words for every stage that compares them: the word patterns, one stemmer per thread, the stoplists.

(BM25 queries keep bm25s's own token pattern and stoplist, saved with the index: see qa/storage/bm25.py.)
"""

from __future__ import annotations

import importlib.util
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import Stemmer

WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
# Follow-ups carry words into a query string as they were written: "U.S." and "2,500" must stay whole
# there, where WORD would cut them into "U", "S" and "2", "500".
DOTTED_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.,-]*[A-Za-z0-9]|[A-Za-z0-9]")

# Words that say nothing of a question's topic besides the stoplist: the auxiliaries and reporting verbs
# of news questions ("what did he say").
_ASKING_VERBS = frozenset({"did", "does", "do", "say", "said"})
# Words that name no topic in a question: function words, question words, pronouns, auxiliaries and
# fillers ("exactly", "overall"). Follow-ups (qa.conversation.followup) carry every other word of the last turn,
# so they use this list and not stopwords(): jusText's stoplist, made to tell boilerplate from text, holds
# topic words too ("government", "people", "military", "first"), and dropping them cost follow-ups one
# hit@1 of 23 (bench/followups.py, hybrid: 18 -> 17).
FUNCTION_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can could did didn't do does doesn't doing don't down during each else ever
    exactly few for from further get got had has have having he her here hers herself him himself his how
    i if in into is isn't it it's its itself just kind least let like many may me might more most much must my
    myself no nor not now of off on once only or other our ours out over own per really same say says she
    should so some such than that the their theirs them themselves then there these they this those through
    to too under until up upon us very was wasn't we were weren't what when where whether which while who
    whom whose why will with within without would yet you your also according mr mrs ms s t
    said tell told know please overall total still
    """.split()
)

_local = threading.local()


def stem_words(words: Iterable[str]) -> list[str]:
    """The Snowball (English) stems of `words`, in order; safe from any thread."""
    return list(_stemmer().stemWords(list(words)))


def stem(word: str) -> str:
    """The Snowball (English) stem of one word; safe from any thread."""
    return str(_stemmer().stemWord(word))


@lru_cache(maxsize=1)
def justext_stoplist() -> frozenset[str]:
    """jusText's English stoplist: what its paragraph classifier counts as function words.

    Read as jusText's get_stoplist reads it, from the package's data file, without importing jusText (and
    lxml with it): a question highlights with this list and never extracts (50 ms of a cold question).
    """
    spec = importlib.util.find_spec("justext")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("jusText is not installed: pip install justext")
    data = Path(next(iter(spec.submodule_search_locations))) / "stoplists" / "English.txt"
    return frozenset(line.lower() for line in data.read_bytes().decode("utf8").splitlines())


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Lower-cased words highlighting ignores: jusText's English stoplist and the verbs questions ask with."""
    return justext_stoplist() | _ASKING_VERBS


def _stemmer() -> Stemmer.Stemmer:
    # a PyStemmer object must not be shared between threads: the HTTP server's threads and the BM25 pool
    # all stem at once
    stemmer: Stemmer.Stemmer | None = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer
