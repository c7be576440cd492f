"""Disagreement that can be trusted: which figure or date each source gives, compared only like with like.

The sentences are those of the issue's false banners (BBC and seed articles); no model is needed.
"""

from __future__ import annotations

import pytest
from rich.console import Console

from qa.fronts.present import render_result
from qa.records import AlsoIn, Highlight, Hit, Passage, SearchResult, Source, Value
from qa.search.highlight import question_of
from qa.search.value_reading import read_sentence, want_of
from qa.search.values import values_of


def hit(rank: int, text: str, sentence: str, path: str, *, title: str | None = None, also_in=()) -> Hit:
    """A hit on `text` (one passage of `path`) with `sentence` highlighted."""
    start = 1000 * rank
    passage = Passage(
        id=f"p{rank}", doc_key=path, start=start, end=start + len(text), line_start=1, line_end=1, text=text
    )
    offset = start + text.index(sentence)
    return Hit(
        rank=rank,
        score=1.0 / rank,
        passage=passage,
        source=Source(path, None, title, None, None),
        highlight=Highlight(offset, offset + len(sentence)),
        also_in=also_in,
    )


def copy_of(path: str, text: str) -> AlsoIn:
    return AlsoIn(Source(path, None, None, None, None), "c", 5, 5 + len(text), 2, 2, 0.95, text)


def read(question: str, sentence: str) -> str | None:
    want = want_of(question_of(question))
    assert want is not None
    found = read_sentence(want, sentence)
    return found.value if found else None


def result_of(question: str, hits: list[Hit]) -> tuple[list[str], bool]:
    values = values_of(question_of(question), hits)
    return [v.value for v in values], SearchResult(question, hits=hits, values=values).disagree


XBOX = (
    "Microsoft has said it will replace more than 14 million power cables for its Xbox consoles due to safety "
    "concerns. Consumers can order a new cable from the Xbox website or by telephoning 0800 028 9276 in the UK. "
    "Microsoft said customers would get replacement cords within two to four weeks from the time of order."
)
JOBS = (
    "The US created fewer jobs than expected in January, but a fall in jobseekers pushed the unemployment rate to "
    "its lowest level in three years. According to Labor Department figures, US firms added only 146,000 jobs in "
    "January. The gain in non-farm payrolls was below market expectations of 190,000 new jobs."
)
LYRIC = (
    'Lyric chairman David Johnston has said that rebuilding the theatre, at a cost of £8m is the only answer. "There '
    'was serious trouble, but the Lyric Theatre was like a Belisha beacon of light and hope six nights a week."'
)


def test_a_phone_number_is_never_a_count_and_a_multiplier_stays_with_its_number():
    question = "How many Xbox power cables is Microsoft replacing?"
    phone = "Consumers can order a new cable from the Xbox website or by telephoning 0800 028 9276 in the UK."
    assert read(question, phone) is None
    # the highlight on the phone line: the passage's figure attached to "cables" is the value, whole
    assert result_of(question, [hit(1, XBOX, phone, "tech/015.txt")]) == (["14 million"], False)
    # "two to four weeks" counts time, not cords
    assert read("How many cords is Microsoft recalling?", XBOX.split(". ")[-1]) is None


def test_a_duration_does_not_answer_how_many_things():
    question = "How many jobs did US firms add in January?"
    first = JOBS.split(". ")[0] + "."
    assert read(question, first) is None, "'in three years' is a duration"
    assert result_of(question, [hit(1, JOBS, first, "business/007.txt")]) == (["146,000"], False)


def test_how_much_it_costs_is_money_not_a_frequency():
    question = "How much will rebuilding the Lyric Theatre cost?"
    nights = LYRIC[LYRIC.index('"There') :]
    assert read(question, nights) is None, "'six nights a week' is not a cost"
    assert result_of(question, [hit(1, LYRIC, LYRIC[: LYRIC.index('"There') - 1], "ent/012.txt")]) == (["£8m"], False)


@pytest.mark.parametrize(
    ("question", "sentence", "value"),
    [
        ("How many people were displaced?", "Half a million people were displaced by the floods.", "500,000"),
        ("How much did the deal cost?", "The deal cost $1.2bn, the company said.", "$1.2bn"),
        ("How much did the deal cost?", "The deal cost 8 million pounds in the end.", "£8m"),
        ("How much did the film earn?", "The film earned $239,850 (£125,000) on its release.", "$239,850"),
        ("How many troops were sent?", "About 2500 troops were sent.", "2,500"),
        ("What percentage of handsets can send pictures?", "Some 32 per cent of handsets can send pictures.", "32%"),
        ("How many customers did AOL lose?", "AOL lost 464,000 customers, its 24-year-old unit said.", "464,000"),
        ("How many titles did he win?", "He won his third title on Sunday.", None),
        ("How many people were detained?", "Police reported detaining nearly 2,000 more people.", None),
        ("How many people were detained?", "At least 12,000 people have been detained, police said.", "12,000"),
        ("How many championships did he collect?", "He wants the World Championship 100m gold.", None),
    ],
)
def test_a_figure_is_read_whole_and_for_what_it_measures(question, sentence, value):
    assert read(question, sentence) == value


def test_a_photo_caption_gives_no_value():
    question = "When did the demonstrations begin?"
    story = "The demonstrations started on Jan. 2 in western Kazakhstan following outrage over fuel prices."
    caption = "Demonstrators rally in Almaty, Kazakhstan January 5, 2022. REUTERS/Pavel Mikheyev"
    hits = [hit(1, story, story, "003.txt"), hit(2, caption, caption, "000.txt")]
    assert result_of(question, hits) == (["January 2"], False)
    caption = "Demonstrations began in Almaty on Jan. 5, 2022. (AFP Photo)"
    assert result_of(question, [hit(1, story, story, "003.txt"), hit(2, caption, caption, "001.txt")]) == (
        ["January 2"],
        False,
    )


