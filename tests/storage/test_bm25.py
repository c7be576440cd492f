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
