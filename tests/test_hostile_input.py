"""Input that cannot hurt: crafted articles finish in linear time, odd file names and question files are handled.

The time bounds are hang guards, not benchmarks: each crafted text below took minutes (or forever) before
its pattern was rewritten and takes well under a second now. bench/hostile_inputs.py times them by size.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunk import chunk, make_passage
from qa.indexing.documents import article_passages
from qa.ingest.corpus import read_documents, scan, text_sha256, unescape_path
from qa.records import ChunkSettings, Document, SilentReporter

HANG_GUARD_S = 5.0


def document(text: str) -> Document:
    return Document(key="crafted.txt", path="crafted.txt", source_id=None, text=text, sha256=text_sha256(text))


def build_seconds(text: str) -> float:
    """Seconds for what a build does with one article: extract, chunk, make the passages."""
    began = time.perf_counter()
    _, passages = article_passages(document(text), ChunkSettings(), SilentReporter(), "crafted.txt")
    elapsed = time.perf_counter() - began
    assert all(text[p.start : p.end] == p.text for p in passages)
    return elapsed


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    build_seconds("Warm up: imports and the stoplist load once.\n")  # not counted in any bound


CRAFTED = {
    # the tag-list pattern could cut each hyphenated word at any hyphen: exponential (390 s at 26 tags)
    "tag_list_26_tags": " ".join(["tag-words-here"] * 26) + ".",
    # the cookie pattern scanned the rest of the line from every "cookie" (52 s), before its word count
    "cookie_98kb_line": "cookie " * 14_000,
    # sentence splitting looked back to the previous space from every full stop (22 s at 400 KB)
    "tab_sentences_400kb": "Word.\tNext.\t" * 33_000,
    "nbsp_sentences_400kb": "Word.\u00a0Next.\u00a0" * 33_000,
    # a run of end marks not followed by a space was tried from each of its marks (2.3 s at 10 KB)
    "dot_run_100kb": "a " + "." * 100_000 + "x",
    # the copyright holder's two adjacent runs of spaces backtracked into each other (1 s at 1 KB)
    "copyright_holder_then_spaces_100kb": "© Dawn" + " " * 100_000 + "x1",
    "copyright_sign_then_spaces_100kb": "©" + " " * 100_000 + "x1",
    "single_line_1mb": "said the man, " * 75_000,
}


@pytest.mark.parametrize("text", list(CRAFTED.values()), ids=list(CRAFTED))
def test_crafted_article_finishes_quickly(text):
    assert build_seconds(text) < HANG_GUARD_S


def test_passage_line_numbers_are_not_counted_from_the_start_each_time():
    """20,000 passages of a 5 MB one-line file: counting newlines from offset 0 for each took minutes."""
    text = "word " * 1_000_000
    doc = document(text)
    began = time.perf_counter()
    passages = [make_passage(doc, start, start + 4) for start in range(0, len(text) - 5, len(text) // 20_000)]
    assert time.perf_counter() - began < HANG_GUARD_S
    assert {(p.line_start, p.line_end) for p in passages} == {(1, 1)}


# pieces of what the patterns look for: repeated, they make the long runs that backtracking feeds on
_PIECES = [
    "news-politics-world", "a-b", "cookie", "cookies", "accept", "©", "2022", " ", "  ", "\t", "\u00a0",
    ".", "...", "…", "!", "?", "'", '"', ")", "(", "photo", "AP/", "Reuters", "via", "by", "Jan", "1", ",",
    "-", "/", "x", "Aa", "Published in", "logo", "|", "•", ":",
]  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    unit=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8).map("".join),
    tail=st.lists(st.sampled_from(_PIECES), max_size=3).map("".join),
    lines=st.sampled_from([1, 5]),
)
def test_any_repeated_pattern_extracts_in_linear_time(unit, tail, lines):
    """50 KB of any repeated piece of page furniture: about 50 ms in linear time; 2 s is 40 ms per KB."""
    line = unit * (10_000 // (len(unit) * lines) + 1) + tail
    text = "\n".join([line] * lines)
    assert build_seconds(text) < 2.0 * len(text) / 50_000 + 0.5


def test_one_article_file_of_50_mb_is_skipped_without_reading_it_whole(tmp_path):
    (tmp_path / "dump.txt").write_text("word " * 10_000_000, encoding="utf-8")
    corpus = scan(tmp_path)
    began = time.perf_counter()
    docs, warnings = read_documents(corpus, corpus.files[0])
    assert time.perf_counter() - began < HANG_GUARD_S
    assert docs == []
    assert [str(w) for w in warnings] == [
        "dump.txt: skipped: the file is 50.0 MB, over the 5 MB limit for one article (split it to index it)"
    ]


# --- file names that are not UTF-8 ---


@pytest.fixture
def latin1_named(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "plain.txt").write_text("The bakery opened on March 3. It sold bread every single day.\n")
    with open(os.path.join(os.fsencode(docs), b"caf\xe9.txt"), "wb") as fh:
        fh.write(b"The cafe opened on January 5, 2021 in the old town. It served coffee every day.\n")
    return docs


def test_a_latin1_file_name_is_indexed_under_a_visible_escape(latin1_named):
    corpus = scan(latin1_named)
    assert [f.relpath for f in corpus.files] == ["caf\\xe9.txt", "plain.txt"]
    file = corpus.files[0]
    docs, warnings = read_documents(corpus, file)
    assert warnings == [] and docs[0].key == "caf\\xe9.txt"
    # the stored path maps back to the very file: its slice is the passage
    on_disk = corpus.root / unescape_path(file.relpath)
    assert os.fsencode(on_disk).endswith(b"/caf\xe9.txt")
    doc = docs[0]
    for start, end in chunk(doc.text, ChunkSettings(), [(0, len(doc.text))]):
        passage = make_passage(doc, start, end)
        assert on_disk.read_text(encoding="utf-8")[passage.start : passage.end] == passage.text


def test_a_latin1_file_name_does_not_stop_the_build(cli, hash_model, latin1_named, tmp_path):
    code, _, err = cli("When did the cafe open?", "--docs", str(latin1_named), "--index", str(tmp_path / "idx"))
    assert code == 0, err
    assert "unexpected" not in err
    assert "Index ready: 2 documents" in err


def test_a_latin1_named_article_is_quoted(cli, hash_model, latin1_named, tmp_path):
    code, out, err = cli("--passages", "--docs", str(latin1_named), "--index", str(tmp_path / "idx"))
    assert code == 0
    assert "caf\\\\xe9.txt" in out and "left out" not in err


def test_a_folder_whose_own_name_is_not_utf8_is_refused_with_a_message(cli, tmp_path):
    folder = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.mkdir(folder)
    with open(os.path.join(folder, b"a.txt"), "wb") as fh:
        fh.write(b"Some text here.\n")
    code, _, err = cli("q", "--docs", os.fsdecode(folder), "--index", str(tmp_path / "idx"))
    assert code == 2
    assert err.splitlines() == [f"error: cannot index {tmp_path}/caf\\xe9: its path is not valid UTF-8; rename it"]


# --- question files: special files and endless lines ---


def _ask_questions(cli, tmp_path, option, path):
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "a.txt").write_text("The troops began to leave on Thursday.\n")
    return cli(option, str(path), "--docs", str(docs), "--index", str(tmp_path / "idx"))


@pytest.mark.parametrize("option", ["--questions", "--eval"])
def test_question_files_must_be_regular_files(cli, hash_model, tmp_path, option):
    fifo = tmp_path / "questions.fifo"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    for path in (fifo, "/dev/zero", tmp_path):
        code, out, err = _ask_questions(cli, tmp_path, option, path)
        assert (code, out) == (2, "")
        assert err.splitlines() == [f"error: cannot read {path}: not a regular file; give a .jsonl file"]


@pytest.mark.parametrize("option", ["--questions", "--eval"])
def test_a_question_line_has_a_length_limit(cli, hash_model, tmp_path, option):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "fine"}\n{"question": "' + "a" * 200_000 + '"}\n', encoding="utf-8")
    code, out, err = _ask_questions(cli, tmp_path, option, questions)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"error: {questions}:2: line longer than 100,000 characters"]
