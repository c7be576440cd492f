"""--eval with a gold article per question: only hits from that article (or copying it) count (fast: no real model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import BadInputError
from qa.records import AlsoIn, GradedQuestion, Highlight, Hit, Passage, SearchResult, Source
from qa.search.evaluate import evaluate, graded_question

GOLD = "business/001.txt"


@pytest.fixture
def two_articles(tmp_path) -> Path:
    """Two articles that both hold "464,000"; the other one says more of the question's words, so it ranks first."""
    root = tmp_path / "bbc"
    (root / "business").mkdir(parents=True)
    (root / "tech").mkdir()
    (root / "business" / "001.txt").write_text(
        "Time Warner results\n\nThe company lost 464,000 subscribers over the quarter, it said on Wednesday.\n",
        encoding="utf-8",
    )
    (root / "tech" / "001.txt").write_text(
        "AOL customers\n\nAnalysts said how many customers AOL would shed: about 464,000 AOL customers.\n",
        encoding="utf-8",
    )
    return root


def test_a_line_with_a_path_counts_only_hits_from_its_gold_article(cli, two_articles, tmp_path, hash_model):
    question = "How many customers did AOL shed?"
    graded = tmp_path / "dev.jsonl"
    lines = [
        {"id": "gold", "question": question, "answers": ["464,000"], "path": GOLD, "kind": "how-many"},
        {"id": "any", "question": question, "answers": ["464,000"]},
        {"id": "none", "question": "What is the capital of Australia?", "answers": [], "kind": "unanswerable"},
    ]
    graded.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    args = ["--eval", str(graded), "--docs", str(two_articles), "--index", str(tmp_path / "i"), "-k", "2"]
    code, out, _ = cli(*args, "--json")
    assert code == 0
    report = json.loads(out)
    by_id = {q["id"]: q for q in report["questions"]}
    assert (by_id["any"]["rank"], by_id["any"]["path"], by_id["any"]["rank_any_article"]) == (1, None, 1)
    assert by_id["any"]["in_highlight"]
    assert (by_id["gold"]["rank"], by_id["gold"]["path"], by_id["gold"]["rank_any_article"]) == (2, GOLD, 1)
    assert not by_id["gold"]["in_highlight"], "the top hit is not from the gold article"
    assert (by_id["none"]["answerable"], by_id["none"]["rank"]) == (False, None)
    summary = report["summary"]
    assert (summary["answerable"], summary["unanswerable"]) == (2, 1)
    assert (summary["hit@1"], summary["hit@2"], summary["mrr"]) == (0.5, 1.0, 0.75)


def test_the_gold_article_must_hold_the_answer_too(two_articles, open_hashed):
    retriever = open_hashed(two_articles)
    question = GradedQuestion("How many customers did AOL shed?", ("no such figure",), "x", GOLD)
    (score,) = evaluate(retriever, [question], k=2).questions
    assert (score.rank, score.rank_any_article, score.in_highlight) == (None, None, False)


def hit(path: str, text: str = "AOL lost 464,000 subscribers.", also_in: tuple[AlsoIn, ...] = ()) -> Hit:
    passage = Passage("p", "d", 0, len(text), 3, 3, text)
    return Hit(1, 1.0, passage, Source(path, None, None, None, None), Highlight(0, len(text)), also_in=also_in)


class Answers:
    """A stand-in retriever that answers every question with the same hits."""

    def __init__(self, *hits: Hit) -> None:
        self.hits = list(hits)

    def search_many(self, questions, **_):
        return [SearchResult(q, self.hits, confidence=0.9) for q in questions]


def test_a_hit_listing_the_gold_article_in_also_in_counts():
    copy = AlsoIn(Source("/data/bbc/business/001.txt", None, None, None, None), "q", 0, 10, 3, 3, 0.95)
    record = {"question": "How many subscribers did AOL lose?", "answers": ["464,000"], "path": GOLD}
    (score,) = evaluate(Answers(hit("/data/bbc/tech/001.txt", also_in=(copy,))), [record], k=1).questions
    assert (score.rank, score.in_highlight) == (1, True)
    (score,) = evaluate(Answers(hit("/data/bbc/tech/001.txt")), [record], k=1).questions
    assert (score.rank, score.rank_any_article, score.in_highlight) == (None, 1, False)


@pytest.mark.parametrize(
    ("shown", "gold", "counts"),
    [
        ("/work/shared/data/bbc/business/001.txt", "business/001.txt", True),
        ("../shared/data/bbc/business/001.txt", "./business/001.txt", True),
        ("C:\\data\\bbc\\business\\001.txt", "business/001.txt", True),
        ("bbc/business/001.txt", "business\\001.txt", True),
        ("business/001.txt", "business/001.txt", True),
        ("/data/bbc/otherbusiness/001.txt", "business/001.txt", False),
        ("/data/bbc/business/2001.txt", "business/001.txt", False),
        ("/data/bbc/business/001.txt/x", "business/001.txt", False),
        ("001.txt", "business/001.txt", False),
    ],
)
def test_the_gold_path_is_compared_with_the_end_of_the_shown_path(shown, gold, counts):
    record = {"question": "How many subscribers did AOL lose?", "answers": ["464,000"], "path": gold}
    (score,) = evaluate(Answers(hit(shown)), [record], k=1).questions
    assert (score.rank == 1) is counts


@pytest.mark.parametrize("path", [3, "", "/", ["business/001.txt"]])
def test_a_bad_path_refuses_the_line(path):
    with pytest.raises(BadInputError, match='dev.jsonl:4: "path" must be'):
        graded_question({"question": "q", "answers": ["a"], "path": path}, "dev.jsonl:4")


def test_the_path_is_read_into_the_graded_question():
    record = {"id": "bd001", "question": "q", "answers": ["a"], "path": GOLD, "kind": "how-many"}
    assert graded_question(record, "x") == GradedQuestion("q", ("a",), "bd001", GOLD)
    assert graded_question({"question": "q"}, "x") == GradedQuestion("q", (), None, None)
