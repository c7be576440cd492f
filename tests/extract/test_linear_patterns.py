"""The extraction patterns rewritten to run in linear time match exactly what the old ones matched.

Each old pattern is kept here as the reference and compared on short random lines (short, so that the old
patterns' backtracking stays cheap); tests/test_hostile_input.py checks the new ones on long lines.
"""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from qa.extract.article import _is_cookie_banner
from qa.extract.patterns import COPYRIGHT_HOLDER, SLUGS

OLD_SLUGS = re.compile(r"^(?:[\w]+-[\w-]+\s*)+$")
OLD_COOKIES = re.compile(
    r"\bcookies?\b.*\b(?:accept|consent|settings|policy|browsing|experience|agree)\b"
    r"|\b(?:accept|consent|settings|policy|browsing|experience|agree)\b.*\bcookies?\b",
    re.IGNORECASE,
)
OLD_COPYRIGHT_HOLDER = re.compile(r"©\s*(?:\d{4}\s*)?(?P<holder>[^\d©|]{3,60}?)\s*(?:\d{4})?\.?\s*$")


def line_of(*pieces: str, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


@settings(max_examples=500)
@given(line_of("a", "b9", "-", "--", " ", "\t", ".", "é", "_", max_size=14))
@example("news-politics-world uk-elections")
@example("a-b c-d.")
@example("ab-cd-ef gh-")
def test_tag_list_pattern_matches_as_before(line):
    assert bool(SLUGS.match(line)) == bool(OLD_SLUGS.match(line))


@settings(max_examples=500)
# a block is one line: no line break, where the old pattern's ".*" stopped
@given(line_of("cookie", "cookies", "Cookies", "accept", "Policy", "agreement", "x", " ", "-", "é"))
@example("We use cookies to improve your experience")
@example("Accept all cookies")
@example("cookieaccept")
def test_cookie_banner_test_matches_as_before(line):
    assert _is_cookie_banner(line) == bool(OLD_COOKIES.search(line))


_HOLDER_PIECES = ["©", "© ", " ", "  ", "\t", "\u00a0", "a", "B", "1", "2022", ".", "|", ",", "-", "Dawn", "AP", "x"]


@settings(max_examples=2000)
@given(line_of(*_HOLDER_PIECES, max_size=20))
@example("© 2022 Dawn Media Group.")
@example("© AP")
@example("©   2022")
@example("Copyright © 2021 Reuters. All rights reserved")
def test_copyright_holder_matches_as_before(line):
    new, old = COPYRIGHT_HOLDER.search(line), OLD_COPYRIGHT_HOLDER.search(line)
    assert (new and new.group("holder")) == (old and old.group("holder"))
