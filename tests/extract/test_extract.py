"""Article extraction: the story of a scraped page is indexed, its chrome is not, and every span is exact."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.extract.article import extract
from qa.records import Extraction

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


# --------------------------------------------------------------------------------------------- helpers


def read(path: Path) -> str:
    return open(path, encoding="utf-8").read()


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return read(path)


def line_range(text: str, number: int) -> tuple[int, int]:
    """Raw offsets of line `number` (1-based), trimmed of whitespace and of a leading bullet."""
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[: number - 1])
    raw = lines[number - 1]
    content = raw.strip().lstrip("•").strip()
    assert content, f"line {number} is blank"
    offset = start + raw.index(content)
    return offset, offset + len(content)


def non_blank(text: str, numbers) -> list[int]:
    lines = text.split("\n")
    return [n for n in numbers if lines[n - 1].strip()]


def in_body(extraction: Extraction, start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in extraction.body)


def overlaps_body(extraction: Extraction, start: int, end: int) -> bool:
    return any(start < e and s < end for s, e in extraction.body)


def body_text(text: str, extraction: Extraction) -> str:
    return "\n".join(text[s:e] for s, e in extraction.body)


def assert_kept(text: str, extraction: Extraction, lines) -> None:
    missing = [n for n in non_blank(text, lines) if not in_body(extraction, *line_range(text, n))]
    assert not missing, f"story lines not in the body: {missing}"


def assert_dropped(text: str, extraction: Extraction, lines) -> None:
    leaked = [n for n in non_blank(text, lines) if overlaps_body(extraction, *line_range(text, n))]
    assert not leaked, f"chrome lines in the body: {leaked}"


def lines_of(text: str, *snippets: str) -> list[int]:
    """Line numbers (1-based) of the lines holding each snippet (each must occur exactly once)."""
    numbers = []
    lines = text.split("\n")
    for snippet in snippets:
        found = [i + 1 for i, line in enumerate(lines) if snippet in line]
        assert len(found) == 1, f"{snippet!r} found on lines {found}"
        numbers.append(found[0])
    return numbers


def paragraph_lines(text: str, paragraphs) -> list[int]:
    return lines_of(text, *(p[:40] for p in paragraphs))


def page(*parts: str) -> str:
    """Join page parts (each one or more lines) with blank lines, as scraped text usually comes."""
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------------------------- seeds

SEED_CASES = {
    # prefix: (story lines, lines allowed either way, chrome lines)
    "000": (range(11, 35), {26}, [1, 3, *range(37, 76)]),
    "001": (range(106, 125), set(), [*range(1, 96), *range(126, 220)]),
    "002": ([5, *range(12, 29)], {20, 22}, [1]),
    "003": ([13, 15, *range(21, 32)], set(), [1, 2, 3, 7, 17, 34, 36]),
    "004": (range(7, 36), set(), range(37, 79)),
}


@pytest.mark.parametrize("prefix", sorted(SEED_CASES))
def test_seed_story_lines_are_all_in_the_body(prefix):
    text = seed(prefix)
    story, either, _ = SEED_CASES[prefix]
    extraction = extract(text)
    assert_kept(text, extraction, [n for n in story if n not in either])


@pytest.mark.parametrize("prefix", sorted(SEED_CASES))
def test_seed_chrome_lines_are_never_in_the_body(prefix):
    text = seed(prefix)
    _, _, chrome = SEED_CASES[prefix]
    assert_dropped(text, extract(text), chrome)


@pytest.mark.parametrize(
    ("prefix", "title"),
    [
        ("000", "After a suspected coup attempt was thwarted, Russia-led bloc began withdrawing from Kazakhstan"),
        ("001", "CSTO pulls out troops from Kazakhstan after weeklong deployment"),
        ("002", "Russia-led CSTO Forces Commence Withdrawal From Kazakhstan After Quelling Historic Unrest"),
        ("003", "Kazakhstan: Russia-led alliance's troops prepare to pull out"),
        ("004", "Troops of Russia-led bloc begin pullout from Kazakhstan"),
    ],
)
def test_seed_titles(prefix, title):
    assert extract(seed(prefix)).title == title


@pytest.mark.parametrize(
    ("prefix", "publisher", "published", "byline"),
    [
        # 000 and 003 carry no dateline: the date comes from a wire photo's caption near the headline
        ("000", None, "2022-01-13", None),
        ("001", "Daily Sabah", "2022-01-13", "Reuters"),
        ("002", None, "2022-01-14", None),
        ("003", None, "2022-01-13", None),
        ("004", "Dawn", "2022-01-14", None),
    ],
)
def test_seed_metadata(prefix, publisher, published, byline):
    extraction = extract(seed(prefix))
    if publisher is not None:
        assert extraction.publisher == publisher
    assert extraction.published == published
    if byline is not None:
        assert extraction.byline == byline


@pytest.mark.parametrize(
    ("prefix", "lines", "words"),
    [
        ("001", [153], "bridge collapses"),
        ("001", [134, 136], "goose"),
        ("004", [48], "Nawaz Sharif"),
    ],
)
def test_seed_teasers_are_not_in_the_body(prefix, lines, words):
    text = seed(prefix)
    extraction = extract(text)
    assert_dropped(text, extraction, lines)
    assert words not in body_text(text, extraction)


def test_seed_blocks_cover_every_non_blank_line():
    for path in sorted(SEEDS.glob("*.txt")):
        text = read(path)
        extraction = extract(text)
        numbers = [b.line for b in extraction.blocks]
        assert numbers == non_blank(text, range(1, text.count("\n") + 2)), path.name
        for block in extraction.blocks:
            assert text.count("\n", 0, block.start) + 1 == block.line
            assert block.reason


# --------------------------------------------------------------------------------------------- synthetic pages

HEADLINE = "Harbour city approves flood barrier after record winter storms"

STORY = [
    "The city council of Westhaven voted on Tuesday to build a movable flood barrier across the mouth of its "
    "harbour, after three winter storms in a row pushed seawater into the old town and closed the ferry terminal.",
    "The barrier, a row of steel gates that will rest on the seabed and rise when a surge is forecast, is expected "
    "to cost about 410 million euros and take six years to complete, according to the council's engineering office.",
    "Mayor Ilse Brandt told reporters outside the town hall that the city could no longer rely on sandbags and "
    "temporary walls, saying the last storm alone caused damage worth more than 30 million euros to homes and shops.",
    "Opposition councillors argued that the plan had been rushed through without a full study of its effect on "
    "fishing grounds, and said they would ask the regional government to review the decision before any "
    "contract is signed.",
    "Residents of the old town, many of whom spent the winter drying out ground-floor rooms, welcomed the vote, "
    "although several said they feared the work would bring years of noise, traffic and closed quays to the "
    "waterfront.",
    "The national environment agency said it would publish its assessment of the project in the spring, and that "
    "construction could not begin until the harbour's protected seagrass beds had been surveyed and a plan to "
    "move them agreed.",
]

MENU = [
    "  • Home",
    "  • News",
    "    • World",
    "    • Europe",
    "    • Politics",
    "    • Business",
    "    • Climate",
    "  • Sport",
    "    • Football",
    "    • Cycling",
    "    • Sailing",
    "Culture",
    "Film",
    "Music",
    "Books",
    "Theatre",
    "  • Opinion",
    "    • Columns",
    "    • Letters",
    "    • Cartoons",
    "Travel",
    "Food and Drink",
    "Health",
    "Science",
    "Technology",
    "Money",
    "  • Jobs",
    "  • Property",
    "  • Cars",
    "  • Podcasts",
    "  • Video",
    "  • Newsletters",
    "Weather",
    "Puzzles",
    "Crosswords",
    "Obituaries",
    "  • Local News",
    "  • Westhaven",
    "  • North Coast",
    "  • Islands",
    "Contact us",
    "Advertise",
    "Log in",
]

FOOTER = [
    "About us",
    "Contact",
    "Privacy policy",
    "Terms of use",
    "© 2024 Westhaven Courier Ltd. All rights reserved.",
]


def test_navigation_menu_is_dropped_and_the_story_kept():
    assert len(MENU) >= 40
    text = "\n".join(MENU) + "\n\n" + page(HEADLINE, *STORY, "\n".join(FOOTER))
    extraction = extract(text)
    assert_kept(text, extraction, paragraph_lines(text, STORY))
    assert_dropped(text, extraction, range(1, len(MENU) + 1))
    footer_start = paragraph_lines(text, STORY)[-1] + 1
    assert_dropped(text, extraction, range(footer_start, text.count("\n") + 2))
    assert extraction.title == HEADLINE


RELATED = [
    "You May Also Like",
    "Port workers walk out over pay as talks with shipping companies collapse for a third time...",
    "Regional rail operator cancels evening trains on coastal line until the end of March, citing a shortage of "
    "drivers and...",
    "Related articles",
    "Storm Hilde leaves thousands without power",
    "Power was cut to more than 12,000 homes along the north coast on Sunday night as Storm Hilde brought gusts of "
    "up to 140 kilometres an hour and toppled trees onto overhead lines.",
    "Fishermen fear new quotas will empty the harbour",
    "The local fishing cooperative says the quotas agreed in Brussels last month will force half of its boats to "
    "stay in port for most of the year, and it has asked the government for emergency support.",
    "Council raises parking charges in the old town",
    "Drivers will pay up to four euros an hour to park near the harbour from next month, after the council voted "
    "to raise charges to fund repairs to roads damaged by the winter floods.",
]


def test_related_teasers_after_the_story_are_dropped():
    text = page(HEADLINE, *STORY, *RELATED)
    extraction = extract(text)
    assert_kept(text, extraction, paragraph_lines(text, STORY))
    assert_dropped(text, extraction, lines_of(text, *(r[:40] for r in RELATED)))
    body = body_text(text, extraction)
    for word in ("Port workers", "Storm Hilde", "quotas", "parking charges"):
        assert word not in body


CARDS = RELATED[4:]  # three teaser cards: a headline and a one-sentence summary each


@pytest.mark.parametrize("heading", ["You May Also Like", "Related articles"])
def test_teaser_cards_under_one_heading_are_dropped(heading):
    text = page(HEADLINE, *STORY, heading, *CARDS)
    extraction = extract(text)
    assert_kept(text, extraction, paragraph_lines(text, STORY))
    assert_dropped(text, extraction, lines_of(text, heading, *(c[:40] for c in CARDS)))


COOKIES = [
    "We use cookies to improve your experience. By continuing to browse you agree to our cookie policy.",
    "Accept all cookies",
]


def test_cookie_banner_before_the_story_is_dropped():
    text = page(*COOKIES, HEADLINE, *STORY)
    extraction = extract(text)
    assert_dropped(text, extraction, lines_of(text, *COOKIES))
    assert_kept(text, extraction, paragraph_lines(text, STORY))
    assert extraction.title == HEADLINE


def test_cookie_banner_between_headline_and_story_is_dropped():
    text = page(HEADLINE, *COOKIES, *STORY)
    extraction = extract(text)
    assert extraction.title == HEADLINE
    assert_dropped(text, extraction, lines_of(text, *COOKIES))
    assert_kept(text, extraction, paragraph_lines(text, STORY))


SHORT_STORY = [
    "Firefighters were called to the harbour warehouse at dawn.",
    "Smoke could be seen across the whole town.",
    "Nobody was inside the building when the fire started.",
    "Two crews from Westhaven fought the flames for five hours.",
    "A third crew arrived from Lindau just before eight.",
    "The roof collapsed shortly after nine o'clock.",
    "Police closed the coast road in both directions.",
    "Ferries were moved to the southern quay as a precaution.",
    "Neighbours were asked to keep their windows shut.",
    "The cause of the fire is not yet known.",
    "Investigators will enter the building on Wednesday.",
    "The owner said the warehouse stored fishing nets and rope.",
    "The coast road reopened late on Tuesday afternoon.",
]


def test_story_of_short_one_sentence_paragraphs_is_kept_whole():
    assert len(SHORT_STORY) >= 12 and all(6 <= len(p.split()) <= 12 for p in SHORT_STORY)
    headline = "Fire destroys harbour warehouse in Westhaven"
    text = page(headline, *SHORT_STORY)
    extraction = extract(text)
    assert_kept(text, extraction, paragraph_lines(text, SHORT_STORY))
    assert not [b for b in extraction.blocks if not b.keep and b.kind != "headline"]
    assert extraction.title == headline


def test_clean_story_drops_nothing():
    text = page(HEADLINE, *STORY)
    extraction = extract(text)
    assert extraction.dropped_chars == 0
    assert extraction.title == HEADLINE
    for block in extraction.blocks:
        assert block.keep or block.kind == "headline", block
    assert_kept(text, extraction, paragraph_lines(text, STORY))


@pytest.mark.parametrize(
    ("dateline", "published"),
    [
        ("Published January 14th, 2022", "2022-01-14"),
        ("Jan 13, 2022 - 1:52 pm", "2022-01-13"),
        ("WESTHAVEN Jan 13, 2022 - 1:52 pm GMT+1", "2022-01-13"),
    ],
)
def test_dateline_under_the_headline_gives_the_date(dateline, published):
    text = page(HEADLINE, dateline, *STORY)
    extraction = extract(text)
    assert extraction.published == published
    assert_dropped(text, extraction, lines_of(text, dateline))
    assert_kept(text, extraction, paragraph_lines(text, STORY))


def test_imprint_after_the_story_gives_publisher_and_date():
    imprint = "Published in Dawn, January 14th, 2022"
    text = page(HEADLINE, *STORY, imprint, "Opinion", "Editorial")
    extraction = extract(text)
    assert extraction.published == "2022-01-14"
    assert extraction.publisher == "Dawn"
    assert_dropped(text, extraction, lines_of(text, imprint))
    assert_kept(text, extraction, paragraph_lines(text, STORY))


def test_caption_printed_twice_drops_the_second_copy():
    caption = (
        "Workers inspect a damaged quay in Westhaven's old town on January 12, 2024, after the third storm of "
        "the winter flooded the harbour. (AFP Photo)"
    )
    text = page(HEADLINE, caption, caption, *STORY)
    extraction = extract(text)
    first, second = (b for b in extraction.blocks if text[b.start : b.end] == caption)
    assert not second.keep
    assert "repeats" in second.reason
    assert second.reason == f"repeats line {first.line}"
    assert not overlaps_body(extraction, second.start, second.end)
    assert_kept(text, extraction, paragraph_lines(text, STORY))


def test_short_caption_printed_twice_keeps_the_lead_paragraph():
    caption = "Workers inspect a damaged quay. (AFP Photo)"
    text = page(HEADLINE, caption, caption, *STORY)
    extraction = extract(text)
    second = [b for b in extraction.blocks if text[b.start : b.end] == caption][1]
    assert not second.keep and "repeats" in second.reason
    assert_kept(text, extraction, paragraph_lines(text, STORY))


ELLIPSIS_LINE = (
    "The mayor paused before answering questions about the cost, saying only that the city had run out of time..."
)


def test_story_line_ending_in_an_ellipsis_mid_article_is_kept():
    story = [*STORY[:3], ELLIPSIS_LINE, *STORY[3:]]
    text = page(HEADLINE, *story)
    extraction = extract(text)
    assert_kept(text, extraction, paragraph_lines(text, story))


def test_story_line_ending_in_an_ellipsis_mid_article_is_kept_between_menu_and_footer():
    story = [*STORY[:3], ELLIPSIS_LINE, *STORY[3:]]
    text = "\n".join(MENU) + "\n\n" + page(HEADLINE, *story, "\n".join(FOOTER))
    extraction = extract(text)
    assert_kept(text, extraction, paragraph_lines(text, story))
    assert_dropped(text, extraction, range(1, len(MENU) + 1))


LONG_ELLIPSIS_LINE = (
    "The barrier, a row of steel gates that will rest on the seabed and rise when a surge is forecast, is expected "
    "to cost about 410 million euros, officials said, adding that the final figure would depend on the price "
    "of steel..."
)


def test_early_ellipsis_line_does_not_cut_off_the_story_opening():
    story = [STORY[2], LONG_ELLIPSIS_LINE, *STORY[3:]]
    text = "\n".join(MENU) + "\n\n" + page(HEADLINE, *story, "\n".join(FOOTER))
    extraction = extract(text)
    assert_dropped(text, extraction, range(1, len(MENU) + 1))
    assert_kept(text, extraction, paragraph_lines(text, story))


# --------------------------------------------------------------------------------------------- properties

_TOKENS = st.sampled_from(
    list("abcdefXYZ .,!?:;-—'\"“”()0123") + ["\n", "\n\n", "  ", "\t", "\r\n", "•", "  • ", "...", "…", "©", "é"]
)
_PIECES = st.sampled_from(
    [
        *STORY[:2],
        HEADLINE,
        "Click to comment",
        "You May Also Like",
        "Related articles",
        "Published in Dawn, January 14th, 2022",
        "Jan 13, 2022 - 1:52 pm",
        "by reuters",
        "(AFP Photo)",
        "REUTERS/Pavel Mikheyev",
        "© 2024 Westhaven Courier Ltd. All rights reserved.",
        "Accept all cookies",
        "Daily Sabah logo",
        "  • Home",
    ]
)
_SCRAPS = st.lists(st.one_of(_TOKENS, st.text(max_size=3)), max_size=120).map("".join)
PAGES = st.one_of(
    st.text(),
    _SCRAPS,
    st.lists(st.one_of(_PIECES, _SCRAPS), max_size=30).map("\n".join),
)


def check_invariants(text: str) -> None:
    extraction = extract(text)
    previous_end = 0
    for start, end in extraction.body:
        assert previous_end <= start < end <= len(text)
        span = text[start:end]
        assert span == span.strip()
        previous_end = end
    blocks = extraction.blocks
    for block in blocks:
        assert 0 <= block.start < block.end <= len(text)
        assert block.reason
        assert text.count("\n", 0, block.start) + 1 == block.line
        if not block.keep:
            assert not overlaps_body(extraction, block.start, block.end), block
    assert [b.start for b in blocks] == sorted(b.start for b in blocks)
    assert extraction.kept_chars + extraction.dropped_chars == sum(b.end - b.start for b in blocks)
    assert extraction.kept_chars >= 0 and extraction.dropped_chars >= 0
    kept = [b for b in blocks if b.keep]
    assert all(in_body(extraction, b.start, b.end) for b in kept)
    assert all(any(s == b.start for b in kept) and any(e == b.end for b in kept) for s, e in extraction.body)


@settings(max_examples=200, deadline=None)
@given(PAGES)
def test_extract_never_raises_and_spans_are_exact(text):
    check_invariants(text)


@pytest.mark.parametrize("prefix", sorted(SEED_CASES))
def test_seed_invariants(prefix):
    check_invariants(seed(prefix))


# --------------------------------------------------------------------------------------------- through the index


def test_indexed_passages_hold_no_chrome_and_are_exact_slices(seeds, tmp_path, open_hashed):
    retriever = open_hashed(seeds)
    count = 0
    for passage, source in retriever.passages():
        raw = read(Path(source.path))
        assert raw[passage.start : passage.end] == passage.text
        for chrome in ("goose", "bridge collapses", "Nawaz Sharif", "Click to comment", "Covid"):
            assert chrome not in passage.text, (source.path, passage.text[:80])
        count += 1
    assert count == len(retriever) > 0


def test_a_markdown_headline_gives_a_title_without_its_hashes():
    text = (
        "# Fuel prices rise again\n\n"
        + "Protests started after a sharp rise in fuel prices in the west of the country. " * 3
        + "\n"
    )
    assert extract(text).title == "Fuel prices rise again"


@given(st.text(alphabet=st.sampled_from(["a", "b", " ", "\t", "\n", "\r", "\xa0", "\u2028", "\x0b", "\x1c", "\u3000"])))
def test_a_block_reads_as_jusText_would_read_it(text: str) -> None:
    """The block jusText classifies holds the text jusText itself would make of it (normalised once)."""
    from justext.paragraph import Paragraph
    from justext.utils import normalize_whitespace

    from qa.extract.article import _block_type, _PlainPath

    theirs = Paragraph(_PlainPath)
    theirs.append_text(text)
    ours = _block_type()(text)
    assert ours.text == theirs.text == normalize_whitespace(text.strip())
    assert ours.words_count == theirs.words_count


def test_the_stoplist_is_jusTexts_own() -> None:
    """Read from jusText's data file without importing jusText: the same words get_stoplist gives."""
    import justext

    from qa.text.words import justext_stoplist

    assert justext_stoplist() == justext.get_stoplist("English") and len(justext_stoplist()) > 100
