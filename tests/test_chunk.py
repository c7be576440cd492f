"""Sentence splitting and chunking: exact offsets, order, coverage and size limits."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunk import chunk, count_words, make_passage
from qa.records import ChunkSettings, Document
from qa.text.sentences import line_spans, sentence_spans


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text, 0, len(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It ends Jan. 19 this year. Then more.", ["It ends Jan. 19 this year.", "Then more."]),
        ("Mr. Putin spoke. Gen. Serdyukov agreed!", ["Mr. Putin spoke.", "Gen. Serdyukov agreed!"]),
        ('He said "go." Then left.', ['He said "go."', "Then left."]),
        ("U.S. officials met J. Smith. It was 3 p.m. today.", ["U.S. officials met J. Smith.", "It was 3 p.m. today."]),
        ("Prices rose 2.5 per cent. Few cared.", ["Prices rose 2.5 per cent.", "Few cared."]),
        ("What now? 2,500 troops left.", ["What now?", "2,500 troops left."]),
        ("no capital after. the period", ["no capital after. the period"]),
        ("   ", []),
    ],
)
def test_sentence_split(text, expected):
    assert sentences(text) == expected


def test_passages_follow_paragraphs_and_limits():
    paragraph = " ".join(["Word"] * 10) + ". " + " ".join(["Other"] * 10) + "."
    text = "\n\n".join([paragraph] * 6)
    spans = chunk(text, ChunkSettings(min_words=30, max_words=100))
    # 20-word paragraphs: a passage closes at the first paragraph break after 30 words
    assert [count_words(text[s:e]) for s, e in spans] == [40, 40, 40]
    assert all(text[s:e].startswith("Word") and text[s:e].endswith(".") for s, e in spans)


def test_overlong_sentence_is_cut_between_words():
    text = " ".join(f"w{i}" for i in range(250)) + "."
    spans = chunk(text, ChunkSettings(min_words=10, max_words=100))
    assert [count_words(text[s:e]) for s, e in spans] == [100, 100, 50]
    assert all(text[s - 1] == " " for s, _ in spans[1:])


def test_overlap_repeats_trailing_sentence():
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    spans = chunk(text, ChunkSettings(min_words=10, max_words=20, overlap=1))
    for (s1, e1), (s2, _) in pairwise(spans):
        assert s1 < s2 < e1  # the next passage starts inside the previous one


def test_spans_limit_what_is_chunked():
    text = "Menu\nHome\n\nThe story starts here. It goes on.\n\nFooter links"
    body = (text.index("The story"), text.index("on.") + 3)
    assert [text[s:e] for s, e in chunk(text, spans=[body])] == ["The story starts here. It goes on."]


def test_bad_settings_rejected():
    with pytest.raises(ValueError):
        ChunkSettings(min_words=50, max_words=10)
    with pytest.raises(ValueError):
        ChunkSettings(overlap=-1)


_ALPHABET = st.sampled_from(list("abcXYZ ,.!?\"'“”’\n\t\r") + ["é", "—", "…", "Jan.", "Mr.", " A.", "2,500", "\u00a0"])
texts = st.lists(_ALPHABET, max_size=400).map("".join)
chunk_settings = st.builds(
    lambda lo, extra, overlap: ChunkSettings(lo, lo + extra, overlap),
    st.integers(1, 30),
    st.integers(0, 40),
    st.integers(0, 2),
)


@settings(max_examples=300, deadline=None)
@given(text=texts, cfg=chunk_settings)
def test_chunk_properties(text, cfg):
    spans = chunk(text, cfg)
    covered = [False] * len(text)
    for start, end in spans:
        passage = text[start:end]
        assert 0 <= start < end <= len(text)
        assert passage == passage.strip(), "passages never start or end with whitespace"
        assert count_words(passage) <= cfg.max_words
        for i in range(start, end):
            covered[i] = True
    starts = [s for s, _ in spans]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), "ordered, no repeats"
    if cfg.overlap == 0:
        assert all(e1 <= s2 for (_, e1), (s2, _) in pairwise(spans)), "disjoint without overlap"
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert missing == [], "every non-whitespace character is in some passage"


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_sentences_partition_non_whitespace(text):
    line = re.sub(r"[\n\r]", " ", text)
    spans = list(sentence_spans(line, 0, len(line)))
    joined = "".join(line[s:e] for s, e in spans)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", line)
    assert all(e1 <= s2 for (_, e1), (s2, _) in pairwise(spans))


def _old_sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The splitter before it was made linear (the previous word sought back to any space): the reference."""
    from qa.text.sentences import _INITIALISM, _OPENERS, ABBREVIATIONS, _trimmed

    def is_boundary(punct_start: int, cut: int) -> bool:
        nxt = cut
        while nxt < end and text[nxt].isspace():
            nxt += 1
        while nxt < end and text[nxt] in _OPENERS:
            nxt += 1
        if nxt >= end:
            return True
        if not (text[nxt].isupper() or text[nxt].isdigit()):
            return False
        if text[punct_start] != ".":
            return True
        word = text[text.rfind(" ", 0, punct_start) + 1 : punct_start].lstrip(_OPENERS)
        if word.lower() in ABBREVIATIONS or _INITIALISM.match(word):
            return False
        return not (len(word) == 1 and word.isupper() and word != "I")

    spans, sentence_start = [], start
    for match in re.finditer(r"[.!?…]+[\"'”’)\]]*(?=\s)", text[:end]):
        if match.start() < start or not is_boundary(match.start(), match.end()):
            continue
        spans.extend(_trimmed(text, sentence_start, match.end()))
        sentence_start = match.end()
    return spans + list(_trimmed(text, sentence_start, end))


@settings(max_examples=500, deadline=None)
@given(text=texts)
def test_sentence_splits_are_those_of_the_old_splitter(text):
    for start, end in line_spans(text):
        assert list(sentence_spans(text, start, end)) == _old_sentence_spans(text, start, end)


@settings(max_examples=200, deadline=None)
@given(text=texts, cuts=st.lists(st.integers(0, 400), min_size=2, max_size=10))
def test_passage_line_numbers_count_the_line_breaks(text, cuts):
    doc = Document(key="k", path="k", source_id=None, text=text, sha256="0")
    bounds = sorted(min(cut, len(text)) for cut in cuts)
    for start, end in pairwise(bounds):
        passage = make_passage(doc, start, end)
        assert passage.line_start == text.count("\n", 0, start) + 1
        assert passage.line_end == passage.line_start + text.count("\n", start, end)
        assert passage.text == text[start:end]
