"""The exact answer: a span of the top hit's highlighted sentence, or nothing (fast: no model)."""

from __future__ import annotations

import pytest

from qa.records import Answer, Highlight, Hit, Passage, SearchResult, Source
from qa.search.answer import answer_kind, answer_of
from qa.search.highlight import question_of
from qa.search.values import values_of

START = 500  # where the passage lies in its file: answers are raw-file offsets


def top_hit(text: str, sentence: str | None = None, rank: int = 1) -> Hit:
    """A hit on `text` whose highlight is `sentence` (default: all of it)."""
    passage = Passage("p", "a.txt", START, START + len(text), 1, 1, text)
    at = text.index(sentence) if sentence else 0
    highlight = Highlight(START + at, START + at + len(sentence or text))
    return Hit(rank, 0.5, passage, Source("a.txt", None, None, None, None), highlight)


def answer(question: str, text: str, sentence: str | None = None, *, answered: bool = True) -> Answer | None:
    asked = question_of(question)
    hits = [top_hit(text, sentence)]
    return answer_of(asked, hits, values_of(asked, hits), answered)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who asked the CSTO for help?", "person"),
        ("Which Tokyo-based bank analyst said the complaints were too weak?", "person"),
        ("Where did the band play on Friday?", "place"),
        ("In which Spanish city will Munster play Biarritz?", "place"),
        ("When did the withdrawal finish?", "value"),
        ("How many troops did the CSTO send?", "value"),
        ("What did Liberal MPs insist on?", None),
        ("What triggered the protests?", None),
    ],
)
def test_what_kind_of_answer_a_question_wants(question, kind):
    assert answer_kind(question_of(question)) == kind


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        (
            "Who asked the CSTO for help?",
            "Kazakh President Kassym-Jomart Tokayev asked the CSTO for assistance last week.",
            "Kassym-Jomart Tokayev",
        ),
        (
            "Who is the Russian defence minister?",
            "Russia's President Vladimir Putin meets with Defence Minister Sergei Shoigu in Moscow.",
            "Sergei Shoigu",
        ),
        (
            "Which bank analyst said the comments were too weak to move markets?",
            'The comments, said Junya Tanase of JPMorgan Chase bank in Tokyo, were "too weak to move markets".',
            "Junya Tanase",
        ),
        (
            "Where did the suspended runner come third in the road race?",
            "Chepkemei finished third in last Sunday's world best 10K road race in Puerto Rico.",
            "Puerto Rico",
        ),
        (
            "When did the withdrawal finish?",
            "Shoigu said the withdrawal would be finished on January 19.",
            "January 19",
        ),
        (
            "How many troops did the CSTO send?",
            "It was unclear how many of the 2,500 troops sent by the CSTO were leaving.",
            "2,500",
        ),
        (
            "On what date will the session be broadcast?",
            "The session, which will broadcast on 18 December, is new.",
            "18 December",
        ),
    ],
)
def test_the_answer_is_the_span_that_names_it(question, text, expected):
    found = answer(question, text)
    assert found is not None and found.text == expected
    assert text[found.start - START : found.end - START] == found.text  # a slice of the source, raw offsets


def test_the_answer_lies_inside_the_highlighted_sentence():
    text = (
        "President Tokayev asked the CSTO for help. Later, Defence Minister Sergei Shoigu said the troops would leave."
    )
    found = answer("Who asked the CSTO for help?", text, "President Tokayev asked the CSTO for help.")
    assert found is not None and found.text == "Tokayev" and found.start == START + len("President ")
    assert (
        answer(
            "Who asked the CSTO for help?", text, "Later, Defence Minister Sergei Shoigu said the troops would leave."
        )
        is None
    )


@pytest.mark.parametrize(
    ("question", "text"),
    [
        # two names, neither clearly nearer the question's words
        ("Who won the vote?", "Gordon Brown and Tony Blair both welcomed the result of the vote."),
        # the only name is the one the question asks about
        ("Who met Vladimir Putin?", "Vladimir Putin held talks in the Kremlin on Monday."),
        # no figure of the kind asked for
        ("How many troops did the CSTO send?", "The CSTO sent troops to Kazakhstan after the protests."),
        # a limit is not the date asked for, and nothing else is there
        ("When did the troops leave?", "No troops would stay after Jan. 23, Tokayev said."),
        # not a question an exact answer is given for
        ("What triggered the protests?", "The protests were triggered by a rise in fuel prices in January."),
    ],
)
def test_no_answer_when_it_is_not_clear(question, text):
    assert answer(question, text) is None


def test_no_answer_when_the_bot_abstains_or_has_nothing():
    text = "Kazakh President Kassym-Jomart Tokayev asked the CSTO for help."
    assert answer("Who asked the CSTO for help?", text, answered=False) is None
    assert answer_of(question_of("Who asked the CSTO for help?"), [], [], True) is None


def test_the_answer_is_an_additive_json_key():
    result = SearchResult("Who asked?", [top_hit("Tokayev asked.")], answer=Answer(START, START + 7, "Tokayev"))
    payload = result.to_dict()
    assert payload["answer"] == {"start": START, "end": START + 7, "text": "Tokayev"}
    assert list(payload)[:7] == ["question", "answered", "confidence", "evidence", "disagree", "values", "answer"]
    assert SearchResult("Who asked?").to_dict()["answer"] is None
