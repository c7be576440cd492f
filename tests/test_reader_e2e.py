"""The shipped reader on the seed articles, with the real model: what a reporter copies must be right."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.model

TROOPS = (
    "How many troops did the CSTO send?",
    "How many soldiers did the Russia-led alliance deploy to Kazakhstan?",
    "How many troops were sent to Kazakhstan?",
    "What was the size of the CSTO force sent to Kazakhstan?",
    "How many peacekeepers did the CSTO deploy?",
    "How many CSTO troops went to Kazakhstan?",
    "How many troops did the Russian-led bloc send to Kazakhstan?",
    "How many servicemen did the CSTO dispatch to Kazakhstan?",
    "How large was the CSTO contingent sent to Kazakhstan?",
    "How many foreign troops arrived in Kazakhstan?",
)


def raw(hit) -> str:
    return Path(hit.source.path).read_text(encoding="utf-8")


def test_the_answer_is_an_exact_slice_and_the_highlight_holds_it(seed_retriever) -> None:
    result = seed_retriever.search("When did the withdrawal finish?", k=3)
    assert result.answered and result.answer is not None
    top = result.hits[0]
    assert top.reader_score is not None and top.score == top.reader_score
    text = raw(top)
    assert text[result.answer.start : result.answer.end] == result.answer.text
    assert top.highlight is not None
    assert top.highlight.start <= result.answer.start < result.answer.end <= top.highlight.end
    assert "19" in result.answer.text


def test_a_question_the_articles_do_not_answer_is_abstained_on(seed_retriever) -> None:
    result = seed_retriever.search("How many CSTO soldiers died?", k=3)
    assert not result.answered
    assert result.answer is None and result.values == []


def test_the_number_detained_is_never_given_as_the_number_killed(seed_retriever) -> None:
    result = seed_retriever.search("How many people were killed in the unrest?", k=3)
    assert all("10,000" not in v.value for v in result.values)
    assert result.answer is None or "10,000" not in result.answer.text


def test_the_troop_figures_for_paraphrases(seed_retriever) -> None:
    shown = []
    for question in TROOPS:
        values = {v.value for v in seed_retriever.search(question, k=3).values}
        shown.append(bool({"2,500", "2,000"} & values) and values <= {"2,500", "2,000", "over 2,000"})
    assert sum(shown) >= 8, list(zip(TROOPS, shown, strict=True))
