"""Evidence features for reranking (bench/features.py, an experiment of bench/rerank.py): shape, meaning of a
few columns, order helpers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from qa.search.candidates import gather

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from features import FEATURES, features, reranked, scores  # noqa: E402

from qa.search.ranking import by_score


def _candidates(retriever, question: str):
    index = retriever._index
    vector, found = gather(index, question, retriever._question_vector, "hybrid", 100, None)
    rows = [row for row, _ in by_score(found.fused("hybrid"))]
    return index, vector, found, rows


def test_one_row_of_named_features_per_candidate(corpus, open_hashed):
    retriever = open_hashed(corpus)
    question = "When does the withdrawal of the troops end?"
    index, vector, found, rows = _candidates(retriever, question)
    matrix = features(index, question, vector, found, rows)
    assert matrix.shape == (len(rows), len(FEATURES))
    assert np.isfinite(matrix).all()
    column = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
    troops = next(i for i, row in enumerate(rows) if "troops" in index.passage(row).text)
    assert column["kind_in_highlight"][troops] == 1.0  # a when-question, and "January 19" is in the sentence
    assert column["headline_overlap"][troops] > 0  # "Troops leave Kazakhstan"
    assert column["first_passage"][troops] == 1.0
    assert column["fused_rr"][0] == 1.0
    assert column["cosine_gap"].max() <= 1e-6


def test_features_of_no_rows(corpus, open_hashed):
    retriever = open_hashed(corpus)
    index, vector, found, _ = _candidates(retriever, "fuel prices")
    assert features(index, "fuel prices", vector, found, []).shape == (0, len(FEATURES))


def test_reranked_orders_by_score_and_keeps_ties_in_todays_order():
    model_scores = scores(np.array([[0.0], [2.0], [2.0]]), [1.0], 0.0, [0.0], [1.0])
    assert reranked([7, 3, 5], model_scores) == [3, 5, 7]
