"""What the terminal shows of an answer: the highlighted sentence only when the bot answers."""

from __future__ import annotations

from rich.console import Console

from qa.fronts.present import render_result
from qa.records import Answer, Highlight, Hit, Passage, SearchResult, Source

TEXT = "The troops began to leave on Thursday. The withdrawal ends on January 19."


def shown(answered: bool, answer: Answer | None = None) -> str:
    passage = Passage("p1", "a.txt", 100, 100 + len(TEXT), 3, 3, TEXT)
    hit = Hit(1, 0.5, passage, Source("a.txt", None, "Troops leave", None, None), Highlight(139, 100 + len(TEXT)))
    console = Console(record=True, width=100, force_terminal=True, color_system="standard")
    result = SearchResult("When does the withdrawal end?", [hit], answered=answered, answer=answer)
    render_result(console, result)
    return console.export_text(styles=True)


def test_the_answering_sentence_is_marked_when_the_bot_answers():
    out = shown(answered=True)
    assert "\x1b[1;33mThe withdrawal" in out  # bold yellow: HIGHLIGHT_STYLE


def test_an_abstention_marks_no_sentence():
    out = shown(answered=False)
    assert "The articles don't seem to answer this." in out
    assert "\x1b[1;33mThe withdrawal" not in out and "The withdrawal ends on January 19." in out


def test_the_exact_answer_is_underlined_inside_the_highlight():
    at = 100 + TEXT.index("January 19")
    out = shown(answered=True, answer=Answer(at, at + len("January 19"), "January 19"))
    assert "\x1b[1;33mThe withdrawal ends on " in out  # the sentence: bold yellow
    assert "\x1b[1;4;33mJanuary 19" in out  # the answer: bold yellow, underlined
    assert "\x1b[1;4;33m" not in shown(answered=True)  # nothing underlined without an answer
