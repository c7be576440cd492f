"""Values from the reader's spans: only what the reader took as the answer in each document, one per document."""

from __future__ import annotations

from qa.records import AlsoIn, Hit, Passage, SearchResult, Source
from qa.search.highlight import question_of
from qa.search.values import values_from_spans

UNREST = (
    "Kazakhstan's interior ministry said almost 10,000 people had been detained. "
    "Officials said 225 people were killed in the unrest, including 19 police officers."
)
OTHER = "In a separate report, 164 people were said to have died, a figure later withdrawn."


def hit(rank: int, text: str, path: str, also_in: tuple[AlsoIn, ...] = ()) -> Hit:
    start = 1000 * rank
    passage = Passage(f"p{rank}", path, start, start + len(text), 1, 1, text)
    return Hit(rank, 1.0 / rank, passage, Source(path, None, None, None, None), also_in=also_in)


def span(text: str, words: str) -> tuple[int, int]:
    at = text.index(words)
    return at, at + len(words)


def test_only_the_span_the_reader_chose_gives_the_value() -> None:
    asked = question_of("How many people were killed in the unrest?")
    values = values_from_spans(asked, [hit(1, UNREST, "a.txt")], [span(UNREST, "225")])
    assert [v.value for v in values] == ["225"]
    [source] = values[0].sources
    assert UNREST[source.start - 1000 : source.end - 1000] == "225"  # raw offsets of the value itself


def test_a_hit_without_a_sure_span_gives_no_value() -> None:
    asked = question_of("How many people were killed in the unrest?")
    hits = [hit(1, UNREST, "a.txt"), hit(2, OTHER, "b.txt")]
    values = values_from_spans(asked, hits, [span(UNREST, "225"), None])
    assert [v.value for v in values] == ["225"]
    assert not SearchResult("q", hits=hits, values=values).disagree


def test_two_documents_whose_spans_differ_disagree_and_one_document_counts_once() -> None:
    asked = question_of("How many people were killed in the unrest?")
    hits = [hit(1, UNREST, "a.txt"), hit(2, OTHER, "b.txt"), hit(3, UNREST, "a.txt")]
    spans = [span(UNREST, "225"), span(OTHER, "164"), span(UNREST, "10,000")]
    values = values_from_spans(asked, hits, spans)
    assert sorted(v.value for v in values) == ["164", "225"]


def test_relative_times_and_non_figures_are_no_values() -> None:
    text = "The protests began last week in the west of the country."
    asked = question_of("When did the protests begin?")
    assert values_from_spans(asked, [hit(1, text, "a.txt")], [span(text, "last week")]) == []
    who = question_of("Who is suing HP?")
    assert values_from_spans(who, [hit(1, text, "a.txt")], [span(text, "protests")]) == []


def test_a_wire_copy_is_listed_under_the_figure_of_its_matching_sentence() -> None:
    copy_text = UNREST.replace("225 people were killed", "230 people were killed")
    copy = AlsoIn(Source("b.txt", None, None, None, None), "c", 5, 5 + len(copy_text), 2, 2, 0.95, copy_text)
    asked = question_of("How many people were killed in the unrest?")
    values = values_from_spans(asked, [hit(1, UNREST, "a.txt", (copy,))], [span(UNREST, "225")])
    assert sorted((v.value, [s.path for s in v.sources]) for v in values) == [("225", ["a.txt"]), ("230", ["b.txt"])]


def test_a_wire_copy_carrying_the_same_figure_is_listed_under_it() -> None:
    copy = AlsoIn(Source("b.txt", None, None, None, None), "c", 5, 5 + len(UNREST), 2, 2, 0.95, UNREST)
    asked = question_of("How many people were killed in the unrest?")
    values = values_from_spans(asked, [hit(1, UNREST, "a.txt", (copy,))], [span(UNREST, "225")])
    assert [(s.path, s.copy) for s in values[0].sources] == [("a.txt", False), ("b.txt", True)]


def test_no_panel_when_the_top_answer_gives_no_value() -> None:
    """The values are the answer's: "dozens were killed" as the top answer sets no other document's figure (the
    number detained, a population) beside it as what the sources say."""
    dozens = "Protesters set buildings ablaze, and dozens of people were killed in clashes."
    asked = question_of("How many people were killed in the unrest?")
    hits = [hit(1, dozens, "a.txt"), hit(2, UNREST, "b.txt")]
    assert values_from_spans(asked, hits, [span(dozens, "dozens"), span(UNREST, "10,000")]) == []
    assert values_from_spans(asked, hits, [None, span(UNREST, "225")]) == []  # no span it is sure of on top
    assert [v.value for v in values_from_spans(asked, hits[::-1], [span(UNREST, "225"), None])] == ["225"]
