"""What the terminal shows of an answer: the highlighted sentence only when the bot answers."""

from __future__ import annotations

from rich.console import Console

from qa.fronts.present import render_result
from qa.records import Highlight, Hit, Passage, SearchResult, Source

TEXT = "The troops began to leave on Thursday. The withdrawal ends on January 19."


def shown(answered: bool) -> str:
    passage = Passage("p1", "a.txt", 100, 100 + len(TEXT), 3, 3, TEXT)
    hit = Hit(1, 0.5, passage, Source("a.txt", None, "Troops leave", None, None), Highlight(139, 100 + len(TEXT)))
    console = Console(record=True, width=100, force_terminal=True, color_system="standard")
    render_result(console, SearchResult("When does the withdrawal end?", [hit], answered=answered))
    return console.export_text(styles=True)


def test_the_answering_sentence_is_marked_when_the_bot_answers():
    out = shown(answered=True)
    assert "\x1b[1;33mThe withdrawal" in out  # bold yellow: HIGHLIGHT_STYLE


def test_an_abstention_marks_no_sentence():
    out = shown(answered=False)
    assert "The articles don't seem to answer this." in out
    assert "\x1b[1;33mThe withdrawal" not in out and "The withdrawal ends on January 19." in out