def test_one_article_giving_two_numbers_is_not_a_disagreement():
    question = "How many jobs did US firms add in January?"
    sentences = JOBS.split(". ")
    hits = [
        hit(1, JOBS, sentences[1] + ".", "business/007.txt"),
        hit(2, JOBS, sentences[2], "business/007.txt"),  # the same article again: "190,000 new jobs"
    ]
    values, disagree = result_of(question, hits)
    assert (values, disagree) == (["146,000"], False)


def test_wire_copies_that_agree_are_one_value_with_every_source():
    question = "How many troops did the CSTO send?"
    text = "It was unclear how many troops out of about 2,500 sent in by the CSTO were leaving immediately."
    copy = copy_of("000.txt", "It was unclear how many of the 2,500 troops deployed in by the CSTO were leaving.")
    values = values_of(question_of(question), [hit(1, text, text, "001.txt", also_in=(copy,))])
    assert [(v.value, [(s.path, s.copy) for s in v.sources]) for v in values] == [
        ("2,500", [("001.txt", False), ("000.txt", True)])
    ]
    assert not SearchResult(question, values=values).disagree


@pytest.mark.parametrize(
    "question",
    [
        "How many troops did the CSTO send?",
        "How many soldiers did the alliance deploy to Kazakhstan?",
        "How many peacekeepers were sent to Kazakhstan?",
        "How large was the CSTO force?",
        "What was the size of the CSTO contingent?",
    ],
)
def test_two_outlets_giving_different_figures_disagree_whatever_the_paraphrase(question):
    first = "It was unclear how many troops out of about 2,500 sent in by the CSTO were leaving immediately."
    second = (
        "Last week, CSTO forces were deployed in Kazakhstan at the request of Tokayev. About 2,000 CSTO troops and "
        "250 military equipment were provided to Kazakhstan."
    )
    hits = [
        hit(1, first, first, "001.txt", title="CSTO pulls out troops from Kazakhstan"),
        hit(2, second, second.split(". ")[0] + ".", "002.txt", title="CSTO forces withdraw from Kazakhstan"),
    ]
    assert result_of(question, hits) == (["2,500", "2,000"], True)


def test_dates_of_the_same_event_agree_and_limits_are_not_that_event():
    question = "When did the withdrawal finish?"
    hits = [
        hit(1, "Shoigu said the disengagement would be finished on January 19.", "Shoigu", "000.txt"),
        hit(2, "The troops will complete their withdrawal by Jan. 19, 2022.", "The troops", "002.txt"),
        hit(
            3,
            "The pullout would be completed by Wednesday next week, ahead of a January 22 deadline to complete the "
            "withdrawal.",
            "The pullout",
            "004.txt",
        ),
        hit(4, "No foreign troops would remain after the withdrawal, after Jan. 23.", "No foreign", "001.txt"),
    ]
    hits = [_whole(h) for h in hits]
    values = values_of(question_of(question), hits)
    assert [(v.value, [s.path for s in v.sources]) for v in values] == [("January 19", ["000.txt", "002.txt"])]
    assert not SearchResult(question, values=values).disagree
    assert result_of("When is the deadline for the withdrawal?", hits[2:3]) == (["January 22"], False)


def _whole(h: Hit) -> Hit:
    """The hit with its whole passage highlighted."""
    return Hit(h.rank, h.score, h.passage, h.source, Highlight(h.passage.start, h.passage.end))


def test_figures_for_another_period_or_another_story_are_not_compared():
    question = "How many jobs did US firms add in January?"
    october = "The 337,000 new jobs added to US payrolls in October was twice the forecast."
    hits = [hit(1, JOBS, JOBS.split(". ")[1] + ".", "007.txt"), hit(2, october, october, "134.txt")]
    assert result_of(question, hits) == (["146,000"], False)
    question = "How much will rebuilding the Lyric Theatre cost?"
    other = "The firm said it would only break even on the £458m rebuild, after a rise in costs."
    lyric = LYRIC[: LYRIC.index('"There') - 1]
    hits = [hit(1, lyric, lyric, "012.txt"), hit(2, other, other, "062.txt", title="Builder hit by stadium costs")]
    assert result_of(question, hits) == (["£8m"], False)


def test_calendar_dates_win_over_weekdays_and_questions_without_a_figure_get_none():
    question = "When did the airport reopen?"
    hits = [
        hit(1, "The airport reopened on Thursday.", "The airport reopened on Thursday.", "a.txt"),
        hit(2, "The airport reopened on 13 January.", "The airport reopened on 13 January.", "b.txt"),
    ]
    assert result_of(question, hits) == (["January 13"], False)
    assert result_of("Who asked the CSTO for help?", hits) == ([], False)


def _rendered(result: SearchResult) -> str:
    console = Console(record=True, width=120, color_system=None)
    render_result(console, result)
    return console.export_text()


def test_the_terminal_lists_a_value_that_several_sources_agree_on():
    text = "The troops will complete their withdrawal by January 19."
    hits = [hit(1, text, text, "000.txt"), hit(2, text, text, "002.txt")]
    values = values_of(question_of("When did the withdrawal finish?"), hits)
    assert [len(v.sources) for v in values] == [2]
    out = _rendered(SearchResult("When did the withdrawal finish?", hits=hits, values=values))
    assert "The sources agree:" in out and "• January 19: 000.txt [1]; 002.txt [2]" in out
    single = SearchResult("q", hits=hits[:1], values=[Value("January 19", values[0].sources[:1])])
    assert "The sources" not in _rendered(single), "one source alone is no panel"
