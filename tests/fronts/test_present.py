"""What the terminal shows of an answer: the highlighted sentence only when the bot answers, and article text
as escapes that the terminal shows instead of acting on."""

from __future__ import annotations

import json
import re

from rich.console import Console

from qa.fronts.present import render_result, result_json
from qa.records import Answer, Highlight, Hit, Passage, SearchResult, Source
from qa.text.encoding import terminal_safe, terminal_safe_offsets

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


# an article that would retitle the window, clear the screen, recolour the text, erase characters (BS), ring the
# bell, reverse a word (RLO) and open an 8-bit CSI if it reached the terminal as it is
HOSTILE = (
    "Troops \x1b]0;PWNED\x07left\x1b[2J on \x1b[31mThursday\x1b[0m.\x08 "
    "The \u202ewithdrawal\u202c\x9b ends\x07 on January 19."
)
SENTENCE = HOSTILE[HOSTILE.index("The ") :]
_SGR = re.compile(r"\x1b\[[0-9;]*m")  # the colours rich itself writes
_ACTED_ON = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def render_hostile(answer: Answer | None = None) -> str:
    passage = Passage("p1", "a.txt", 100, 100 + len(HOSTILE), 3, 3, HOSTILE)
    highlight = Highlight(100 + HOSTILE.index(SENTENCE), 100 + len(HOSTILE))
    source = Source("evil\x1b[2J.txt", None, "Title \x1b]0;PWNED\x07", None, None)
    console = Console(record=True, width=120, force_terminal=True, color_system="standard")
    render_result(console, SearchResult("q", [Hit(1, 0.5, passage, source, highlight)], answered=True, answer=answer))
    return console.export_text(styles=True)


def test_article_text_is_shown_as_escapes_not_executed():
    shown = _SGR.sub("", render_hostile())
    assert not _ACTED_ON.search(shown), "nothing but rich's own colours reaches the terminal"
    assert "Title \\x1b]0;PWNED\\x07" in shown and "evil\\x1b[2J.txt:3" in shown
    assert "Troops \\x1b]0;PWNED\\x07left\\x1b[2J on \\x1b[31mThursday\\x1b[0m.\\x08 The \\u202ewithdrawal" in shown


def test_the_highlight_covers_exactly_the_sentence_after_escapes():
    at = 100 + HOSTILE.index("January 19")
    out = render_hostile(Answer(at, at + len("January 19"), "January 19"))
    marked = "".join(re.findall(r"\x1b\[1;(?:4;)?33m(.*?)\x1b\[0m", out))  # the sentence, its answer inside
    assert marked == terminal_safe(SENTENCE) == "The \\u202ewithdrawal\\u202c\\x9b ends\\x07 on January 19."
    assert re.findall(r"\x1b\[1;4;33m(.*?)\x1b\[0m", out) == ["January 19"]


def test_terminal_safe_spells_each_control_and_maps_offsets():
    assert terminal_safe("a\tb\nc") == "a\tb\nc"
    assert terminal_safe("\x00\x1b\r\x7f\x85\u202e\u2069\udce9") == "\\x00\\x1b\\x0d\\x7f\\x85\\u202e\\u2069\\udce9"
    assert terminal_safe("café — ok ✓ 😀") == "café — ok ✓ 😀"
    shown, landing = terminal_safe_offsets("a\x1bb")
    assert shown == "a\\x1bb" and landing == [0, 1, 5, 6]
    assert terminal_safe_offsets("plain") == ("plain", [0, 1, 2, 3, 4, 5])


def test_json_stays_exact_and_escapes_what_a_terminal_would_act_on():
    passage = Passage("p1", "a.txt", 0, len(HOSTILE), 1, 1, HOSTILE)
    result = SearchResult("q", [Hit(1, 0.5, passage, Source("a.txt", None, None, None, None), None)], answered=False)
    line = result_json(result)
    assert json.loads(line) == json.loads(json.dumps(result.to_dict()))
    assert json.loads(line)["passages"][0]["text"] == HOSTILE
    assert not _ACTED_ON.search(line) and "\\u202e" in line and "\\u009b" in line


def plain(result: SearchResult, **options: bool) -> str:
    console = Console(record=True, width=100, force_terminal=False)
    render_result(console, result, **options)
    return console.export_text()


def test_cite_shows_each_passage_as_its_citation_line_and_escapes_it():
    passage = Passage("p1", "a.txt", 0, len(HOSTILE), 1, 1, HOSTILE)
    source = Source("a.txt", None, "Harbour", "Gazette", "2022-01-14")
    hit = Hit(1, 0.5, passage, source, Highlight(HOSTILE.index(SENTENCE), len(HOSTILE)))
    out = plain(SearchResult("q", [hit], answered=True), cite=True)
    assert out == (
        "[1] Gazette, 14 January 2022: “The \\u202ewithdrawal\\u202c\\x9b ends\\x07 on January 19.” (Harbour; a.txt,"
        " line 1)\n\n"
    )
    assert plain(SearchResult("q", [hit], answered=False), cite=True).startswith(
        "The articles don't seem to answer this. Closest passages:\n\n[1] Gazette"
    ), "an abstention still says so first"


def test_an_empty_answer_says_why():
    reason = "no article's publisher, byline, title or path contains 'x\x1b[2J'"
    out = plain(SearchResult("q", [], answered=False, empty_reason=reason))
    assert out == "No passages found: no article's publisher, byline, title or path contains 'x\\x1b[2J'.\n"
    assert plain(SearchResult("q", [], answered=False)) == "No passages found.\n"
