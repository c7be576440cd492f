"""Answer highlight, disagreement values, abstention output and --eval (fast: no real model)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa import BadInputError
from qa.records import AlsoIn, GradedQuestion, Highlight, Hit, Passage, SearchResult, Source
from qa.search.evaluate import evaluate, graded_question
from qa.search.highlight import best_sentence, carries, question_of
from qa.search.value_reading import normalise_date_value, normalise_number
from qa.search.values import values_of


def passage(text: str, start: int = 100) -> Passage:
    return Passage(id="p", doc_key="d", start=start, end=start + len(text), line_start=5, line_end=5, text=text)


def no_vectors() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((0, 2), dtype=np.int64), np.zeros((0, 4), dtype=np.float16)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did the withdrawal finish?", "date"),
        ("what day did the airport reopen", "date"),
        ("How many troops did the CSTO send?", "count"),
        ("How much did fuel cost?", "count"),
        ("Who asked the CSTO for help?", "name"),
        ("What triggered the protests?", None),
    ],
)
def test_question_kind(question, kind):
    assert question_of(question).kind == kind


def test_carries_the_kind_of_answer_asked_for():
    assert carries("date", "The troops will leave by Jan. 19 at the latest.")
    assert carries("date", "The airport resumed operation on Thursday.")
    assert not carries("date", "The troops will leave soon.")
    assert carries("count", "About 2,000 troops were sent.")
    assert not carries("count", "Troops were sent in 2022.")
    assert carries("name", "The request came from President Kassym-Jomart Tokayev last week.")


def test_highlight_prefers_the_sentence_with_the_question_words_and_a_date():
    text = (
        "Russian troops arrived last week. The withdrawal will finish by January 19, the minister said. "
        "Protests began over fuel prices."
    )
    scored = best_sentence(question_of("When will the withdrawal finish?"), np.zeros(4), passage(text), no_vectors())
    assert scored is not None
    start, end = scored.highlight.start - 100, scored.highlight.end - 100
    assert text[start:end] == "The withdrawal will finish by January 19, the minister said."


def test_highlight_uses_the_stored_sentence_vectors():
    text = "First sentence about apples here. Second sentence about pears here."
    second = text.index("Second")
    spans = np.array([[100, 100 + second - 1], [100 + second, 100 + len(text)]], dtype=np.int64)
    vectors = np.array([[0, 1, 0, 0], [1, 0, 0, 0]], dtype=np.float16)
    query = np.array([1, 0, 0, 0], dtype=np.float32)
    scored = best_sentence(question_of("zzz?"), query, passage(text), (spans, vectors))
    assert scored.highlight == Highlight(100 + second, 100 + len(text))
    assert scored.cosine == pytest.approx(1.0)


@given(st.lists(st.sampled_from(["Troops left.", "On Jan. 19 they went home.", "2,500 came.", "\n", "  "]), min_size=1))
def test_highlight_is_always_a_trimmed_sentence_inside_the_passage(parts):
    text = " ".join(parts).strip() or "x"
    scored = best_sentence(question_of("When did they leave?"), np.zeros(4), passage(text), no_vectors())
    assert scored is not None
    start, end = scored.highlight.start - 100, scored.highlight.end - 100
    assert 0 <= start < end <= len(text)
    assert text[start:end] == text[start:end].strip()


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("2,500", "2,500"), ("2500", "2,500"), ("ten", "10"), ("3.5", "3.5")],
)
def test_numbers_are_normalised(raw, normal):
    assert normalise_number(raw) == normal


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Jan. 19", "January 19"),
        ("19 January", "January 19"),
        ("January 19th, 2022", "January 19, 2022"),
        ("Thursday", "Thursday"),
    ],
)
def test_dates_are_normalised(raw, normal):
    assert normalise_date_value(raw) == normal


def hit(rank: int, text: str, sentence: str, path: str, publisher: str, also_in=()) -> Hit:
    p = passage(text, start=1000 * rank)
    offset = text.index(sentence)
    return Hit(
        rank=rank,
        score=1.0 / rank,
        passage=p,
        source=Source(path, None, None, publisher, None),
        highlight=Highlight(p.start + offset, p.start + offset + len(sentence)),
        also_in=also_in,
    )


def test_values_group_sources_and_read_the_number_next_to_the_question_words():
    copy = AlsoIn(
        Source("c.txt", None, "Copy", None, None), "q", 5, 50, 2, 2, 0.9, "about 2,500 troops sent in by the CSTO"
    )
    edited = AlsoIn(
        Source("e.txt", None, "Edited", None, None), "r", 7, 60, 3, 3, 0.9, "about 2,000 troops sent by the CSTO"
    )
    hits = [
        hit(
            1,
            "It was unclear how many troops out of about 2,500 sent in by the CSTO left.",
            "It was unclear how many troops out of about 2,500 sent in by the CSTO left.",
            "a.txt",
            "Daily Sabah",
            (copy, edited),
        ),
        hit(
            2,
            "About 2,000 CSTO troops and 250 military equipment were provided.",
            "About 2,000 CSTO troops and 250 military equipment were provided.",
            "b.txt",
            "Anadolu",
        ),
        hit(
            3,
            "Some 2500 CSTO troops were sent, officials said.",
            "Some 2500 CSTO troops were sent, officials said.",
            "d.txt",
            "Dawn",
        ),
    ]
    values = values_of(question_of("How many troops did the CSTO send?"), hits)
    assert [v.value for v in values] == ["2,500", "2,000"]
    first = values[0]
    assert [(s.path, s.copy) for s in first.sources] == [("a.txt", False), ("c.txt", True), ("d.txt", False)]
    assert [(s.path, s.copy) for s in values[1].sources] == [("e.txt", True), ("b.txt", False)], (
        "a wire copy that changed the figure is listed under its own figure"
    )
    a = first.sources[0]
    assert hits[0].text[a.start - hits[0].start : a.end - hits[0].start] == "2,500", "exact offsets of the value"
    result = SearchResult("q", hits=hits, values=values)
    assert result.disagree and result.to_dict()["values"][1]["value"] == "2,000"


def test_no_values_for_questions_that_do_not_ask_for_a_number_or_date():
    hits = [hit(1, "About 2,000 troops came.", "About 2,000 troops came.", "a.txt", "X")]
    assert values_of(question_of("What triggered the protests?"), hits) == []


def test_agreeing_sources_are_not_a_disagreement():
    hits = [
        hit(1, "The withdrawal ends on Jan. 19.", "The withdrawal ends on Jan. 19.", "a.txt", "A"),
        hit(2, "They finish by January 19, he said.", "They finish by January 19, he said.", "b.txt", "B"),
    ]
    values = values_of(question_of("When does the withdrawal end?"), hits)
    assert [v.value for v in values] == ["January 19"]
    assert not SearchResult("q", hits=hits, values=values).disagree


def test_library_results_carry_highlight_confidence_and_evidence(corpus, tmp_path, open_hashed):
    retriever = open_hashed(corpus)
    result = retriever.search("When does the withdrawal end?", k=2)
    top = result.hits[0]
    assert top.highlight is not None and top.highlight_text == "The withdrawal ends on January 19."
    assert 0.0 <= result.confidence <= 1.0
    assert result.answered == (result.confidence >= __import__("qa.search.abstain").search.abstain.ANSWER_MIN)
    assert set(result.to_dict()["evidence"]) == {"passage_cosine", "sentence_cosine", "coverage"}


@pytest.mark.parametrize("reader", [True, False], ids=["reader", "fast"])
def test_abstaining_result_says_so_and_still_shows_passages(cli, corpus, tmp_path, hash_model, monkeypatch, reader):
    # abstention decided by the reader's answer probability, or by retrieval's evidence with --fast
    monkeypatch.setattr("qa.search.reading.answer_probability", lambda features, fit: 0.0)
    monkeypatch.setattr("qa.search.retriever.answered", lambda evidence: False)
    fast = () if reader else ("--fast",)
    code, out, _ = cli("fuel prices", "-k", "1", *fast, "--docs", str(corpus), "--index", str(tmp_path / "i"))
    assert code == 0
    assert out.startswith("The articles don't seem to answer this. Closest passages:\n")
    assert "Protests started" in out
    code, out, _ = cli("fuel prices", "--json", *fast, "--docs", str(corpus), "--index", str(tmp_path / "i"))
    result = json.loads(out)
    assert result["answered"] is False and result["passages"]


def test_terminal_lists_disagreeing_values_with_their_sources(cli, tmp_path, hash_model):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Troops\n\nAbout 2,500 troops were sent by the alliance last week.\n", encoding="utf-8")
    (docs / "b.txt").write_text("Troops\n\nAbout 2,000 troops were sent by the alliance last week.\n", encoding="utf-8")
    # the retrieval path (--fast) reads every hit's highlighted sentence; the reader's path is tested with spans in
    # tests/search/test_reader_values.py
    code, out, _ = cli("How many troops were sent?", "--fast", "--docs", str(docs), "--index", str(tmp_path / "i"))
    assert code == 0
    assert "The sources disagree:" in out
    assert re.search(r"• 2,500: \S*/a\.txt \[1\]", out), out
    assert re.search(r"• 2,000: \S*/b\.txt \[1, also in\]", out), "the copy with another figure is not hidden"


def test_eval_scores_a_file_of_questions(cli, corpus, tmp_path, hash_model):
    graded = tmp_path / "dev.jsonl"
    graded.write_text(
        '{"id": "a", "question": "When does the withdrawal end?", "answers": ["January 19"]}\n'
        '{"id": "b", "question": "What set police vehicles ablaze?", "answers": ["no such answer"]}\n'
        '{"id": "c", "question": "What is the capital of Australia?"}\n',
        encoding="utf-8",
    )
    args = ["--eval", str(graded), "--docs", str(corpus), "--index", str(tmp_path / "i"), "-k", "2"]
    code, out, _ = cli(*args, "--json")
    assert code == 0
    report = json.loads(out)
    summary = report["summary"]
    assert (summary["answerable"], summary["unanswerable"]) == (2, 1)
    assert summary["hit@1"] == 0.5 and summary["hit@2"] == 0.5 and summary["mrr"] == 0.5
    assert summary["answer_in_highlight"] == 0.5
    assert [q["rank"] for q in report["questions"]] == [1, None, None]
    code, out, _ = cli(*args)
    assert code == 0 and "answer_in_highlight" in out and "When does the withdrawal end?" in out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"question": "q", "answers": "January"}', 'dev.jsonl:1: "answers" must be a list of strings'),
        ("not json", "dev.jsonl:1: not JSON"),
    ],
)
def test_eval_refuses_bad_lines_in_one_line(cli, corpus, tmp_path, hash_model, line, message):
    graded = tmp_path / "dev.jsonl"
    graded.write_text(line + "\n", encoding="utf-8")
    code, out, err = cli("--eval", str(graded), "--docs", str(corpus), "--index", str(tmp_path / "i"))
    assert (code, out) == (2, "")
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "i").exists(), "refused before any index work"


def test_search_many_gives_what_search_gives(corpus, tmp_path, open_hashed):
    retriever = open_hashed(corpus)
    questions = ["When does the withdrawal end?", "fuel prices", "police vehicles", "troops"]
    many = list(retriever.search_many(questions, k=2, batch=3))
    fresh = open_hashed(corpus)
    assert [r.to_dict() for r in many] == [fresh.search(q, k=2).to_dict() for q in questions]


def test_a_number_in_a_sentence_sharing_no_word_with_the_question_is_not_a_value():
    hits = [
        hit(1, "About 2,500 troops were sent.", "About 2,500 troops were sent.", "a.txt", "A"),
        hit(2, "The cup final ended 4-4 after extra time.", "The cup final ended 4-4 after extra time.", "b.txt", "B"),
    ]
    values = values_of(question_of("How many troops were sent?"), hits)
    assert [v.value for v in values] == ["2,500"]


def test_evaluate_takes_graded_questions_and_echoes_their_ids(corpus, tmp_path, open_hashed):
    retriever = open_hashed(corpus)
    records = [
        {"id": 7, "question": "When does the withdrawal end?", "answers": ["January 19", " "]},
        {"question": "What is the capital of Australia?"},
    ]
    graded = [graded_question(record, f"dev.jsonl:{n}") for n, record in enumerate(records, start=1)]
    assert graded == [
        GradedQuestion("When does the withdrawal end?", ("January 19",), 7),
        GradedQuestion("What is the capital of Australia?", (), None),
    ]
    report = evaluate(retriever, graded, k=2, mode="hybrid").to_dict()
    assert [(q["id"], q["answerable"], q["rank"]) for q in report["questions"]] == [(7, True, 1), (None, False, None)]
    with pytest.raises(BadInputError, match='dev.jsonl:3: "answers" must be a list of strings'):
        graded_question({"question": "q", "answers": [1]}, "dev.jsonl:3")
