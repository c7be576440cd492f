"""Question + passage windows: every passage token is read, and token offsets slice the passage exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.embed.reference import bundled_model_path
from qa.read.data import context_sentences, sentence_of
from qa.read.decode import best_span
from qa.read.windows import WindowMaker


@pytest.fixture(scope="module")
def maker() -> WindowMaker:
    return WindowMaker.from_file(str(bundled_model_path() / "tokenizer.json"), max_length=64, stride=16)


def test_a_short_passage_is_one_window(maker: WindowMaker) -> None:
    text = "The troops left on January 19."
    [window] = maker.windows(maker.question_ids("When did they leave?"), maker.passage_tokens([text])[0])
    assert window.ids[0] == maker.cls and window.ids[-1] == maker.sep
    assert window.type_ids[window.first :] == [1] * (len(window.ids) - window.first)
    pieces = [text[s:e] for s, e in window.offsets[window.first : window.last]]
    assert "".join(pieces) == text.replace(" ", "")  # the tokens' offsets cover the passage's characters


def test_a_long_passage_is_read_in_overlapping_windows(maker: WindowMaker) -> None:
    text = " ".join(f"Sentence number {n} says something about item {n}." for n in range(40))
    tokens = maker.passage_tokens([text])[0]
    windows = maker.windows(maker.question_ids("What does item 7 say?"), tokens)
    assert len(windows) > 1
    assert all(len(w.ids) <= 64 for w in windows)
    covered = {w.offsets[t] for w in windows for t in range(w.first, w.last)}
    assert covered == set(tokens[1])  # every passage token is in some window


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=300))
def test_offsets_always_slice_the_passage(text: str) -> None:
    maker = WindowMaker.from_file(str(bundled_model_path() / "tokenizer.json"), max_length=48, stride=8)
    for window in maker.windows(maker.question_ids("what?"), maker.passage_tokens([text])[0]):
        for start, end in window.offsets[window.first : window.last]:
            assert 0 <= start <= end <= len(text)


def test_best_span_is_an_exact_slice(maker: WindowMaker) -> None:
    import numpy as np

    text = "Russia sent 2,500 troops. They left on Jan. 19."
    [window] = maker.windows(maker.question_ids("How many troops?"), maker.passage_tokens([text])[0])
    start = np.full(len(window.ids), -5.0)
    end = np.full(len(window.ids), -5.0)
    first = next(t for t in range(window.first, window.last) if text[slice(*window.offsets[t])] == "2")
    last = next(t for t in range(window.first, window.last) if text[slice(*window.offsets[t])] == "500")
    start[first], end[last] = 4.0, 4.0
    guess = best_span(window, start, end)
    assert text[guess.start : guess.end] == "2,500"
    assert guess.score == pytest.approx(8.0) and guess.null == pytest.approx(-10.0)


def test_sentence_of_finds_the_answering_sentence() -> None:
    text = "First one. The second holds 2,500 troops. Third."
    spans = context_sentences(text)
    s, e = sentence_of(spans, text.index("2,500"))
    assert text[s:e] == "The second holds 2,500 troops."
