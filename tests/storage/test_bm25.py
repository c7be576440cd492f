"""BM25 answered from bm25s's saved arrays: the same scores as bm25s itself, and no bm25s import."""

from __future__ import annotations

import subprocess
import sys

import bm25s
import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.storage.bm25 import LexicalIndex
from qa.text.words import stem_words

TEXTS = [
    "Russian troops began withdrawing from Kazakhstan on Thursday, the defence ministry said.",
    "The withdrawal of the CSTO peacekeepers will be finished by January 19.",
    "A bridge collapsed in India; rescuers searched the river for survivors.",
    "Protests over fuel prices turned violent in Almaty, Kazakhstan's largest city.",
    "The the the and of: stopwords only, plus Kazakhstan twice Kazakhstan.",
    "Geese were seen flying over the lake before the storm.",
]
WORDS = sorted({w.lower().strip(".,;:'") for t in TEXTS for w in t.split()}) + ["unknownword", "the", "it's"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bm25")
    rows = np.array([3, 7, 8, 20, 21, 40], dtype=np.int64)
    LexicalIndex.build(TEXTS, rows).save(folder)
    reference = bm25s.BM25()
    reference.index(bm25s.tokenize(TEXTS, stopwords="en", stemmer=stem_words, show_progress=False), show_progress=False)
    return LexicalIndex.load(folder), reference, rows


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))
def test_scores_equal_bm25s(saved, words):
    ours, reference, rows = saved
    query = " ".join(words)
    got_rows, got_scores = ours.search(query, 10)
    tokens = bm25s.tokenize([query], stopwords="en", stemmer=stem_words, return_ids=False, show_progress=False)
    expected = {}
    if tokens[0] and reference.get_tokens_ids(tokens[0]):
        scores = reference.get_scores(tokens[0])
        expected = {int(rows[i]): float(s) for i, s in enumerate(scores) if s > 0}
    assert dict(zip(got_rows.tolist(), got_scores.tolist(), strict=True)) == pytest.approx(expected, rel=1e-5)
    assert list(got_scores) == sorted(got_scores, reverse=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))
def test_no_passage_scores_above_the_ceiling_and_every_row_has_its_score(saved, words):
    index, _, rows = saved
    query = " ".join(words)
    scored = index.scored(query)
    if scored is None:  # no word of the query is indexed
        assert index.search(query, 10)[0].size == 0
        return
    assert scored.ceiling > 0
    assert float(scored.values.max()) <= scored.ceiling  # so BM25 / ceiling is in [0, 1] for every question
    found, scores = index.search(query, len(rows))
    by_row = scored.of([*rows.tolist(), 5])  # row 5 is not in the index
    assert by_row[5] == 0.0
    for row, score in zip(found.tolist(), scores.tolist(), strict=True):
        assert by_row[row] == pytest.approx(score)


def test_the_ceiling_is_the_sum_of_the_query_words_idf(saved):
    index, _, _ = saved
    n = len(TEXTS)
    # "bridge" is in one text of six; "kazakhstan" in three; a repeated word counts again, as in BM25 itself
    idf = {1: np.log(1 + (n - 1 + 0.5) / 1.5), 3: np.log(1 + (n - 3 + 0.5) / 3.5)}
    assert index.scored("bridge").ceiling == pytest.approx(idf[1])
    assert index.scored("bridge kazakhstan kazakhstan").ceiling == pytest.approx(idf[1] + 2 * idf[3])
    # a word no passage holds counts with the idf of such a word: a question the corpus mostly lacks keeps a
    # high ceiling, so the one word it shares gives a low share
    absent = np.log(1 + (n + 0.5) / 0.5)
    assert index.scored("bridge zeppelin").ceiling == pytest.approx(idf[1] + absent)
    assert index.scored("zeppelin") is None
    # ... but not a question word that the corpus happens to lack: it says nothing of what is asked about
    assert index.scored("who bridge").ceiling == pytest.approx(idf[1])


def test_allowed_rows_filter_and_depth(saved):
    ours, _, _ = saved
    rows, _ = ours.search("Kazakhstan withdrawal troops", 10)
    assert set(rows) <= {3, 7, 20, 21} and len(rows) >= 3
    only, _ = ours.search("Kazakhstan withdrawal troops", 10, allowed=np.array([20, 99]))
    assert only.tolist() == [20]
    assert len(ours.search("Kazakhstan withdrawal troops", 1)[0]) == 1
    assert ours.search("zzzz qqqq", 5)[0].size == 0


def test_answering_does_not_import_bm25s_or_scipy(seeds, tmp_path):
    open_index = f"from qa import Retriever; r = Retriever.open(docs={str(seeds)!r}, index={str(tmp_path)!r})"
    env = {**__import__("os").environ, "QA_MODEL": "hash"}
    subprocess.run([sys.executable, "-c", open_index], check=True, cwd=ROOT, env=env)  # the build may use bm25s
    check = (
        f"import sys; {open_index}; assert r.search('troops withdrawal', 3, mode='bm25').hits; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('bm25s', 'scipy')))"
    )
    run = subprocess.run([sys.executable, "-c", check], check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "[]"


def test_an_index_built_a_batch_at_a_time_scores_as_one_built_at_once(saved):
    ours, _, rows = saved
    batched = LexicalIndex.build_batches([(rows[:2], TEXTS[:2]), (rows[2:3], TEXTS[2:3]), (rows[3:], TEXTS[3:])])
    for query in ("withdrawal January", "Kazakhstan protests", "geese storm lake", "the"):
        (rows_a, scores_a), (rows_b, scores_b) = ours.search(query, 10), batched.search(query, 10)
        assert rows_a.tolist() == rows_b.tolist() and scores_a.tolist() == pytest.approx(scores_b.tolist())
    with pytest.raises(ValueError, match="ascending"):
        LexicalIndex.build_batches([(rows[3:], TEXTS[3:]), (rows[:3], TEXTS[:3])])


def _corpus(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    words = [w.strip(".,;:'") for t in TEXTS for w in t.split()] + [f"term{i}" for i in range(300)]
    return [" ".join(rng.choice(words, size=int(rng.integers(0, 40)))) for _ in range(n)]


def test_the_arrays_are_the_same_when_built_a_span_of_terms_and_a_chunk_at_a_time(tmp_path, monkeypatch):
    import qa.storage.bm25 as bm25

    texts = _corpus(1, 400)
    rows = np.arange(5, 5 + 2 * len(texts), 2, dtype=np.int64)
    batches = [(rows[i : i + 37], texts[i : i + 37]) for i in range(0, len(texts), 37)]
    whole = LexicalIndex.build_batches(batches, tmp_path / "whole")
    monkeypatch.setattr(bm25, "_SPAN", 97)  # many ranges of terms, each read from a scratch file in chunks of 50
    monkeypatch.setattr(bm25, "_CHUNK", 50)
    pieces = LexicalIndex.build_batches(batches, tmp_path / "pieces")
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(whole._columns, name), getattr(pieces._columns, name)), name
    assert whole._columns.vocab == pieces._columns.vocab
    assert sorted(p.name for p in (tmp_path / "pieces").iterdir()) == sorted(
        ["rows.npy", "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"]
        + ["vocab.index.json", "params.index.json", "stopwords.json"]
    )  # the scratch file is gone


def test_bm25s_reads_the_saved_index_and_scores_it_the_same(tmp_path):
    texts = _corpus(2, 300)
    LexicalIndex.build(texts).save(tmp_path)
    theirs = bm25s.BM25.load(str(tmp_path))
    reference = bm25s.BM25()
    reference.index(bm25s.tokenize(texts, stopwords="en", stemmer=stem_words, show_progress=False), show_progress=False)
    for query in ("troops withdrawal term7", "kazakhstan kazakhstan term250 geese", "term1 term2 term3"):
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=stem_words, return_ids=False, show_progress=False)[0]
        ours = theirs.get_scores([t for t in tokens if t in theirs.vocab_dict])
        expected = reference.get_scores([t for t in tokens if t in reference.vocab_dict])
        assert np.allclose(ours, expected, rtol=1e-6, atol=0)


def test_a_build_clears_an_interrupted_builds_leftovers_and_an_empty_corpus_has_no_columns(tmp_path):
    (tmp_path / "pairs.tmp").write_bytes(b"\0" * 100)
    (tmp_path / "params.index.json").write_text("{}")
    index = LexicalIndex.build_batches([(np.array([1, 2]), ["the and of", ""])], tmp_path)
    assert index.search("the", 3)[0].size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.npy"]
    with pytest.raises(ValueError, match="one row per text"):
        LexicalIndex.build_batches([(np.array([1, 2]), ["a text"])], tmp_path)
